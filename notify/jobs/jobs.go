// Package jobs runs breachnotice's scheduled work: a table of jobs, each a
// name, a cron spec and a plain func(ctx, now) error, run by
// robfig/cron/v3 in UTC inside serve and runnable by hand (jobs run).
//
// # Model
//
// A job's schedule divides time into windows: a window is one activation
// time of its spec (the hour for "0 * * * *"). A scheduled run first
// claims its window in the job_runs table, in one transaction: the row
// (job, window) is the claim, so
//
//   - a window is run at most once, whichever process gets there first,
//     and a restart never runs it again;
//   - at start-up, a job whose latest window has no run is run at once
//     (catch-up), so a restart never skips a due job: a server that was
//     down for three hours runs its hourly jobs once on start, for the
//     latest window (jobs are idempotent and read their clock, so the
//     missed windows need no replay);
//   - a job never runs in two processes at once: a claim is refused while
//     another run of the same job holds an unexpired lease. A run renews
//     its lease while it lives; a run whose process died loses it after
//     Lease, and its window may then be taken over.
//
// Within a process, cron.SkipIfStillRunning skips an activation while the
// previous run of the job is still going, and cron.Recover keeps a
// panicking job from taking the server down; the run is recorded as
// failed with the panic. The chain is Skip(Recover(job)): in the other
// order a panic unwinds through SkipIfStillRunning before it gives back
// its token, and every later activation of the job is skipped.
//
// Manual runs (Runner.Run) get a window of their own and are recorded the
// same way; they are refused while another run of the job holds its lease.
//
// Logs name jobs, windows, states and durations, never a job's result or
// error text (which may name people): those are in job_runs, shown by
// jobs list.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/robfig/cron/v3"
)

// Func is a job's body: idempotent, given the time it runs as.
type Func func(ctx context.Context, now time.Time) error

// Job is one row of the jobs table.
type Job struct {
	Name string
	// Spec is a cron spec in UTC: five fields (minute hour dom month dow),
	// or six with a leading seconds field when the Runner's Seconds is set,
	// or a descriptor (@hourly, @every 10m).
	Spec    string
	Summary string
	Run     Func
}

// Run states.
const (
	StateRunning = "running"
	StateOK      = "ok"
	StateFailed  = "failed"
)

// Triggers: what started a run.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch_up"
	TriggerManual   = "manual"
	// TriggerShutdown is a run at the server's shutdown (the final ledger
	// checkpoint).
	TriggerShutdown = "shutdown"
)

// Options configure a Runner.
type Options struct {
	Log *slog.Logger
	// Now is the real clock (leases, start and end times).
	Now func() time.Time
	// Seconds says specs have a leading seconds field (tests).
	Seconds bool
	// Lease is how long a run may go unrenewed before another process may
	// take its window over (default 2m); it is renewed every Lease/3.
	Lease time.Duration
	// Owner names this process in claims (default host/pid/random).
	Owner string
}

// Runner runs a table of jobs.
type Runner struct {
	db     *sql.DB
	jobs   []Job
	scheds map[string]cron.Schedule
	opt    Options

	mu   sync.Mutex
	cron *cron.Cron
	// wrapped holds each job as cron runs it (recover, skip if running),
	// shared by its schedule and its start-up catch-up.
	wrapped map[string]cron.Job
	runCtx  context.Context
	cancel  context.CancelFunc
	// catchUp tracks the start-up runs, which cron does not know of.
	catchUp sync.WaitGroup
}

// New checks the table (unique names, valid specs) and returns its runner.
func New(db *sql.DB, table []Job, opt Options) (*Runner, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.Owner == "" {
		host, _ := os.Hostname()
		opt.Owner = host + "/" + strconv.Itoa(os.Getpid()) + "/" + strconv.FormatUint(rand.Uint64(), 36)
	}
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if opt.Seconds {
		fields |= cron.Second
	}
	parser := cron.NewParser(fields)
	r := &Runner{db: db, jobs: table, scheds: map[string]cron.Schedule{}, opt: opt}
	for _, j := range table {
		if j.Name == "" || j.Run == nil {
			return nil, fmt.Errorf("jobs: a job without a name or function")
		}
		if _, dup := r.scheds[j.Name]; dup {
			return nil, fmt.Errorf("jobs: job %s listed twice", j.Name)
		}
		// The parser reads a spec in local time unless told: the
		// scheduler's clock is UTC.
		s, err := parser.Parse("CRON_TZ=UTC " + j.Spec)
		if err != nil {
			return nil, fmt.Errorf("jobs: job %s: spec %q: %w", j.Name, j.Spec, err)
		}
		r.scheds[j.Name] = s
	}
	return r, nil
}

