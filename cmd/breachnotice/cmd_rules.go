package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
)

// cmdRules dispatches "rules": the jurisdiction table the law engine
// applies. It needs no database.
func (a *app) cmdRules(ctx context.Context, args []string) error {
	switch args[0] {
	case "list":
		return a.rulesList(args[1:])
	}
	return usagef("rules: unknown sub-command %q (list)", args[0])
}

// rulesList prints the rows in force on a date (today by default), or
// every period of the jurisdictions asked for with --on all.
func (a *app) rulesList(args []string) error {
	fs := a.flags("rules list")
	jurisdiction := fs.String("jurisdiction", "", "one jurisdiction code: US-CA, DE, IN (CA is Canada)")
	on := fs.String("on", "", "the rows in force on this date, YYYY-MM-DD (default today, UTC); \"all\" lists every period")
	asJSON := fs.Bool("json", false, "print the rows as JSON, every column")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("rules list: unexpected argument %q", pos[0])
	}
	code := strings.ToUpper(strings.TrimSpace(*jurisdiction))
	var rows []law.Rule
	day := incident.Date{Time: a.now().UTC().Truncate(24 * time.Hour)}
	switch *on {
	case "all":
		rows = law.Rules()
	case "":
		rows = law.RulesOn(day)
	default:
		if day, err = incident.ParseDate(*on); err != nil {
			return usagef("rules list: --on: %v", err)
		}
		rows = law.RulesOn(day)
	}
	if code != "" {
		var mine []law.Rule
		for _, r := range rows {
			if r.Code == code {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			if len(law.Periods(code)) == 0 {
				return fmt.Errorf("%w: no jurisdiction %q in the rules table", incident.ErrNotFound, code)
			}
			return fmt.Errorf("%w: no %s row in force on %s (rows: %s)", incident.ErrNotFound, code, day, periods(code))
		}
		rows = mine
	}
	if *asJSON {
		if rows == nil {
			rows = []law.Rule{}
		}
		return a.printJSON(rows)
	}
	if *on != "all" {
		fmt.Fprintf(a.stdout, "rules in force on %s:\n", day)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tIN FORCE\tCONFIDENCE\tCHECKED\tINDIVIDUALS\tREGULATOR\tCITATION")
	for _, r := range rows {
		conf := r.Confidence
		if r.Review != "" {
			conf += " (review)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Code, r.Period(), conf, r.Checked, individuals(&r), regulatorLine(&r), short(r.Citation, 90))
	}
	return tw.Flush()
}

// periods lists a code's rows by period.
func periods(code string) string {
	var ps []string
	for _, r := range law.Periods(code) {
		ps = append(ps, r.Period())
	}
	return strings.Join(ps, "; ")
}

// individuals summarises a row's duty to the people affected.
func individuals(r *law.Rule) string {
	switch {
	case r.RiskModel == "none":
		return "none"
	case r.DeadlineHours > 0:
		return fmt.Sprintf("%d hours", r.DeadlineHours)
	case r.DeadlineDays > 0 && r.DeadlineBusinessDays:
		return fmt.Sprintf("%d business days", r.DeadlineDays)
	case r.DeadlineDays > 0:
		return fmt.Sprintf("%d days", r.DeadlineDays)
	}
	return "no fixed days"
}

// regulatorLine summarises a row's regulator duty.
func regulatorLine(r *law.Rule) string {
	if r.Regulator == "" || r.RegulatorMinCount == 0 {
		return "-"
	}
	when := ""
	switch {
	case r.RegulatorDeadlineHours > 0:
		when = fmt.Sprintf(", %d h", r.RegulatorDeadlineHours)
	case r.RegulatorDeadlineDays > 0:
		when = fmt.Sprintf(", %d d", r.RegulatorDeadlineDays)
	}
	if r.RegulatorFirstHours > 0 {
		when += fmt.Sprintf(" (first %d h)", r.RegulatorFirstHours)
	} else if r.RegulatorFirstDays > 0 {
		when += fmt.Sprintf(" (first %d d)", r.RegulatorFirstDays)
	}
	return short(r.Regulator, 40) + when
}
