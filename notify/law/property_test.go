package law

import (
	"slices"
	"strconv"
	"testing"
	"testing/quick"

	"github.com/breachnotice/breachnotice/incident"
)

// scenario is a random incident and person; testing/quick fills it.
type scenario struct {
	Elements, Extra                       uint32
	Encrypted                             bool
	Day                                   uint16
	Residence                             uint8
	Consent, Terms, Email, Postal, Retire bool
	LoginAddress                          bool
	PolicyDays                            uint8
	Affected                              uint16
}

// residences are every table code plus unsupported ones.
var residences = append(allCodes(), "", "US", "US-ZZ", "MX", "XX")

func (s scenario) elements(mask uint32) []incident.Element {
	var out []incident.Element
	for i, e := range incident.Elements {
		if mask&(1<<i) != 0 {
			out = append(out, e)
		}
	}
	return out
}

func (s scenario) incident(mask uint32, encrypted bool) *incident.Incident {
	day := incident.Date{Time: mustDateQuiet("2024-01-01").AddDate(0, 0, int(s.Day%1500))}
	return &incident.Incident{Discovered: day, Elements: s.elements(mask), Encrypted: encrypted, Affected: int64(s.Affected)}
}

func (s scenario) controller() *incident.Controller {
	return &incident.Controller{PolicyDays: int(s.PolicyDays % 90), TermsEConsent: s.Terms}
}

func (s scenario) person(id int) *incident.Affected {
	code := residences[int(s.Residence)%len(residences)]
	a := residentOf(code)
	if code == "US" {
		a.Region = ""
	}
	a.ID = "acct-" + strconv.Itoa(id)
	a.EConsent = s.Consent
	if !s.Email {
		noEmail(a)
	} else if s.LoginAddress {
		loginAddress(a)
	}
	if !s.Postal {
		noPostal(a)
	}
	if s.Retire {
		retired(a)
	}
	return a
}

func mustDateQuiet(s string) incident.Date {
	d, err := incident.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var quickConfig = &quick.Config{MaxCount: 400}

// Exposing more elements never removes a duty.
func TestProperty_MoreElementsNeverRemoveDuty(t *testing.T) {
	f := func(s scenario) bool {
		a := s.person(1)
		less := decide(s.incident(s.Elements, s.Encrypted), s.controller(), a)
		more := decide(s.incident(s.Elements|s.Extra, s.Encrypted), s.controller(), a)
		if less.Notify && !more.Notify {
			t.Logf("%s: %v notifies, %v does not", less.Jurisdiction, s.elements(s.Elements), s.elements(s.Elements|s.Extra))
			return false
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// Encryption with a safe key never adds a duty.
func TestProperty_EncryptionNeverAddsDuty(t *testing.T) {
	f := func(s scenario) bool {
		a := s.person(1)
		plain := decide(s.incident(s.Elements, false), s.controller(), a)
		enc := decide(s.incident(s.Elements, true), s.controller(), a)
		return !enc.Notify || plain.Notify
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// Every decision is internally consistent: no deadline before discovery, a
// deadline exactly when notice is owed, channels only where lawful and
// available, reasons always.
func TestProperty_DecisionInvariants(t *testing.T) {
	f := func(s scenario) bool {
		inc := s.incident(s.Elements, s.Encrypted)
		a := s.person(1)
		d := decide(inc, s.controller(), a)
		_, known := JurisdictionOf(&a.Account)
		email := slices.Contains(d.Channels, ChannelEmail)
		letter := slices.Contains(d.Channels, ChannelLetter)
		switch {
		case d.Deadline.IsZero() == d.Notify,
			d.Notify && d.Deadline.Before(inc.Discovered.Time),
			len(d.Reasons) == 0,
			d.Review == known,
			d.Review && !d.Notify,
			d.Unreachable && (!d.Notify || len(d.Channels) > 0),
			d.Notify && !d.Unreachable && len(d.Channels) == 0,
			!d.Notify && len(d.Channels) > 0,
			email && !a.NoticeEmailUsable,
			letter && !a.PostalComplete(),
			a.Status == incident.AccountRetired && d.Notify && !d.Unreachable:
			t.Logf("%+v", d)
			return false
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// Every affected person gets exactly one decision, in order, and the
// decisions tally back to the people.
func TestProperty_OneDecisionPerPerson(t *testing.T) {
	f := func(s scenario, people []scenario) bool {
		p := NewPlanner(s.incident(s.Elements, s.Encrypted), s.controller())
		var all Tally
		for i, ps := range people {
			a := ps.person(i)
			d := p.Decide(a)
			if d.AccountID != a.ID {
				return false
			}
			reached := len(d.Channels) > 0
			if d.Notify && reached == d.Unreachable {
				return false // exactly one of: a channel, or unreachable
			}
			all.Add(d)
		}
		return all.People == len(people) && all.Owed >= all.Unreachable
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 50}); err != nil {
		t.Error(err)
	}
}

// The hot path allocates nothing.
func TestPlanner_DecideAllocs(t *testing.T) {
	p := NewPlanner(breach(t, name, ssn, email, password), operator)
	people := benchPeople()
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		_ = p.Decide(people[i%len(people)])
		i++
	})
	if allocs > 0 {
		t.Errorf("Decide allocates %.1f times per call", allocs)
	}
}

// A jurisdiction's obligation: encryption with a safe key never adds a
// regulator duty, and no regulator report falls due before discovery (an
// hour-based one never before the discovery instant), whatever the cause.
func TestProperty_ObligationInvariants(t *testing.T) {
	f := func(s scenario, cause uint8, people, owed uint16) bool {
		code := residences[int(s.Residence)%len(residences)]
		inc := s.incident(s.Elements, false)
		inc.Cause = incident.Causes[int(cause)%len(incident.Causes)]
		enc := *inc
		enc.Encrypted = true
		tl := Tally{People: int(people), Owed: int(min(owed, people))}
		plain, withEnc := Summarize(inc, s.controller(), code, tl), Summarize(&enc, s.controller(), code, tl)
		if withEnc.Regulator.Required && !plain.Regulator.Required {
			t.Logf("%s: encryption added a regulator duty (%v)", code, inc.Cause)
			return false
		}
		start, _ := inc.DiscoveryInstant()
		for _, n := range []RegulatorNotice{plain.Regulator, withEnc.Regulator} {
			due := []incident.Date{n.Due}
			if n.First != nil {
				due = append(due, n.First.Due)
				if n.First.DueAt != nil && n.First.DueAt.Before(start) {
					return false
				}
			}
			if n.DueAt != nil && n.DueAt.Before(start) {
				return false
			}
			for _, d := range due {
				if !d.IsZero() && d.Before(inc.Discovered.Time) {
					t.Logf("%s: regulator due %s before discovery %s", code, d, inc.Discovered)
					return false
				}
			}
		}
		return plain.Deadline.IsZero() || !plain.Deadline.Before(inc.Discovered.Time)
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}
