package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLI_RulesList: the rows in force on a date. India's CERT-In row
// (Directions of 2022-04-28) applies until the DPDP breach rule starts on
// 2027-05-13 (issue 12).
func TestCLI_RulesList(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		on, want, not string
	}{
		{"2026-12-01", "CERT-In Directions of 2022-04-28", "Digital Personal Data Protection Act"},
		{"2027-06-01", "Digital Personal Data Protection Act", "2022-04-28 to"},
	} {
		out := c.ok("rules", "list", "--jurisdiction", "IN", "--on", tc.on)
		if !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) || strings.Count(out, "\nIN ") != 1 {
			t.Errorf("rules list --on %s:\n%s", tc.on, out)
		}
	}
	// Today (the test clock: 2026-11-28) by default; one row per code.
	out := c.ok("rules", "list")
	if !strings.Contains(out, "rules in force on 2026-11-28") || strings.Count(out, "\nUS-CA ") != 1 || !strings.Contains(lineOf(out, "US-NJ "), "(review)") {
		t.Errorf("rules list:\n%s", out)
	}
	if out := c.ok("rules", "list", "--on", "all", "--jurisdiction", "us-ca"); strings.Count(out, "\nUS-CA ") != 2 || !strings.Contains(out, "until 2025-12-31") {
		t.Errorf("rules list --on all:\n%s", out)
	}
	var rows []struct {
		Code        string `json:"code"`
		InForceFrom string `json:"in_force_from"`
		Source      string `json:"source"`
		Checked     string `json:"checked"`
	}
	if err := json.Unmarshal([]byte(c.ok("rules", "list", "--on", "2027-06-01", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Source == "" || r.Checked == "" {
			t.Errorf("%s: no source or checked date", r.Code)
		}
		if r.Code == "IN" && r.InForceFrom != "2027-05-13" {
			t.Errorf("IN in force from %s", r.InForceFrom)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"rules", "list", "--on", "June"}, 2, "not YYYY-MM-DD"},
		{[]string{"rules", "list", "--jurisdiction", "XX"}, 1, `no jurisdiction "XX"`},
		{[]string{"rules", "list", "--jurisdiction", "IN", "--on", "2020-01-01"}, 1, "no IN row in force on 2020-01-01"},
		{[]string{"rules", "show"}, 2, "unknown sub-command"},
	} {
		if _, errOut, code := c.run(tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestCLI_Cause: Japan's APPI makes a malicious (wrongful-purpose) leak of
// a few people's names and emails notifiable; an accidental one is not.
// The cause is recorded at open, shown, and changed by incident update;
// the plan shows the hour-based clocks (Korea's 72 hours) with hours left
// and lists the rows counsel must review with the reason.
func TestCLI_Cause(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("more.csv", `id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
j1,jo,Jo Sato,jo@example.org,ja,JP,,1-1 Chiyoda,,Tokyo,100-0001,no,active
k1,ki,Ki Kim,ki@example.org,ko,KR,,1 Sejong-daero,,Seoul,04524,no,active
n1,ni,Ni Shah,ni@example.org,en,US,NJ,3 Elm St,,Newark,07102,no,active
`))
	if _, errOut, code := c.run("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-27", "--elements", "name,email", "--cause", "hacking"); code != 2 || !strings.Contains(errOut, `unknown cause "hacking"`) {
		t.Errorf("bad cause: exit %d %s", code, errOut)
	}
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-27T22:00:00+09:00",
		"--elements", "name,email,password", "--cause", "malicious")
	show := c.ok("incident", "show", "1")
	if !strings.Contains(lineOf(show, "cause"), "malicious") || !strings.Contains(lineOf(show, "discovered"), "2026-11-27 22:00 +09:00") {
		t.Errorf("show:\n%s", show)
	}
	c.ok("incident", "scope", "1", "--all")
	out := c.ok("incident", "plan", "1")
	if !strings.Contains(lineOf(out, "JP "), "policy") {
		t.Errorf("malicious: JP owed nothing:\n%s", out)
	}
	// 72 hours from 2026-11-27 22:00 +09:00 is 2026-11-30 22:00 +09:00:
	// 49 hours after the test clock (2026-11-28 12:00 UTC).
	if l := lineOf(out, "hours: KR regulator"); !strings.Contains(l, "2026-11-30 22:00 +09:00") || !strings.Contains(l, "49 hours left") {
		t.Errorf("KR hours line %q:\n%s", l, out)
	}
	// APPI: the preliminary report (planned 3 days after discovery) is
	// tracked besides the final one (30 days).
	if l := lineWith(out, "2026-11-30  JP"); !strings.Contains(l, "first report") {
		t.Errorf("no JP preliminary report deadline:\n%s", out)
	}
	if l := lineOf(out, "review: US-NJ"); !strings.Contains(l, "P.L.2019 c.95") {
		t.Errorf("no NJ review line:\n%s", out)
	}
	c.ok("incident", "update", "1", "--cause", "accidental")
	if show := c.ok("incident", "show", "1"); !strings.Contains(lineOf(show, "cause"), "accidental") {
		t.Errorf("update --cause: %s", show)
	}
	c.ok("incident", "open", "--controller", "op", "--title", "t2", "--discovered", "2026-11-27", "--elements", "name,email", "--cause", "accidental")
	c.ok("incident", "scope", "2", "--all")
	if out := c.ok("incident", "plan", "2"); strings.Contains(lineOf(out, "JP "), "policy") {
		t.Errorf("accidental: JP owed notice:\n%s", out)
	}
}

// lineWith returns the first line of s containing sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
