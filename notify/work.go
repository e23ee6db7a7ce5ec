package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// Workers. Work is the long-running form of the dispatcher that
// `serve --workers-only` runs: it looks, every Poll, for incidents that are
// sending (notifying, not on a law-enforcement hold) with email notices
// due (pending, deferred whose retry time has come, or leased by a run
// whose lease expired), and runs one pass of the dispatcher over each, as
// the retry sweep does (Sweep), until nothing of it is due. Any number of
// workers, on any machines, and any number of incident send runs share the
// work through the notices' claims and leases: on PostgreSQL a claim skips
// the rows another is claiming (FOR UPDATE SKIP LOCKED); on SQLite the one
// writer orders the claims. Regulator-first holds are the dispatcher's:
// held notices are neither due nor claimed until the regulator notice is
// recorded.

// DefaultPoll is how long Work waits, when nothing is due, before it looks
// again.
const DefaultPoll = 2 * time.Second

// WorkOptions configures Work.
type WorkOptions struct {
	// Send is the delivery settings of every pass (Transport is required;
	// Concurrency and Rate apply to each incident being sent). Work sends
	// email only, one pass at a time per incident, and names each pass's
	// leases itself: Channel, OnePass and Owner are its own.
	Send SendOptions
	// Poll is how long Work waits when nothing is due (default DefaultPoll).
	// A database it cannot read is tried again after Poll, doubling up to
	// MaxBackoff; an incident whose pass failed likewise.
	Poll       time.Duration
	MaxBackoff time.Duration
	// Log gets one line per pass that did something (incident id and
	// counts: never a person's data) and one per error. Nil: discarded.
	Log *slog.Logger
	// OnPass, when set, is called after each pass, from the pass's own
	// goroutine.
	OnPass func(WorkPass)
}

// WorkPass is one pass of the dispatcher over one incident.
type WorkPass struct {
	Incident int64
	SendResult
	Err error
}

// did reports whether the pass recorded any outcome.
func (p WorkPass) did() bool { return p.Sent+p.Deferred+p.Failed > 0 }

// Work runs the dispatcher over every incident that is sending until ctx
// ends: whenever one has email notices due it sends them; when nothing is
// due it waits opt.Poll and looks again, so an incident whose send was
// started elsewhere (incident send, the admin UI, the API) is picked up
// within one poll. A pass that fails is logged and its incident tried
// again with backoff; the others go on. When ctx ends it stops claiming,
// lets the messages in flight finish within opt.Send.Grace, records them,
// and returns nil.
func Work(ctx context.Context, st *incident.Store, opt WorkOptions) error {
	if opt.Send.Transport == nil {
		return fmt.Errorf("workers: no email transport")
	}
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Minute
	}
	if opt.MaxBackoff < opt.Poll {
		opt.MaxBackoff = opt.Poll
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.Send.Channel = ChannelEmail
	opt.Send.OnePass = true
	opt.Send.Owner = ""
	now := opt.Send.Now
	if now == nil {
		now = time.Now
	}

	var wg sync.WaitGroup
	done := make(chan WorkPass)
	running := map[int64]bool{}
	type retry struct {
		at   time.Time
		wait time.Duration
	}
	failing := map[int64]retry{}
	dbWait := time.Duration(0)
	tick := time.NewTimer(0)
	defer tick.Stop()

	finish := func(p WorkPass) {
		delete(running, p.Incident)
		switch {
		case p.Err != nil && ctx.Err() == nil:
			r := failing[p.Incident]
			r.wait = min(max(2*r.wait, opt.Poll), opt.MaxBackoff)
			r.at = time.Now().Add(r.wait)
			failing[p.Incident] = r
			log.Error("workers: pass failed", "incident_id", p.Incident, "error", p.Err, "retry_in", r.wait)
		case p.Err == nil:
			delete(failing, p.Incident)
		}
		if p.did() {
			log.Info("workers: pass", "incident_id", p.Incident, "sent", p.Sent, "deferred", p.Deferred, "failed", p.Failed,
				"possible_duplicates", p.Duplicates, "remaining", p.Remaining, "interrupted", p.Interrupted)
		}
		if p.did() && ctx.Err() == nil {
			// More may have come due meanwhile (a retry, a new incident):
			// look again now rather than after a poll.
			tick.Reset(0)
		}
	}

	log.Info("workers started", "poll", opt.Poll)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case p := <-done:
			finish(p)
			continue
		case <-tick.C:
		}
		ids, err := dueIncidents(ctx, st, now(), func(id int64) bool { return running[id] })
		if err != nil {
			if ctx.Err() != nil {
				break loop
			}
			dbWait = min(max(2*dbWait, opt.Poll), opt.MaxBackoff)
			log.Error("workers: looking for due notices failed", "error", err, "retry_in", dbWait)
			tick.Reset(dbWait)
			continue
		}
		if dbWait > 0 {
			log.Info("workers: database answering again")
			dbWait = 0
		}
		for _, id := range ids {
			if ctx.Err() != nil {
				break
			}
			if running[id] || time.Now().Before(failing[id].at) {
				continue
			}
			running[id] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := WorkPass{Incident: id}
				p.SendResult, p.Err = onePass(ctx, st, id, opt.Send)
				if p.Err != nil && ctx.Err() != nil && errors.Is(p.Err, context.Canceled) {
					// Stopped before it could start: not a failure.
					p.Err, p.Interrupted = nil, true
				}
				if opt.OnPass != nil {
					opt.OnPass(p)
				}
				done <- p
			}()
		}
		tick.Reset(opt.Poll)
	}
	log.Info("workers stopping", "passes_in_flight", len(running))
	go func() { wg.Wait(); close(done) }()
	for p := range done {
		finish(p)
	}
	log.Info("workers stopped")
	return nil
}

