package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
)

// incidentPlan makes the plan of a scoped incident. Once the incident is
// planned it prints the stored plan: re-planning is asked for with
// --replan, and is refused once sending has started (the notices carry
// out the stored plan). --show only ever reads the stored plan.
func (a *app) incidentPlan(ctx context.Context, args []string) error {
	fs := a.flags("incident plan")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	show := fs.Bool("show", false, "print the stored plan, read only, in any state")
	replan := fs.Bool("replan", false, "recompute the plan of a planned incident, replacing the stored one (refused once sending has started)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident plan", pos)
	if err != nil {
		return err
	}
	if *show && *replan {
		return usagef("incident plan: --show reads the stored plan and --replan replaces it: give one of them")
	}
	mode := dbExisting
	if *show {
		mode = dbReadOnly
	}
	st, err := a.open(ctx, mode)
	if err != nil {
		return err
	}
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return err
	}
	stored := *show
	switch inc.Status {
	case incident.StatusPlanned, incident.StatusNotifying, incident.StatusClosed:
		stored = stored || !*replan
	}
	var p *notify.Plan
	if stored {
		p, err = notify.FindPlan(ctx, st, id)
		if errors.Is(err, incident.ErrNotFound) && inc.Status == incident.StatusClosed {
			return fmt.Errorf("%w: incident %d was closed without a plan", incident.ErrNotFound, id)
		}
	} else {
		p, err = notify.MakePlan(ctx, st, id)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		notify.WithProtectionOffers(p, inc)
		return a.printJSON(p)
	}
	if stored {
		printStoredNote(a.stdout, inc, p)
	}
	if err := printPlan(a, p); err != nil {
		return err
	}
	if err := a.printPlanNotes(ctx, st, p); err != nil {
		return err
	}
	progress, err := notify.FindProgress(ctx, st, id, a.now(), notify.DefaultWarnDays)
	if err != nil {
		return err
	}
	return printDeadlines(a.stdout, progress)
}

// printStoredNote heads a stored plan printed again: when it was made, and
// whether and how it can be made anew.
func printStoredNote(w io.Writer, inc *incident.Incident, p *notify.Plan) {
	made := p.MadeAt.UTC().Format("2006-01-02 15:04 MST")
	var next string
	switch inc.Status {
	case incident.StatusScoped:
		next = fmt.Sprintf("the scope changed since: incident plan %d makes a new one", inc.ID)
	case incident.StatusPlanned:
		next = fmt.Sprintf("incident plan %d --replan recomputes it, until sending starts", inc.ID)
	default:
		next = "fixed: sending has started"
	}
	fmt.Fprintf(w, "stored plan of incident %d, made %s; %s\n", inc.ID, made, next)
}

// printPlan writes the plan table: one line per jurisdiction and a total.
func printPlan(a *app, p *notify.Plan) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JURISDICTION\tPEOPLE\tOWED\tEMAIL\tLETTER\tUNREACHABLE\tDEADLINE\tREGULATOR DUE\tCRA\tSUBSTITUTE\tPROTECTION")
	var tot law.Tally
	for _, ob := range p.Jurisdictions {
		t := ob.Tally
		tot.People += t.People
		tot.Owed += t.Owed
		tot.Email += t.Email
		tot.Letter += t.Letter
		tot.Unreachable += t.Unreachable
		j := ob.Jurisdiction
		if ob.Review {
			j += " (review)"
		}
		deadline := "-"
		if !ob.Deadline.IsZero() {
			deadline = ob.Deadline.String() + " " + ob.DeadlineKind
		}
		reg := "-"
		if ob.Regulator.Required {
			reg = ob.Regulator.EarliestDue().String() + " " + short(ob.Regulator.Name, 28)
			if ob.Regulator.Due.IsZero() {
				reg = short(ob.Regulator.Name, 28)
			}
		}
		cra := "-"
		if ob.CRA.Required {
			cra = "yes"
		}
		sub := "-"
		if ob.Substitute.Eligible {
			sub = "eligible"
			if ob.Substitute.MinPostingDays > 0 {
				sub += " (post " + strconv.Itoa(ob.Substitute.MinPostingDays) + "d)"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", j, t.People, t.Owed, t.Email, t.Letter, t.Unreachable, deadline, reg, cra, sub, protectionCell(ob))
	}
	fmt.Fprintf(tw, "TOTAL (%d)\t%d\t%d\t%d\t%d\t%d\t\t\t\t\t\n", len(p.Jurisdictions), tot.People, tot.Owed, tot.Email, tot.Letter, tot.Unreachable)
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.Review > 0 {
		fmt.Fprintf(a.stdout, "%d people need review (unknown or unsupported residence): planned under the strictest rule\n", p.Review)
	}
	return nil
}

func (a *app) incidentObligations(ctx context.Context, args []string) error {
	fs := a.flags("incident obligations")
	fs.Bool("jsonl", true, "one JSON object per affected person (the only format)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident obligations", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a.stdout, 256<<10)
	enc := json.NewEncoder(w)
	unreachable, recorded := 0, 0
	err = notify.ForEachObligation(ctx, st, id, func(o *notify.PersonObligation) error {
		if o.Notify && o.Unreachable {
			unreachable++
			if o.UnreachableRecordedAt != nil {
				recorded++
			}
		}
		return enc.Encode(o)
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if unreachable > 0 {
		// The one count and list of substitute notice, and where the
		// ledger records the unreachable.
		when := "they are recorded in the ledger (notice_unreachable) when sending starts"
		if recorded > 0 {
			when = fmt.Sprintf("%d recorded in the ledger (notice_unreachable, unreachable_recorded_at)", recorded)
		}
		fmt.Fprintf(a.stderr, "%d people owed notice are unreachable (substitute notice owed): %s; list every substitute-notice case with breachnotice incident substitute %d\n",
			unreachable, when, id)
	}
	return nil
}

// short cuts s to n runes, marking the cut.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
