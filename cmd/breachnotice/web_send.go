package main

import (
	"context"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// sendRun is one dispatcher run started from the admin UI or the API: the
// same notify.Send the command line runs. Its leases make it share the
// work with any other run (a CLI run included), so no notice is sent
// twice.
type sendRun struct {
	Incident int64               `json:"incident"`
	By       string              `json:"by"`
	Started  time.Time           `json:"started"`
	Progress notify.SendProgress `json:"progress"`
	Running  bool                `json:"running"`
	Result   *notify.SendResult  `json:"result,omitempty"`
	Error    string              `json:"error,omitempty"`
}

// sendRuns holds the serve process's runs: at most one per incident at a
// time; the last one of each incident is kept to show how it ended.
type sendRuns struct {
	mu     sync.Mutex
	runs   map[int64]*sendRun
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newSendRuns() *sendRuns {
	ctx, cancel := context.WithCancel(context.Background())
	return &sendRuns{runs: map[int64]*sendRun{}, ctx: ctx, cancel: cancel}
}

// get returns a copy of incident id's latest run, if any.
func (rs *sendRuns) get(id int64) (sendRun, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.runs[id]
	if !ok {
		return sendRun{}, false
	}
	return *r, true
}

// start starts send for incident id as actor, unless a run of it is
// already going; it reports the run and whether it started one.
func (rs *sendRuns) start(actor incident.Actor, id int64, now time.Time, send func(ctx context.Context, progress func(notify.SendProgress)) (notify.SendResult, error)) (sendRun, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r, ok := rs.runs[id]; ok && r.Running {
		return *r, false
	}
	r := &sendRun{Incident: id, By: string(actor.Role) + ":" + actor.Name, Started: now, Running: true}
	rs.runs[id] = r
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		ctx := incident.WithActor(rs.ctx, actor)
		res, err := send(ctx, func(p notify.SendProgress) {
			rs.mu.Lock()
			r.Progress = p
			rs.mu.Unlock()
		})
		rs.mu.Lock()
		defer rs.mu.Unlock()
		r.Running, r.Result = false, &res
		if err != nil {
			r.Error = errorText(err)
		}
	}()
	return *r, true
}

// stop ends the runs (they finish what is in flight and record it) and
// waits for them.
func (rs *sendRuns) stop() {
	rs.cancel()
	rs.wg.Wait()
}

// defaultSendFlags are incident send's defaults, for sends started by
// serve: every channel, the outbox unless an SMTP relay is configured.
func defaultSendFlags() sendFlags {
	d := notify.DefaultSendOptions()
	return sendFlags{channel: "all", outbox: "outbox", concurrency: d.Concurrency, attempts: d.MaxAttempts,
		retryBase: d.RetryBase, lease: d.Lease}
}

// startSend starts the dispatcher for incident id on behalf of the
// request's actor; the caller has checked that it may send. retryFailed
// first puts the emails that failed for good back in the queue, as
// incident send --retry-failed does (audited, an email_retried entry
// each).
func (s *server) startSend(ctx context.Context, id int64, retryFailed bool) (sendRun, bool) {
	f := s.cfg.Send
	return s.adm.runs.start(incident.ActorFrom(ctx), id, s.app.now(), func(ctx context.Context, progress func(notify.SendProgress)) (notify.SendResult, error) {
		opt := notify.SendOptions{Channel: f.channel, Concurrency: f.concurrency, Rate: f.rate, RetryBase: f.retryBase,
			MaxAttempts: f.attempts, Lease: f.lease, Now: s.app.now, Progress: progress, RetryFailed: retryFailed}
		if f.channel != "letter" {
			tr, _, err := s.app.transport(&f)
			if err != nil {
				return notify.SendResult{}, err
			}
			opt.Transport = tr
		}
		return notify.Send(ctx, s.app.store, id, opt)
	})
}
