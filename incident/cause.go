package incident

import (
	"fmt"
	"strings"
	"time"
)

// Cause is how a breach came about, as far as the controller knows. Some
// laws turn on it: Japan's APPI makes a leak with a wrongful purpose
// (hacking, theft by an insider) reportable and notifiable at any count,
// and Korea's PIPA makes outside unauthorised access reportable at any
// count. CauseUnknown is planned as the stricter reading wherever the law
// distinguishes (notify/law).
type Cause string

// The causes an incident can record.
const (
	CauseMalicious  Cause = "malicious"   // an outsider's attack: hacking, ransomware, phishing
	CauseAccidental Cause = "accidental"  // a mistake: a misdirected email, a misconfigured bucket
	CauseLostDevice Cause = "lost_device" // a device or paper lost, not known to be stolen
	CauseInsider    Cause = "insider"     // a staff member or contractor acting wrongfully
	CauseUnknown    Cause = "unknown"     // not yet known (the default)
)

// Causes lists every cause, the default last.
var Causes = []Cause{CauseMalicious, CauseAccidental, CauseLostDevice, CauseInsider, CauseUnknown}

// ParseCause parses a cause; "" is CauseUnknown.
func ParseCause(s string) (Cause, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return CauseUnknown, nil
	}
	for _, c := range Causes {
		if string(c) == s {
			return c, nil
		}
	}
	if near := Nearest(Cause(s), Causes); near != "" {
		return "", fmt.Errorf("%w: unknown cause %q (did you mean %q?)", ErrInvalid, s, near)
	}
	return "", fmt.Errorf("%w: unknown cause %q (known: %s)", ErrInvalid, s, joinCauses())
}

func joinCauses() string {
	s := make([]string, len(Causes))
	for i, c := range Causes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// DiscoveryInstant is the moment hour-based legal clocks (GDPR's 72 hours,
// CERT-In's 6) run from: the recorded discovery time where one was given,
// else the start of the discovery date in UTC, the earliest the breach can
// have been discovered on that date for a controller at or west of UTC,
// so a clock counted from it never ends late there. The second result says
// which: true when the time of day was recorded.
func (inc *Incident) DiscoveryInstant() (time.Time, bool) {
	if !inc.DiscoveredAt.IsZero() {
		return inc.DiscoveredAt, true
	}
	y, m, d := inc.Discovered.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), false
}

// ParseDiscovery parses --discovered: a date (YYYY-MM-DD) or a date and
// time with its zone (RFC 3339, "2026-03-02T14:30:00+01:00"). The date is
// the calendar date in the given zone; at is zero for a date alone.
func ParseDiscovery(s string) (d Date, at time.Time, err error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "T") {
		d, err = ParseDate(s)
		return d, time.Time{}, err
	}
	at, err = time.Parse(time.RFC3339, s)
	if err != nil {
		return Date{}, time.Time{}, fmt.Errorf("%w: discovery time %q is not YYYY-MM-DD or RFC 3339 (2026-03-02T14:30:00+01:00)", ErrInvalid, s)
	}
	y, m, day := at.Date()
	return Date{time.Date(y, m, day, 0, 0, 0, 0, time.UTC)}, at, nil
}
