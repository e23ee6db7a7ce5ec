package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
)

// printLawNotes prints, under the plan table, the duties that run in hours
// (their due time with its zone and the hours left now) and every
// jurisdiction counsel should look at first (a low-confidence row, a row
// marked for review, an unknown residence) with the reason.
func printLawNotes(w io.Writer, p *notify.Plan, now time.Time) {
	type clock struct {
		j, duty string
		at      time.Time
		hours   int
	}
	var clocks []clock
	for _, ob := range p.Jurisdictions {
		if ob.DeadlineAt != nil && ob.Tally.Owed > 0 {
			clocks = append(clocks, clock{ob.Jurisdiction, "notice to individuals", *ob.DeadlineAt, ob.DeadlineHours})
		}
		if r := ob.Regulator; r.Required {
			if r.First != nil && r.First.DueAt != nil {
				clocks = append(clocks, clock{ob.Jurisdiction, "first report: " + r.First.Text, *r.First.DueAt, r.First.Hours})
			}
			if r.DueAt != nil {
				clocks = append(clocks, clock{ob.Jurisdiction, "regulator: " + short(r.Name, 60), *r.DueAt, r.DueHours})
			}
		}
	}
	for _, c := range clocks {
		left := law.HoursLeft(c.at, now)
		state := fmt.Sprintf("%d hours left", left)
		if left < 0 {
			state = fmt.Sprintf("OVERDUE by %d hours", -left)
		}
		fmt.Fprintf(w, "hours: %s %s due %s (%d hours from discovery): %s\n", c.j, c.duty, law.FormatInstant(c.at), c.hours, state)
	}
	for _, ob := range p.Jurisdictions {
		if len(ob.ReviewWhy) == 0 {
			continue
		}
		conf := ob.Confidence
		if conf == "" {
			conf = "no row"
		}
		fmt.Fprintf(w, "review: %s (%s confidence): %s\n", ob.Jurisdiction, conf, strings.Join(ob.ReviewWhy, "; "))
	}
}
