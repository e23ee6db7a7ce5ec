package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/templates"
	"golang.org/x/time/rate"
)

// The dispatcher is a pipeline of three stages joined by channels:
//
//	claimLoop ─jobs─► workers (one SMTP connection each) ─outs─► commitLoop
//
// The claim loop leases batches of due notices to this run; the workers
// render and send them; the commit loop records each outcome and its ledger
// entry, many per transaction. A heartbeat renews the run's leases while it
// lives. A full outs channel holds the workers back, and a full jobs
// channel the claim loop, so a database that cannot take writes stops the
// sending instead of piling up unrecorded messages.

// job is one claimed notice on its way to a worker.
type job struct {
	n         Notice
	msg       Message
	deadline  incident.Date
	juris     string
	duplicate bool // claimed from an expired lease, or maybe delivered before: may have been sent before
	prevState string
	prevRetry string
	// What the worker renders the message from: the person's name and
	// locale (all NoticeFor reads of them), and the decision.
	af      incident.Affected
	dec     law.Decision
	variant int64
	created string
	// date is the message's Date: when this attempt was claimed, or, for
	// a re-send after an expired lease, when the attempt it repeats was.
	date  time.Time
	offer Offer // the person's protection code, if one was assigned
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
	// window caps this run's claimed notices whose outcome is not yet
	// committed (0: only the pipeline's own buffers cap them).
	window int
	// inflight counts this run's claimed notices whose outcome is not yet
	// committed; committed is signalled after each commit.
	inflight  atomic.Int64
	committed chan struct{}
	// stop ends claiming, with the reason: the caller's interrupt or a
	// write that kept failing.
	stop  context.CancelCauseFunc
	cache *templates.EmailCache
	// sender signs and addresses the controller's messages (sender.go).
	sender *sender
	// held is the JSON array of the plan variants whose notices wait for
	// the regulator notice their law wants first (regfirst.go).
	held string
	// sendable is the claims' SQL condition on a notice's variant, with
	// its one argument sendableArg: every variant but the held ones.
	sendable, sendableArg string
	// relayName names a single transport's relay in each delivery
	// (Relays names its own per message); avail, when the transport can
	// be out of service (Relays), says when it can take work again.
	relayName string
	avail     waiter
}

// errNoRelay releases a job no relay could take.
var errNoRelay = errors.New("no relay in rotation")

func (d *dispatcher) run(ctx context.Context) error {
	var err error
	if d.variants, err = loadVariants(ctx, d.st, d.inc.ID); err != nil {
		return err
	}
	heldJ, err := HeldJurisdictions(ctx, d.st, d.inc.ID)
	if err != nil {
		return err
	}
	d.res.HeldForRegulator = heldJ
	var heldV []int64
	for v, dec := range d.variants {
		for _, j := range heldJ {
			if dec.Jurisdiction == j {
				heldV = append(heldV, v)
			}
		}
	}
	d.held = "[]"
	d.sendable, d.sendableArg = "variant NOT IN ("+d.st.JSONValues("INTEGER")+")", "[]"
	if len(heldV) > 0 {
		b, _ := json.Marshal(heldV)
		d.held = string(b)
		// With variants held, the claims name the variants they may take
		// (an index search per variant) instead of skipping the held ones,
		// which walked past every held notice on every claim.
		var ok []int64
		for v := range d.variants {
			if !slices.Contains(heldV, v) {
				ok = append(ok, v)
			}
		}
		b, _ = json.Marshal(ok)
		if ok == nil {
			b = []byte("[]")
		}
		d.sendable, d.sendableArg = "variant IN ("+d.st.JSONValues("INTEGER")+")", string(b)
	}
	if d.sender, err = loadSender(ctx, d.st, secretsOf(d.st), d.c); err != nil {
		return err
	}
	if n, ok := d.opt.Transport.(namer); ok {
		d.relayName = n.Name()
	}
	d.avail, _ = d.opt.Transport.(waiter)
	d.committed = make(chan struct{}, 1)
	d.cache = templates.NewEmailCache()
	d.domain = "breachnotice.invalid"
	if at := strings.LastIndexByte(d.c.From, '@'); at >= 0 {
		d.domain = d.c.From[at+1:]
	}
	if d.opt.Rate > 0 {
		// Never hold more than the run can send in half a lease.
		d.window = max(1, int(d.opt.Rate*d.opt.Lease.Seconds()/2))
	}

	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	d.stop = stop

	// The heartbeat renews this run's leases until every outcome is
	// recorded or released, and only then stops.
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		d.heartbeat(beatCtx)
	}()
	defer func() { stopBeat(); <-beatDone }()

	// Workers keep sending after claiming stops, for at most Grace.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(stopCtx, func() {
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
			d.work(sendCtx, stopCtx, limiter, jobs, outs)
		}()
	}
	commitErr := make(chan error, 1)
	go func() { commitErr <- d.commitLoop(outs) }()

	claimErr := d.claimLoop(stopCtx, jobs)
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
	if len(heldV) > 0 {
		if err := d.st.DB().QueryRowContext(context.WithoutCancel(ctx), `SELECT count(*) FROM notices WHERE incident_id = ? AND channel = 'email'
			AND state = 'pending' AND variant IN (`+d.st.JSONValues("INTEGER")+`)`, d.inc.ID, d.held).Scan(&d.res.HeldNotices); err != nil {
			return fmt.Errorf("send incident %d: %w", d.inc.ID, err)
		}
	}
	return nil
}

