package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/regulator"
)

// lockedBuffer is a log destination several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// workIncident opens, scopes (every account) and plans one more incident
// of the operator: name and SSN exposed, for which Maryland's law wants its
// regulator told before the residents.
func (e *sendEnv) workIncident(t *testing.T, title string) int64 {
	t.Helper()
	ctx := context.Background()
	inc, err := e.st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: title,
		Discovered: incident.Date{Time: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)},
		Elements:   []incident.Element{incident.ElemName, incident.ElemSSN}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, e.st, inc.ID); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// waitUntil polls cond until it holds, and fails the test after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("still waiting for %s after a minute", what)
		}
	}
}

// TestWork: two worker loops (serve --workers-only), each on its own
// connection pool as separate processes would be, and an incident send of
// the same incident share its notices: each delivered exactly once, the
// Marylanders held until their regulator notice is recorded and then sent
// by the workers; a second incident whose send started (and only deferred)
// while the workers run is picked up, its deferred notices retried when
// due; the ledger verifies with no possible duplicate; cancelling the
// workers returns.
func TestWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, k storetest.Kind) {
		ctx := context.Background()
		e := newSendEnv(t, storetest.Location(t, k))
		// 150 Californians and a Texan, owed notice at once, and 2
		// Marylanders, held for their regulator.
		const people = 151
		if err := e.st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example",
			TermsEConsent: true, Contact: incident.Contact{PostalAddress: "141 Portland St\nCambridge, MA 02139", Email: "privacy@openlearn.example"}}); err != nil {
			t.Fatal(err)
		}
		accounts := population(people-1) + "md1,Mary Land,md1@example.org,US,MD,1 Bay St,Baltimore,21201\n" +
			"md2,Mo Land,md2@example.org,US,MD,2 Bay St,Baltimore,21201\n"
		if res, err := e.st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		id1 := e.workIncident(t, "Database copied")

		srv := smtptest.Start(t)
		// The first attempt to ca0000..ca0009 is refused with 451, and
		// every attempt while refuse is set.
		var refuse atomic.Bool
		srv.Behave(func(rcpt string, attempt int) smtptest.Behaviour {
			if refuse.Load() || attempt == 1 && rcpt < "ca0010" {
				return smtptest.Reply451
			}
			return smtptest.Accept
		})

		var mu sync.Mutex
		workerSent := map[int64]int{}
		var logs lockedBuffer
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		const workers = 2
		returned := make(chan error, workers)
		for w := 0; w < workers; w++ {
			we := newSendEnv(t, e.db) // another "process" on the same database
			opt := notify.WorkOptions{
				Send: notify.SendOptions{Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 2,
					RetryBase: 100 * time.Millisecond, MaxAttempts: 30},
				Poll: 50 * time.Millisecond,
				Log:  slog.New(slog.NewTextHandler(&logs, nil)),
				OnPass: func(p notify.WorkPass) {
					if p.Err != nil {
						t.Errorf("worker pass over incident %d: %v", p.Incident, p.Err)
					}
					mu.Lock()
					workerSent[p.Incident] += p.Sent
					mu.Unlock()
				},
			}
			go func() { returned <- notify.Work(wctx, we.st, opt) }()
		}

		// incident send of incident 1 alongside the workers: it returns
		// once every notice that is not held is final.
		se := newSendEnv(t, e.db)
		res, err := notify.Send(ctx, se.st, id1, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second),
			Concurrency: 2, RetryBase: 100 * time.Millisecond, MaxAttempts: 30})
		if err != nil || fmt.Sprint(res.HeldForRegulator) != "[US-MD]" || res.Remaining != 0 {
			t.Fatalf("incident send: %+v %v, want US-MD held and nothing else remaining", res, err)
		}
		if st := e.states(t, id1); st["email:sent"] != people || st["email:pending"] != 2 {
			t.Fatalf("incident 1 after incident send returned: %v, want %d sent and 2 pending (held)", st, people)
		}
		// The workers keep polling, and leave the Marylanders alone.
		time.Sleep(300 * time.Millisecond)
		for _, m := range srv.Messages() {
			if strings.HasPrefix(m.To[0], "md") {
				t.Fatalf("%s emailed before the regulator notice", m.To[0])
			}
		}
		// Maryland's regulator told: the workers send its residents.
		if _, err := regulator.MarkSent(ctx, e.st, id1, "US-MD", "", incident.Date{Time: time.Now().UTC().Truncate(24 * time.Hour)}, "AG ref 1", time.Now()); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the workers to send the Marylanders", func() bool { return e.states(t, id1)["email:sent"] == people+2 })

		// A second incident: its send (from the CLI, the admin UI or the
		// API) starts while every attempt is refused, defers everything
		// and stops; the workers take it over and send each notice when
		// its retry time comes.
		id2 := e.workIncident(t, "Backup exposed")
		refuse.Store(true)
		res, err = notify.Send(ctx, se.st, id2, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second),
			Concurrency: 2, RetryBase: 200 * time.Millisecond, MaxAttempts: 30,
			Sleep: func(context.Context, time.Duration) error { return context.Canceled }})
		refuse.Store(false)
		if err != nil || res.Sent != 0 || res.Deferred == 0 {
			t.Fatalf("incident send of incident 2: %+v %v, want every attempt deferred", res, err)
		}
		waitUntil(t, "the workers to send incident 2", func() bool { return e.states(t, id2)["email:sent"] == people })

		stop()
		for w := 0; w < workers; w++ {
			select {
			case err := <-returned:
				if err != nil {
					t.Errorf("Work returned %v after cancel", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Work did not return within 30s of cancel")
			}
		}

		// Every pass has returned (Work waits for them).
		mu.Lock()
		if workerSent[id1] < 2 {
			t.Errorf("the workers sent %d of incident 1, want at least the 2 Marylanders", workerSent[id1])
		}
		if workerSent[id2] != people {
			t.Errorf("the workers sent %d of incident 2, want all %d", workerSent[id2], people)
		}
		mu.Unlock()

		total := 2*people + 2
		deliveredOnce(t, srv, total)
		kinds, dups := e.entries(t)
		if kinds[ledger.KindEmailSent] != total || dups != 0 || kinds[ledger.KindEmailDeferred] < people {
			t.Errorf("ledger: %v, %d possible duplicates; want %d sent, at least %d deferred, none flagged", kinds, dups, total, people)
		}
		if _, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
			t.Errorf("ledger does not verify: %v", err)
		}
		out := logs.String()
		if !strings.Contains(out, "msg=\"workers: pass\" incident_id=2 ") {
			t.Errorf("no pass over incident 2 logged:\n%s", out)
		}
		if strings.Contains(out, "@") {
			t.Errorf("the workers' log names an address:\n%s", out)
		}
	})
}