// Jobs returns the table.
func (r *Runner) Jobs() []Job { return r.jobs }

// find returns the job called name.
func (r *Runner) find(name string) (Job, error) {
	for _, j := range r.jobs {
		if j.Name == name {
			return j, nil
		}
	}
	names := make([]string, len(r.jobs))
	for i, j := range r.jobs {
		names[i] = j.Name
	}
	hint := ""
	if near := incident.Nearest(name, names); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return Job{}, fmt.Errorf("%w: no job %q%s; jobs: %s", incident.ErrNotFound, name, hint, strings.Join(names, ", "))
}

// Window returns the window of the job's schedule that now falls in: its
// latest activation at or before now.
func (r *Runner) Window(name string, now time.Time) (time.Time, error) {
	if _, err := r.find(name); err != nil {
		return time.Time{}, err
	}
	return prevActivation(r.scheds[name], now), nil
}

// prevActivation is the latest activation of s at or before now.
func prevActivation(s cron.Schedule, now time.Time) time.Time {
	now = now.UTC()
	n1 := s.Next(now)
	period := s.Next(n1).Sub(n1)
	back := period + time.Second
	for back < 800*24*time.Hour {
		a := s.Next(now.Add(-back))
		if !a.After(now) {
			for {
				n := s.Next(a)
				if n.After(now) {
					return a.UTC()
				}
				a = n
			}
		}
		back *= 2
	}
	return time.Time{}
}

// ---- notes ----

type notesKey struct{}

type notes struct {
	mu sync.Mutex
	s  []string
}

// Note adds a line to the result of the run ctx belongs to (what the job
// did: "3 alerts sent"); jobs list shows it. Notes must not name people.
// Outside a run it does nothing.
func Note(ctx context.Context, format string, args ...any) {
	n, ok := ctx.Value(notesKey{}).(*notes)
	if !ok {
		return
	}
	n.mu.Lock()
	n.s = append(n.s, fmt.Sprintf(format, args...))
	n.mu.Unlock()
}

// ---- claims ----

// ErrBusy is returned when another run of the job holds its lease.
var ErrBusy = errors.New("another run of this job is in progress")

const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// claim takes the job's window for this process, in one transaction. It
// returns false when the window was run already, or is being run, or the
// job is running elsewhere.
func (r *Runner) claim(ctx context.Context, job, window, trigger string, clock time.Time) (bool, error) {
	now := r.opt.Now()
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", job, err)
	}
	defer tx.Rollback()
	var busy bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM job_runs WHERE job = ? AND state = 'running' AND lease_until > ?)`,
		job, ts(now)).Scan(&busy); err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", job, err)
	}
	if busy {
		return false, nil
	}
	var state string
	err = tx.QueryRowContext(ctx, `SELECT state FROM job_runs WHERE job = ? AND run_window = ?`, job, window).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO job_runs(job, run_window, trigger, owner, clock, started_at, lease_until, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'running')`, job, window, trigger, r.opt.Owner, ts(clock), ts(now), ts(now.Add(r.opt.Lease)))
	case err != nil:
	case state != StateRunning:
		return false, nil // done (ok or failed): never twice
	default:
		// A run of this window whose lease ran out: its process died.
		_, err = tx.ExecContext(ctx, `UPDATE job_runs SET trigger = ?, owner = ?, clock = ?, started_at = ?, lease_until = ?,
			result = 'taken over from a run whose lease expired' WHERE job = ? AND run_window = ?`,
			trigger, r.opt.Owner, ts(clock), ts(now), ts(now.Add(r.opt.Lease)), job, window)
	}
	if err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", job, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", job, err)
	}
	return true, nil
}

// finish records a run's end.
func (r *Runner) finish(job, window, state, result string) error {
	if len(result) > 2000 {
		result = result[:2000] + "…"
	}
	_, err := r.db.ExecContext(context.Background(), `UPDATE job_runs SET state = ?, result = ?, finished_at = ?, lease_until = ''
		WHERE job = ? AND run_window = ? AND owner = ?`, state, result, ts(r.opt.Now()), job, window, r.opt.Owner)
	if err != nil {
		return fmt.Errorf("jobs: record %s: %w", job, err)
	}
	return nil
}

