package banner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// OutstandingPosting says what the incident's website posting still owes
// at now, for incident close to refuse on (with notify.OutstandingWork):
// a banner published whose required posting has not run its course, one
// withdrawn (by force) before it did, or none published while people
// count towards substitute notice in a plan that requires a posting. ""
// when nothing is owed, or the incident has no plan. The line holds dates,
// days and a jurisdiction, never a person.
func OutstandingPosting(ctx context.Context, st *incident.Store, id int64, now time.Time) (string, error) {
	p, err := Posting(ctx, st, id)
	if errors.Is(err, incident.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	const at = "2006-01-02 15:04 MST"
	switch {
	case p.Days == 0:
		return "", nil
	case !p.Published:
		n, err := notify.CountSubstituteCases(ctx, st, id)
		if err != nil || n == 0 {
			return "", err
		}
		return fmt.Sprintf("website posting owed: %d people count towards substitute notice and no banner is published (banner publish %d); %s requires %d days",
			n, id, p.Jurisdiction, p.Days), nil
	case !p.Withdrawn.IsZero() && p.Withdrawn.Before(p.RequiredUntil):
		return fmt.Sprintf("website posting minimum not met: the banner was withdrawn %s, before %s (%d days required by %s); publish it again (banner publish %d)",
			p.Withdrawn.UTC().Format(at), p.RequiredUntil.UTC().Format(at), p.Days, p.Jurisdiction, id), nil
	case now.Before(p.RequiredUntil):
		return fmt.Sprintf("website posting minimum not met: the banner must stay up until %s (%d days required by %s; up since %s)",
			p.RequiredUntil.UTC().Format(at), p.Days, p.Jurisdiction, p.Since.UTC().Format(at)), nil
	}
	return "", nil
}
