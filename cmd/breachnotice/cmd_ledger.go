package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

func (a *app) cmdLedger(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("ledger: want checkpoint, export, verify, prove or list")
	}
	switch args[0] {
	case "checkpoint":
		return a.ledgerCheckpoint(ctx, args[1:])
	case "export":
		return a.ledgerExport(ctx, args[1:])
	case "verify":
		return a.ledgerVerify(ctx, args[1:])
	case "prove":
		return a.ledgerProve(ctx, args[1:])
	case "list":
		return a.ledgerList(ctx, args[1:])
	}
	return usagef("ledger: unknown sub-command %q (checkpoint, export, verify, prove, list)", args[0])
}

// controllerIDs returns the controller given, or every controller the actor
// may see.
func (a *app) controllerIDs(ctx context.Context, st *incident.Store, given string) ([]string, error) {
	if given != "" {
		if _, err := st.FindControllerByID(ctx, given); err != nil {
			return nil, err
		}
		return []string{given}, nil
	}
	cs, err := st.FindControllers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

func (a *app) ledgerCheckpoint(ctx context.Context, args []string) error {
	fs := a.flags("ledger checkpoint")
	controller := fs.String("controller", "", "controller whose log to sign (default: every controller)")
	asJSON := fs.Bool("json", false, "print the checkpoints as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	ids, err := a.controllerIDs(ctx, st, *controller)
	if err != nil {
		return err
	}
	var cps []ledger.Checkpoint
	for _, id := range ids {
		cp, err := a.ledger.Checkpoint(ctx, a.db, id)
		if err != nil {
			return err
		}
		cps = append(cps, cp)
		if err := st.InTx(ctx, func(tx *sql.Tx) error {
			return st.Audit(ctx, tx, "ledger.checkpoint", "controller:"+id, map[string]any{"size": cp.Size})
		}); err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(a.stdout, "%s: signed tree of size %d, root %s\n", id, cp.Size, cp.Root)
		}
	}
	if *asJSON {
		return a.printJSON(cps)
	}
	return nil
}

func (a *app) ledgerExport(ctx context.Context, args []string) error {
	fs := a.flags("ledger export")
	controller := fs.String("controller", "", "controller whose log to export (required)")
	incidentID := fs.Int64("incident", 0, "only this incident's entries (they still verify against the whole signed tree)")
	out := fs.String("out", "", "zip file to write (required)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" || *out == "" {
		return usagef("ledger export: --controller and --out are required")
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	sum, err := a.ledger.Export(ctx, a.db, ledger.ExportOptions{Controller: *controller, Incident: *incidentID,
		Out: *out, Actor: incident.ActorFrom(ctx)})
	if err != nil {
		return err
	}
	if err := st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "ledger.export", "controller:"+*controller, map[string]any{"incident": *incidentID, "entries": sum.Entries})
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d entries of %s's log (tree size %d, root %s)\n", *out, sum.Entries, sum.Controller, sum.TreeSize, sum.Root)
	return nil
}

// ledgerVerify checks a bundle offline: it needs nothing but the zip, and
// never opens (or creates) a database.
func (a *app) ledgerVerify(ctx context.Context, args []string) error {
	fs := a.flags("ledger verify")
	key := fs.String("key", "", "expected public key (the text of public_key, or a file holding it)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("ledger verify: want exactly one FILE.zip")
	}
	pinned := *key
	if pinned != "" && !strings.Contains(pinned, "+") {
		b, err := os.ReadFile(pinned)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		pinned = strings.TrimSpace(string(b))
	}
	sum, err := ledger.Verify(ctx, pos[0], pinned)
	if err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(pos[0]), err)
	}
	if *asJSON {
		return a.printJSON(sum)
	}
	fmt.Fprintln(a.stdout, sum)
	return nil
}

func (a *app) ledgerProve(ctx context.Context, args []string) error {
	fs := a.flags("ledger prove")
	controller := fs.String("controller", "", "controller whose log holds the learner's entries (required)")
	account := fs.String("account", "", "the learner's account id (required)")
	out := fs.String("out", "", "zip file to write (default: proof-CONTROLLER-ACCOUNT.zip)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" || *account == "" {
		return usagef("ledger prove: --controller and --account are required")
	}
	if *out == "" {
		*out = fmt.Sprintf("proof-%s-%s.zip", *controller, strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r < 0x20 {
				return '_'
			}
			return r
		}, *account))
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("ledger prove: %w", err)
	}
	defer os.Remove(tmp)
	w := bufio.NewWriter(f)
	sum, err := a.ledger.Prove(ctx, a.db, incident.ActorFrom(ctx), *controller, *account, w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("ledger prove: %w", err)
	}
	if err := st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "ledger.prove", "controller:"+*controller, map[string]any{"entries": sum.Entries})
	}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d entries for account %s, provable against %s's signed tree of size %d\n",
		*out, sum.Entries, *account, sum.Controller, sum.TreeSize)
	return nil
}

func (a *app) ledgerList(ctx context.Context, args []string) error {
	fs := a.flags("ledger list")
	controller := fs.String("controller", "", "controller whose log to list (required)")
	incidentID := fs.Int64("incident", 0, "only this incident's entries")
	account := fs.String("account", "", "only this account's entries")
	asJSON := fs.Bool("jsonl", false, "print entries as JSON lines (their canonical encoding)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *controller == "" {
		return usagef("ledger list: --controller is required")
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	if _, err := st.FindControllerByID(ctx, *controller); err != nil {
		return err
	}
	w := bufio.NewWriter(a.stdout)
	defer w.Flush()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "INDEX\tAT\tKIND\tINCIDENT\tACCOUNT\tCHANNEL\tDETAIL")
	}
	err = ledger.FindEntries(ctx, a.db, ledger.EntryFilter{Controller: *controller, Incident: *incidentID, Account: *account},
		func(e ledger.Entry) error {
			if *asJSON {
				_, err := w.Write(append(e.Canonical(), '\n'))
				return err
			}
			inc := ""
			if e.Incident != 0 {
				inc = strconv.FormatInt(e.Incident, 10)
			}
			detail := string(e.Detail)
			if e.PossibleDuplicate {
				detail = "POSSIBLE DUPLICATE " + detail
			}
			_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Index, e.At.Format("2006-01-02 15:04:05"), e.Kind, inc, e.Account, e.Channel, short(detail, 80))
			return err
		})
	if err != nil {
		return err
	}
	if !*asJSON {
		return tw.Flush()
	}
	return nil
}