// TestWork_NoTransport: Work needs a transport.
func TestWork_NoTransport(t *testing.T) {
	if err := notify.Work(context.Background(), newSendEnv(t, "").st, notify.WorkOptions{}); err == nil {
		t.Fatal("Work without a transport returned nil")
	}
}

// TestWork_OneIncidentFailing: a pass that fails (here an incident whose
// stored plan no longer reads) is logged and its incident tried again
// with backoff, while the other incident is sent; once it reads again, it
// is sent too.
func TestWork_OneIncidentFailing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, k storetest.Kind) {
		ctx := context.Background()
		e := newSendEnv(t, storetest.Location(t, k))
		const people = 21 // 20 Californians and a Texan
		if err := e.st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example",
			TermsEConsent: true}); err != nil {
			t.Fatal(err)
		}
		if res, err := e.st.ImportAccounts(ctx, strings.NewReader(population(people-1)), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		broken, fine := e.workIncident(t, "Broken plan"), e.workIncident(t, "Fine")
		srv := smtptest.Start(t)
		tr := smtpTransport(t, srv, 5*time.Second)
		// Both sends start and defer everything (every attempt refused).
		srv.Behave(func(string, int) smtptest.Behaviour { return smtptest.Reply451 })
		for _, id := range []int64{broken, fine} {
			if _, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: tr, RetryBase: 20 * time.Millisecond,
				Sleep: func(context.Context, time.Duration) error { return context.Canceled }}); err != nil {
				t.Fatal(err)
			}
		}
		srv.Behave(func(string, int) smtptest.Behaviour { return smtptest.Accept })
		var reasons string
		if err := e.st.DB().QueryRow(`SELECT reasons FROM plan_variants WHERE incident_id = ? LIMIT 1`, broken).Scan(&reasons); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.DB().Exec(`UPDATE plan_variants SET reasons = 'not json' WHERE incident_id = ?`, broken); err != nil {
			t.Fatal(err)
		}
		var logs lockedBuffer
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		returned := make(chan error, 1)
		go func() {
			returned <- notify.Work(wctx, e.st, notify.WorkOptions{Send: notify.SendOptions{Transport: tr, RetryBase: 20 * time.Millisecond, MaxAttempts: 30},
				Poll: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		}()
		waitUntil(t, "the fine incident to be sent", func() bool { return e.states(t, fine)["email:sent"] == people })
		failed := fmt.Sprintf(`msg="workers: pass failed" incident_id=%d `, broken)
		waitUntil(t, "the broken incident's passes to fail twice", func() bool { return strings.Count(logs.String(), failed) >= 2 })
		if st := e.states(t, broken); st["email:sent"] != 0 {
			t.Fatalf("broken incident: %v", st)
		}
		if _, err := e.st.DB().Exec(`UPDATE plan_variants SET reasons = ? WHERE incident_id = ?`, reasons, broken); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the mended incident to be sent", func() bool { return e.states(t, broken)["email:sent"] == people })
		stop()
		if err := <-returned; err != nil {
			t.Errorf("Work: %v", err)
		}
		if !strings.Contains(logs.String(), "retry_in=40ms") {
			t.Errorf("no backoff in the log:\n%s", logs.String())
		}
	})
}

// TestWork_DatabaseDown: a database Work cannot read is tried again with
// backoff, logged each time, and Work still returns nil when stopped.
func TestWork_DatabaseDown(t *testing.T) {
	e := newSendEnv(t, "")
	srv := smtptest.Start(t)
	e.st.DB().Close()
	var logs lockedBuffer
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	returned := make(chan error, 1)
	go func() {
		returned <- notify.Work(ctx, e.st, notify.WorkOptions{Send: notify.SendOptions{Transport: smtpTransport(t, srv, time.Second)},
			Poll: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	waitUntil(t, "three tries at the capped backoff", func() bool { return strings.Count(logs.String(), "retry_in=40ms") >= 3 })
	stop()
	if err := <-returned; err != nil {
		t.Errorf("Work: %v", err)
	}
	for _, w := range []string{"retry_in=10ms", "retry_in=20ms", "sql: database is closed"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
}
