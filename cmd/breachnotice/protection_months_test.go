package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ProtectionMonths: the offer's months are configurable, never
// shorter than a jurisdiction of the plan owes (US-CT: 24 months for an
// SSN), refused naming the jurisdiction, citation and source; the plan
// shows per jurisdiction what is owed and what is offered by whom; the
// notices print the configured months; months set before the plan that
// turn out short make incident send refuse, sending nothing.
func TestCLI_ProtectionMonths(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("ct.csv", "id,name,email,locale,country,region,e_consent\nct1,Cat Tee,ct1@example.org,en-US,US,CT,yes\n"))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")

	const ctSource = "US-CT owes 24 months (Conn. Gen. Stat. 36a-701b(b)(2)(B); source: rules.tsv other_obligations"
	months := func() int {
		var inc struct {
			Protection *struct{ Months int } `json:"protection"`
		}
		if err := json.Unmarshal([]byte(c.ok("incident", "show", "1", "--json")), &inc); err != nil {
			t.Fatal(err)
		}
		if inc.Protection == nil {
			return 0
		}
		return inc.Protection.Months
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		months int // stored afterwards
	}{
		{"ShorterThanConnecticut", []string{"--protection-months", "12"}, 1, ctSource, 0},
		{"ShortWithProviderChangesNothing", []string{"--protection-months", "18", "--protection-provider", "IDGuard"}, 1, ctSource, 0},
		{"Negative", []string{"--protection-months", "-1"}, 1, "want 1 to 120", 0},
		{"TooLong", []string{"--protection-months", "121"}, 1, "want 1 to 120", 0},
		{"NotANumber", []string{"--protection-months", "two"}, 2, `invalid value "two" for flag -protection-months`, 0},
		{"AsLongAsTheLaw", []string{"--protection-months", "24"}, 0, "", 24},
		{"Longer", []string{"--protection-months", "36", "--protection-provider", "IDGuard", "--protection-url", "https://idguard.example/enrol"}, 0, "", 36},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := c.run(append([]string{"incident", "update", "1"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
			if got := months(); got != tc.months {
				t.Errorf("stored months %d, want %d", got, tc.months)
			}
		})
	}
	if audit := c.ok("audit", "--json"); !strings.Contains(audit, `protection_months`) {
		t.Errorf("audit lacks the months change:\n%s", audit)
	}

	if show := c.ok("incident", "show", "1"); !strings.Contains(show, "protection offer  IDGuard, https://idguard.example/enrol, 36 months") {
		t.Errorf("show lacks the offer:\n%s", show)
	}

	// The plan: owed per jurisdiction, and what is offered by whom.
	out := c.ok("incident", "plan", "1", "--show")
	for _, want := range []string{
		"protection: US-CA owes 12 months of identity theft protection at no cost to 1 people",
		"offered: 36 months by IDGuard, enrolment https://idguard.example/enrol",
		"protection: US-CT owes 24 months",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	var plan struct {
		Jurisdictions []struct {
			Jurisdiction string
			Protection   *struct {
				Months int    `json:"months"`
				Source string `json:"source"`
				Offer  *struct {
					Months   int    `json:"months"`
					Provider string `json:"provider"`
					URL      string `json:"url"`
					Short    bool   `json:"short"`
				} `json:"offer"`
			} `json:"protection"`
		} `json:"jurisdictions"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "plan", "1", "--show", "--json")), &plan); err != nil {
		t.Fatal(err)
	}
	owed := map[string]int{}
	for _, j := range plan.Jurisdictions {
		if p := j.Protection; p != nil {
			owed[j.Jurisdiction] = p.Months
			if p.Source == "" || p.Offer == nil || p.Offer.Months != 36 || p.Offer.Provider != "IDGuard" || p.Offer.Short {
				t.Errorf("%s: protection %+v offer %+v", j.Jurisdiction, p, p.Offer)
			}
		}
	}
	if owed["US-CA"] != 12 || owed["US-CT"] != 24 || len(owed) != 2 {
		t.Errorf("owed months %v, want US-CA 12, US-CT 24", owed)
	}

	// The notices print the configured months, not the law's minimum.
	pv := filepath.Join(c.dir, "pv")
	c.ok("incident", "preview", "1", "--out", pv, "--channel", "email")
	for file, want := range map[string]string{
		"us-ca.es.protection-36mo.txt": "36 meses de protección contra el robo de identidad",
		"us-ct.en.protection-36mo.txt": "36 months of identity theft protection and credit monitoring from IDGuard",
	} {
		b, err := os.ReadFile(filepath.Join(pv, file))
		if err != nil {
			entries, _ := os.ReadDir(pv)
			t.Fatalf("%v (preview wrote %v)", err, entries)
		}
		if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, b)
		}
	}

	// Months set before the plan, shorter than the plan finds owed: plan
	// warns, send refuses and sends nothing; raised, send goes ahead.
	_, errOut, _ := c.run("incident", "open", "--controller", "op", "--title", "t2", "--discovered", "2026-11-20", "--elements", "name,ssn", "--protection-months", "12")
	if errOut != "" {
		t.Errorf("open: %s", errOut)
	}
	c.ok("incident", "scope", "2", "--all")
	_, errOut, code := c.run("incident", "plan", "2")
	if code != 0 || !strings.Contains(errOut, "warning: incident 2 offers 12 months of identity theft protection, but "+ctSource) {
		t.Errorf("plan 2: exit %d, stderr %q", code, errOut)
	}
	outbox := filepath.Join(c.dir, "outbox2")
	_, errOut, code = c.run("incident", "send", "2", "--channel", "email", "--outbox", outbox)
	if code != 1 || !strings.Contains(errOut, ctSource) || !strings.Contains(errOut, "nothing sent") {
		t.Errorf("send 2 short: exit %d, stderr %q", code, errOut)
	}
	if entries, _ := os.ReadDir(outbox); len(entries) != 0 {
		t.Errorf("refused send wrote %d files", len(entries))
	}
	if show := c.ok("incident", "show", "2", "--json"); !strings.Contains(show, `"status": "planned"`) {
		t.Errorf("refused send changed the status:\n%s", show)
	}
	c.ok("incident", "update", "2", "--protection-months", "24")
	c.ok("incident", "send", "2", "--channel", "email", "--outbox", outbox)
	entries, err := os.ReadDir(outbox)
	if err != nil || len(entries) == 0 {
		t.Fatalf("send 2: %v, %d files", err, len(entries))
	}
	found := false
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(outbox, e.Name()))
		if strings.Contains(string(b), "To: Ana") || strings.Contains(string(b), "ana@example.org") {
			found = true
			if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), "24 meses") {
				t.Errorf("California notice lacks the configured 24 months:\n%s", b)
			}
		}
	}
	if !found {
		t.Errorf("no notice to the Californian among %d", len(entries))
	}
}
