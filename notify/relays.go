package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Several relays. A run sends through one Transport; Relays is a Transport
// that spreads the messages over several relays by weight, each with its
// own rate and its own circuit breaker:
//
//   - closed (in rotation): it takes its share of the messages. A relay
//     whose connections cannot be opened MinFailures times in a row, or
//     that answered more than half of its last Window attempts (at least
//     MinSamples) with a 4xx reply or a dropped connection, is opened;
//   - open (out of rotation) for a cool-down (Cooldown, doubled after each
//     failed probe up to MaxCooldown): its share goes to the others;
//   - half-open after the cool-down: one message goes to it as a probe. A
//     probe that gets through closes the breaker; one that does not opens
//     it again.
//
// A message that reached no relay (its relay refused the connection, or
// answered 4xx before the content: nothing was handed over) is tried at
// once on another relay in rotation, so a relay going down mid-run costs
// no message a deferral. When no relay is in rotation, Send reports
// Unavailable and the dispatcher gives the notice back unattempted (no
// attempt counted, nothing in the ledger: it is never failed for an
// outage) and claims nothing more until a relay can be probed (Wait).
//
// A run with one relay does not go through Relays: its single transport
// is used as it is.

// Relay is one relay of a run.
type Relay struct {
	// Name identifies the relay in the ledger, the notices table and
	// incident show: host and port, never user info.
	Name      string
	Transport Transport
	// Weight is the relay's share of the messages relative to the others'
	// (0 means 1).
	Weight int
	// Rate caps the messages per second sent through this relay (0:
	// unlimited).
	Rate float64
}

// BreakerOptions tunes the relays' circuit breakers; zero values mean the
// defaults in brackets.
type BreakerOptions struct {
	Cooldown    time.Duration // first time out of rotation (30s)
	MaxCooldown time.Duration // longest, after repeated failed probes (10m)
	Window      int           // recent attempts judged (20)
	MinSamples  int           // attempts needed before the share of failures counts (5)
	MinFailures int           // connection failures in a row that open at once (3)
	// Now is the breakers' clock (time.Now): cool-downs are real time,
	// whatever clock the run keeps for the ledger.
	Now func() time.Time
}

// Relays is a Transport over several relays (see above). It is safe for
// concurrent use; each Conn it opens holds up to one connection per relay.
type Relays struct {
	opt    BreakerOptions
	mu     sync.Mutex
	relays []*relayState
}

type breakerState int

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

// relayState is one relay and its breaker; the fields after limiter are
// guarded by Relays.mu.
type relayState struct {
	Relay
	limiter *rate.Limiter

	current   int    // smooth weighted round robin
	recent    []bool // ring of the last Window attempts: true = failure
	next, n   int
	failures  int // in recent
	connFails int // connections that could not be opened, in a row
	state     breakerState
	until     time.Time // end of the cool-down
	cooldown  time.Duration
	probing   bool // a probe is out
}

var _ Transport = (*Relays)(nil)

// NewRelays returns a Transport over rs. Names must be unique and set.
func NewRelays(rs []Relay, opt BreakerOptions) (*Relays, error) {
	if len(rs) == 0 {
		return nil, errors.New("relays: none given")
	}
	orDefault(&opt.Cooldown, 30*time.Second)
	orDefault(&opt.MaxCooldown, 10*time.Minute)
	orDefault(&opt.Window, 20)
	orDefault(&opt.MinSamples, 5)
	orDefault(&opt.MinFailures, 3)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	t := &Relays{opt: opt}
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Name == "" || r.Transport == nil {
			return nil, errors.New("relays: a relay without a name or transport")
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("relays: %s given twice", r.Name)
		}
		seen[r.Name] = true
		if r.Weight <= 0 {
			r.Weight = 1
		}
		s := &relayState{Relay: r, recent: make([]bool, opt.Window), cooldown: opt.Cooldown}
		if r.Rate > 0 {
			s.limiter = rate.NewLimiter(rate.Limit(r.Rate), max(1, int(r.Rate/10)))
		}
		t.relays = append(t.relays, s)
	}
	return t, nil
}

// Open returns a connection that opens its relays' connections as it
// needs them.
func (t *Relays) Open(ctx context.Context) (Conn, error) {
	return &relaysConn{t: t, conns: make([]Conn, len(t.relays))}, nil
}

// Wait is how long until some relay can take a message: 0 when one is in
// rotation or due a probe.
func (t *Relays) Wait() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opt.Now()
	wait := time.Duration(-1)
	for _, r := range t.relays {
		var w time.Duration
		switch r.state {
		case breakerClosed:
			return 0
		case breakerHalfOpen:
			if !r.probing {
				return 0
			}
			w = 100 * time.Millisecond // the probe's answer
		case breakerOpen:
			if !now.Before(r.until) {
				return 0
			}
			w = r.until.Sub(now)
		}
		if wait < 0 || w < wait {
			wait = w
		}
	}
	return max(wait, time.Millisecond)
}

// InRotation names the relays in rotation now, for tests and operators.
func (t *Relays) InRotation() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, r := range t.relays {
		if r.state == breakerClosed {
			out = append(out, r.Name)
		}
	}
	return out
}

