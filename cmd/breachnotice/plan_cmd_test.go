package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates/golden"
)

// TestCLI_PlanStates walks one incident through its life and runs
// incident plan in each state: it makes the plan of a scoped incident,
// prints the stored plan once planned (text and --json, a heading saying
// when it was made and what --replan does), re-plans with --replan until
// sending starts, and then refuses --replan with the reason while still
// printing the plan, notifying and closed alike.
func TestCLI_PlanStates(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "LMS database copied", "--discovered", "2026-11-20",
		"--elements", "password,name,email")

	// planMade counts the incident's plan_made ledger entries and audit
	// rows: a printed plan writes neither.
	planMade := func() (entries, audits int) {
		t.Helper()
		db := c.openDB()
		defer db.Close()
		err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "nb", Incident: 1}, func(e ledger.Entry) error {
			if e.Kind == ledger.KindPlanMade {
				entries++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'incident.plan'`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		return entries, audits
	}
	refused := func(name string, args []string, want string) {
		t.Helper()
		out, errOut, code := c.run(args...)
		if code != 1 || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", name, code, out, errOut, want)
		}
		if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 0 {
			t.Errorf("%s: want one line of error, got %q", name, errOut)
		}
	}

	// Open: nothing to plan yet.
	refused("Open", []string{"incident", "plan", "1"}, "incident 1 is open: plan needs a scoped incident (run incident scope first)")
	refused("OpenReplan", []string{"incident", "plan", "1", "--replan"}, "plan needs a scoped incident")

	// Scoped: the plan is made.
	c.ok("incident", "scope", "1", "--all")
	made := c.ok("incident", "plan", "1")
	golden.Check(t, "incident_plan_scoped", made)
	if e, a := planMade(); e != 1 || a != 1 {
		t.Fatalf("after planning: %d plan_made entries, %d audit rows; want 1 and 1", e, a)
	}

	// Planned: the stored plan, headed by a note; nothing is written.
	c.now = c.now.Add(time.Hour)
	planned := c.ok("incident", "plan", "1")
	golden.Check(t, "incident_plan_planned", planned)
	// Hours left on an hour-based duty move with the clock: compare the
	// plans without them.
	if !strings.HasSuffix(withoutHoursLeft(planned), withoutHoursLeft(made)) {
		t.Errorf("the stored plan printed differs from the plan as made:\n%s\nwant the note and then\n%s", planned, made)
	}
	if e, a := planMade(); e != 1 || a != 1 {
		t.Errorf("printing the stored plan wrote: %d plan_made entries, %d audit rows; want 1 and 1", e, a)
	}
	if out := c.ok("incident", "plan", "1", "--show"); out != planned {
		t.Errorf("--show differs from plan on a planned incident:\n%s", out)
	}
	if _, errOut, code := c.run("incident", "plan", "1", "--show", "--replan"); code != 2 || !strings.Contains(errOut, "give one of them") {
		t.Errorf("--show --replan: exit %d, %q; want exit 2", code, errOut)
	}

	// --replan replaces the stored plan, audited and in the ledger.
	if out := c.ok("incident", "plan", "1", "--replan"); withoutHoursLeft(out) != withoutHoursLeft(made) {
		t.Errorf("--replan printed:\n%s\nwant the plan as made:\n%s", out, made)
	}
	if e, a := planMade(); e != 2 || a != 2 {
		t.Errorf("after --replan: %d plan_made entries, %d audit rows; want 2 and 2", e, a)
	}
	if audit := c.ok("audit", "--json"); !strings.Contains(audit, `\"replaces_plan_made_at\":\"2026-11-28T12:00:00Z\"`) {
		t.Errorf("the re-plan's audit row does not name the plan it replaced:\n%s", audit)
	}
	if out := c.ok("incident", "plan", "1"); !strings.HasPrefix(out, "stored plan of incident 1, made 2026-11-28 13:00 UTC;") {
		t.Errorf("after --replan the stored plan is not the new one:\n%s", out)
	}

	// Notifying: the plan is printed; --replan is refused with the reason.
	c.ok("incident", "send", "1", "--outbox", filepath.Join(c.dir, "outbox"))
	golden.Check(t, "incident_plan_notifying", c.ok("incident", "plan", "1"))
	golden.Check(t, "incident_plan_notifying_json", c.ok("incident", "plan", "1", "--json"))
	var p struct {
		Incident int64     `json:"incident"`
		MadeAt   time.Time `json:"made_at"`
		People   int       `json:"people"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "plan", "1", "--json")), &p); err != nil || p.Incident != 1 || p.People != 2 ||
		!p.MadeAt.Equal(time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("--json while notifying: %+v, %v", p, err)
	}
	refused("NotifyingReplan", []string{"incident", "plan", "1", "--replan"},
		"incident 1 is notifying: 2 notices already delivered; a new plan cannot apply to them")
	if e, a := planMade(); e != 2 || a != 2 {
		t.Errorf("the refused re-plan wrote: %d plan_made entries, %d audit rows; want 2 and 2", e, a)
	}

	// Closed: the same.
	c.ok("incident", "close", "1", "--force", "--reason", "letters posted by hand")
	golden.Check(t, "incident_plan_closed", c.ok("incident", "plan", "1"))
	refused("ClosedReplan", []string{"incident", "plan", "1", "--replan"},
		"incident 1 is closed: 2 notices already delivered; a new plan cannot apply to them")
}

// TestCLI_PlanReplanBeforeDelivery: sending started but nothing delivered
// yet (the letters are queued, no email went out): the reason says so.
func TestCLI_PlanReplanBeforeDelivery(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	c.ok("incident", "send", "1", "--channel", "letter")
	_, errOut, code := c.run("incident", "plan", "1", "--replan")
	if want := "incident 1 is notifying: "; code != 1 || !strings.Contains(errOut, want) ||
		!strings.Contains(errOut, "already made from its plan (none delivered yet); a new plan cannot apply to them") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestCLI_PlanClosedUnplanned: an incident closed before it was planned has
// no plan to print, and says so.
func TestCLI_PlanClosedUnplanned(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name")
	c.ok("incident", "close", "1")
	if _, errOut, code := c.run("incident", "plan", "1"); code != 1 || !strings.Contains(errOut, "incident 1 was closed without a plan") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

var hoursLeft = regexp.MustCompile(`(?m)^(hours: .*): (\d+ hours left|OVERDUE by \d+ hours)$`)

// withoutHoursLeft masks the hours left on the plan's hour-based duties.
func withoutHoursLeft(s string) string { return hoursLeft.ReplaceAllString(s, "$1: <hours left>") }
