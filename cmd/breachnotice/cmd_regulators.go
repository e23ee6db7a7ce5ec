package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/regulator"
)

func (a *app) cmdRegulators(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("regulators: want list or sent")
	}
	switch args[0] {
	case "list":
		return a.regulatorsList(ctx, args[1:])
	case "sent":
		return a.regulatorsSent(ctx, args[1:])
	}
	return usagef("regulators: unknown sub-command %q (list, sent)", args[0])
}

func (a *app) regulatorsList(ctx context.Context, args []string) error {
	fs := a.flags("regulators list")
	asJSON := fs.Bool("json", false, "print the filings as JSON")
	out := fs.String("out", "", "write each draft to `DIR` as JURISDICTION-DUTY.txt and .pdf")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("regulators list", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	filings, err := regulator.Duties(ctx, st, id)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o700); err != nil {
			return fmt.Errorf("regulators list: %w", err)
		}
		n := 0
		for _, f := range filings {
			text, pdf, err := regulator.FindDraft(ctx, st, id, f.Jurisdiction, f.Duty)
			if err != nil {
				continue // not drafted yet: the listing says so
			}
			base := filepath.Join(*out, f.Jurisdiction+"-"+f.Duty)
			if err := writeFileAtomic(base+".txt", []byte(text)); err != nil {
				return err
			}
			if err := writeFileAtomic(base+".pdf", pdf); err != nil {
				return err
			}
			n++
		}
		fmt.Fprintf(a.stderr, "%d drafts written to %s\n", n, *out)
	}
	if *asJSON {
		if filings == nil {
			filings = []regulator.Filing{}
		}
		return a.printJSON(filings)
	}
	if len(filings) == 0 {
		fmt.Fprintf(a.stdout, "incident %d owes no notice to a regulator or the credit bureaus\n", id)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JURISDICTION\tDUTY\tTO\tDUE\tAFFECTED\tNOTIFIED\tDRAFT\tSENT")
	for _, f := range filings {
		draft := "not drafted (jobs run regulator-drafts)"
		if !f.DraftedAt.IsZero() {
			draft = f.DraftedAt.UTC().Format(time.RFC3339)
		}
		sent := "-"
		switch {
		case !f.SentOn.IsZero():
			sent = f.SentOn.String()
			if f.Ref != "" {
				sent += " (" + short(f.Ref, 30) + ")"
			}
		case f.First && f.Waived:
			sent = "no; residents notified first (--regulator-first=false)"
		case f.First:
			sent = "no; residents' notices wait for it"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", f.Jurisdiction, f.Duty, short(f.Recipient, 40), f.Due, f.Affected, f.Notified, draft, sent)
	}
	return tw.Flush()
}

func (a *app) regulatorsSent(ctx context.Context, args []string) error {
	fs := a.flags("regulators sent")
	at := fs.String("at", "", "the `DATE` (YYYY-MM-DD) the notice was submitted (required)")
	ref := fs.String("ref", "", "the recipient's reference or confirmation `TEXT`")
	duty := fs.String("duty", "", "regulator or credit_bureaus (default: the regulator where one is owed)")
	asJSON := fs.Bool("json", false, "print the filing as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("regulators sent: want an incident ID and a JURISDICTION (e.g. US-MD)")
	}
	id, err := incidentID("regulators sent", pos[:1])
	if err != nil {
		return err
	}
	switch *duty {
	case "", regulator.DutyRegulator, regulator.DutyCreditBureaus:
	default:
		return usagef("regulators sent: --duty %q: want regulator or credit_bureaus", *duty)
	}
	if *at == "" {
		return usagef("regulators sent: --at DATE is required")
	}
	on, err := incident.ParseDate(*at)
	if err != nil {
		return usagef("regulators sent: --at: %v", err)
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	f, err := regulator.MarkSent(ctx, st, id, pos[1], *duty, on, *ref, a.now())
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(f)
	}
	fmt.Fprintf(a.stdout, "incident %d: %s notice to %s recorded as sent on %s (ledger: regulator_notified)\n", id, f.Jurisdiction, f.Recipient, f.SentOn)
	if f.First {
		fmt.Fprintf(a.stdout, "its residents' notices are released: the retry sweep sends the emails; incident send %d queues the letters\n", id)
	}
	return nil
}

// writeFileAtomic writes path (mode 0600) through a temporary file and a
// rename: a reader never sees half a file.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
