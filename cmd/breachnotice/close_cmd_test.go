package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestCLI_CloseWithWorkOutstanding: incident close refuses while people
// are not notified, deadlines have passed or letters are not mailed,
// listing each; --force --reason closes and records the reason in the
// audit log and the incident_closed ledger entry. An incident never
// planned closes as it is.
func TestCLI_CloseWithWorkOutstanding(t *testing.T) {
	tests := []struct {
		name    string
		setup   []string // after open: scope, plan, send...
		args    []string
		code    int
		stderr  []string
		closed  bool
		inAudit string
	}{
		{"NoPlan", nil, nil, 0, nil, true, ""},
		{"ScopedNoPlan", []string{"scope"}, nil, 0, nil, true, ""},
		{"Planned", []string{"scope", "plan"}, nil, 1, []string{
			"incident 1: 3 of 3 people owed notice not yet notified",
			"incident 1: deadline passed: DE filing with competent supervisory authority",
			"incident 1 not closed: work outstanding (listed above); to close it anyway: breachnotice incident close 1 --force --reason TEXT"}, false, ""},
		{"LettersNotMailed", []string{"scope", "plan", "send"}, nil, 1, []string{
			"letters not confirmed mailed (1 queued, 0 exported)", "people owed notice not yet notified"}, false, ""},
		{"ForceWithoutReason", []string{"scope", "plan"}, []string{"--force"}, 2, []string{"--force and --reason TEXT go together"}, false, ""},
		{"Forced", []string{"scope", "plan", "send"}, []string{"--force", "--reason", "DE filing made with the lead authority on 2026-11-22; letter posted by hand"}, 0,
			[]string{"letters not confirmed mailed"}, true, "DE filing made with the lead authority on 2026-11-22"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.seed()
			c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password,ssn")
			for _, step := range tc.setup {
				switch step {
				case "scope":
					c.ok("incident", "scope", "1", "--all")
				case "plan":
					c.ok("incident", "plan", "1")
				case "send":
					c.ok("incident", "send", "1", "--outbox", filepath.Join(c.dir, "outbox"))
				}
			}
			out, errOut, code := c.run(append([]string{"incident", "close", "1"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			show := c.ok("incident", "show", "1", "--json")
			if closed := strings.Contains(show, `"status": "closed"`); closed != tc.closed {
				t.Fatalf("closed = %v, want %v", closed, tc.closed)
			}
			if !tc.closed {
				return
			}
			audit := c.ok("audit", "--json")
			if tc.inAudit != "" && (!strings.Contains(audit, tc.inAudit) || !strings.Contains(audit, `\"forced\":true`)) {
				t.Errorf("audit lacks the forced close and its reason:\n%s", audit)
			}
			db := c.openDB()
			defer db.Close()
			var detail map[string]any
			found := false
			err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "op", Incident: 1}, func(e ledger.Entry) error {
				if e.Kind == ledger.KindIncidentClosed {
					found = true
					if len(e.Detail) > 0 {
						return json.Unmarshal(e.Detail, &detail)
					}
				}
				return nil
			})
			if err != nil || !found {
				t.Fatalf("no incident_closed entry (%v)", err)
			}
			if tc.inAudit == "" && detail != nil {
				t.Errorf("plain close has detail %v", detail)
			}
			if tc.inAudit != "" && (detail["forced"] != true || !strings.Contains(detail["reason"].(string), tc.inAudit) || detail["outstanding"] == nil) {
				t.Errorf("incident_closed detail = %v", detail)
			}
			for _, name := range []string{"Ana", "Bo Li", "Cy M", "@example.org"} {
				if b, _ := json.Marshal(detail); strings.Contains(string(b), name) {
					t.Errorf("ledger detail names a person (%q): %s", name, b)
				}
			}
		})
	}
}
