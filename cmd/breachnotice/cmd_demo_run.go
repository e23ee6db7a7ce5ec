package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// cmdDemo plays a whole incident on the embedded defaults: demo data
// loaded, an incident on a Member's copy opened, scoped and planned,
// notices delivered, and the proof exported and verified.
func (a *app) cmdDemo(ctx context.Context, args []string) error {
	fs := a.flags("demo")
	n := fs.Int("accounts", 2000, "number of demo accounts")
	dir := fs.String("dir", "demo", "directory for the demo's files (data, outbox, letters, proof)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, "==> "+format+"\n", args...) }

	say("demo data: %d learners, an operator and three Members (files in %s)", *n, *dir)
	files, err := demodata.Write(ctx, filepath.Join(*dir, "data"), demodata.Options{Accounts: *n, Seed: 1})
	if err != nil {
		return err
	}
	if err := a.loadDemo(ctx, files); err != nil {
		return err
	}
	st := a.store

	desc := "On November 18, 2026 an attacker used a stolen staff credential to copy the course database " +
		"of Northbridge University's courses on OpenLearn. The copy held learners' names, email addresses, " +
		"hashed passwords and dates of birth. We closed the access the same day."
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "northbridge", Title: "Course database copied",
		Description: desc, Discovered: incident.Date{Time: a.now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)},
		Elements: []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword, incident.ElemDOB}})
	if err != nil {
		return err
	}
	say("incident %d opened against northbridge's copy: %s", inc.ID, incident.JoinElements(inc.Elements))

	res, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil)
	if err != nil {
		return err
	}
	say("scoped: %d learners enrolled in Northbridge courses are affected", res.Affected)

	plan, err := notify.MakePlan(ctx, st, inc.ID)
	if err != nil {
		return err
	}
	say("planned: %d owed notice, %d need review; obligations per jurisdiction:", plan.Owed, plan.Review)
	if err := printPlan(a, plan); err != nil {
		return err
	}

	if err := a.demoDeliver(ctx, inc.ID, *dir); err != nil {
		return err
	}
	if err := a.demoBanner(ctx, inc.ID); err != nil {
		return err
	}

	zip := filepath.Join(*dir, fmt.Sprintf("proof-northbridge-incident-%d.zip", inc.ID))
	sum, err := a.ledger.Export(ctx, a.db, ledger.ExportOptions{Controller: "northbridge", Incident: inc.ID, Out: zip,
		Actor: incident.ActorFrom(ctx), Attach: banner.Archive{Q: a.db}})
	if err != nil {
		return err
	}
	say("proof exported: %s (%d entries, tree size %d)", zip, sum.Entries, sum.TreeSize)
	vs, err := ledger.Verify(ctx, zip, "")
	if err != nil {
		return fmt.Errorf("demo: the proof does not verify: %w", err)
	}
	say("proof verified offline: %s", vs)
	fmt.Fprintln(a.stdout, strings.TrimSpace(`
Next: breachnotice incident obligations `+fmt.Sprint(inc.ID)+` --jsonl | head
      breachnotice ledger list --controller northbridge
      breachnotice ledger verify `+zip))
	return nil
}

// demoDeliver sends the incident's emails to the outbox (or the relay in
// BREACHNOTICE_SMTP) and queues its letters.
func (a *app) demoDeliver(ctx context.Context, id int64, dir string) error {
	// Unset numbers take notify's defaults.
	f := sendFlags{channel: "all", outbox: filepath.Join(dir, "outbox")}
	res, err := a.send(ctx, id, &f)
	if err != nil {
		return err
	}
	where := f.outbox + " (one .eml per message)"
	if u := a.getenv("BREACHNOTICE_SMTP"); u != "" {
		where = "the SMTP relay"
	}
	fmt.Fprintf(a.stdout, "==> delivered: %d emails sent to %s, %d failed, %d letters queued for the mail house\n",
		res.Sent, where, res.Failed, res.LettersQueued)
	if len(res.HeldForRegulator) > 0 {
		fmt.Fprintf(a.stdout, "==> held: the residents of %s wait for the regulator notice their law wants first (%d emails):\n"+
			"    breachnotice jobs run regulator-drafts; breachnotice regulators list %d; then regulators sent %d JURISDICTION --at DATE\n",
			strings.Join(res.HeldForRegulator, ", "), res.HeldNotices, id, id)
	}
	if res.Interrupted {
		return errInterrupted
	}
	return nil
}
