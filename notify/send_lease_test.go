package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// copies counts the messages each recipient received.
func copies(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	return got
}

// flagged returns the accounts with an email_sent entry flagged
// possible_duplicate.
func (e *sendEnv) flagged(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := ledger.FindEntries(context.Background(), e.st.DB(), ledger.EntryFilter{Controller: "op"}, func(en ledger.Entry) error {
		if en.Kind == ledger.KindEmailSent && en.PossibleDuplicate {
			out[en.Account] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSend_NeverResendsOwnNotices: a healthy run slower than its lease
// (held back by its rate, or by a slow relay) renews its leases and never
// claims its own notices again: every person gets one copy and nothing is
// flagged.
func TestSend_NeverResendsOwnNotices(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		rate  float64
		delay time.Duration // per message, at the relay
	}{
		// 20 messages at 10/s take 2s, twice the lease.
		{"RateLimited", 20, 10, 0},
		// 8 messages at 400ms each take 3.2s, three leases.
		{"SlowRelay", 8, 0, 400 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSendEnv(t, "")
			id := e.planned(t, population(tc.n))
			srv := smtptest.Start(t)
			srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(tc.delay); return smtptest.Accept })
			res, err := notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email",
				Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 1, Rate: tc.rate, Lease: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for addr, n := range copies(srv) {
				if n > 1 {
					t.Errorf("%s received %d copies from one healthy run", addr, n)
				}
			}
			if srv.Count() != tc.n || res.Sent != tc.n || res.Duplicates != 0 {
				t.Errorf("server received %d, result %+v; want %d sent, no duplicates", srv.Count(), res, tc.n)
			}
			if _, dups := e.entries(t); dups != 0 {
				t.Errorf("%d ledger entries flagged possible_duplicate after a healthy run", dups)
			}
		})
	}
}

// TestSend_JoinsRunInProgress: runs started at once on a planned incident
// all succeed and share the work; nobody gets two copies. Another
// connection holds the write lock while they start, so that every run reads
// the incident as planned before any of them moves it to notifying.
func TestSend_JoinsRunInProgress(t *testing.T) {
	const n = 60
	e := newSendEnv(t, "")
	id := e.planned(t, population(n))
	srv := smtptest.Start(t)
	srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(5 * time.Millisecond); return smtptest.Accept })
	locker, err := migrations.Open(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	lock, err := locker.Begin() // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	const runs = 4
	var wg sync.WaitGroup
	results := make([]notify.SendResult, runs)
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "all",
				Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 2})
		}()
	}
	time.Sleep(500 * time.Millisecond)
	lock.Rollback()
	wg.Wait()
	sent := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i+1, err)
		}
		sent += results[i].Sent
	}
	if sent != n || srv.Count() != n {
		t.Errorf("runs sent %d in all, server received %d; want %d", sent, srv.Count(), n)
	}
	for addr, c := range copies(srv) {
		if c > 1 {
			t.Errorf("%s received %d copies", addr, c)
		}
	}
	inc, err := e.st.FindIncidentByID(context.Background(), id)
	if err != nil || inc.Status != incident.StatusNotifying {
		t.Errorf("incident after two runs: %v %v", inc, err)
	}
}

// TestSend_LockedDatabase: another process holds the write lock while a
// run is sending. A lock shorter than CommitWait only slows the run down. A
// longer one stops it with an error naming the lock, without it sending
// anything twice; the next run re-sends only what could not be recorded,
// each flagged possible_duplicate, and nobody gets a third copy.
func TestSend_LockedDatabase(t *testing.T) {
	tests := []struct {
		name       string
		lock       time.Duration
		commitWait time.Duration
		fails      bool
	}{
		{"ShorterThanCommitWait", 2 * time.Second, 10 * time.Second, false},
		{"LongerThanCommitWait", 4 * time.Second, time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n = 300
			path := filepath.Join(t.TempDir(), "send.db")
			e := newSendEnv(t, path)
			id := e.planned(t, population(n))
			// The sender waits 300ms for a lock instead of the default 30s,
			// so that the test takes seconds; the locker is another pool,
			// as another process would be.
			e = newSendEnvBusy(t, path, 300)
			locker, err := migrations.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer locker.Close()

			srv := smtptest.Start(t)
			srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(5 * time.Millisecond); return smtptest.Accept })
			var lockErr error
			locked := make(chan struct{})
			go func() {
				defer close(locked)
				for srv.Count() < 30 {
					time.Sleep(time.Millisecond)
				}
				var tx *sql.Tx
				if tx, lockErr = locker.Begin(); lockErr != nil { // BEGIN IMMEDIATE: the write lock
					return
				}
				time.Sleep(tc.lock)
				tx.Rollback()
			}()
			opt := notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 2,
				Lease: 2 * time.Second, CommitWait: tc.commitWait}
			_, err = notify.Send(context.Background(), e.st, id, opt)
			<-locked
			if lockErr != nil {
				t.Fatal(lockErr)
			}
			for addr, c := range copies(srv) {
				if c > 1 {
					t.Errorf("%s received %d copies from the first run", addr, c)
				}
			}
			if !tc.fails {
				if err != nil {
					t.Fatalf("a %s lock with CommitWait %s: %v", tc.lock, tc.commitWait, err)
				}
				if srv.Count() != n {
					t.Errorf("server received %d, want %d", srv.Count(), n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "database is locked") {
				t.Fatalf("run during a %s lock: err = %v; want an error naming the lock", tc.lock, err)
			}
			first := srv.Count()
			t.Logf("first run: %d delivered; %v", first, err)

			// The lock is gone: the next run finishes, re-sending only what
			// the first could not record, flagged.
			res, err := notify.Send(context.Background(), e.st, id, opt)
			if err != nil || res.Remaining != 0 {
				t.Fatalf("second run: %+v %v", res, err)
			}
			// A third run has nothing left to send.
			if res, err := notify.Send(context.Background(), e.st, id, opt); err != nil || res.Sent != 0 {
				t.Errorf("third run: %+v %v", res, err)
			}
			got, flagged := copies(srv), e.flagged(t)
			twice := 0
			for i := 0; i < n; i++ {
				acct := fmt.Sprintf("ca%04d", i)
				switch c := got[acct+"@example.org"]; {
				case c == 0:
					t.Errorf("%s never received its notice", acct)
				case c > 2:
					t.Errorf("%s received %d copies", acct, c)
				case c == 2:
					twice++
					if !flagged[acct] {
						t.Errorf("%s received two copies and no entry is flagged possible_duplicate", acct)
					}
				}
			}
			t.Logf("first run delivered %d, second %d; %d people got two copies, %d entries flagged", first, res.Sent, twice, len(flagged))
			if _, err := ledger.CheckLog(context.Background(), e.st.DB(), "op"); err != nil {
				t.Errorf("ledger: %v", err)
			}
		})
	}
}