// onePass runs one pass of the dispatcher (opt.OnePass) over the email
// notices of incident id: the retry sweep's and the workers' unit of work.
func onePass(ctx context.Context, st *incident.Store, id int64, opt SendOptions) (SendResult, error) {
	var r SendResult
	opt.defaults()
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return r, err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return r, err
	}
	d := &dispatcher{st: st, inc: inc, c: c, opt: opt, res: &r}
	if err := d.run(ctx); err != nil {
		return r, fmt.Errorf("incident %d: %w", id, err)
	}
	return r, nil
}

// dueIncidents lists the incidents that are sending and have email notices
// a pass would claim at now: deferred ones whose retry time has come,
// leases that expired, and pending ones, leaving out the notices held for
// a regulator (as the dispatcher's claims do). It skips the incidents
// busy says are being sent already. An incident that cannot be looked at
// is listed, so that its pass says why and backs off; when none can, the
// database is down and the error is returned.
func dueIncidents(ctx context.Context, st *incident.Store, now time.Time, busy func(int64) bool) ([]int64, error) {
	sending, err := incident.IncidentIDs(ctx, st.DB(), incident.IDFilter{Sending: true})
	if err != nil {
		return nil, err
	}
	ts := now.UTC().Format(timeLayout)
	notHeld := "variant NOT IN (" + st.JSONValues("INTEGER") + ")"
	var due []int64
	var errs []error
	looked := 0
	for _, id := range sending {
		if busy(id) {
			continue
		}
		looked++
		ok, err := incidentDue(ctx, st, id, ts, notHeld)
		if err != nil {
			errs = append(errs, err)
		}
		if ok || err != nil {
			due = append(due, id)
		}
	}
	if len(errs) > 0 && len(errs) == looked {
		return nil, errors.Join(errs...)
	}
	return due, nil
}

// incidentDue reports whether incident id has email notices due at ts.
func incidentDue(ctx context.Context, st *incident.Store, id int64, ts, notHeld string) (bool, error) {
	held, err := heldVariants(ctx, st, id)
	if err != nil {
		return false, err
	}
	b := []byte("[]")
	if held != nil {
		b, _ = json.Marshal(held)
	}
	ok := false
	err = st.DB().QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM notices WHERE incident_id = ? AND channel = 'email' AND state = 'deferred' AND retry_at <= ? AND `+notHeld+`)
		OR EXISTS (SELECT 1 FROM notices WHERE incident_id = ? AND channel = 'email' AND state = 'sending' AND lease_until <= ?)
		OR EXISTS (SELECT 1 FROM notices WHERE incident_id = ? AND channel = 'email' AND state = 'pending' AND `+notHeld+`)`,
		id, ts, string(b), id, ts, id, string(b)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("incident %d: due notices: %w", id, err)
	}
	return ok, nil
}

// heldVariants returns the plan variants of incident id whose notices wait
// for the regulator notice their law wants first (regfirst.go).
func heldVariants(ctx context.Context, st *incident.Store, id int64) ([]int64, error) {
	heldJ, err := HeldJurisdictions(ctx, st, id)
	if err != nil || len(heldJ) == 0 {
		return nil, err
	}
	variants, err := loadVariants(ctx, st, id)
	if err != nil {
		return nil, err
	}
	var held []int64
	for v, dec := range variants {
		if slices.Contains(heldJ, dec.Jurisdiction) {
			held = append(held, v)
		}
	}
	return held, nil
}
