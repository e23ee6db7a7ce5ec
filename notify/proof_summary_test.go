package notify_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/regulator"
)

// TestProofSummary_DeadlinesAndPeople plays the security lead's case of
// issue 17: a breach discovered on 2026-11-24 (the GDPR authorities' 72
// hours ran out on 2026-11-27), looked at on 2026-11-30. The proof
// bundle's summary, recomputed by verify from the ledger alone, must say
// which deadlines were met, missed (overdue while nothing was filed) or
// are open, and count people: owed, notified by channel, and the
// outstanding ones by why (letter not yet mailed, unreachable).
func TestProofSummary_DeadlinesAndPeople(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := newSendEnv(t, "")
	e.st.Now = clock
	led, err := ledger.New([]byte("send-test-secret-0123456789"), clock)
	if err != nil {
		t.Fatal(err)
	}
	e.st.Journal, e.led = led, led
	if err := e.st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example"}); err != nil {
		t.Fatal(err)
	}
	// de1, gb1: email (GDPR); ny1: a letter (no consent of their own);
	// ca1: email; ca2: retired, unreachable.
	accounts := `id,name,email,country,region,postal_line1,city,postal_code,e_consent,status
de1,Dora,dora@example.org,DE,,1 Hauptstr,Berlin,10115,yes,active
gb1,Gil,gil@example.org,GB,,1 High St,London,SW1A 1AA,yes,active
ny1,Ned,ned@example.org,US,NY,1 Main St,Albany,12207,,active
ca1,Cal,cal@example.org,US,CA,1 Main St,Los Angeles,90012,yes,active
ca2,Cyd,cyd@example.org,US,CA,2 Main St,Los Angeles,90012,yes,retired
`
	if res, err := e.st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	inc, err := e.st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "Backup exposed",
		Discovered: incident.Date{Time: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		Elements:   []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, e.st, inc.ID); err != nil {
		t.Fatal(err)
	}
	res, err := notify.Send(ctx, e.st, inc.ID, notify.SendOptions{Channel: "all", Transport: email.NewOutbox(t.TempDir()), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 3 || res.LettersQueued != 1 || res.Unreachable != 1 {
		t.Fatalf("send: %+v, want 3 emails sent, 1 letter queued, 1 unreachable", res)
	}
	// The UK's filing went in a day late; Germany's was never recorded.
	if _, err := regulator.MarkSent(ctx, e.st, inc.ID, "GB", regulator.DutyRegulator, incident.Date{Time: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, "ICO-1", now); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "proof.zip")
	if _, err := led.Export(ctx, e.st.DB(), ledger.ExportOptions{Controller: "op", Incident: inc.ID, Out: out, Actor: incident.ActorFrom(ctx)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Verify(ctx, out, ""); err != nil {
		t.Fatalf("verify: %v", err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Counts ledger.Counts `json:"counts"`
	}
	if err := json.NewDecoder(f).Decode(&sum); err != nil {
		t.Fatal(err)
	}
	f.Close()

	wantPeople := ledger.People{Owed: 5, Notified: 3, NotifiedByEmail: 3, Outstanding: 2, LettersUnmailed: 1, Substitute: 1}
	if got := sum.Counts.People; got != wantPeople {
		t.Errorf("people:\n got %+v\nwant %+v", got, wantPeople)
	}

	if got := sum.Counts.SubstituteCases; len(got) != 1 || got[0].Account != "ca2" || got[0].Reason != ledger.ReasonUnreachable || got[0].Jurisdiction != "US-CA" {
		t.Errorf("substitute cases %+v, want ca2 (retired)", got)
	}

	outcomes := map[string]ledger.DeadlineOutcome{}
	for _, o := range sum.Counts.DeadlineOutcomes {
		outcomes[o.Jurisdiction+" "+o.Duty] = o
	}
	for _, tc := range []struct {
		key, state string
		overdue    bool
		check      func(o ledger.DeadlineOutcome) bool
	}{
		{"DE regulator", ledger.OutcomeMissed, true, func(o ledger.DeadlineOutcome) bool {
			return o.Due == "2026-11-27" && o.DaysLeft == -3 && o.FiledOn == ""
		}},
		{"GB regulator", ledger.OutcomeMissed, false, func(o ledger.DeadlineOutcome) bool {
			return o.Due == "2026-11-27" && o.FiledOn == "2026-11-28"
		}},
		{"DE individuals", ledger.OutcomeMet, false, func(o ledger.DeadlineOutcome) bool {
			return o.Owed == 1 && o.Notified == 1 && o.Outstanding == 0
		}},
		{"US-NY individuals", ledger.OutcomeOpen, false, func(o ledger.DeadlineOutcome) bool {
			return o.Owed == 1 && o.Notified == 0 && o.Outstanding == 1 && o.DaysLeft > 0
		}},
		{"US-CA individuals", ledger.OutcomeOpen, false, func(o ledger.DeadlineOutcome) bool {
			return o.Owed == 2 && o.Notified == 1 && o.Outstanding == 1
		}},
	} {
		o, ok := outcomes[tc.key]
		if !ok {
			t.Errorf("%s: no outcome in the summary (have %v)", tc.key, sum.Counts.DeadlineOutcomes)
			continue
		}
		if o.State != tc.state || o.Overdue != tc.overdue || !tc.check(o) {
			t.Errorf("%s: %+v, want state %s overdue %v", tc.key, o, tc.state, tc.overdue)
		}
	}
	if tot := sum.Counts.DeadlineTotals; tot.Overdue < 1 || tot.Missed < 2 || tot.Met < 1 {
		t.Errorf("totals %+v", tot)
	}
}
