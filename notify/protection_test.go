package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
)

// TestProtectionMonths: a notice offers the configured months when longer
// than the law's, never fewer; an offer shorter than a jurisdiction of the
// plan owes is refused naming it, its citation and its source.
func TestProtectionMonths(t *testing.T) {
	ssn := &incident.Incident{Elements: []incident.Element{incident.Element("name"), incident.Element("ssn")}}
	p := &Plan{Incident: 7}
	for _, code := range []string{"US-CA", "US-CT", "US-TX"} {
		ob := law.Obligation{Jurisdiction: code}
		if pr, ok := law.ProtectionFor(code, ssn); ok {
			ob.Protection = &pr
		}
		p.Jurisdictions = append(p.Jurisdictions, ob)
	}
	for _, tc := range []struct {
		name            string
		configured      int
		offeredCA       int
		short, wantText string
	}{
		{"LawsMonths", 0, 12, "", ""},
		{"Shorter", 12, 12, "US-CT", "US-CT owes 24 months (Conn. Gen. Stat. 36a-701b(b)(2)(B); source: rules.tsv other_obligations"},
		{"AsLong", 24, 24, "", ""},
		{"Longer", 36, 36, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc := *ssn
			inc.Protection = &incident.Protection{Months: tc.configured}
			if got := OfferedMonths(law.ProtectionMonths("US-CA", &inc), &inc); got != tc.offeredCA {
				t.Errorf("US-CA offered %d months, want %d", got, tc.offeredCA)
			}
			if got := OfferedMonths(0, &inc); got != 0 {
				t.Errorf("not owed, offered %d", got)
			}
			var codes []string
			for _, s := range ProtectionShortfalls(p, tc.configured) {
				codes = append(codes, s.Jurisdiction)
			}
			if strings.Join(codes, ",") != tc.short {
				t.Errorf("shortfalls %v, want %q", codes, tc.short)
			}
			err := CheckProtectionMonths(p, tc.configured)
			if (err != nil) != (tc.wantText != "") || err != nil && (!errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), tc.wantText)) {
				t.Errorf("CheckProtectionMonths: %v, want %q", err, tc.wantText)
			}
			q := &Plan{Incident: p.Incident, Jurisdictions: append([]law.Obligation(nil), p.Jurisdictions...)}
			WithProtectionOffers(q, &inc)
			if o := q.Jurisdictions[0].Protection.Offer; o == nil || o.Months != tc.offeredCA || o.Short != (tc.configured > 0 && tc.configured < 12) {
				t.Errorf("US-CA offer %+v", o)
			}
			if p.Jurisdictions[0].Protection.Offer != nil {
				t.Error("WithProtectionOffers changed the plan it was given a copy of")
			}
		})
	}
}
