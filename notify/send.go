package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
	"golang.org/x/time/rate"
)

// SendOptions configures one run of the dispatcher.
type SendOptions struct {
	// Channel is email, letter or all.
	Channel string
	// Transport delivers email; required for the email channel.
	Transport Transport
	// Concurrency is the number of SMTP connections (default 4).
	Concurrency int
	// Rate caps messages per second (0: unlimited).
	Rate float64
	// RetryBase is the first backoff after a temporary failure (default
	// 1m); each further attempt doubles it, with jitter.
	RetryBase time.Duration
	// MaxAttempts ends retrying: the notice fails (default 8).
	MaxAttempts int
	// Lease is how long a claimed notice may stay in flight before
	// another run may send it again, flagged as a possible duplicate
	// (default 2m).
	Lease time.Duration
	// Grace is how long in-flight messages may take to finish after the
	// run is interrupted (default 5s).
	Grace time.Duration
	// Claim is the number of notices claimed at once (default 8 per
	// connection, 16 to 256): with the jobs queued for the workers, this is
	// the window of possible duplicates after a crash.
	Claim int
	// Progress, when set, is called after each committed batch.
	Progress func(SendProgress)
	// Now and Sleep are the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Owner names this run in leases (default: host/pid/random, which lets
	// a later run on the same host take over at once the leases of a run
	// whose process is gone).
	Owner string
}

// SendProgress counts a run's outcomes so far, and what remains.
type SendProgress struct {
	Sent       int `json:"sent"`
	Deferred   int `json:"deferred"`
	Failed     int `json:"failed"`
	Duplicates int `json:"possible_duplicates"`
	// LettersQueued counts letters queued: for the letter channel, and as
	// the fallback of emails that failed permanently.
	LettersQueued int `json:"letters_queued"`
	// Remaining counts the email notices not yet final.
	Remaining int `json:"remaining"`
}

// SendResult is the end of a run.
type SendResult struct {
	SendProgress
	Interrupted bool `json:"interrupted"`
}

