package notify_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
)

func TestMakePlan(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	id := storetest.ScopedIncident(t, st, `id,name,email,country,region,postal_line1,city,postal_code,e_consent,status
ca1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012,true,active
ca2,Ben,,US,CA,2 Main St,Los Angeles,90012,false,active
tx1,Cy,cy@example.org,US,TX,3 Main St,Austin,78701,true,active
de1,Dora,dora@example.org,DE,,Hauptstr. 1,Berlin,10115,false,active
xx1,Eve,eve@example.org,,,,,,false,active
ret,,,US,CA,,,,false,retired
`, incident.ElemName, incident.ElemEmail, incident.ElemPassword)

	p, err := notify.MakePlan(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.People != 6 || p.Review != 1 {
		t.Errorf("plan: people %d review %d, want 6 and 1", p.People, p.Review)
	}
	byJ := map[string]law.Obligation{}
	for _, ob := range p.Jurisdictions {
		byJ[ob.Jurisdiction] = ob
	}
	// Cal. Civ. Code 1798.82(h)(4)(B): a username or email address with a
	// password is personal information on its own.
	if ca := byJ["US-CA"]; ca.Tally.People != 3 || ca.Tally.Owed != 3 || ca.Tally.Unreachable != 1 {
		t.Errorf("US-CA tally = %+v", ca.Tally)
	}
	// Texas' definition (Tex. Bus. & Com. Code 521.002) has no credentials
	// element: nobody in Texas is owed notice for name+email+password.
	if tx := byJ["US-TX"]; tx.Tally.Owed != 0 {
		t.Errorf("US-TX owed = %d, want 0", tx.Tally.Owed)
	}
	if _, ok := byJ["DE"]; !ok {
		t.Errorf("no DE obligation: %v", p.Jurisdictions)
	}

	decisions := map[string]law.Decision{}
	err = notify.ForEachDecision(ctx, st, id, func(d *law.Decision) error {
		if _, dup := decisions[d.AccountID]; dup {
			t.Errorf("two decisions for %s", d.AccountID)
		}
		decisions[d.AccountID] = *d
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions) != 6 {
		t.Fatalf("%d decisions, want one per affected person (6)", len(decisions))
	}
	if d := decisions["ret"]; !d.Notify || !d.Unreachable || len(d.Channels) != 0 {
		t.Errorf("retired account: %+v, want owed and unreachable", d)
	}
	if d := decisions["xx1"]; !d.Review || !d.Notify {
		t.Errorf("unknown residence: %+v, want review and notify", d)
	}
	if d := decisions["ca2"]; strings.Join(d.Channels, ",") != "letter" {
		t.Errorf("ca2 without email: channels %v, want letter", d.Channels)
	}
	for acct, d := range decisions {
		if d.Notify && d.Deadline.Before(storetest.Discovered.Time) {
			t.Errorf("%s: deadline %s before discovery", acct, d.Deadline)
		}
	}

	// Re-planning replaces the plan: same people, nothing doubled.
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	stored, err := notify.FindPlan(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	st.DB().QueryRow(`SELECT sum(people) FROM plan_map WHERE incident_id=?`, id).Scan(&n)
	if n != 6 || stored.People != 6 || len(stored.Jurisdictions) != len(p.Jurisdictions) {
		t.Errorf("after re-plan: %d rows, plan %+v", n, stored)
	}
	inc, _ := st.FindIncidentByID(ctx, id)
	if inc.Status != incident.StatusPlanned {
		t.Errorf("status = %s, want planned", inc.Status)
	}
}

// TestMakePlan_MatchesDecide holds the set-based plan equal to deciding
// person by person with the full account, over the demo population (every
// US state and territory, twenty countries, the demo's unusable emails,
// incomplete addresses, retired accounts) and a Member's copy, whose notices
// go to enrollment addresses.
func TestMakePlan_MatchesDecide(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	dir := t.TempDir()
	files, err := demodata.Write(ctx, dir, demodata.Options{Accounts: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.Load(ctx, st, files, nil); err != nil {
		t.Fatal(err)
	}
	// An unknown US state and an empty country, which the import keeps.
	if _, err := st.ImportAccounts(ctx, strings.NewReader("id,email,country,region\nu1000001,x@example.org,US,ZZ\nu1000002,y@example.org,,\n"),
		incident.ImportOptions{File: "extra.csv"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		controller string
		elements   []incident.Element
		encrypted  bool
	}{
		{"openlearn", []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword}, false},
		{"lakeside", []incident.Element{incident.ElemName, incident.ElemSSN, incident.ElemDOB}, false},
		{"valdemar", []incident.Element{incident.ElemName, incident.ElemPaymentCard, incident.ElemHealth}, true},
	} {
		t.Run(tc.controller, func(t *testing.T) {
			inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: tc.controller, Title: "t",
				Discovered: storetest.Discovered, Elements: tc.elements, Encrypted: tc.encrypted})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := notify.MakePlan(ctx, st, inc.ID); err != nil {
				t.Fatal(err)
			}
			c, _ := st.FindControllerByID(ctx, tc.controller)
			inc, _ = st.FindIncidentByID(ctx, inc.ID)
			planner := law.NewPlanner(inc, c)
			want := map[string]law.Decision{}
			err = st.ForEachAffected(ctx, inc.ID, func(a *incident.Affected) error {
				want[a.ID] = planner.Decide(a)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = notify.ForEachDecision(ctx, st, inc.ID, func(d *law.Decision) error {
				n++
				w := want[d.AccountID]
				if w.Channels == nil {
					w.Channels = []string{}
				}
				if !reflect.DeepEqual(*d, w) {
					t.Errorf("%s: stored decision\n%+v\nper-person decision\n%+v", d.AccountID, *d, w)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want) || n == 0 {
				t.Errorf("%d stored decisions for %d affected people", n, len(want))
			}
		})
	}
}

func TestMakePlan_ErrNotScoped(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	st.CreateController(ctx, &incident.Controller{ID: "op", Name: "Operator", From: "n@op.example"})
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "t", Discovered: storetest.Discovered,
		Elements: []incident.Element{incident.ElemSSN}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, st, inc.ID); err == nil || !strings.Contains(err.Error(), "run incident scope first") {
		t.Errorf("plan of an open incident: err = %v", err)
	}
}

func benchPeople() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkMakePlan plans BENCH_ACCOUNTS (default a million) affected
// people of the demo population, reporting people/s and peak memory.
//
//	go test ./notify -run '^$' -bench MakePlan -benchtime 1x
func BenchmarkMakePlan(b *testing.B) {
	n := benchPeople()
	ctx := context.Background()
	st := storetest.Open(b)
	path := filepath.Join(b.TempDir(), "accounts.csv")
	f, _ := os.Create(path)
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	if err := demodata.WriteAccounts(ctx, w, demodata.Options{Accounts: n, Seed: 3}); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	bw.Flush()
	f.Close()
	in, _ := os.Open(path)
	st.CreateController(ctx, &incident.Controller{ID: "op", Name: "Operator", From: "n@op.example"})
	if _, err := st.ImportAccounts(ctx, in, incident.ImportOptions{File: path}); err != nil {
		b.Fatal(err)
	}
	in.Close()
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "t", Discovered: storetest.Discovered,
		Elements: []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword, incident.ElemDOB}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		start := time.Now()
		p, err := notify.MakePlan(ctx, st, inc.ID)
		if err != nil {
			b.Fatal(err)
		}
		if p.People != n {
			b.Fatalf("planned %d, want %d", p.People, n)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "people/s")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak_MB")
	}
}

func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestMakePlan_ErrSendingStarted: re-planning a planned incident replaces
// its plan; once sending has started MakePlan refuses (ErrConflict, which
// the edges map to a conflict) and the stored plan stays.
func TestMakePlan_ErrSendingStarted(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	id := storetest.ScopedIncident(t, st, "id,name,country,region,postal_line1,city,postal_code\n"+
		"l1,Ana,US,CA,1 Main St,Los Angeles,90012\nl2,Bo,US,TX,2 Oak Ave,Austin,78701\n", incident.ElemName, incident.ElemSSN)
	first, err := notify.MakePlan(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	st.Now = func() time.Time { return first.MadeAt.Add(time.Hour) }
	again, err := notify.MakePlan(ctx, st, id)
	if err != nil || !again.MadeAt.After(first.MadeAt) {
		t.Fatalf("re-plan of a planned incident: %v, %v", again, err)
	}
	if _, err := notify.Send(ctx, st, id, notify.SendOptions{Channel: notify.ChannelLetter}); err != nil {
		t.Fatal(err)
	}
	_, err = notify.MakePlan(ctx, st, id)
	if !errors.Is(err, incident.ErrConflict) ||
		!strings.Contains(err.Error(), "incident 1 is notifying: 2 notices already made from its plan (none delivered yet)") {
		t.Errorf("re-plan after sending started: %v", err)
	}
	if stored, err := notify.FindPlan(ctx, st, id); err != nil || !stored.MadeAt.Equal(again.MadeAt) {
		t.Errorf("stored plan after the refusal: %+v, %v; want the one made at %v", stored, err, again.MadeAt)
	}
}
