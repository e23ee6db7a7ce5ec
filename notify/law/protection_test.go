package law

import (
	"slices"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// TestProtectionFor: the duty to offer identity theft protection, per
// jurisdiction and exposed elements, and its place in the jurisdiction's
// obligation (only where notice is owed).
func TestProtectionFor(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		elements []incident.Element
		months   int
		trigger  []incident.Element
	}{
		{"CaliforniaSSN", "US-CA", []incident.Element{name, ssn}, 12, []incident.Element{ssn}},
		{"CaliforniaLicence", "US-CA", []incident.Element{name, dl, govID}, 12, []incident.Element{govID, dl}},
		// Cal. Civ. Code 1798.82(d)(2)(G) with (h)(1)(A)-(B): passport,
		// tax ID and military ID numbers too (issue 12 review).
		{"CaliforniaPassport", "US-CA", []incident.Element{name, passport}, 12, []incident.Element{passport}},
		{"CaliforniaTaxID", "US-CA", []incident.Element{name, taxID}, 12, []incident.Element{taxID}},
		{"CaliforniaPasswordOnly", "US-CA", []incident.Element{email, password}, 0, nil},
		{"Connecticut", "US-CT", []incident.Element{name, ssn}, 24, []incident.Element{ssn}},
		{"DistrictOfColumbia", "US-DC", []incident.Element{name, ssn}, 18, []incident.Element{ssn}},
		{"Massachusetts", "US-MA", []incident.Element{name, ssn}, 18, []incident.Element{ssn}},
		{"PennsylvaniaBank", "US-PA", []incident.Element{name, finAcct}, 12, []incident.Element{finAcct}},
		{"TexasNone", "US-TX", []incident.Element{name, ssn}, 0, nil},
		{"GermanyNone", "DE", []incident.Element{name, ssn}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc := breach(t, tc.elements...)
			p, ok := ProtectionFor(tc.code, inc)
			if ok != (tc.months > 0) || p.Months != tc.months || !slices.Equal(p.Elements, tc.trigger) {
				t.Errorf("ProtectionFor = %+v, %v; want %d months for %v", p, ok, tc.months, tc.trigger)
			}
			if ok && p.Citation == "" {
				t.Error("no citation")
			}
			if got := ProtectionMonths(tc.code, inc); got != tc.months {
				t.Errorf("ProtectionMonths = %d, want %d", got, tc.months)
			}
			ob := Summarize(inc, nil, tc.code, Tally{People: 3, Owed: 2, Email: 2})
			if (ob.Protection == nil) != (tc.months == 0) || ob.Protection != nil && ob.Protection.Months != tc.months {
				t.Errorf("obligation protection = %+v, want %d months", ob.Protection, tc.months)
			}
			if tc.months > 0 && !hasReason(ob.Reasons, tc.code+"/protection/owed") {
				t.Errorf("reasons lack %s/protection/owed: %s", tc.code, ruleIDs(ob.Reasons))
			}
			if ob := Summarize(inc, nil, tc.code, Tally{People: 3}); ob.Protection != nil {
				t.Errorf("no one owed notice, yet protection %+v", ob.Protection)
			}
		})
	}
}

func hasReason(rs []Reason, id string) bool {
	for _, r := range rs {
		if r.Rule == id {
			return true
		}
	}
	return false
}
