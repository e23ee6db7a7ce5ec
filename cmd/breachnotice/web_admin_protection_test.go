package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/law"
)

// TestProtectionText: the admin obligations table's protection cell says
// what the law owes and what is offered, by whom, and flags a short offer.
func TestProtectionText(t *testing.T) {
	for _, tc := range []struct {
		name string
		pr   *law.Protection
		want string
	}{
		{"NotOwed", nil, "-"},
		{"OwedNoOfferShown", &law.Protection{Months: 12}, "12 mo owed"},
		{"NoProvider", &law.Protection{Months: 24, Offer: &law.ProtectionOffer{Months: 24}}, "24 mo owed; offered 24 mo by the controller (no provider set)"},
		{"Provider", &law.Protection{Months: 12, Offer: &law.ProtectionOffer{Months: 36, Provider: "IDGuard"}}, "12 mo owed; offered 36 mo by IDGuard"},
		{"Short", &law.Protection{Months: 24, Offer: &law.ProtectionOffer{Months: 24, Provider: "IDGuard", Short: true}},
			"24 mo owed; offered 24 mo by IDGuard (configured months too short: send refused)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := protectionText(tc.pr); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWeb_ProtectionOffer: through the API and the admin UI, a plan shows
// the offer arranged per jurisdiction, and a send whose offer is shorter
// than a jurisdiction owes is refused before it starts, naming it; raised
// to what the law owes, the plan shows it met.
func TestWeb_ProtectionOffer(t *testing.T) {
	e := newAdminEnv(t)
	c := e.c
	c.ok("accounts", "import", c.file("ct.csv", "id,name,email,locale,country,region,e_consent\nct1,Cat Tee,ct1@example.org,en-US,US,CT,yes\n"))
	c.ok("incident", "open", "--controller", "op", "--title", "SSNs exposed", "--discovered", "2026-11-20", "--elements", "name,ssn",
		"--protection-provider", "IDGuard", "--protection-months", "12")
	c.ok("incident", "scope", "6", "--all")

	res := e.as(t, "security", "POST", "/api/incidents/6/plan", "")
	var plan struct {
		Jurisdictions []struct {
			Jurisdiction string
			Protection   *struct {
				Months int
				Offer  *struct {
					Months   int
					Provider string
					Short    bool
				}
			}
		}
	}
	if err := json.Unmarshal(res.Body.Bytes(), &plan); res.Code != 200 || err != nil {
		t.Fatalf("plan: %d %v\n%s", res.Code, err, res.Body)
	}
	offers := map[string]string{}
	for _, j := range plan.Jurisdictions {
		if p := j.Protection; p != nil && p.Offer != nil {
			offers[j.Jurisdiction] = fmt.Sprintf("%d owed, %d offered by %s, short %v", p.Months, p.Offer.Months, p.Offer.Provider, p.Offer.Short)
		}
	}
	want := map[string]string{"US-CA": "12 owed, 12 offered by IDGuard, short false", "US-CT": "24 owed, 24 offered by IDGuard, short true"}
	if !maps.Equal(offers, want) {
		t.Errorf("plan offers %v, want %v", offers, want)
	}

	res = e.as(t, "security", "POST", "/api/incidents/6/send", "")
	if res.Code != 400 || !strings.Contains(res.Body.String(), "US-CT owes 24 months (Conn. Gen. Stat. 36a-701b(b)(2)(B); source:") {
		t.Errorf("send with a short offer: %d %s", res.Code, res.Body)
	}
	page := e.as(t, "security", "GET", "/admin/incidents/6", "").Body.String()
	for _, w := range []string{"24 mo owed; offered 24 mo by IDGuard (configured months too short: send refused)", "12 mo owed; offered 12 mo by IDGuard<"} {
		if !strings.Contains(page, w) {
			t.Errorf("admin page lacks %q", w)
		}
	}
	c.ok("incident", "update", "6", "--protection-months", "24")
	if page := e.as(t, "security", "GET", "/admin/incidents/6", "").Body.String(); strings.Contains(page, "too short") ||
		!strings.Contains(page, "12 mo owed; offered 24 mo by IDGuard") {
		t.Errorf("after raising the months, the page still says short or lacks the offer")
	}
}
