package regulator_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/regulator"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// setup plans an incident (name and SSN exposed, discovered 2026-11-20)
// over three Marylanders (one reached only by letter), a New Jersey resident and a Californian, on a real
// fresh database of the tests' store (storetest) with the ledger wired in.
func setup(t *testing.T) (*incident.Store, int64) {
	t.Helper()
	return setupOn(t, storetest.Default())
}

// setupOn is setup on a store of kind k.
func setupOn(t *testing.T, k storetest.Kind) (*incident.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := incident.NewStore(storetest.OpenDB(t, k))
	st.Now = func() time.Time { return t0 }
	led, err := ledger.New([]byte("regulator-test-secret-0123456789"), st.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	if err := st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example", TermsEConsent: true,
		Contact: incident.Contact{PostalAddress: "141 Portland St\nCambridge, MA 02139", Email: "privacy@openlearn.example"}}); err != nil {
		t.Fatal(err)
	}
	accounts := `id,name,email,country,region,postal_line1,city,postal_code,e_consent
md1,Mary Land,md1@example.org,US,MD,1 Bay St,Baltimore,21201,yes
md2,Mo Land,md2@example.org,US,MD,2 Bay St,Baltimore,21201,yes
md3,Max Land,,US,MD,5 Bay St,Baltimore,21201,no
nj1,Jer Sey,nj1@example.org,US,NJ,3 Shore Rd,Newark,07102,yes
ca1,Cal If,ca1@example.org,US,CA,4 Main St,Los Angeles,90012,yes
`
	if res, err := st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "Database copied",
		Discovered: incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Elements:   []incident.Element{incident.ElemName, incident.ElemSSN}, Description: "An attacker copied the student records table."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, st, inc.ID); err != nil {
		t.Fatal(err)
	}
	return st, inc.ID
}

func transport(t *testing.T, srv *smtptest.Server) notify.Transport {
	cfg, err := email.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return email.NewSMTP(cfg)
}