// TestSend_CommitsFailWhileClaimsWork: recording outcomes fails (a full
// disk, simulated by a trigger that refuses every final state) while
// claims still succeed. That is how the old dispatcher turned one failed
// commit into a resend loop (issue 9 finding 1): it dropped the batch
// and every later one, kept claiming, and re-claimed its own notices as
// their leases ran out, sending them again within the same run. Now the
// run retries for CommitWait, stops claiming, exits with an error naming
// the failure, and sends nothing twice; the next run re-sends only the
// messages whose outcome is unknown, each flagged possible_duplicate,
// and nobody gets a third copy.
func TestSend_CommitsFailWhileClaimsWork(t *testing.T) {
	const n = 200
	path := filepath.Join(t.TempDir(), "send.db")
	e := newSendEnv(t, path)
	id := e.planned(t, population(n))
	other, err := migrations.Open(context.Background(), path) // another process
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	srv := smtptest.Start(t)
	srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(5 * time.Millisecond); return smtptest.Accept })
	const full = "database or disk is full (simulated)"
	failing := make(chan struct{})
	var setupErr error
	go func() {
		defer close(failing)
		for srv.Count() < 20 {
			time.Sleep(time.Millisecond)
		}
		_, setupErr = other.Exec(`CREATE TRIGGER disk_full BEFORE UPDATE OF state ON notices
			WHEN NEW.state IN ('sent', 'deferred', 'failed') BEGIN SELECT RAISE(ABORT, '` + full + `'); END`)
	}()
	opt := notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 2,
		Lease: time.Second, CommitWait: time.Second}
	// The old dispatcher never ended while an outcome was unrecorded: 20 s
	// is many leases.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = notify.Send(ctx, e.st, id, opt)
	<-failing
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	for addr, c := range copies(srv) {
		if c > 1 {
			t.Errorf("%s received %d copies from the first run", addr, c)
		}
	}
	if err == nil || !strings.Contains(err.Error(), full) || !strings.Contains(err.Error(), "sending stopped") {
		t.Fatalf("run while outcomes cannot be recorded: err = %v; want an error naming the failure and saying sending stopped", err)
	}
	first := srv.Count()
	t.Logf("first run: %d delivered; %v", first, err)
	if first >= n {
		t.Fatalf("the first run delivered all %d: it did not stop", first)
	}

	if _, err := other.Exec(`DROP TRIGGER disk_full`); err != nil {
		t.Fatal(err)
	}
	res, err := notify.Send(context.Background(), e.st, id, opt)
	if err != nil || res.Remaining != 0 {
		t.Fatalf("second run: %+v %v", res, err)
	}
	if res, err := notify.Send(context.Background(), e.st, id, opt); err != nil || res.Sent != 0 {
		t.Errorf("third run: %+v %v", res, err)
	}
	got, flagged := copies(srv), e.flagged(t)
	twice := 0
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("ca%04d", i)
		switch c := got[acct+"@example.org"]; {
		case c == 0:
			t.Errorf("%s never received its notice", acct)
		case c > 2:
			t.Errorf("%s received %d copies", acct, c)
		case c == 2:
			twice++
			if !flagged[acct] {
				t.Errorf("%s received two copies and no entry is flagged possible_duplicate", acct)
			}
		}
	}
	t.Logf("first run delivered %d, second %d; %d people got two copies, %d entries flagged", first, res.Sent, twice, len(flagged))
	// The first run's messages never attempted were given back, not left
	// leased: only a message that may have gone out is flagged.
	if len(flagged) != twice {
		t.Errorf("%d people flagged possible_duplicate, %d got two copies", len(flagged), twice)
	}
	if _, err := ledger.CheckLog(context.Background(), e.st.DB(), "op"); err != nil {
		t.Errorf("ledger: %v", err)
	}
}

// newSendEnvBusy opens the database at path with a busy timeout of ms
// milliseconds instead of the default.
func newSendEnvBusy(t testing.TB, path string, ms int) *sendEnv {
	t.Helper()
	dsn := strings.Replace(migrations.DSN(path), "busy_timeout(30000)", fmt.Sprintf("busy_timeout(%d)", ms), 1)
	if !strings.Contains(dsn, fmt.Sprintf("busy_timeout(%d)", ms)) {
		t.Fatalf("DSN %s: no busy_timeout to shorten", dsn)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return sendEnvOn(t, db, path)
}
