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

// TestWeb_UpdateIncident: PATCH /api/incidents/{id} changes the protection
// offer and the cause as incident update does. Months shorter than a
// planned jurisdiction owes are refused, naming it, and nothing changes;
// who may not change incidents is refused, and another controller's member
// learns nothing (404, not the jurisdictions); an unknown field or an empty
// change is refused; the change is audited.
func TestWeb_UpdateIncident(t *testing.T) {
	e := newAdminEnv(t)
	c := e.c
	c.ok("accounts", "import", c.file("ct.csv", "id,name,email,locale,country,region,e_consent\nct1,Cat Tee,ct1@example.org,en-US,US,CT,yes\n"))
	c.ok("incident", "open", "--controller", "op", "--title", "SSNs exposed", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "6", "--all")
	c.ok("incident", "plan", "6")

	for _, tc := range []struct {
		name, role, body string
		status           int
		contains         string
	}{
		{"Short", "security", `{"protection_provider":"IDGuard","protection_months":12}`, 400, "US-CT owes 24 months (Conn. Gen. Stat. 36a-701b(b)(2)(B); source:"},
		{"OtherMember", "memberA", `{"protection_months":12}`, 404, ""},
		{"Legal", "legal", `{"protection_months":24}`, 403, ""},
		{"UnknownField", "security", `{"protection_month":24}`, 400, "protection_month"},
		{"Nothing", "security", `{}`, 400, "nothing to change"},
		{"BadCause", "security", `{"cause":"malicous"}`, 400, `unknown cause`},
		{"Negative", "security", `{"protection_months":-1}`, 400, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.as(t, tc.role, "PATCH", "/api/incidents/6", tc.body)
			if res.Code != tc.status || !strings.Contains(res.Body.String(), tc.contains) || (tc.status == 404 && strings.Contains(res.Body.String(), "US-CT")) {
				t.Errorf("%s: %d %s, want %d containing %q", tc.body, res.Code, res.Body, tc.status, tc.contains)
			}
		})
	}
	if out := c.ok("incident", "show", "6"); strings.Contains(out, "protection offer") {
		t.Errorf("a refused change changed the incident:\n%s", out)
	}
	res := e.as(t, "security", "PATCH", "/api/incidents/6", `{"protection_provider":"IDGuard","protection_url":"https://idguard.example/enrol","protection_months":24,"cause":"malicious"}`)
	var inc struct {
		Cause      string
		Protection struct {
			Provider, URL string
			Months        int
		}
	}
	if err := json.Unmarshal(res.Body.Bytes(), &inc); res.Code != 200 || err != nil || inc.Cause != "malicious" ||
		inc.Protection.Provider != "IDGuard" || inc.Protection.URL != "https://idguard.example/enrol" || inc.Protection.Months != 24 {
		t.Fatalf("update: %d %v %s", res.Code, err, res.Body)
	}
	// Fields left out stay; an empty string clears.
	res = e.as(t, "security", "PATCH", "/api/incidents/6", `{"protection_url":""}`)
	inc.Protection.URL, inc.Protection.Provider, inc.Protection.Months = "", "", 0
	if err := json.Unmarshal(res.Body.Bytes(), &inc); res.Code != 200 || err != nil || inc.Protection.URL != "" || inc.Protection.Provider != "IDGuard" || inc.Protection.Months != 24 {
		t.Errorf("clearing the URL: %d %v %s", res.Code, err, res.Body)
	}
	db := c.openDB()
	defer db.Close()
	var audited int
	if err := db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'incident.update' AND object = 'incident:6' AND actor LIKE '%sec%'`).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("%d incident.update audit rows by sec (%v), want 2", audited, err)
	}
}