// kinds lists the ledger entries of the incident in order, as
// "kind account".
func kinds(t *testing.T, st *incident.Store, id int64) []string {
	var out []string
	err := ledger.FindEntries(context.Background(), st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(e ledger.Entry) error {
		out = append(out, strings.TrimSpace(string(e.Kind)+" "+e.Account))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRegulatorFirst: Maryland and New Jersey want their regulator told
// before the residents. incident send sends the Californian and holds the
// others (no email, no letter); the drafts name what each regulator asks
// for; marking Maryland's sent releases the Marylanders (the retry sweep
// sends them, after the regulator_notified entry in the ledger), and a send
// with the order waived sends New Jersey's, recorded.
func TestRegulatorFirst(t *testing.T) {
	ctx := context.Background()
	st, id := setup(t)
	srv := smtptest.Start(t)
	tr := transport(t, srv)
	now := func() time.Time { return t0 }
	res, err := notify.Send(ctx, st, id, notify.SendOptions{Transport: tr, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.HeldForRegulator, []string{"US-MD", "US-NJ"}) || res.HeldNotices != 3 || res.Sent != 1 || res.Remaining != 0 {
		t.Fatalf("send: %+v, want US-MD and US-NJ held (3 emails), the Californian sent", res)
	}
	for _, m := range srv.Messages() {
		if m.To[0] != "ca1@example.org" {
			t.Errorf("%s was emailed before the regulator notice", m.To[0])
		}
	}
	var letters int
	st.DB().QueryRow(`SELECT count(*) FROM notices WHERE channel = 'letter' AND account_id IN ('md1','md2','md3','nj1')`).Scan(&letters)
	if letters != 0 {
		t.Errorf("%d letters queued for held residents", letters)
	}
	// The sweep respects the hold too.
	if sw, err := notify.Sweep(ctx, st, t0.Add(time.Hour), notify.SendOptions{Transport: tr}); err != nil || sw.Sent != 0 {
		t.Fatalf("sweep while held: %+v %v", sw, err)
	}

	dr, err := regulator.Draft(ctx, st, t0)
	if err != nil || dr.Drafted != 2 {
		t.Fatalf("drafts: %+v %v, want Maryland's and New Jersey's", dr, err)
	}
	if dr, err := regulator.Draft(ctx, st, t0.Add(time.Hour)); err != nil || dr.Drafted != 0 || dr.Unchanged != 2 {
		t.Fatalf("drafts again: %+v %v, want nothing rewritten", dr, err)
	}
	fs, err := regulator.Duties(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Jurisdiction+" "+f.Duty)
		if !f.First || f.DraftedAt.IsZero() || f.Affected == 0 {
			t.Errorf("filing %+v", f)
		}
	}
	if !slices.Equal(got, []string{"US-NJ regulator", "US-MD regulator"}) {
		t.Fatalf("filings %v", got)
	}
	text, pdf, err := regulator.FindDraft(ctx, st, id, "US-MD", regulator.DutyRegulator)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"To:          Attorney General (Maryland, US-MD)", "BEFORE notifying individuals", "Submit:      AG form/letter",
		"Md. Code, Com. Law 14-3501", "Affected:    3", "Owed notice: 3", "Notified:    0", "An attacker copied the student records table.",
		"SAMPLE NOTICE SENT TO RESIDENTS", "Sample Learner", "Discovered:  2026-11-20"} {
		if !strings.Contains(text, w) {
			t.Errorf("Maryland's draft lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "Mary Land") || strings.Contains(text, "md1@") {
		t.Errorf("the draft names a resident:\n%s", text)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("draft PDF starts %q", pdf[:min(8, len(pdf))])
	}

	// Maryland's regulator notified: its residents go out with the sweep.
	if _, err := regulator.MarkSent(ctx, st, id, "US-MD", "", incident.Date{Time: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, "AG ref 2026-77", t0.Add(26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := regulator.MarkSent(ctx, st, id, "US-MD", "", incident.Date{Time: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, "", t0.Add(26*time.Hour)); err == nil {
		t.Error("marked sent twice")
	}
	if _, err := regulator.MarkSent(ctx, st, id, "US-CA", "", incident.Date{Time: t0}, "", t0); err == nil || !strings.Contains(err.Error(), "owed: US-NJ regulator, US-MD regulator") {
		t.Errorf("a filing not owed: %v", err)
	}
	held, _ := notify.HeldJurisdictions(ctx, st, id)
	if !slices.Equal(held, []string{"US-NJ"}) {
		t.Fatalf("held after Maryland's filing: %v", held)
	}
	if sw, err := notify.Sweep(ctx, st, t0.Add(27*time.Hour), notify.SendOptions{Transport: tr}); err != nil || sw.Sent != 2 {
		t.Fatalf("sweep after the filing: %+v %v, want the 2 Marylanders", sw, err)
	}
	// New Jersey: sent anyway, and recorded.
	res, err = notify.Send(ctx, st, id, notify.SendOptions{Transport: tr, Now: func() time.Time { return t0.Add(28 * time.Hour) }, RegulatorFirstOff: true})
	if err != nil || res.Sent != 1 || !slices.Equal(res.RegulatorFirstWaived, []string{"US-NJ"}) || len(res.HeldForRegulator) != 0 {
		t.Fatalf("send with --regulator-first=false: %+v %v", res, err)
	}

	// The order in the ledger: each Marylander's email after the filing,
	// New Jersey's after the recorded waiver.
	seq := kinds(t, st, id)
	pos := func(k string) int { return slices.Index(seq, k) }
	filed, waived := pos("regulator_notified"), pos("regulator_first_waived")
	if filed < 0 || waived < 0 {
		t.Fatalf("ledger: %v", seq)
	}
	for _, k := range []string{"email_sent md1", "email_sent md2", "letter_queued md3"} {
		if p := pos(k); p < filed {
			t.Errorf("%s at %d, before the regulator_notified entry at %d: %v", k, p, filed, seq)
		}
	}
	if p := pos("email_sent nj1"); p < waived {
		t.Errorf("New Jersey emailed (%d) before the waiver was recorded (%d)", p, waived)
	}
	audit, _ := st.FindAudit(ctx, 50)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	for _, w := range []string{"incident.regulator_notified", "incident.regulator_first_waived", "incident.regulator_drafts"} {
		if !slices.Contains(actions, w) {
			t.Errorf("audit lacks %s: %v", w, actions)
		}
	}

	// Maryland's regulator deadline is met: no alert for it.
	pr, err := notify.FindProgress(ctx, st, id, t0.Add(28*time.Hour), 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range pr.Deadlines {
		if d.Jurisdiction == "US-MD" && d.Duty == "regulator" && (d.State != notify.DeadlineMet || d.Note != "sent 2026-11-26") {
			t.Errorf("Maryland's regulator deadline after the filing: %+v", d)
		}
	}
	if _, err := ledger.CheckLog(ctx, st.DB(), "op"); err != nil {
		t.Error(err)
	}
}

// TestMarkSent_TwiceAtOnce_Postgres: one filing recorded as sent twice at
// once (a double click, or two processes on one PostgreSQL): one is
// recorded, with one regulator_notified entry; the other is refused as a
// conflict, as it is when it comes after.
//
// Until both have started, another transaction holds the incident's row
// (which the filing's row references), so both have read the filing as
// not yet sent before either writes.
func TestMarkSent_TwiceAtOnce_Postgres(t *testing.T) {
	ctx := context.Background()
	st, id := setupOn(t, storetest.Postgres)
	hold, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM incidents WHERE id = ? FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	on := incident.Date{Time: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	done := make(chan error, 2)
	for _, ref := range []string{"AG ref 1", "AG ref 2"} {
		go func() {
			_, err := regulator.MarkSent(ctx, st, id, "US-MD", "", on, ref, t0.Add(26*time.Hour))
			done <- err
		}()
	}
	storetest.AwaitLockWaiters(t, st.DB(), 2, "")
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	ok, conflicts := 0, 0
	for range 2 {
		switch err := <-done; {
		case err == nil:
			ok++
		case errors.Is(err, incident.ErrConflict):
			conflicts++
		default:
			t.Errorf("MarkSent: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Errorf("%d recorded, %d refused as a conflict; want 1 and 1", ok, conflicts)
	}
	n := 0
	for _, k := range kinds(t, st, id) {
		if k == string(ledger.KindRegulatorNotified) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d regulator_notified entries, want 1", n)
	}
}

// TestSend_WaiveTwiceAtOnce_Postgres: two incident send
// --regulator-first=false at once (several senders on one PostgreSQL, as
// the README runs them): each held jurisdiction's waiver is recorded
// once, one regulator_first_waived entry each, and each held resident is
// emailed once.
//
// Until both have read the held jurisdictions, another transaction holds
// the filings' rows, so both try to record the same waivers.
func TestSend_WaiveTwiceAtOnce_Postgres(t *testing.T) {
	ctx := context.Background()
	st, id := setupOn(t, storetest.Postgres)
	srv := smtptest.Start(t)
	tr := transport(t, srv)
	now := func() time.Time { return t0 }
	if res, err := notify.Send(ctx, st, id, notify.SendOptions{Transport: tr, Now: now}); err != nil || len(res.HeldForRegulator) != 2 {
		t.Fatalf("send: %+v %v, want US-MD and US-NJ held", res, err)
	}
	if dr, err := regulator.Draft(ctx, st, t0); err != nil || dr.Drafted != 2 {
		t.Fatalf("drafts: %+v %v", dr, err)
	}
	hold, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT jurisdiction FROM regulator_filings WHERE incident_id = ? FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	type result struct {
		res notify.SendResult
		err error
	}
	done := make(chan result, 2)
	for range 2 {
		go func() {
			res, err := notify.Send(ctx, st, id, notify.SendOptions{Transport: tr, Now: now, RegulatorFirstOff: true})
			done <- result{res, err}
		}()
	}
	storetest.AwaitLockWaiters(t, st.DB(), 2, "regulator_filings")
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	var waived []string
	for range 2 {
		r := <-done
		if r.err != nil {
			t.Fatalf("send: %v", r.err)
		}
		waived = append(waived, r.res.RegulatorFirstWaived...)
	}
	slices.Sort(waived)
	if !slices.Equal(waived, []string{"US-MD", "US-NJ"}) {
		t.Errorf("the two sends waived %v, want US-MD and US-NJ once", waived)
	}
	n := 0
	for _, k := range kinds(t, st, id) {
		if k == string(ledger.KindRegulatorWaived) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d regulator_first_waived entries, want 2", n)
	}
	to := map[string]int{}
	for _, m := range srv.Messages() {
		to[m.To[0]]++
	}
	for _, a := range []string{"ca1@example.org", "md1@example.org", "md2@example.org", "nj1@example.org"} {
		if to[a] != 1 {
			t.Errorf("%s emailed %d times, want 1 (all: %v)", a, to[a], to)
		}
	}
}