// work sends jobs over one reused connection. Once claiming has stopped it
// only reports the jobs it is handed as released.
func (d *dispatcher) work(sendCtx, stopCtx context.Context, limiter *rate.Limiter, jobs <-chan *job, outs chan<- outcome) {
	var conn Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for j := range jobs {
		if stopCtx.Err() != nil {
			outs <- outcome{j: j, err: context.Cause(stopCtx)}
			continue
		}
		if limiter != nil {
			if err := limiter.Wait(stopCtx); err != nil {
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
		if r.Unavailable {
			// Not attempted anywhere: given back as it was, and the
			// claim loop waits for a relay (d.avail).
			outs <- outcome{j: j, err: errNoRelay}
			continue
		}
		if r.Broken {
			conn.Close()
			conn = nil
		}
		outs <- outcome{j: j, r: r, at: d.opt.Now()}
	}
}

// claimLoop claims batches of due notices and hands them to the workers,
// until every notice is final or ctx is cancelled. When only deferred
// notices (or others' leases) remain, it sleeps until the earliest is due.
func (d *dispatcher) claimLoop(ctx context.Context, jobs chan<- *job) error {
	for ctx.Err() == nil {
		if d.avail != nil {
			if w := d.avail.Wait(); w > 0 {
				// Every relay is out of rotation: claim nothing until one
				// can be probed. The notices wait, unattempted.
				if d.opt.OnePass && d.inflight.Load() == 0 {
					return nil
				}
				if err := d.opt.Sleep(ctx, min(w, time.Second)); err != nil {
					return err
				}
				continue
			}
		}
		n := d.opt.Claim
		if d.window > 0 {
			n = min(n, d.window-int(d.inflight.Load()))
		}
		var batch []*job
		if n > 0 {
			err := d.retry(ctx, func() error {
				var err error
				batch, err = d.claim(ctx, n)
				return err
			})
			if err != nil {
				err = fmt.Errorf("send incident %d: %w", d.inc.ID, err)
				d.stop(err)
				return err
			}
		}
		if len(batch) == 0 {
			if d.inflight.Load() > 0 {
				// Our own messages are still out: wait for their outcomes,
				// which may make some of them due again, or free room in
				// the window.
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
			if pending == 0 || d.opt.OnePass {
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

// heartbeat renews this run's leases every third of a lease until ctx
// ends, so that a slow relay or a long backlog never lets a live run's
// notices look abandoned. A renewal that fails (the database locked) is
// tried again at the next beat.
func (d *dispatcher) heartbeat(ctx context.Context) {
	t := time.NewTicker(max(d.opt.Lease/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.renewLeases(ctx)
	}
}

// retry runs fn until it succeeds, backing off from 50ms to 2s between
// tries, for at most CommitWait of real time (a lock or a full disk is real
// time, whatever clock the run keeps). It gives up early only when ctx ends.
func (d *dispatcher) retry(ctx context.Context, fn func() error) error {
	start := time.Now()
	wait := 50 * time.Millisecond
	for tries := 1; ; tries++ {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return err
		}
		if time.Since(start)+wait > d.opt.CommitWait {
			return fmt.Errorf("%w (%d tries in %s)", err, tries, time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(2*wait, 2*time.Second)
	}
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
	// the notice date; only the name differs from person to person, except
	// for a person's own protection code, which is rendered in full.
	var e templates.Email
	var err error
	if WithOffer(&n, j.offer); n.Protection != nil && n.Protection.Code != "" {
		e, err = templates.RenderEmail(ctx, n)
	} else {
		e, err = d.cache.Render(ctx, n, strconv.FormatInt(j.variant, 10)+"|"+n.NoticeDate.Format(incident.DateLayout))
	}
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
		From: d.c.From, FromName: e.FromName, To: j.n.Address, ToName: e.ToName, Subject: e.Subject, HTML: e.HTML, Text: e.Text,
		DKIM: d.sender.dkim, Date: j.date}
	if d.sender.verpKey != nil && d.sender.bounceDomain != "" {
		j.msg.Ref = NoticeRef(d.sender.verpKey, j.n.ID)
		j.msg.ReturnPath = "bounce+" + j.msg.Ref + "@" + d.sender.bounceDomain
	}
	j.n.MessageID = j.msg.MessageID
	return nil
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
