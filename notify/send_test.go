package notify_test

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// sendEnv is a store with the ledger wired in, on a real SQLite file.
type sendEnv struct {
	st  *incident.Store
	led *ledger.Ledger
	db  string
}

func newSendEnv(t testing.TB, path string) *sendEnv {
	t.Helper()
	if path == "" {
		// A SQLite file, or a PostgreSQL database's URL under
		// BREACHNOTICE_TEST_STORE=postgres.
		path = storetest.Location(t, storetest.Default())
	}
	db, err := migrations.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return sendEnvOn(t, db, path)
}

// sendEnvOn wires a store and ledger to an open database.
func sendEnvOn(t testing.TB, db *sql.DB, path string) *sendEnv {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	st := incident.NewStore(db)
	led, err := ledger.New([]byte("send-test-secret-0123456789"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	return &sendEnv{st: st, led: led, db: path}
}

// planned creates an operator, imports accounts (CSV body), and opens,
// scopes and plans an incident exposing name+email+password, which is
// personal information in California and Illinois but not in Texas.
func (e *sendEnv) planned(t testing.TB, accounts string) int64 {
	t.Helper()
	ctx := context.Background()
	if err := e.st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example",
		TermsEConsent: true}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	inc, err := e.st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "Database copied",
		Discovered: incident.Date{Time: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)},
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
	return inc.ID
}

// population writes n Californians with email and a postal address, and
// one Texan (not owed notice for this incident).
func population(n int) string {
	var b strings.Builder
	b.WriteString("id,name,email,country,region,postal_line1,city,postal_code\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "ca%04d,Learner %d,ca%04d@example.org,US,CA,%d Main St,Los Angeles,90012\n", i, i, i, i+1)
	}
	b.WriteString("tx0001,Tex,tex@example.org,US,TX,1 Elm St,Austin,78701\n")
	return b.String()
}

