package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/templates/golden"
)

// TestCLI_AccountsList: the table, JSON lines, a Member's copy (its
// enrolled learners only), the country filter and the limit.
func TestCLI_AccountsList(t *testing.T) {
	c := newCLI(t)
	c.seed()
	golden.Check(t, "accounts_list", c.ok("accounts", "list"))
	ids := func(out string) string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct{ ID string }
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("not a JSON line: %q", l)
			}
			got = append(got, a.ID)
		}
		return strings.Join(got, " ")
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"All", nil, "a1 a2 a3"},
		{"Operator", []string{"--controller", "op"}, "a1 a2 a3"},
		{"Member", []string{"--controller", "nb"}, "a1 a3"},
		{"Country", []string{"--country", "US"}, "a1 a2"},
		{"MemberCountry", []string{"--controller", "nb", "--country", "de"}, "a3"},
		{"Limit", []string{"--limit", "1"}, "a1"},
		{"NextPage", []string{"--limit", "1", "--after", "a1"}, "a2"},
		{"LastPage", []string{"--limit", "5", "--after", "a2"}, "a3"},
		{"Region", []string{"--region", "TX"}, "a2"},
		{"RegionWithCountry", []string{"--region", "US-CA"}, "a1"},
		{"MemberRegion", []string{"--controller", "nb", "--region", "us-ca"}, "a1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(c.ok(append([]string{"accounts", "list", "--json"}, tc.args...)...)); got != tc.want {
				t.Errorf("accounts %q, want %q", got, tc.want)
			}
		})
	}
	if _, errOut, code := c.run("accounts", "list", "--controller", "nope"); code != 1 || !strings.Contains(errOut, `no controller "nope"`) {
		t.Errorf("unknown controller: exit %d, %q", code, errOut)
	}
	if _, _, code := c.run("accounts", "list", "--limit", "-1"); code != 2 {
		t.Errorf("--limit -1: exit %d, want 2", code)
	}
	if _, errOut, code := c.run("accounts", "list", "--country", "DE", "--region", "US-CA"); code != 1 || !strings.Contains(errOut, "region US-CA is not in country DE") {
		t.Errorf("region of another country: exit %d, %q", code, errOut)
	}

	// Paging: a page cut by --limit says on stderr how to get the next
	// one, repeating the filters; following it walks the whole list once,
	// and the last page says nothing.
	var walked []string
	args := []string{"accounts", "list", "--json", "--controller", "op", "--limit", "2"}
	for page := 0; page < 5; page++ {
		out, errOut, code := c.run(args...)
		if code != 0 {
			t.Fatalf("page %d: exit %d %s", page, code, errOut)
		}
		walked = append(walked, ids(out))
		if errOut == "" {
			break
		}
		const prefix = "breachnotice: 2 accounts listed, more follow: the next page is accounts list "
		if !strings.HasPrefix(errOut, prefix) {
			t.Fatalf("page %d: stderr %q", page, errOut)
		}
		next := strings.Fields(strings.TrimPrefix(errOut, prefix))
		if strings.Join(next, " ") != "--after a2 --controller op --limit 2" {
			t.Errorf("next page: %q", next)
		}
		args = append([]string{"accounts", "list", "--json"}, next...)
	}
	if got := strings.Join(walked, " "); got != "a1 a2 a3" {
		t.Errorf("pages walked %q, want a1 a2 a3", got)
	}
	// The table never names a person on stderr.
	if _, errOut, _ := c.run("accounts", "list", "--limit", "1"); strings.Contains(errOut, "Ana") || strings.Contains(errOut, "@") {
		t.Errorf("stderr names a person: %q", errOut)
	}
}

// TestCLI_ControllersShow: every field, the ledger key's fingerprint (the
// one ledger key prints) and the number of incidents.
func TestCLI_ControllersShow(t *testing.T) {
	c := newCLI(t)
	c.seed()
	var key struct{ Fingerprint string }
	if err := json.Unmarshal([]byte(c.ok("ledger", "key", "--controller", "op", "--json")), &key); err != nil || !strings.HasPrefix(key.Fingerprint, "SHA256:") {
		t.Fatalf("ledger key: %+v %v", key, err)
	}
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name")
	out := c.ok("controllers", "show", "op")
	for _, want := range []string{"id               op", "name             OpenLearn", "kind             operator", "from             notice@openlearn.example",
		"postal address   141 Portland St; Cambridge, MA 02139", "contact email    privacy@openlearn.example", "phone            -",
		"policy days      30", "dkim             not configured", "fingerprint      " + key.Fingerprint,
		"accounts         3 (every account: accounts list --controller op)", "incidents        1"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	var v struct {
		ID          string `json:"id"`
		Member      bool   `json:"member"`
		PolicyDays  int    `json:"policy_days"`
		Fingerprint string `json:"fingerprint"`
		Accounts    int    `json:"accounts"`
		Incidents   int    `json:"incidents"`
	}
	nbJSON := c.ok("controllers", "show", "nb", "--json")
	if err := json.Unmarshal([]byte(nbJSON), &v); err != nil {
		t.Fatal(err)
	}
	if v.ID != "nb" || !v.Member || v.PolicyDays != 21 || !strings.HasPrefix(v.Fingerprint, "SHA256:") || v.Fingerprint == key.Fingerprint ||
		v.Accounts != 2 || v.Incidents != 0 {
		t.Errorf("show nb --json = %+v", v)
	}
	// Goldens, with the fingerprints (a new key per run) masked.
	mask := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`)
	golden.Check(t, "controllers_show", mask.ReplaceAllString(out, "SHA256:…"))
	golden.Check(t, "controllers_show_json", mask.ReplaceAllString(nbJSON, "SHA256:…"))
	if _, errOut, code := c.run("controllers", "show", "nope"); code != 1 || !strings.Contains(errOut, `no controller "nope"`) {
		t.Errorf("unknown controller: exit %d, %q", code, errOut)
	}
}