func (o *SendOptions) defaults() {
	if o.Channel == "" {
		o.Channel = "all"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.Claim <= 0 {
		o.Claim = min(max(8*o.Concurrency, 16), 256)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = host + "/" + strconv.Itoa(os.Getpid()) + "/" + strconv.FormatUint(rand.Uint64(), 36)
	}
}

// timeLayout writes the times that claims compare as strings (retry_at,
// lease_until): fixed width, always UTC, so that string order is time
// order. (RFC 3339 with trimmed fractions is not: "…:00.5Z" sorts before
// "…:00Z".) time.Parse reads it as RFC 3339.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// ErrOnHold is returned for an incident under a law-enforcement hold.
var ErrOnHold = errors.New("on hold")

// Send delivers an incident's notices on the chosen channel until every one
// is final, waiting out backoff. Running it again sends nothing twice.
// When ctx is cancelled it stops claiming, lets the messages in flight
// finish (or releases them) within opt.Grace, and returns with
// Interrupted set and Remaining counted.
func Send(ctx context.Context, st *incident.Store, id int64, opt SendOptions) (SendResult, error) {
	opt.defaults()
	var res SendResult
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return res, err
	}
	if a := incident.ActorFrom(ctx); a.Role == "member" || a.Role == "legal" {
		return res, fmt.Errorf("send incident %d: %w: role %s cannot send", id, incident.ErrForbidden, a.Role)
	}
	if inc.Hold != nil {
		return res, fmt.Errorf("%w: %w: incident %d is under a law-enforcement hold since %s (%s): nothing is sent until incident release %d",
			incident.ErrConflict, ErrOnHold, id, inc.Hold.Since.Format("2006-01-02 15:04 MST"), inc.Hold.Reason, id)
	}
	switch inc.Status {
	case incident.StatusPlanned, incident.StatusNotifying:
	default:
		return res, fmt.Errorf("%w: incident %d is %s: send needs a plan (run incident plan %d)", incident.ErrConflict, id, inc.Status, id)
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return res, err
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		if inc.Status == incident.StatusPlanned {
			if _, err := st.SetStatus(ctx, tx, id, incident.StatusNotifying); err != nil {
				return err
			}
		}
		return st.Audit(ctx, tx, "incident.send", fmt.Sprintf("incident:%d", id), map[string]any{"channel": opt.Channel})
	})
	if err != nil {
		return res, err
	}
	if opt.Channel == ChannelLetter || opt.Channel == "all" {
		n, err := QueueLetters(ctx, st, id)
		if err != nil {
			return res, err
		}
		res.LettersQueued += n
	}
	if opt.Channel == ChannelEmail || opt.Channel == "all" {
		if opt.Transport == nil {
			return res, fmt.Errorf("send incident %d: no email transport", id)
		}
		if err := createEmailNotices(ctx, st, id, c, opt.Now()); err != nil {
			return res, err
		}
		d := &dispatcher{st: st, inc: inc, c: c, opt: opt, res: &res}
		if err := d.run(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// createEmailNotices creates, set-based, a pending email notice for every
// affected person the plan says is owed notice by email and who has none.
// Nobody the plan says is not owed notice is ever emailed.
func createEmailNotices(ctx context.Context, st *incident.Store, id int64, c *incident.Controller, now time.Time) error {
	return st.InTx(ctx, func(tx *sql.Tx) error {
		// The plan is fixed once sending starts, and the notices are created
		// in one transaction: if any exist, all do, and a re-run need not
		// scan the affected set again.
		var exist bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM notices WHERE incident_id = ? AND channel = 'email')`, id).Scan(&exist); err != nil {
			return fmt.Errorf("send incident %d: %w", id, err)
		}
		if exist {
			return nil
		}
		ts := now.UTC().Format(timeLayout)
		_, err := tx.ExecContext(ctx, `INSERT INTO notices(incident_id, controller_id, account_id, channel, variant, address,
				state, created_at, updated_at)
			SELECT f.incident_id, ?2, f.account_id, 'email', m.variant,
				CASE WHEN f.notice_email <> '' THEN f.notice_email ELSE a.email END, 'pending', ?3, ?3
			FROM affected f
			JOIN accounts a ON a.id = f.account_id
			JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
			JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
			WHERE f.incident_id = ?1 AND v.notify = 1 AND (',' || v.channels || ',') LIKE '%,email,%'
			ON CONFLICT (incident_id, account_id, channel) DO NOTHING`, id, c.ID, ts)
		if err != nil {
			return fmt.Errorf("send incident %d: create email notices: %w", id, err)
		}
		return nil
	})
}

// job is one claimed notice on its way to a worker.
type job struct {
	n         Notice
	msg       Message
	deadline  incident.Date
	juris     string
	duplicate bool // claimed from an expired lease: may have been sent before
	prevState string
	prevRetry string
	// What the worker renders the message from: the person's name and
	// locale (all NoticeFor reads of them), and the decision.
	af      incident.Affected
	dec     law.Decision
	variant int64
	created string
}

// outcome is a worker's answer for a job.
type outcome struct {
	j   *job
	r   Result
	at  time.Time
	err error // the job was not attempted (interrupted): release it
}

type dispatcher struct {
	st       *incident.Store
	inc      *incident.Incident
	c        *incident.Controller
	opt      SendOptions
	res      *SendResult
	variants map[int64]law.Decision
	domain   string
	// inflight counts this run's claimed notices whose outcome is not yet
	// committed; committed is signalled after each commit.
	inflight  atomic.Int64
	committed chan struct{}
	cache     *templates.EmailCache
}

func (d *dispatcher) run(ctx context.Context) error {
	var err error
	if d.variants, err = loadVariants(ctx, d.st, d.inc.ID); err != nil {
		return err
	}
	d.committed = make(chan struct{}, 1)
	d.cache = templates.NewEmailCache()
	d.domain = "breachnotice.invalid"
	if at := strings.LastIndexByte(d.c.From, '@'); at >= 0 {
		d.domain = d.c.From[at+1:]
	}

	// Workers keep sending after ctx is cancelled, for at most Grace.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d.opt.Grace, cancelSend)
		go func() { <-sendCtx.Done(); t.Stop() }()
	})
	defer stopGrace()

	var limiter *rate.Limiter
	if d.opt.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(d.opt.Rate), max(1, int(d.opt.Rate/10)))
	}
	jobs := make(chan *job, 2*d.opt.Concurrency)
	outs := make(chan outcome, 4*d.opt.Concurrency)
	var workers sync.WaitGroup
	for i := 0; i < d.opt.Concurrency; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d.work(sendCtx, ctx, limiter, jobs, outs)
		}()
	}
	commitErr := make(chan error, 1)
	go func() { commitErr <- d.commitLoop(outs) }()

	claimErr := d.claimLoop(ctx, jobs)
	close(jobs)
	workers.Wait()
	close(outs)
	if err := <-commitErr; err != nil {
		return err
	}
	if claimErr != nil && !errors.Is(claimErr, context.Canceled) {
		return claimErr
	}
	_, remaining, err := d.nextDue(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	d.res.Remaining = remaining
	d.res.Interrupted = ctx.Err() != nil
	return nil
}

// work sends jobs over one reused connection. After the run is interrupted
// it only reports the jobs it is handed as released.
func (d *dispatcher) work(sendCtx, runCtx context.Context, limiter *rate.Limiter, jobs <-chan *job, outs chan<- outcome) {
	var conn Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for j := range jobs {
		if runCtx.Err() != nil {
			outs <- outcome{j: j, err: runCtx.Err()}
			continue
		}
		if limiter != nil {
			if err := limiter.Wait(runCtx); err != nil {
				outs <- outcome{j: j, err: err}
				continue
			}
		}
		if err := d.render(sendCtx, j); err != nil {
			// A notice that cannot be rendered is not sent; it is retried
			// with backoff and in the end fails over to a letter.
			outs <- outcome{j: j, at: d.opt.Now(), r: Result{Outcome: Temporary, Reply: err.Error()}}
			continue
		}
		if conn == nil {
			c, err := d.opt.Transport.Open(sendCtx)
			if err != nil {
				outs <- outcome{j: j, at: d.opt.Now(), r: Result{Outcome: Temporary, Reply: "connect: " + err.Error(), Broken: true}}
				continue
			}
			conn = c
		}
		r := conn.Send(sendCtx, &j.msg)
		if r.Broken {
			conn.Close()
			conn = nil
		}
		outs <- outcome{j: j, r: r, at: d.opt.Now()}
	}
}

// claimLoop claims batches of due notices, renders them and hands them to
// the workers, until every notice is final or ctx is cancelled. When only
// deferred notices (or others' leases) remain, it sleeps until the
// earliest is due.
func (d *dispatcher) claimLoop(ctx context.Context, jobs chan<- *job) error {
	for ctx.Err() == nil {
		batch, err := d.claim(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			if d.inflight.Load() > 0 {
				// Our own messages are still out: wait for their outcomes,
				// which may make some of them due again.
				select {
				case <-d.committed:
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			next, pending, err := d.nextDue(ctx)
			if err != nil {
				return err
			}
			if pending == 0 {
				return nil
			}
			wait := next.Sub(d.opt.Now())
			if wait < 10*time.Millisecond {
				wait = 10 * time.Millisecond // results in flight are still being committed
			}
			if err := d.opt.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		d.inflight.Add(int64(len(batch)))
		for i, j := range batch {
			select {
			case jobs <- j:
			case <-ctx.Done():
				// Not handed out: released like an interrupted job.
				rest := batch[i:]
				d.inflight.Add(-int64(len(rest)))
				if err := d.release(context.WithoutCancel(ctx), rest); err != nil {
					return err
				}
				return ctx.Err()
			}
		}
	}
	return ctx.Err()
}

// claim leases a batch of due notices to this run. Each branch of the
// candidate query walks an index and the LIMIT stops it early, so a claim
// costs the same with ten notices left or a million.
func (d *dispatcher) claim(ctx context.Context) ([]*job, error) {
	now := d.opt.Now().UTC()
	ts := now.Format(timeLayout)
	var batch []*job
	err := d.st.InTx(ctx, func(tx *sql.Tx) error {
		if err := expireDeadLeases(ctx, tx, d.inc.ID, ts); err != nil {
			return err
		}
		// A notice's content needs only the person's name and language
		// (NoticeFor): the claim reads nothing else of the account.
		rows, err := tx.QueryContext(ctx, `SELECT n.id, n.account_id, n.address, n.attempts, n.state, n.retry_at, n.variant,
				n.created_at, a.name, a.locale
			FROM (
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'deferred' AND retry_at <= ?2
				UNION ALL
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'sending' AND lease_until <= ?2
				UNION ALL
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'pending'
				LIMIT ?3
			) c
			JOIN notices n ON n.id = c.id
			JOIN accounts a ON a.id = n.account_id`, d.inc.ID, ts, d.opt.Claim)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		for rows.Next() {
			j := &job{}
			n := &j.n
			var variant int64
			if err := rows.Scan(&n.ID, &n.Account, &n.Address, &n.Attempts, &j.prevState, &j.prevRetry, &variant, &j.created,
				&j.af.Name, &j.af.Locale); err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			j.af.ID = n.Account
			n.Incident, n.Controller, n.Channel = d.inc.ID, d.c.ID, ChannelEmail
			n.Attempts++
			j.duplicate = j.prevState == StateSending
			j.dec, j.variant = d.variants[variant], variant
			j.deadline, j.juris = j.dec.Deadline, j.dec.Jurisdiction
			batch = append(batch, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		args := []any{d.opt.Owner, now.Add(d.opt.Lease).Format(timeLayout), ts}
		for _, j := range batch {
			args = append(args, j.n.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE notices SET state='sending', lease_owner=?, lease_until=?, attempts=attempts+1,
			updated_at=? WHERE id IN (?`+strings.Repeat(",?", len(batch)-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		return nil
	})
	return batch, err
}

// render builds the notice's message, on a worker. Its Message-ID and
// content depend only on the notice (its id, incident, person, decision and
// creation date), so a re-send after a crash is the same message.
func (d *dispatcher) render(ctx context.Context, j *job) error {
	n := NoticeFor(d.inc, d.c, &j.af, j.dec)
	if t, err := time.Parse(timeLayout, j.created); err == nil {
		n.NoticeDate = t.UTC().Truncate(24 * time.Hour)
	}
	// Within an incident the content is decided by the plan variant and
	// the notice date; only the name differs from person to person.
	e, err := d.cache.Render(ctx, n, strconv.FormatInt(j.variant, 10)+"|"+n.NoticeDate.Format(incident.DateLayout))
	if err != nil {
		return fmt.Errorf("render notice %d: %w", j.n.ID, err)
	}
	h := sha256.New()
	h.Write([]byte(e.Subject))
	h.Write([]byte{0})
	h.Write([]byte(e.Text))
	h.Write([]byte{0})
	h.Write([]byte(e.HTML))
	j.n.SHA256 = hex.EncodeToString(h.Sum(nil))
	j.msg = Message{NoticeID: j.n.ID, MessageID: MessageID(d.inc.ID, j.n.ID, d.domain),
		From: d.c.From, FromName: e.FromName, To: j.n.Address, ToName: e.ToName, Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	j.n.MessageID = j.msg.MessageID
	return nil
}

// MessageID is the stable Message-ID of a notice.
func MessageID(incidentID, noticeID int64, domain string) string {
	return fmt.Sprintf("<notice-%d.incident-%d@%s>", noticeID, incidentID, domain)
}

// backoff is the delay before attempt number attempts+1: RetryBase doubled
// per attempt made, jittered into [½, 1½) of that, capped at a day.
func (d *dispatcher) backoff(attempts int) time.Duration {
	base := d.opt.RetryBase << min(attempts-1, 20)
	if base <= 0 || base > 24*time.Hour {
		base = 24 * time.Hour
	}
	return base/2 + time.Duration(rand.Int64N(int64(base)))
}

// commitLoop writes outcomes in batches: each notice's state change and its
// ledger entry in one transaction, many notices per transaction.
func (d *dispatcher) commitLoop(outs <-chan outcome) error {
	const maxBatch = 256
	var batch []outcome
	var firstErr error
	flush := func() {
		if len(batch) == 0 || firstErr != nil {
			batch = batch[:0]
			return
		}
		if err := d.commit(batch); err != nil {
			firstErr = err
		}
		batch = batch[:0]
		if d.opt.Progress != nil && firstErr == nil {
			d.opt.Progress(d.res.SendProgress)
		}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case o, ok := <-outs:
			if !ok {
				flush()
				return firstErr
			}
			batch = append(batch, o)
			if len(batch) >= maxBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

func (d *dispatcher) commit(batch []outcome) error {
	ctx := context.Background() // outcomes are recorded even after an interrupt
	var released []*job
	var progress SendProgress
	err := d.st.InTx(ctx, func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, `UPDATE notices SET state=?, retry_at=?, lease_owner='', lease_until='',
			last_code=?, last_reply=?, final_at=?, updated_at=?, message_id=?, content_sha256=? WHERE id=? AND lease_owner=?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		entries := make([]ledger.Entry, 0, len(batch))
		for _, o := range batch {
			j := o.j
			if o.err != nil {
				released = append(released, j)
				continue
			}
			at := o.at.UTC()
			ts := at.Format(timeLayout)
			detail := deliveryDetail{MessageID: j.msg.MessageID, To: j.n.Address, Attempt: j.n.Attempts,
				Code: o.r.Code, Reply: o.r.Reply, SHA256: j.n.SHA256, Jurisdiction: j.juris}
			if !j.deadline.IsZero() {
				detail.Deadline = j.deadline.String()
			}
			state, kind, retry, final := StateSent, ledger.KindEmailSent, "", ts
			switch {
			case o.r.Outcome == Delivered:
				progress.Sent++
			case o.r.Outcome == Temporary && j.n.Attempts < d.opt.MaxAttempts:
				next := at.Add(d.backoff(j.n.Attempts))
				state, kind, retry, final = StateDeferred, ledger.KindEmailDeferred, next.Format(timeLayout), ""
				detail.RetryAt = retry
				progress.Deferred++
			default:
				state, kind = StateFailed, ledger.KindEmailFailed
				if o.r.Outcome == Temporary {
					detail.Reason = fmt.Sprintf("gave up after %d attempts", j.n.Attempts)
				}
				progress.Failed++
			}
			if j.duplicate {
				progress.Duplicates++
			}
			res, err := upd.ExecContext(ctx, state, retry, o.r.Code, o.r.Reply, final, ts, j.msg.MessageID, j.n.SHA256, j.n.ID, d.opt.Owner)
			if err != nil {
				return fmt.Errorf("record notice %d: %w", j.n.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// Another run took the notice over after our lease expired:
				// its outcome is recorded by that run. Ours is still a fact.
				detail.LeaseLost = true
			}
			b, _ := json.Marshal(detail)
			entries = append(entries, ledger.Entry{Controller: d.c.ID, At: at, Kind: kind, Incident: d.inc.ID,
				Account: j.n.Account, Notice: j.n.ID, Channel: ChannelEmail, PossibleDuplicate: j.duplicate, Detail: b})
			if state == StateFailed {
				// Owed notice did not arrive by email: a letter instead.
				queued, err := QueueFallbackLetter(ctx, tx, d.inc.ID, j.n.Account, fmt.Sprintf("email failed: %d %s", o.r.Code, o.r.Reply), at)
				if err != nil {
					return err
				}
				if queued {
					progress.LettersQueued++
				}
			}
		}
		if err := ledger.Append(ctx, tx, entries...); err != nil {
			return err
		}
		return releaseTx(ctx, tx, released, d.opt.Owner)
	})
	if err != nil {
		return fmt.Errorf("send incident %d: record outcomes: %w", d.inc.ID, err)
	}
	d.res.Sent += progress.Sent
	d.res.Deferred += progress.Deferred
	d.res.Failed += progress.Failed
	d.res.Duplicates += progress.Duplicates
	d.res.LettersQueued += progress.LettersQueued
	d.inflight.Add(-int64(len(batch)))
	select {
	case d.committed <- struct{}{}:
	default:
	}
	return nil
}

// deliveryDetail is the ledger detail of an email outcome.
// expireDeadLeases ends, now, the leases of runs on this host whose process
// no longer exists (a crash, a kill -9): their notices are claimed again at
// once, flagged as possible duplicates, instead of after the lease runs
// out. A lease of another host, or of a live process, is left to expire.
func expireDeadLeases(ctx context.Context, tx *sql.Tx, id int64, now string) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT lease_owner FROM notices
		WHERE incident_id = ? AND channel = 'email' AND state = 'sending' AND lease_until > ?`, id, now)
	if err != nil {
		return fmt.Errorf("claim: leases: %w", err)
	}
	var dead []string
	host, _ := os.Hostname()
	for rows.Next() {
		var owner string
		if err := rows.Scan(&owner); err != nil {
			rows.Close()
			return fmt.Errorf("claim: leases: %w", err)
		}
		parts := strings.Split(owner, "/")
		if len(parts) != 3 || parts[0] != host {
			continue
		}
		if pid, err := strconv.Atoi(parts[1]); err == nil && pid != os.Getpid() && !processAlive(pid) {
			dead = append(dead, owner)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("claim: leases: %w", err)
	}
	for _, owner := range dead {
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET lease_until = ? WHERE incident_id = ? AND state = 'sending' AND lease_owner = ?`,
			now, id, owner); err != nil {
			return fmt.Errorf("claim: leases: %w", err)
		}
	}
	return nil
}

// processAlive reports whether a process with this id exists (signal 0
// checks without sending anything; EPERM means it exists as another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

type deliveryDetail struct {
	MessageID    string `json:"message_id"`
	To           string `json:"to"`
	Attempt      int    `json:"attempt"`
	Code         int    `json:"code"`
	Reply        string `json:"reply"`
	SHA256       string `json:"sha256"`
	Jurisdiction string `json:"jurisdiction"`
	Deadline     string `json:"deadline,omitempty"`
	RetryAt      string `json:"retry_at,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// LeaseLost: another run took the notice over after this run's lease
	// expired; this outcome is still a fact, and that run records its own.
	LeaseLost bool `json:"lease_lost,omitempty"`
}

// release gives claimed but unsent notices back, as they were.
func (d *dispatcher) release(ctx context.Context, jobs []*job) error {
	return d.st.InTx(ctx, func(tx *sql.Tx) error { return releaseTx(ctx, tx, jobs, d.opt.Owner) })
}

func releaseTx(ctx context.Context, tx *sql.Tx, jobs []*job, owner string) error {
	for _, j := range jobs {
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET state=?, retry_at=?, attempts=attempts-1, lease_owner='', lease_until=''
			WHERE id=? AND lease_owner=?`, j.prevState, j.prevRetry, j.n.ID, owner); err != nil {
			return fmt.Errorf("release notice %d: %w", j.n.ID, err)
		}
	}
	return nil
}

// nextDue says when the next not-final email notice is due, and how many
// are not final.
func (d *dispatcher) nextDue(ctx context.Context) (time.Time, int, error) {
	var pending int
	var retry, lease sql.NullString
	err := d.st.DB().QueryRowContext(ctx, `SELECT count(*),
			min(CASE WHEN state='deferred' THEN retry_at END), min(CASE WHEN state='sending' AND lease_owner <> ? THEN lease_until END)
		FROM notices WHERE incident_id=? AND channel='email' AND state IN ('pending','sending','deferred')`, d.opt.Owner, d.inc.ID).
		Scan(&pending, &retry, &lease)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("send incident %d: %w", d.inc.ID, err)
	}
	next := d.opt.Now().Add(time.Hour)
	for _, s := range []sql.NullString{retry, lease} {
		if t, err := time.Parse(timeLayout, s.String); s.Valid && err == nil && t.Before(next) {
			next = t
		}
	}
	return next, pending, nil
}

// loadVariants reads an incident's plan variants.
func loadVariants(ctx context.Context, st *incident.Store, id int64) (map[int64]law.Decision, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT variant, jurisdiction, notify, channels, deadline, deadline_kind,
		content_profile, review, unreachable, reasons FROM plan_variants WHERE incident_id=?`, id)
	if err != nil {
		return nil, fmt.Errorf("variants of incident %d: %w", id, err)
	}
	defer rows.Close()
	variants := map[int64]law.Decision{}
	for rows.Next() {
		var v int64
		var d law.Decision
		var channels, deadline, reasons string
		if err := rows.Scan(&v, &d.Jurisdiction, &d.Notify, &channels, &deadline, &d.DeadlineKind, &d.ContentProfile,
			&d.Review, &d.Unreachable, &reasons); err != nil {
			return nil, fmt.Errorf("variants of incident %d: %w", id, err)
		}
		d.Channels = []string{}
		if channels != "" {
			d.Channels = strings.Split(channels, ",")
		}
		if deadline != "" {
			d.Deadline, _ = incident.ParseDate(deadline)
		}
		if err := json.Unmarshal([]byte(reasons), &d.Reasons); err != nil {
			return nil, fmt.Errorf("variants of incident %d: variant %d: %w", id, v, err)
		}
		variants[v] = d
	}
	return variants, rows.Err()
}