// entries counts a controller's ledger entries by kind, with the number
// flagged possible_duplicate.
func (e *sendEnv) entries(t testing.TB) (map[ledger.Kind]int, int) {
	t.Helper()
	kinds := map[ledger.Kind]int{}
	dups := 0
	err := ledger.FindEntries(context.Background(), e.st.DB(), ledger.EntryFilter{Controller: "op"}, func(en ledger.Entry) error {
		kinds[en.Kind]++
		if en.PossibleDuplicate {
			dups++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds, dups
}

func (e *sendEnv) states(t testing.TB, id int64) map[string]int {
	t.Helper()
	rows, err := e.st.DB().Query(`SELECT channel || ':' || state, count(*) FROM notices WHERE incident_id=? GROUP BY 1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		m[k] = n
	}
	return m
}

func smtpTransport(t testing.TB, srv *smtptest.Server, timeout time.Duration) notify.Transport {
	t.Helper()
	cfg, err := email.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = timeout
	return email.NewSMTP(cfg)
}

func TestSend_DeliversOnceAndResumes(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.planned(t, population(30))
	srv := smtptest.Start(t)
	opt := notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 3}
	res, err := notify.Send(ctx, e.st, id, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 30 || res.Failed != 0 || res.Remaining != 0 {
		t.Fatalf("result %+v, want 30 sent", res)
	}
	msgs := srv.Messages()
	seen := map[string]bool{}
	for _, m := range msgs {
		if strings.Contains(strings.Join(m.To, ","), "tex@") {
			t.Errorf("a person the plan says is not owed notice was emailed: %v", m.To)
		}
		if seen[m.MessageID] {
			t.Errorf("message %s delivered twice", m.MessageID)
		}
		seen[m.MessageID] = true
		if !strings.Contains(string(m.Data), "Notice of Data Breach") {
			t.Errorf("message to %v lacks California's title", m.To)
		}
	}
	if len(msgs) != 30 {
		t.Errorf("server received %d messages, want 30", len(msgs))
	}
	if srv.Connections() > 3 {
		t.Errorf("%d connections for 30 messages with concurrency 3: connections are not reused", srv.Connections())
	}
	// The Message-ID is the notice's own, recorded with the content hash.
	var mid, sum string
	e.st.DB().QueryRow(`SELECT message_id, content_sha256 FROM notices WHERE account_id='ca0007'`).Scan(&mid, &sum)
	if !seen[mid] || len(sum) != 64 {
		t.Errorf("notice ca0007: message_id %q (delivered: %v), sha256 %q", mid, seen[mid], sum)
	}
	kinds, dups := e.entries(t)
	if kinds[ledger.KindEmailSent] != 30 || dups != 0 {
		t.Errorf("ledger: %v, %d duplicates", kinds, dups)
	}
	// Running it again sends nothing twice.
	res, err = notify.Send(ctx, e.st, id, opt)
	if err != nil || res.Sent != 0 || srv.Count() != 30 {
		t.Errorf("second run: %+v %v; server count %d", res, err, srv.Count())
	}
	if n, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
		t.Errorf("ledger does not verify after %d entries: %v", n, err)
	}
}

func TestSend_ErrOnHold(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.planned(t, population(2))
	if _, err := e.st.HoldIncident(ctx, id, "police asked for two weeks"); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	_, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "all", Transport: smtpTransport(t, srv, time.Second)})
	if !errors.Is(err, notify.ErrOnHold) || !strings.Contains(err.Error(), "police asked for two weeks") {
		t.Errorf("err = %v", err)
	}
	if srv.Count() != 0 || len(e.states(t, id)) != 0 {
		t.Errorf("a held incident sent %d messages, notices %v", srv.Count(), e.states(t, id))
	}
}

// fakeClock is an injected clock: Sleep advances it instead of waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func TestSend_Faults(t *testing.T) {
	tests := []struct {
		name   string
		behave func(attempt int) smtptest.Behaviour
		// want: final state of the notice, ledger kinds, letters queued
		state     string
		kinds     map[ledger.Kind]int
		letter    bool
		attempts  int
		maxAttmpt int
	}{
		{"TemporaryThenSent", func(a int) smtptest.Behaviour {
			if a < 3 {
				return smtptest.Reply451
			}
			return smtptest.Accept
		}, notify.StateSent, map[ledger.Kind]int{ledger.KindEmailDeferred: 2, ledger.KindEmailSent: 1}, false, 3, 8},
		{"PermanentFallsBackToLetter", func(int) smtptest.Behaviour { return smtptest.Reply550 },
			notify.StateFailed, map[ledger.Kind]int{ledger.KindEmailFailed: 1, ledger.KindLetterQueued: 1}, true, 1, 8},
		{"PermanentAtData", func(int) smtptest.Behaviour { return smtptest.Reply550AtData },
			notify.StateFailed, map[ledger.Kind]int{ledger.KindEmailFailed: 1, ledger.KindLetterQueued: 1}, true, 1, 8},
		{"DroppedInDataThenSent", func(a int) smtptest.Behaviour {
			if a == 1 {
				return smtptest.DropInData
			}
			return smtptest.Accept
		}, notify.StateSent, map[ledger.Kind]int{ledger.KindEmailDeferred: 1, ledger.KindEmailSent: 1}, false, 2, 8},
		{"StallThenSent", func(a int) smtptest.Behaviour {
			if a == 1 {
				return smtptest.Stall
			}
			return smtptest.Accept
		}, notify.StateSent, map[ledger.Kind]int{ledger.KindEmailDeferred: 1, ledger.KindEmailSent: 1}, false, 2, 8},
		{"GivesUpAfterMaxAttempts", func(int) smtptest.Behaviour { return smtptest.Reply451AtData },
			notify.StateFailed, map[ledger.Kind]int{ledger.KindEmailDeferred: 2, ledger.KindEmailFailed: 1, ledger.KindLetterQueued: 1}, true, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSendEnv(t, "")
			id := e.planned(t, "id,name,email,country,region,postal_line1,city,postal_code\nca1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012\n")
			srv := smtptest.Start(t, smtptest.WithStall(3*time.Second))
			srv.Behave(func(rcpt string, attempt int) smtptest.Behaviour { return tc.behave(attempt) })
			clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
			var deferredAt []time.Time
			res, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 400*time.Millisecond),
				Concurrency: 1, RetryBase: time.Minute, MaxAttempts: tc.maxAttmpt, Now: clock.Now, Sleep: clock.Sleep,
				Progress: func(p notify.SendProgress) { deferredAt = append(deferredAt, clock.Now()) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Remaining != 0 {
				t.Fatalf("result %+v: the run must end with every notice final", res)
			}
			var state string
			var attempts int
			e.st.DB().QueryRow(`SELECT state, attempts FROM notices WHERE channel='email'`).Scan(&state, &attempts)
			if state != tc.state || attempts != tc.attempts {
				t.Errorf("notice %s after %d attempts, want %s after %d", state, attempts, tc.state, tc.attempts)
			}
			kinds, _ := e.entries(t)
			for k, n := range tc.kinds {
				if kinds[k] != n {
					t.Errorf("ledger has %d %s, want %d (all: %v)", kinds[k], k, n, kinds)
				}
			}
			if got := e.states(t, id)["letter:queued"] == 1; got != tc.letter {
				t.Errorf("letter queued = %v, want %v (%v)", got, tc.letter, e.states(t, id))
			}
		})
	}
}

// TestSend_Backoff checks the retry schedule: each deferral waits
// RetryBase doubled per attempt made, jittered into [½, 1½) of it.
func TestSend_Backoff(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.planned(t, "id,name,email,country,region,postal_line1,city,postal_code\nca1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012\n")
	srv := smtptest.Start(t)
	srv.Behave(func(_ string, attempt int) smtptest.Behaviour {
		if attempt <= 4 {
			return smtptest.Reply451
		}
		return smtptest.Accept
	})
	clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	if _, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, time.Second),
		Concurrency: 1, RetryBase: 10 * time.Minute, Now: clock.Now, Sleep: clock.Sleep}); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	err := ledger.FindEntries(ctx, e.st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(en ledger.Entry) error {
		if en.Kind != ledger.KindEmailDeferred {
			return nil
		}
		var d struct {
			RetryAt time.Time `json:"retry_at"`
		}
		json.Unmarshal(en.Detail, &d)
		waits = append(waits, d.RetryAt.Sub(en.At))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 4 {
		t.Fatalf("%d deferrals, want 4", len(waits))
	}
	for i, w := range waits {
		base := (10 * time.Minute) << i
		if w < base/2 || w >= base*3/2 {
			t.Errorf("deferral %d waits %v, want within [%v, %v)", i+1, w, base/2, base*3/2)
		}
	}
}

// TestSend_CrashResume kills a sending child process with SIGKILL, then
// sends again: every owed email arrives at least once, every message that
// arrived twice is flagged possible_duplicate in the ledger, and the ledger
// verifies.
func TestSend_CrashResume(t *testing.T) {
	if os.Getenv("BN_SEND_CHILD_DB") != "" {
		runSendChild(t)
		return
	}
	const n = 400
	e := newSendEnv(t, "")
	id := e.planned(t, population(n))
	srv := smtptest.Start(t)
	// Slow the server down so the kill lands mid-run.
	srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(2 * time.Millisecond); return smtptest.Accept })

	cmd := exec.Command(os.Args[0], "-test.run=^TestSend_CrashResume$")
	cmd.Env = append(os.Environ(), "BN_SEND_CHILD_DB="+e.db, "BN_SEND_CHILD_SMTP="+srv.URL(), fmt.Sprintf("BN_SEND_CHILD_ID=%d", id))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.Count() < n/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := srv.Count()
	if before == 0 || before >= n {
		t.Fatalf("the child delivered %d of %d before the kill: the test needs a kill mid-run", before, n)
	}

	// The child's leases run for ten minutes, but its process is gone: a
	// second run on this host takes them over at once and resends what was
	// in flight with the same Message-ID, flagged.
	e2 := newSendEnv(t, e.db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The resume runs an hour later by its clock: a re-send dated by it,
	// not by the attempt it repeats, would differ from the first copy.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	res, err := notify.Send(ctx, e2.st, id, notify.SendOptions{Channel: "email",
		Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 4, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted || res.Remaining != 0 {
		t.Fatalf("resume after the kill: %+v: the dead run's leases were not taken over", res)
	}
	got := map[string]int{}
	copies := map[string][][]byte{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
		copies[m.To[0]] = append(copies[m.To[0]], m.Data)
	}
	// Every copy delivered, the first one of a duplicate too, has the
	// SHA-256 the ledger records for its notice: a re-send keeps the Date
	// of the attempt it repeats and the boundary is the Message-ID's.
	recorded := map[string]bool{}
	err = ledger.FindEntries(context.Background(), e2.st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(en ledger.Entry) error {
		var d struct {
			SHA256 string `json:"sha256"`
		}
		if en.Kind == ledger.KindEmailSent && json.Unmarshal(en.Detail, &d) == nil {
			recorded[d.SHA256] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, cs := range copies {
		for i, c := range cs {
			if sum := sha256.Sum256(c); !recorded[hex.EncodeToString(sum[:])] {
				t.Errorf("%s: copy %d of %d hashes to %x, which no email_sent entry records", addr, i+1, len(cs), sum)
			}
		}
	}
	var twice []string
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("ca%04d@example.org", i)
		switch got[addr] {
		case 0:
			t.Errorf("%s never received its notice", addr)
		case 1:
		default:
			twice = append(twice, addr)
		}
	}
	kinds, dups := e2.entries(t)
	if kinds[ledger.KindEmailSent] < n {
		t.Errorf("ledger has %d email_sent for %d people", kinds[ledger.KindEmailSent], n)
	}
	if dups < len(twice) {
		t.Errorf("%d addresses received two copies but only %d entries are flagged possible_duplicate", len(twice), dups)
	}
	if _, err := ledger.CheckLog(context.Background(), e2.st.DB(), "op"); err != nil {
		t.Errorf("ledger after the crash: %v", err)
	}
	t.Logf("child sent %d before SIGKILL; resume sent %d; %d delivered twice, %d flagged possible_duplicate", before, res.Sent, len(twice), dups)
}

func runSendChild(t *testing.T) {
	e := newSendEnv(t, os.Getenv("BN_SEND_CHILD_DB"))
	var id int64
	fmt.Sscan(os.Getenv("BN_SEND_CHILD_ID"), &id)
	cfg, _ := email.ParseURL(os.Getenv("BN_SEND_CHILD_SMTP"))
	notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email", Transport: email.NewSMTP(cfg),
		Concurrency: 4, Lease: 10 * time.Minute})
	t.Fatal("the child should have been killed")
}

// TestSend_LedgerHashesDeliveredMessage: the sha256 of every email_sent
// entry is the hash of the very bytes delivered, so a learner (or an
// auditor) can tie a message to the proof: the outbox .eml file, or what
// the relay received after DATA.
func TestSend_LedgerHashesDeliveredMessage(t *testing.T) {
	delivered := map[string]func(t *testing.T, e *sendEnv, id int64) map[string][]byte{
		"Outbox": func(t *testing.T, e *sendEnv, id int64) map[string][]byte {
			dir := t.TempDir()
			if _, err := notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email", Transport: email.NewOutbox(dir)}); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			out := map[string][]byte{}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				out[strings.TrimSuffix(filepath.Base(f), ".eml")] = b
			}
			return out
		},
		"SMTP": func(t *testing.T, e *sendEnv, id int64) map[string][]byte {
			srv := smtptest.Start(t)
			if _, err := notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second)}); err != nil {
				t.Fatal(err)
			}
			out := map[string][]byte{}
			for _, m := range srv.Messages() {
				var notice, inc int64
				fmt.Sscanf(m.MessageID, "<notice-%d.incident-%d@", &notice, &inc)
				out[fmt.Sprint(notice)] = m.Data
			}
			return out
		},
	}
	for name, send := range delivered {
		t.Run(name, func(t *testing.T) {
			e := newSendEnv(t, "")
			id := e.planned(t, population(5))
			msgs := send(t, e, id)
			if len(msgs) != 5 {
				t.Fatalf("%d messages delivered, want 5", len(msgs))
			}
			n := 0
			err := ledger.FindEntries(context.Background(), e.st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(en ledger.Entry) error {
				if en.Kind != ledger.KindEmailSent {
					return nil
				}
				n++
				var d struct {
					SHA256 string `json:"sha256"`
				}
				json.Unmarshal(en.Detail, &d)
				b, ok := msgs[fmt.Sprint(en.Notice)]
				if sum := sha256.Sum256(b); !ok || d.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("notice %d: ledger sha256 %q, delivered message hashes to %x (found: %v)", en.Notice, d.SHA256, sum, ok)
				}
				return nil
			})
			if err != nil || n != 5 {
				t.Errorf("%d email_sent entries, %v", n, err)
			}
		})
	}
}

// TestSend_SubstituteNotice: the people owed notice whom no direct notice
// reaches are recorded and listed: unreachable by plan (retired, no contact
// data) with a notice_unreachable entry each, once; and those whose every
// notice ended without reaching them (email refused, letter unprintable).
func TestSend_SubstituteNotice(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.planned(t, `id,name,email,country,region,postal_line1,city,postal_code,status
ca1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012,active
ca2,Bo,,US,CA,,,,active
ca3,Cy,cy@example.org,US,CA,3 Main St,Los Angeles,90012,retired
ca4,Di,di@example.org,US,CA,,,,active
`)
	srv := smtptest.Start(t)
	srv.Behave(func(rcpt string, _ int) smtptest.Behaviour {
		if strings.HasPrefix(rcpt, "di@") {
			return smtptest.Reply550
		}
		return smtptest.Accept
	})
	opt := notify.SendOptions{Channel: "all", Transport: smtpTransport(t, srv, 5*time.Second)}
	res, err := notify.Send(ctx, e.st, id, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unreachable != 2 {
		t.Errorf("first run recorded %d unreachable, want 2 (ca2: no contact data, ca3: retired)", res.Unreachable)
	}
	if res, err := notify.Send(ctx, e.st, id, opt); err != nil || res.Unreachable != 0 {
		t.Errorf("second run: %+v %v: the unreachable are recorded once", res, err)
	}
	unreachable := map[string]string{}
	err = ledger.FindEntries(ctx, e.st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(en ledger.Entry) error {
		if en.Kind == ledger.KindNoticeUnreachable {
			var d struct {
				Reason       string `json:"reason"`
				Jurisdiction string `json:"jurisdiction"`
			}
			json.Unmarshal(en.Detail, &d)
			unreachable[en.Account] = d.Jurisdiction + " " + d.Reason
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(unreachable) != 2 || !strings.Contains(unreachable["ca2"], "US-CA") || !strings.Contains(unreachable["ca3"], "retired") {
		t.Errorf("notice_unreachable entries: %v", unreachable)
	}
	var cases []notify.SubstituteCase
	if err := notify.FindSubstituteCases(ctx, e.st, id, func(c notify.SubstituteCase) error { cases = append(cases, c); return nil }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.Account+"="+c.Reason)
	}
	// ca4's email was refused and it has no postal address for a letter.
	if len(cases) != 3 || cases[0].Account != "ca2" || cases[1].Account != "ca3" || cases[1].Reason != "retired" ||
		cases[2].Account != "ca4" || !strings.Contains(cases[2].Reason, "email failed") {
		t.Errorf("substitute cases: %v", got)
	}
	if n, err := notify.CountSubstituteCases(ctx, e.st, id); err != nil || n != 3 {
		t.Errorf("count = %d, %v; want 3", n, err)
	}

	// The proof bundle counts the same people, from the ledger alone, and
	// verifies.
	out := filepath.Join(t.TempDir(), "proof.zip")
	if _, err := e.led.Export(ctx, e.st.DB(), ledger.ExportOptions{Controller: "op", Incident: id, Out: out, Actor: incident.ActorFrom(ctx)}); err != nil {
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
		Counts struct {
			People ledger.People `json:"people"`
		} `json:"counts"`
	}
	if err := json.NewDecoder(f).Decode(&sum); err != nil {
		t.Fatal(err)
	}
	want := ledger.People{Owed: 4, Notified: 1, NotifiedByEmail: 1, Outstanding: 3, Substitute: 3}
	if sum.Counts.People != want {
		t.Errorf("summary people = %+v, want %+v", sum.Counts.People, want)
	}
}

// TestFindProgress: people owed, notified and outstanding, and each
// deadline's state on a given day: the individuals' deadline met once all
// are notified, overdue when it passes with people outstanding; a
// regulator deadline overdue once passed (filings are not recorded here).
func TestFindProgress(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	// New York owes its Attorney General notice; the incident was
	// discovered two days ago.
	id := e.planned(t, `id,name,email,country,region,postal_line1,city,postal_code,e_consent
ny1,Ana,ana@example.org,US,NY,1 Main St,Albany,12207,yes
ny2,Bo,bo@example.org,US,NY,2 Main St,Albany,12207,yes
`)
	find := func(now time.Time) (*notify.Progress, map[string]notify.DeadlineStatus) {
		t.Helper()
		p, err := notify.FindProgress(ctx, e.st, id, now, notify.DefaultWarnDays)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]notify.DeadlineStatus{}
		for _, d := range p.Deadlines {
			m[d.Jurisdiction+" "+d.Duty] = d
		}
		return p, m
	}
	now := time.Now().UTC()
	p, ds := find(now)
	ind, reg := ds["US-NY individuals"], ds["US-NY regulator"]
	if p.Owed != 2 || p.Notified != 0 || p.Outstanding != 2 || ind.Outstanding != 2 || ind.State == notify.DeadlineMet {
		t.Fatalf("before sending: %+v, individuals %+v", p, ind)
	}
	if reg.Due.IsZero() {
		t.Fatalf("no regulator deadline for US-NY: %+v", p.Deadlines)
	}
	// The day after each deadline, with nothing sent: both overdue.
	late := ind.Due.Time
	if reg.Due.After(late) {
		late = reg.Due.Time
	}
	_, ds = find(late.AddDate(0, 0, 1))
	if ds["US-NY individuals"].State != notify.DeadlineOverdue || ds["US-NY regulator"].State != notify.DeadlineOverdue ||
		ds["US-NY individuals"].DaysLeft >= 0 {
		t.Errorf("a day after the deadlines: %+v", ds)
	}
	// A week before the individuals' deadline: due soon.
	if _, ds = find(ind.Due.AddDate(0, 0, -3)); ds["US-NY individuals"].State != notify.DeadlineDueSoon {
		t.Errorf("three days before: %+v", ds["US-NY individuals"])
	}

	srv := smtptest.Start(t)
	if _, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second)}); err != nil {
		t.Fatal(err)
	}
	p, ds = find(now)
	if p.Notified != 2 || p.Outstanding != 0 || ds["US-NY individuals"].State != notify.DeadlineMet {
		t.Errorf("after sending: %+v, individuals %+v", p, ds["US-NY individuals"])
	}
}
