package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Protection: a California SSN breach owes 12 months of identity
// theft protection: the plan says so (column, line, JSON), warns while no
// provider is set, send warns and still sends; once incident update sets
// the provider the warning stops and the notices print it.
func TestCLI_Protection(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,ssn")
	c.ok("incident", "scope", "1", "--all")

	out, errOut, code := c.run("incident", "plan", "1")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"PROTECTION", "protection: US-CA owes 12 months of identity theft protection at no cost to 1 people (ssn exposed; Cal. Civ. Code 1798.82(d)(2)(G)"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(lineOf(out, "US-CA "), "12 mo") || strings.Contains(lineOf(out, "US-TX "), "mo") {
		t.Errorf("PROTECTION column: US-CA %q, US-TX %q", lineOf(out, "US-CA "), lineOf(out, "US-TX "))
	}
	wantWarn := "warning: US-CA owe identity theft protection and incident 1 has no provider set"
	if !strings.Contains(errOut, wantWarn) || !strings.Contains(errOut, "breachnotice incident update 1 --protection-provider NAME") {
		t.Errorf("plan stderr lacks the provider warning:\n%s", errOut)
	}
	var plan struct {
		Jurisdictions []struct {
			Jurisdiction string
			Protection   *struct {
				Months   int      `json:"months"`
				Elements []string `json:"elements"`
				Citation string   `json:"citation"`
			} `json:"protection"`
		} `json:"jurisdictions"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "plan", "1", "--show", "--json")), &plan); err != nil {
		t.Fatal(err)
	}
	for _, j := range plan.Jurisdictions {
		owes := j.Protection != nil && j.Protection.Months == 12 && strings.Join(j.Protection.Elements, ",") == "ssn" && j.Protection.Citation != ""
		if owes != (j.Jurisdiction == "US-CA") {
			t.Errorf("%s: protection %+v", j.Jurisdiction, j.Protection)
		}
	}

	// Updates: mistakes change nothing.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"incident", "update", "1"}, 2, "nothing to change"},
		{[]string{"incident", "update", "1", "--protection-url", "enroll.example.com"}, 1, "want an absolute https://"},
		{[]string{"incident", "update", "9", "--protection-provider", "X"}, 1, "no incident 9"},
	} {
		if _, errOut, code := c.run(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}

	// Sending without a provider warns loudly and still sends.
	outbox := filepath.Join(c.dir, "outbox1")
	_, errOut, code = c.run("incident", "send", "1", "--channel", "email", "--outbox", outbox)
	if code != 0 || !strings.Contains(errOut, wantWarn) {
		t.Errorf("send without provider: exit %d, stderr %q", code, errOut)
	}

	out = c.ok("incident", "update", "1", "--protection-provider", "IdentityGuard Example", "--protection-url", "https://enroll.example.com/ol",
		"--protection-phone", "1-800-555-0199")
	if !strings.Contains(out, "IdentityGuard Example, https://enroll.example.com/ol, 1-800-555-0199") {
		t.Errorf("update: %q", out)
	}
	if show := c.ok("incident", "show", "1", "--json"); !strings.Contains(show, `"provider": "IdentityGuard Example"`) {
		t.Errorf("show lacks the provider:\n%s", show)
	}
	if _, errOut, _ := c.run("incident", "plan", "1", "--show"); strings.Contains(errOut, "no provider") {
		t.Errorf("provider set, still warned: %s", errOut)
	}
	if audit := c.ok("audit", "--json"); !strings.Contains(audit, "incident.update") || !strings.Contains(audit, `protection_provider`) {
		t.Errorf("audit lacks incident.update:\n%s", audit)
	}

	// The preview of the California notice prints the offer as arranged.
	c.ok("incident", "preview", "1", "--out", filepath.Join(c.dir, "pv"), "--channel", "email")
	txt, err := os.ReadFile(filepath.Join(c.dir, "pv", "us-ca.es.protection-12mo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"12 meses de protección contra el robo de identidad y de supervisión de crédito de IdentityGuard Example",
		"visite https://enroll.example.com/ol", "llamando al 1-800-555-0199"} {
		if !strings.Contains(strings.Join(strings.Fields(string(txt)), " "), want) { // the text part is wrapped
			t.Errorf("California preview lacks %q:\n%s", want, txt)
		}
	}

	// An incident opened with the offer stores it.
	out = c.ok("incident", "open", "--controller", "op", "--title", "t2", "--discovered", "2026-11-20", "--elements", "ssn",
		"--protection-provider", "Acme ID", "--protection-phone", "+1 800 555 0100", "--json")
	if !strings.Contains(out, `"provider": "Acme ID"`) || !strings.Contains(out, `"phone": "+1 800 555 0100"`) {
		t.Errorf("open with protection:\n%s", out)
	}
}

// TestCLI_LanguageGaps: plan and send say how many people owed notice
// have a language without a catalogue, counted by primary subtag, and
// how many get a draft translation counsel has not reviewed (de, fr).
func TestCLI_LanguageGaps(t *testing.T) {
	c := newCLI(t)
	c.seed() // a1 es-US, a2 en, a3 de
	c.ok("accounts", "import", c.file("more.csv", `id,name,email,locale,country,region,e_consent
g1,G One,g1@example.org,pt-BR,US,TX,yes
g2,G Two,g2@example.org,ja_JP,US,TX,yes
g3,G Three,g3@example.org,JA,US,TX,yes
g4,G Four,g4@example.org,es-MX,US,TX,yes
g5,G Five,g5@example.org,,US,TX,yes
g6,G Six,g6@example.org,en-GB,US,TX,yes
g7,G Seven,g7@example.org,de-AT,US,TX,yes
g8,G Eight,g8@example.org,fr_CA,US,TX,yes
`))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	const (
		gap   = "3 people have a language with no notice catalogue (ja: 2, pt: 1): they get English notices (catalogues: de, en, es, fr)"
		draft = "3 people get notices in a draft translation counsel has not reviewed (de: 2, fr: 1): have counsel review the samples of incident preview 1"
	)
	out := c.ok("incident", "plan", "1")
	for _, want := range []string{gap, draft} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	_, errOut, code := c.run("incident", "send", "1", "--channel", "email", "--outbox", filepath.Join(c.dir, "outbox"))
	if code != 0 || !strings.Contains(errOut, "warning: "+gap) || !strings.Contains(errOut, "warning: "+draft) {
		t.Errorf("send: exit %d, stderr %q", code, errOut)
	}
	// The German and French learners' emails are in their language.
	entries, _ := os.ReadDir(filepath.Join(c.dir, "outbox"))
	langs := map[string]bool{}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(c.dir, "outbox", e.Name()))
		text := strings.Join(strings.Fields(string(b)), " ")
		switch {
		case strings.Contains(text, "g7@example.org") || strings.Contains(text, "cy@example.org"):
			langs["de"] = true
			if !strings.Contains(text, "Was ist geschehen?") && !strings.Contains(text, "Welche Daten waren betroffen?") {
				t.Errorf("%s: German learner's notice is not in German", e.Name())
			}
		case strings.Contains(text, "g8@example.org"):
			langs["fr"] = true
			if !strings.Contains(text, "Informations concern") {
				t.Errorf("%s: French learner's notice is not in French", e.Name())
			}
		}
	}
	if !langs["de"] || !langs["fr"] {
		t.Errorf("no German or French notice among %d emails: %v", len(entries), langs)
	}
}

// lineOf returns the first line of s that starts with prefix.
func lineOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
