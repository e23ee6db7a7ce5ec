package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/notify"
)

// printDeadlines writes the deadlines that need attention (overdue, or due
// within the warning window), most urgent first, or says there are none.
func printDeadlines(w io.Writer, p *notify.Progress) error {
	if err := printAlerts(w, p); err != nil {
		return err
	}
	var urgent []notify.DeadlineStatus
	for _, d := range p.Deadlines {
		if d.Attention() {
			urgent = append(urgent, d)
		}
	}
	if len(urgent) == 0 {
		_, err := fmt.Fprintf(w, "deadlines: none overdue or due within %d days (as of %s)\n", notify.DefaultWarnDays, p.AsOf)
		return err
	}
	fmt.Fprintf(w, "deadlines needing attention (as of %s):\n", p.AsOf)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STATE\tDUE\tJURISDICTION\tDUTY\tOUTSTANDING")
	for _, d := range urgent {
		state := "OVERDUE by " + days(-d.DaysLeft)
		if d.State == notify.DeadlineDueSoon {
			state = "due in " + days(d.DaysLeft)
		}
		duty, out := d.Duty, "-"
		switch d.Duty {
		case "individuals":
			duty = "notice to individuals (" + d.Kind + ")"
			out = strconv.Itoa(d.Outstanding) + " people"
		case "regulator":
			duty = "regulator: " + short(d.To, 40)
		case "credit_bureaus":
			duty = "consumer reporting agencies"
		}
		if d.Note != "" {
			out = d.Note
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", state, d.Due, d.Jurisdiction, duty, out)
	}
	return tw.Flush()
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// incidentSubstitute lists the people owed notice whom no direct notice
// reaches: the substitute-notice cases.
func (a *app) incidentSubstitute(ctx context.Context, args []string) error {
	fs := a.flags("incident substitute")
	asJSON := fs.Bool("json", false, "one JSON object per person")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident substitute", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	n := 0
	var print func(c notify.SubstituteCase) error
	if *asJSON {
		enc := json.NewEncoder(w)
		print = func(c notify.SubstituteCase) error { return enc.Encode(c) }
	} else {
		fmt.Fprintln(w, "ACCOUNT\tJURISDICTION\tREASON")
		print = func(c notify.SubstituteCase) error {
			_, err := fmt.Fprintf(w, "%s\t%s\t%s\n", c.Account, c.Jurisdiction, c.Reason)
			return err
		}
	}
	if err := notify.FindSubstituteCases(ctx, st, id, func(c notify.SubstituteCase) error { n++; return print(c) }); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(a.stderr, "%d people of incident %d are owed substitute notice\n", n, id)
	}
	return nil
}
