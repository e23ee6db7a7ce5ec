package incident_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// seed creates an operator, two Members with a course each, five accounts
// and their enrollments.
func seed(t *testing.T, st *incident.Store) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []*incident.Controller{
		{ID: "op", Name: "Operator", From: "notice@op.example"},
		{ID: "m1", Name: "Member One", Member: true, From: "privacy@m1.example"},
		{ID: "m2", Name: "Member Two", Member: true, From: "privacy@m2.example"},
	} {
		if err := st.CreateController(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mustImport := func(what string, f func(context.Context, *strings.Reader, string) (incident.ImportResult, error), body string) {
		t.Helper()
		res, err := f(ctx, strings.NewReader(body), what)
		if err != nil || res.Rejected > 0 {
			t.Fatalf("import %s: %+v %v", what, res, err)
		}
	}
	opt := func(name string) incident.ImportOptions { return incident.ImportOptions{File: name} }
	mustImport("courses", func(ctx context.Context, r *strings.Reader, n string) (incident.ImportResult, error) {
		return st.ImportCourses(ctx, r, opt(n))
	}, "course_id,member_id,title\nc1,m1,Course One\nc1b,m1,Course One B\nc2,m2,Course Two\n")
	mustImport("accounts", func(ctx context.Context, r *strings.Reader, n string) (incident.ImportResult, error) {
		return st.ImportAccounts(ctx, r, opt(n))
	}, "id,name,email,country,region\na1,A One,a1@example.org,US,CA\na2,A Two,a2@example.org,US,TX\na3,A Three,a3@example.org,DE,\na4,A Four,a4@example.org,GB,\na5,A Five,,US,NY\n")
	mustImport("enrollments", func(ctx context.Context, r *strings.Reader, n string) (incident.ImportResult, error) {
		return st.ImportEnrollments(ctx, r, opt(n))
	}, "account_id,course_id,email\na1,c1,a1@m1.example\na1,c1b,\na2,c1,\na3,c2,a3@m2.example\na5,c1b,a5@m1.example\n")
}

var discovered = incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

func openIncident(t *testing.T, st *incident.Store, controller string) *incident.Incident {
	t.Helper()
	inc, err := st.CreateIncident(context.Background(), incident.NewIncident{ControllerID: controller, Title: "Database exposed",
		Discovered: discovered, Elements: []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword}})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// affected lists the incident's affected set as "id=notice-email".
func affected(t *testing.T, st *incident.Store, id int64) []string {
	t.Helper()
	var out []string
	err := st.ForEachAffected(context.Background(), id, func(a *incident.Affected) error {
		out = append(out, a.ID+"="+a.NoticeEmail)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestStore_CreateIncident(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	good := incident.NewIncident{ControllerID: "m1", Title: "Leak", Discovered: discovered,
		Elements: []incident.Element{incident.ElemEmail}}
	inc, err := st.CreateIncident(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if inc.ID != 1 || inc.Status != incident.StatusOpen || inc.ControllerID != "m1" || inc.Discovered.String() != "2026-11-20" {
		t.Errorf("incident = %+v", inc)
	}
	tests := []struct {
		name string
		mod  func(*incident.NewIncident)
		want string
	}{
		{"ErrUnknownController", func(n *incident.NewIncident) { n.ControllerID = "nope" }, `no controller "nope"`},
		{"ErrFutureDate", func(n *incident.NewIncident) { n.Discovered = discovered.AddDays(30) }, "discovered date 2026-12-20 is in the future"},
		{"ErrNoTitle", func(n *incident.NewIncident) { n.Title = " " }, "--title is required"},
		{"ErrUnknownElement", func(n *incident.NewIncident) { n.Elements = []incident.Element{"shoe_size"} }, `unknown data element "shoe_size"`},
		{"ErrOccurredOrder", func(n *incident.NewIncident) {
			n.OccurredFrom, n.OccurredTo = discovered.AddDays(-1), discovered.AddDays(-5)
		}, "occurred-to 2026-11-15 is before occurred-from 2026-11-19"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := good
			tc.mod(&n)
			_, err := st.CreateIncident(ctx, n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			incs, _ := st.FindIncidents(ctx, incident.IncidentFilter{})
			if len(incs) != 1 {
				t.Errorf("a rejected incident wrote something: %d incidents", len(incs))
			}
		})
	}
	t.Run("ErrUnknownElementName", func(t *testing.T) {
		if _, err := incident.ParseElements("name,ssn,favourite_colour"); err == nil || !strings.Contains(err.Error(), `"favourite_colour"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrBadDate", func(t *testing.T) {
		if _, err := incident.ParseDate("2026-13-01"); err == nil {
			t.Error("month 13 accepted")
		}
	})
}

func TestStore_ScopeIncident(t *testing.T) {
	ctx := context.Background()
	t.Run("OperatorCopyHoldsEveryone", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "op")
		res, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"a1=a1@example.org", "a2=a2@example.org", "a3=a3@example.org", "a4=a4@example.org", "a5="}
		if got := affected(t, st, inc.ID); res.Affected != 5 || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("affected = %d %v, want %v", res.Affected, got, want)
		}
		// Re-scoping replaces the set and is idempotent.
		if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := st.FindIncidentByID(ctx, inc.ID)
		if got.Affected != 5 || got.Status != incident.StatusScoped || got.Scope != "all" {
			t.Errorf("after re-scope: %+v", got)
		}
		// The operator's copy holds every course's learners.
		res, err = st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Courses: []string{"c2"}}, nil)
		if err != nil || res.Affected != 1 {
			t.Errorf("operator --course c2: %+v %v", res, err)
		}
	})

	t.Run("MemberCopyHoldsItsEnrollments", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "m1")
		if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
			t.Fatal(err)
		}
		// a1's notice goes to the address tied to its enrollment; a2 has
		// none and falls back to the account's; a3 and a4 are not in m1's copy.
		want := "a1=a1@m1.example a2=a2@example.org a5=a5@m1.example"
		if got := strings.Join(affected(t, st, inc.ID), " "); got != want {
			t.Errorf("affected = %s, want %s", got, want)
		}
		res, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Courses: []string{"c1b"}}, nil)
		if err != nil || res.Affected != 2 {
			t.Errorf("--course c1b: %+v %v", res, err)
		}
	})

	t.Run("ErrCourseOfAnotherController", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "m1")
		_, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Courses: []string{"c2"}}, nil)
		if !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), "--course c2 belongs to controller m2, not to m1") {
			t.Errorf("err = %v", err)
		}
		if got, _ := st.FindIncidentByID(ctx, inc.ID); got.Status != incident.StatusOpen || got.Affected != 0 {
			t.Errorf("a failed scope changed the incident: %+v", got)
		}
	})

	t.Run("AccountsFileReportsIdsNotInCopy", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "m1")
		var problems []string
		res, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{
			Accounts: strings.NewReader("account_id\na1\na3\nghost\n\na5\na1\n"), AccountsFile: "ids.csv"},
			func(p incident.Problem) { problems = append(problems, p.String()) })
		if err != nil {
			t.Fatal(err)
		}
		wantProblems := []string{
			`ids.csv:3: account_id: "a3" is not in the copy of m1: not added to the affected set`,
			`ids.csv:4: account_id: "ghost" is not in the copy of m1: not added to the affected set`,
		}
		if strings.Join(problems, "\n") != strings.Join(wantProblems, "\n") {
			t.Errorf("problems:\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
		}
		if res.Affected != 2 || res.NotInCopy != 2 {
			t.Errorf("result = %+v", res)
		}
		if got := strings.Join(affected(t, st, inc.ID), " "); got != "a1=a1@m1.example a5=a5@m1.example" {
			t.Errorf("affected = %s", got)
		}
	})
}

func TestStore_IncidentLifecycle(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	inc := openIncident(t, st, "op")

	var oe *incident.OutstandingError
	if _, err := st.CloseIncident(ctx, inc.ID, incident.CloseOptions{Outstanding: []string{"2 people not notified"}}); !errors.Is(err, incident.ErrConflict) || !errors.As(err, &oe) {
		t.Errorf("closing with work outstanding: err = %v, want an OutstandingError conflict", err)
	}
	held, err := st.HoldIncident(ctx, inc.ID, "FBI field office asked for 30 days")
	if err != nil || held.Hold == nil || held.Hold.Reason != "FBI field office asked for 30 days" {
		t.Fatalf("hold: %+v %v", held, err)
	}
	if _, err := st.HoldIncident(ctx, inc.ID, "again"); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("double hold: err = %v", err)
	}
	rel, err := st.ReleaseIncident(ctx, inc.ID)
	if err != nil || rel.Hold != nil {
		t.Fatalf("release: %+v %v", rel, err)
	}
	if _, err := st.ReleaseIncident(ctx, inc.ID); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("release without hold: err = %v", err)
	}

	audit, err := st.FindAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions[:3], ","); got != "incident.release,incident.hold,incident.open" {
		t.Errorf("audit trail = %v", actions)
	}

	t.Run("StatusOrder", func(t *testing.T) {
		cases := []struct {
			from, to incident.Status
			ok       bool
		}{
			{incident.StatusOpen, incident.StatusScoped, true},
			{incident.StatusOpen, incident.StatusPlanned, false},
			{incident.StatusScoped, incident.StatusScoped, true},
			{incident.StatusPlanned, incident.StatusScoped, true},
			{incident.StatusNotifying, incident.StatusScoped, false},
			{incident.StatusNotifying, incident.StatusNotifying, true},
			{incident.StatusPlanned, incident.StatusNotifying, true},
			{incident.StatusNotifying, incident.StatusClosed, true},
			{incident.StatusOpen, incident.StatusClosed, true},
			{incident.StatusPlanned, incident.StatusClosed, true},
			{incident.StatusClosed, incident.StatusClosed, false},
			{incident.StatusClosed, incident.StatusOpen, false},
			{incident.StatusScoped, incident.StatusOpen, false},
		}
		for _, c := range cases {
			if got := c.from.CanMove(c.to); got != c.ok {
				t.Errorf("%s → %s: %v, want %v", c.from, c.to, got, c.ok)
			}
		}
	})

	t.Run("MemberSeesOnlyItsOwn", func(t *testing.T) {
		m2 := incident.WithActor(ctx, incident.Actor{Name: "staff", Role: "member", Controller: "m2"})
		if _, err := st.FindIncidentByID(m2, inc.ID); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("member m2 read operator incident: err = %v", err)
		}
		if incs, _ := st.FindIncidents(m2, incident.IncidentFilter{}); len(incs) != 0 {
			t.Errorf("member m2 lists %d incidents of others", len(incs))
		}
		if _, err := st.ScopeIncident(m2, inc.ID, incident.ScopeRule{All: true}, nil); err == nil {
			t.Error("member m2 scoped an operator incident")
		}
		cs, _ := st.FindControllers(m2)
		if len(cs) != 1 || cs[0].ID != "m2" {
			t.Errorf("member m2 sees controllers %v", cs)
		}
	})
}

// TestStore_ScopeReach holds the reach flags the scope computes in SQL
// equal to Affected.Reach computed in Go, for both kinds of copy over the
// demo population (consent, retired accounts, unusable and missing emails,
// incomplete addresses, enrollment addresses).
func TestStore_ScopeReach(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	files, err := demodata.Write(ctx, t.TempDir(), demodata.Options{Accounts: 1500, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.Load(ctx, st, files, nil); err != nil {
		t.Fatal(err)
	}
	for _, controller := range []string{"openlearn", "northbridge"} {
		inc := openIncident(t, st, controller)
		if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
			t.Fatal(err)
		}
		seen := map[int]int{}
		err := st.ForEachAffected(ctx, inc.ID, func(a *incident.Affected) error {
			var stored int
			if err := st.DB().QueryRow(`SELECT reach FROM affected WHERE incident_id=? AND account_id=?`, inc.ID, a.ID).Scan(&stored); err != nil {
				return err
			}
			if want := a.Reach(); stored != want {
				t.Errorf("%s %s: stored reach %05b, Go computes %05b", controller, a.ID, stored, want)
			}
			seen[stored]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) < 6 {
			t.Errorf("%s: only %d distinct reach values: the population does not exercise the flags", controller, len(seen))
		}
	}
}