// Result is the record of one run.
type Result struct {
	Job      string    `json:"job"`
	Window   string    `json:"window"`
	Trigger  string    `json:"trigger"`
	Clock    time.Time `json:"now"`
	Started  time.Time `json:"started_at"`
	Finished time.Time `json:"finished_at,omitzero"`
	State    string    `json:"state"`
	Result   string    `json:"result,omitempty"`
}

// execute runs a claimed window: renews its lease while it runs, records
// its notes or its error, and recovers a panic into a failed run. With
// repanic (under cron) it then panics again, with a value that holds no
// data, for cron.Recover to log.
func (r *Runner) execute(ctx context.Context, j Job, window, trigger string, clock time.Time, repanic bool) (res Result, err error) {
	start := r.opt.Now()
	res = Result{Job: j.Name, Window: window, Trigger: trigger, Clock: clock.UTC(), Started: start.UTC()}
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		t := time.NewTicker(max(r.opt.Lease/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-beatCtx.Done():
				return
			case <-t.C:
				// A failed renewal is tried again at the next beat.
				_, _ = r.db.ExecContext(beatCtx, `UPDATE job_runs SET lease_until = ? WHERE job = ? AND run_window = ? AND owner = ? AND state = 'running'`,
					ts(r.opt.Now().Add(r.opt.Lease)), j.Name, window, r.opt.Owner)
			}
		}
	}()
	n := &notes{}
	defer func() {
		stopBeat()
		<-beatDone
		p := recover()
		n.mu.Lock()
		text := strings.Join(n.s, "; ")
		n.mu.Unlock()
		res.State = StateOK
		switch {
		case p != nil:
			res.State = StateFailed
			text = strings.TrimPrefix(text+"; ", "; ") + fmt.Sprintf("panic: %v", p)
			err = fmt.Errorf("job %s panicked", j.Name)
		case err != nil:
			res.State = StateFailed
			text = strings.TrimPrefix(text+"; ", "; ") + "error: " + err.Error()
		}
		res.Result = text
		res.Finished = r.opt.Now().UTC()
		if ferr := r.finish(j.Name, window, res.State, text); ferr != nil && err == nil {
			err = ferr
		}
		r.opt.Log.LogAttrs(context.Background(), slog.LevelInfo, "job finished", slog.String("job", j.Name), slog.String("window", window),
			slog.String("trigger", trigger), slog.String("state", res.State), slog.Duration("duration", res.Finished.Sub(start)))
		if p != nil && repanic {
			panic(err)
		}
	}()
	err = j.Run(context.WithValue(ctx, notesKey{}, n), clock.UTC())
	return res, err
}

// Run runs the job called name now, by hand, as of clock (jobs run
// --now): recorded under a window of its own. It is refused with ErrBusy
// while another run of the job holds its lease.
func (r *Runner) Run(ctx context.Context, name string, clock time.Time) (Result, error) {
	return r.RunAs(ctx, name, clock, TriggerManual)
}

// RunAs is Run, recorded with the trigger given (TriggerShutdown).
func (r *Runner) RunAs(ctx context.Context, name string, clock time.Time, trigger string) (Result, error) {
	j, err := r.find(name)
	if err != nil {
		return Result{}, err
	}
	// Unique even when the clock stands still (tests, replays).
	window := trigger + ":" + ts(r.opt.Now()) + "/" + strconv.FormatUint(rand.Uint64(), 36)
	ok, err := r.claim(ctx, j.Name, window, trigger, clock)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, fmt.Errorf("jobs: run %s: %w: %w", name, incident.ErrConflict, ErrBusy)
	}
	return r.execute(ctx, j, window, trigger, clock, false)
}

// runWindow runs the job for the window now falls in, unless that window
// was run already or the job is running elsewhere. It reports whether it
// ran.
func (r *Runner) runWindow(ctx context.Context, j Job, repanic bool) (bool, error) {
	now := r.opt.Now()
	w := prevActivation(r.scheds[j.Name], now)
	trigger := TriggerSchedule
	if now.Sub(w) > time.Minute {
		trigger = TriggerCatchUp
	}
	ok, err := r.claim(ctx, j.Name, ts(w), trigger, now)
	if err != nil || !ok {
		if err != nil {
			r.opt.Log.LogAttrs(ctx, slog.LevelWarn, "job claim failed", slog.String("job", j.Name))
		}
		return false, err
	}
	_, err = r.execute(ctx, j, ts(w), trigger, now, repanic)
	return true, err
}

