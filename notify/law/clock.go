package law

import (
	"slices"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// dueAt is the instant a duty counted in hours from discovery falls due,
// and how its start was taken: the recorded discovery time, or the start
// of the discovery date in UTC when only the date is known (see
// incident.Incident.DiscoveryInstant).
func dueAt(inc *incident.Incident, hours int) (time.Time, string) {
	start, exact := inc.DiscoveryInstant()
	from := "discovery recorded at " + FormatInstant(start)
	if !exact {
		from = "discovery recorded as a date only: counted from " + FormatInstant(start) + ", the start of that day in UTC"
	}
	return start.Add(time.Duration(hours) * time.Hour), from
}

// dateOf is the calendar date of t in its own zone.
func dateOf(t time.Time) incident.Date {
	y, m, d := t.Date()
	return incident.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// FormatInstant writes a due time as people read it: "2026-03-05 00:00 UTC"
// or "2026-03-05 06:30 +05:30".
func FormatInstant(t time.Time) string {
	if _, off := t.Zone(); off == 0 {
		return t.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	return t.Format("2006-01-02 15:04 -07:00")
}

// HoursLeft is how many whole hours remain from now until due, negative
// when it has passed (rounded towards the past: 90 minutes left is 1).
func HoursLeft(due, now time.Time) int {
	d := due.Sub(now)
	h := int(d / time.Hour)
	if d < 0 && d%time.Hour != 0 {
		h--
	}
	return h
}

func causeIn(cs []incident.Cause, c incident.Cause) bool {
	if c == "" {
		c = incident.CauseUnknown
	}
	return slices.Contains(cs, c)
}

// causeText describes the incident's cause for a reason; an unknown cause
// is planned as the stricter reading, what.
func causeText(c incident.Cause, what string) string {
	if c == "" || c == incident.CauseUnknown {
		return "cause unknown: planned as " + what + ", the stricter reading (record the cause with incident update --cause)"
	}
	return "cause " + string(c) + ": " + what
}

// inForce names the dated row applied and why.
func inForce(r *Rule, d incident.Date) Reason {
	return Reason{r.Code + "/in-force", "the row in force on the discovery date " + d.String() + " applies: " + r.Citation +
		" (in force " + r.Period() + ")"}
}

func hoursText(h int) string {
	if h == 1 {
		return "1 hour"
	}
	return strconv.Itoa(h) + " hours"
}
