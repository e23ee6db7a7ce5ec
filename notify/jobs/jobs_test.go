package jobs

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// openDB opens a new migrated database of the tests' store (SQLite, or
// PostgreSQL with BREACHNOTICE_TEST_STORE=postgres).
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	return storetest.OpenDB(t, storetest.Default())
}

// syncBuffer is a log sink the scheduler's goroutines may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runs(t *testing.T, db *sql.DB, job string) (ok, failed int, results []string) {
	t.Helper()
	rows, err := db.Query(`SELECT state, result FROM job_runs WHERE job = ? ORDER BY started_at`, job)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, res string
		if err := rows.Scan(&state, &res); err != nil {
			t.Fatal(err)
		}
		switch state {
		case StateOK:
			ok++
		case StateFailed:
			failed++
		}
		results = append(results, res)
	}
	return ok, failed, results
}

// TestScheduler_SecondsSchedule runs the real cron wiring on a
// seconds-resolution schedule: a job runs every second, a panicking job
// does not stop it (each panic is recorded as a failed run), and a job
// slower than its schedule is skipped while it runs, never run twice at
// once.
func TestScheduler_SecondsSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the scheduler for 4 seconds")
	}
	db := openDB(t)
	var ticks, booms, slowRuns, active, maxActive atomic.Int64
	table := []Job{
		{Name: "tick", Spec: "* * * * * *", Run: func(ctx context.Context, now time.Time) error {
			ticks.Add(1)
			Note(ctx, "tick %d", ticks.Load())
			return nil
		}},
		{Name: "boom", Spec: "* * * * * *", Run: func(ctx context.Context, now time.Time) error {
			booms.Add(1)
			panic("boom")
		}},
		{Name: "slow", Spec: "* * * * * *", Run: func(ctx context.Context, now time.Time) error {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				m := maxActive.Load()
				if n <= m || maxActive.CompareAndSwap(m, n) {
					break
				}
			}
			slowRuns.Add(1)
			time.Sleep(2500 * time.Millisecond)
			return nil
		}},
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r, err := New(db, table, Options{Log: log, Seconds: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	time.Sleep(4200 * time.Millisecond)
	r.Stop(5 * time.Second)

	if ticks.Load() < 3 {
		t.Errorf("tick ran %d times in 4 s, want at least 3", ticks.Load())
	}
	ok, failed, _ := runs(t, db, "tick")
	if ok != int(ticks.Load()) || failed != 0 {
		t.Errorf("tick: %d ok and %d failed runs recorded, want %d ok", ok, failed, ticks.Load())
	}
	if booms.Load() < 3 {
		t.Errorf("boom ran %d times, want at least 3: a panic must not stop its schedule", booms.Load())
	}
	ok, failed, results := runs(t, db, "boom")
	if ok != 0 || failed != int(booms.Load()) || !strings.Contains(results[0], "panic: boom") {
		t.Errorf("boom: %d ok, %d failed runs, results %q; want every run failed with the panic", ok, failed, results)
	}
	if maxActive.Load() != 1 {
		t.Errorf("slow ran %d at once, want 1", maxActive.Load())
	}
	if n := slowRuns.Load(); n < 1 || n > 2 {
		t.Errorf("slow (2.5 s, every second) ran %d times in 4 s, want 1 or 2: the activations while it runs are skipped", n)
	}
	if !strings.Contains(logs.String(), "job skipped") {
		t.Errorf("no skipped activation logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "cron panic") {
		t.Errorf("the recovered panic was not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "tick 1") {
		t.Errorf("a job's result reached the log:\n%s", logs.String())
	}
}

// TestRunner_Windows: a window runs once, whichever process claims it
// first, and again only in the next window; a process that starts late
// catches up on the latest window; a run whose process died is taken over
// once its lease has expired.
func TestRunner_Windows(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	var calls []time.Time
	var mu sync.Mutex
	table := []Job{{Name: "hourly", Spec: "0 * * * *", Run: func(ctx context.Context, now time.Time) error {
		mu.Lock()
		calls = append(calls, now)
		mu.Unlock()
		return nil
	}}}
	clock := time.Date(2026, 12, 1, 10, 0, 3, 0, time.UTC)
	now := func() time.Time { return clock }
	a, _ := New(db, table, Options{Now: now, Owner: "host/1/a"})
	b, _ := New(db, table, Options{Now: now, Owner: "host/2/b"})

	ran, err := a.runWindow(ctx, table[0], false)
	if err != nil || !ran {
		t.Fatalf("first run of the 10:00 window: ran %v, %v", ran, err)
	}
	for _, r := range []*Runner{a, b} {
		if ran, err := r.runWindow(ctx, table[0], false); err != nil || ran {
			t.Fatalf("%s ran the 10:00 window again (%v)", r.opt.Owner, err)
		}
	}
	clock = time.Date(2026, 12, 1, 11, 20, 0, 0, time.UTC) // b starts late: catch-up
	if ran, err := b.runWindow(ctx, table[0], false); err != nil || !ran {
		t.Fatalf("11:00 window not run by the late process: %v %v", ran, err)
	}
	var trigger string
	db.QueryRow(`SELECT trigger FROM job_runs WHERE run_window LIKE '2026-12-01T11:00:00%'`).Scan(&trigger)
	if trigger != TriggerCatchUp {
		t.Errorf("trigger %q, want catch_up", trigger)
	}
	if len(calls) != 2 {
		t.Fatalf("job called %d times, want 2", len(calls))
	}

	// A process died in the 12:00 window: its claim stays running until
	// its lease expires, then the window is taken over.
	clock = time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC)
	if _, err := db.Exec(`INSERT INTO job_runs(job, run_window, trigger, owner, clock, started_at, lease_until, state)
		VALUES ('hourly', ?, 'schedule', 'host/3/dead', ?, ?, ?, 'running')`,
		ts(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)), ts(clock), ts(clock), ts(clock.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if ran, _ := a.runWindow(ctx, table[0], false); ran {
		t.Fatal("ran while another process held the job's lease")
	}
	if _, err := a.Run(ctx, "hourly", clock); !errors.Is(err, ErrBusy) {
		t.Fatalf("manual run while another holds the lease: %v, want ErrBusy", err)
	}
	clock = clock.Add(3 * time.Minute)
	if ran, err := a.runWindow(ctx, table[0], false); err != nil || !ran {
		t.Fatalf("expired claim not taken over: %v %v", ran, err)
	}
	var owner, state string
	db.QueryRow(`SELECT owner, state FROM job_runs WHERE run_window LIKE '2026-12-01T12:00:00%'`).Scan(&owner, &state)
	if owner != "host/1/a" || state != StateOK {
		t.Errorf("12:00 window: owner %s state %s", owner, state)
	}

	// Manual runs are recorded apart and get the clock they are given.
	replay := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	res, err := a.Run(ctx, "hourly", replay)
	if err != nil || res.State != StateOK || !strings.HasPrefix(res.Window, "manual:") || !calls[len(calls)-1].Equal(replay) {
		t.Fatalf("manual run: %+v %v", res, err)
	}
	st, err := a.Statuses(ctx, clock)
	if err != nil || st[0].Last == nil || st[0].Last.Trigger != TriggerManual || !st[0].Next.Equal(time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := a.Run(ctx, "hourlly", clock); err == nil || !strings.Contains(err.Error(), `did you mean "hourly"`) {
		t.Errorf("unknown job: %v", err)
	}
}

func TestPrevActivation(t *testing.T) {
	r, err := New(nil, []Job{
		{Name: "min", Spec: "* * * * *", Run: func(context.Context, time.Time) error { return nil }},
		{Name: "ten", Spec: "*/10 * * * *", Run: func(context.Context, time.Time) error { return nil }},
		{Name: "daily", Spec: "0 6 * * *", Run: func(context.Context, time.Time) error { return nil }},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m, s int) time.Time { return time.Date(2026, 12, 1, h, m, s, 0, time.UTC) }
	for _, c := range []struct {
		job  string
		now  time.Time
		want time.Time
	}{
		{"min", at(10, 7, 30), at(10, 7, 0)},
		{"min", at(10, 7, 0), at(10, 7, 0)},
		{"ten", at(10, 59, 59), at(10, 50, 0)},
		{"daily", at(5, 59, 0), at(6, 0, 0).AddDate(0, 0, -1)},
		{"daily", at(6, 0, 0), at(6, 0, 0)},
		{"daily", at(23, 0, 0), at(6, 0, 0)},
	} {
		if got, _ := r.Window(c.job, c.now); !got.Equal(c.want) {
			t.Errorf("%s at %s: window %s, want %s", c.job, c.now, got, c.want)
		}
	}
	if _, err := New(nil, []Job{{Name: "x", Spec: "61 * * * *", Run: func(context.Context, time.Time) error { return nil }}}, Options{}); err == nil {
		t.Error("bad spec accepted")
	}
}

// TestRunner_StopWaitsForCatchUp: Stop waits for the start-up catch-up
// runs too (cron does not track them), so the shutdown run that follows
// is never refused as busy.
func TestRunner_StopWaitsForCatchUp(t *testing.T) {
	db := openDB(t)
	var done atomic.Int64
	table := []Job{{Name: "slow", Spec: "0 0 1 1 *", Run: func(ctx context.Context, now time.Time) error {
		time.Sleep(300 * time.Millisecond)
		done.Add(1)
		return nil
	}}}
	r, err := New(db, table, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int
		db.QueryRow(`SELECT count(*) FROM job_runs WHERE state = 'running'`).Scan(&n)
		if n == 1 {
			break
		}
	}
	r.Stop(5 * time.Second)
	if done.Load() != 1 {
		t.Fatalf("Stop returned with the catch-up run unfinished (%d done)", done.Load())
	}
	if res, err := r.RunAs(context.Background(), "slow", time.Now(), TriggerShutdown); err != nil || res.State != StateOK {
		t.Fatalf("shutdown run after Stop: %+v %v", res, err)
	}
}
