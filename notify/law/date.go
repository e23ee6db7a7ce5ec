package law

import (
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// addDays adds n calendar days, or n business days (Monday to Friday;
// public holidays are not modelled, so the date can only come out early).
func addDays(d incident.Date, n int, business bool) incident.Date {
	if !business {
		return d.AddDays(n)
	}
	t := d.Time
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return incident.Date{Time: t}
}

func minDate(a, b incident.Date) incident.Date {
	if b.Before(a.Time) {
		return b
	}
	return a
}