// pick chooses, by smooth weighted round robin, a relay in rotation that
// is not in tried, or one due a probe. probe says the message is the
// relay's probe.
func (t *Relays) pick(tried []bool) (i int, probe, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opt.Now()
	total, best := 0, -1
	for k, r := range t.relays {
		if tried[k] {
			continue
		}
		if r.state == breakerOpen && !now.Before(r.until) {
			r.state, r.probing = breakerHalfOpen, false
		}
		if r.state == breakerHalfOpen && !r.probing {
			// A probe first: it decides whether the relay comes back.
			r.probing = true
			return k, true, true
		}
		if r.state != breakerClosed {
			continue
		}
		r.current += r.Weight
		total += r.Weight
		if best < 0 || r.current > t.relays[best].current {
			best = k
		}
	}
	if best < 0 {
		return 0, false, false
	}
	t.relays[best].current -= total
	return best, false, true
}

// report records an attempt's outcome on relay i: failed says the relay
// failed it (no connection, a 4xx reply, a dropped connection), connFail
// that the connection could not be opened.
func (t *Relays) report(i int, probe, failed, connFail bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.relays[i]
	now := t.opt.Now()
	if probe {
		r.probing = false
		if failed {
			r.cooldown = min(2*r.cooldown, t.opt.MaxCooldown)
			r.state, r.until = breakerOpen, now.Add(r.cooldown)
			return
		}
		r.state, r.cooldown = breakerClosed, t.opt.Cooldown
		r.resetWindow()
		return
	}
	if r.state != breakerClosed {
		return // an answer from before the breaker opened
	}
	if r.n == len(r.recent) && r.recent[r.next] {
		r.failures--
	}
	r.recent[r.next] = failed
	r.next = (r.next + 1) % len(r.recent)
	r.n = min(r.n+1, len(r.recent))
	if failed {
		r.failures++
	}
	if connFail {
		r.connFails++
	} else {
		r.connFails = 0
	}
	if r.connFails >= t.opt.MinFailures || (r.n >= t.opt.MinSamples && 2*r.failures > r.n) {
		r.state, r.until = breakerOpen, now.Add(r.cooldown)
		r.resetWindow()
	}
}

// unpick gives back a probe that was never made.
func (t *Relays) unpick(i int, probe bool) {
	if !probe {
		return
	}
	t.mu.Lock()
	t.relays[i].probing = false
	t.mu.Unlock()
}

func (r *relayState) resetWindow() {
	clear(r.recent)
	r.next, r.n, r.failures, r.connFails = 0, 0, 0, 0
}

// relayFailure says whether a result counts against the relay: a 4xx
// reply, or a connection that broke without a reply.
func relayFailure(r Result) bool {
	return r.Outcome == Temporary && (r.Code == 0 || (r.Code >= 400 && r.Code < 500))
}

// relaysConn holds one connection per relay, opened when first needed.
type relaysConn struct {
	t     *Relays
	conns []Conn
}

// Send sends m through a relay picked by weight, and through another when
// that one takes nothing of it (see the package comment above). The
// Result names the relay; it is never Broken (broken connections are
// replaced here).
func (c *relaysConn) Send(ctx context.Context, m *Message) Result {
	tried := make([]bool, len(c.conns))
	var last Result
	reached := false // some relay answered (a connection was open)
	for ctx.Err() == nil {
		i, probe, ok := c.t.pick(tried)
		if !ok {
			break
		}
		tried[i] = true
		r := c.t.relays[i]
		if r.limiter != nil {
			if err := r.limiter.Wait(ctx); err != nil {
				c.t.unpick(i, probe)
				break
			}
		}
		if c.conns[i] == nil {
			conn, err := r.Transport.Open(ctx)
			if err != nil {
				if ctx.Err() != nil {
					c.t.unpick(i, probe)
					break
				}
				c.t.report(i, probe, true, true)
				last = Result{Outcome: Temporary, Reply: "connect: " + err.Error(), Relay: r.Name}
				continue // nothing was handed over: another relay
			}
			c.conns[i] = conn
		}
		res := c.conns[i].Send(ctx, m)
		res.Relay = r.Name
		broken := res.Broken
		if res.Broken {
			c.conns[i].Close()
			c.conns[i] = nil
			res.Broken = false
		}
		reached = true
		if ctx.Err() != nil {
			// Interrupted: says nothing about the relay.
			c.t.unpick(i, probe)
			return res
		}
		failed := relayFailure(res)
		// A session closed (421) or lost before the content counts as a
		// refused connection: the relay is going away.
		c.t.report(i, probe, failed, failed && res.Unsent && broken)
		if failed && res.Unsent {
			last = res
			continue // refused before the content: another relay
		}
		return res
	}
	if reached {
		return last
	}
	if last.Reply == "" {
		last.Reply = "no relay in rotation"
	}
	last.Outcome, last.Unavailable = Temporary, true
	return last
}

// Close closes the relays' connections.
func (c *relaysConn) Close() error {
	var errs []error
	for i, conn := range c.conns {
		if conn != nil {
			errs = append(errs, conn.Close())
			c.conns[i] = nil
		}
	}
	return errors.Join(errs...)
}
