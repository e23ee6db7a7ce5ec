package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/notify"
)

// printDeadlines writes the deadlines that need attention (overdue, or due
// within the warning window), most urgent first, or says there are none.
func printDeadlines(w io.Writer, p *notify.Progress) error {
	if err := printAlerts(w, p); err != nil {
		return err
	}
	var urgent, late []notify.DeadlineStatus
	for _, d := range p.Deadlines {
		if d.Attention() {
			urgent = append(urgent, d)
		}
		if d.State == notify.DeadlineLate {
			late = append(late, d)
		}
	}
	if err := printLate(w, late); err != nil {
		return err
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
		duty, out := dutyText(d), "-"
		if d.Duty == "individuals" {
			out = strconv.Itoa(d.Outstanding) + " people"
		}
		if d.Note != "" {
			out = d.Note
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", state, d.Due, d.Jurisdiction, duty, out)
	}
	return tw.Flush()
}

// printLate writes the deadlines met only after their due date: missed,
// though nothing is outstanding any more.
func printLate(w io.Writer, late []notify.DeadlineStatus) error {
	if len(late) == 0 {
		return nil
	}
	fmt.Fprintln(w, "deadlines missed (done after the due date):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  DUE\tJURISDICTION\tDUTY\tDONE")
	for _, d := range late {
		duty, done := dutyText(d), d.Note
		if d.Duty == "individuals" {
			done = strconv.Itoa(d.Late) + " notified late"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Due, d.Jurisdiction, duty, done)
	}
	return tw.Flush()
}

// dutyText names a deadline's duty for the tables.
func dutyText(d notify.DeadlineStatus) string {
	switch d.Duty {
	case "individuals":
		return "notice to individuals (" + d.Kind + ")"
	case "regulator":
		return "regulator: " + short(d.To, 40)
	case "credit_bureaus":
		return "consumer reporting agencies"
	}
	return d.Duty
}

// peopleText is incident show's people line: owed, notified by channel,
// and the outstanding by why, ending with the substitute-notice count and
// the command that lists those people.
func peopleText(p *notify.Progress, id int64) string {
	var why []string
	for _, c := range []struct {
		n          int
		one, other string
	}{
		{p.LettersUnmailed, "letter not yet mailed", "letters not yet mailed"},
		{p.EmailsPending, "email pending", "emails pending"},
		{p.NoNoticeYet, "with no notice yet", "with no notice yet"},
	} {
		switch {
		case c.n == 1:
			why = append(why, "1 "+c.one)
		case c.n > 1:
			why = append(why, fmt.Sprintf("%d %s", c.n, c.other))
		}
	}
	sub := fmt.Sprintf("%d substitute notice owed", p.Substitute)
	if p.Substitute > 0 {
		sub += fmt.Sprintf(" (list: breachnotice incident substitute %d)", id)
	}
	why = append(why, sub)
	return fmt.Sprintf("%d owed, %d notified (%d by email, %d by letter), %d outstanding: %s", p.Owed, p.Notified,
		p.NotifiedByEmail, p.NotifiedByLetter, p.Outstanding, strings.Join(why, ", "))
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