// Status is a job's line in jobs list.
type Status struct {
	Name    string  `json:"name"`
	Spec    string  `json:"spec"`
	Summary string  `json:"summary"`
	Last    *Result `json:"last_run"`
	// Next is the next activation after now.
	Next time.Time `json:"next_run"`
}

// Statuses returns every job's schedule, latest run and next run after now.
func (r *Runner) Statuses(ctx context.Context, now time.Time) ([]Status, error) {
	out := make([]Status, 0, len(r.jobs))
	for _, j := range r.jobs {
		s := Status{Name: j.Name, Spec: j.Spec, Summary: j.Summary, Next: r.scheds[j.Name].Next(now.UTC()).UTC()}
		var res Result
		var clock, started, finished string
		err := r.db.QueryRowContext(ctx, `SELECT run_window, trigger, clock, started_at, finished_at, state, result FROM job_runs
			WHERE job = ? ORDER BY started_at DESC LIMIT 1`, j.Name).Scan(&res.Window, &res.Trigger, &clock, &started, &finished, &res.State, &res.Result)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("jobs: status %s: %w", j.Name, err)
		default:
			res.Job = j.Name
			res.Clock, _ = time.Parse(time.RFC3339Nano, clock)
			res.Started, _ = time.Parse(time.RFC3339Nano, started)
			res.Finished, _ = time.Parse(time.RFC3339Nano, finished)
			s.Last = &res
		}
		out = append(out, s)
	}
	return out, nil
}

// ---- the scheduler ----

// cronJob is one job as cron runs it.
type cronJob struct {
	r *Runner
	j Job
}

func (c cronJob) Run() {
	c.r.mu.Lock()
	ctx := c.r.runCtx
	c.r.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	// Errors are recorded in job_runs by execute; a claim error is logged
	// by runWindow.
	_, _ = c.r.runWindow(ctx, c.j, true)
}

// Start runs the jobs on their schedules, in UTC, until Stop, and at once
// every job whose latest window has no run (catch-up). Jobs get ctx,
// cancelled by Stop after its grace.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cron != nil {
		return
	}
	log := cronLogger{r.opt.Log}
	r.runCtx, r.cancel = context.WithCancel(ctx)
	r.cron = cron.New(cron.WithLocation(time.UTC), cron.WithLogger(log))
	// Skip outside Recover: SkipIfStillRunning returns its token only when
	// the job returns, so a panic passing through it (the order
	// Recover, Skip) would leave the job skipped for ever after.
	chain := cron.NewChain(cron.SkipIfStillRunning(log), cron.Recover(log))
	r.wrapped = map[string]cron.Job{}
	for _, j := range r.jobs {
		w := chain.Then(cronJob{r: r, j: j})
		r.wrapped[j.Name] = w
		r.cron.Schedule(r.scheds[j.Name], w)
	}
	r.cron.Start()
	// Catch-up: the windows missed while no server ran. The claim makes
	// this a no-op for windows already run.
	for _, j := range r.jobs {
		r.catchUp.Add(1)
		go func() {
			defer r.catchUp.Done()
			r.wrapped[j.Name].Run()
		}()
	}
}

// Stop stops scheduling and waits up to grace for running jobs to finish,
// then cancels their context and waits for them to return.
func (r *Runner) Stop(grace time.Duration) {
	r.mu.Lock()
	c, cancel := r.cron, r.cancel
	r.mu.Unlock()
	if c == nil {
		return
	}
	cronDone := c.Stop().Done()
	done := make(chan struct{})
	go func() {
		<-cronDone
		r.catchUp.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		cancel()
		<-done
	}
	cancel()
}

// cronLogger logs cron's own messages through slog: errors (a recovered
// panic, with the job's stack) at error level, skipped activations at
// info, its routine chatter (wake, run, schedule) at debug. Keys and
// values are cron's: entry ids and times, nothing about people.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level, msg = slog.LevelInfo, "job skipped: previous run still going"
	}
	c.l.Log(context.Background(), level, "cron "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Log(context.Background(), slog.LevelError, "cron "+msg, append([]any{"error", err.Error()}, kv...)...)
}
