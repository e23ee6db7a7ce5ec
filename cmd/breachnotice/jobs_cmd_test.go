package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLI_Jobs: jobs run runs one job by hand and records it; jobs list
// shows each job's last run and next run; mistakes are usage errors.
func TestCLI_Jobs(t *testing.T) {
	c := newCLI(t)
	c.seed()
	out := c.ok("jobs", "run", "ledger-checkpoint")
	if !strings.Contains(out, "ledger-checkpoint as of 2026-11-28T12:00:00Z: ok: nb signed at size") || !strings.Contains(out, "op signed") {
		t.Fatalf("first run: %s", out)
	}
	if out := c.ok("jobs", "run", "ledger-checkpoint", "--now", "2026-11-28T13:00:00Z"); !strings.Contains(out, "ok: no log grew") {
		t.Fatalf("second run signed again: %s", out)
	}
	var sts []struct {
		Name string
		Spec string
		Last *struct {
			Trigger, State, Result string
		} `json:"last_run"`
		Next string `json:"next_run"`
	}
	if err := json.Unmarshal([]byte(c.ok("jobs", "list", "--json")), &sts); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sts {
		if s.Name == "ledger-checkpoint" {
			found = true
			if s.Last == nil || s.Last.Trigger != "manual" || s.Last.Result != "no log grew" || s.Next != "2026-11-28T12:10:00Z" {
				t.Errorf("ledger-checkpoint: %+v", s)
			}
		}
	}
	if !found {
		t.Fatalf("jobs list: %+v", sts)
	}
	if _, errOut, code := c.run("jobs", "run", "ledger-checkpiont"); code != 1 || !strings.Contains(errOut, `did you mean "ledger-checkpoint"`) {
		t.Errorf("unknown job: exit %d %s", code, errOut)
	}
	if _, errOut, code := c.run("jobs", "run", "ledger-checkpoint", "--now", "yesterday"); code != 2 || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --now: exit %d %s", code, errOut)
	}
}
