package main

import (
	"context"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// TestSendRuns_OnePerIncident: while a run of an incident is going, a
// second start returns it instead of starting another; other incidents
// start; once it ends, its result is kept and a new run may start. The
// run acts as the user who started it.
func TestSendRuns_OnePerIncident(t *testing.T) {
	rs := newSendRuns()
	defer rs.stop()
	release := make(chan struct{})
	var actors []incident.Actor
	send := func(ctx context.Context, progress func(notify.SendProgress)) (notify.SendResult, error) {
		actors = append(actors, incident.ActorFrom(ctx))
		progress(notify.SendProgress{Sent: 1})
		<-release
		return notify.SendResult{SendProgress: notify.SendProgress{Sent: 2}}, nil
	}
	sec := incident.Actor{Name: "sam", Role: incident.RoleSecurity}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, started := rs.start(sec, 1, now, send); !started {
		t.Fatal("first run did not start")
	}
	if run, started := rs.start(sec, 1, now, func(context.Context, func(notify.SendProgress)) (notify.SendResult, error) {
		t.Error("a second run of incident 1 ran")
		return notify.SendResult{}, nil
	}); started || !run.Running || run.By != "security:sam" {
		t.Errorf("second start: %+v, started %v", run, started)
	}
	other := make(chan struct{})
	if _, started := rs.start(sec, 2, now, func(context.Context, func(notify.SendProgress)) (notify.SendResult, error) {
		close(other)
		return notify.SendResult{}, nil
	}); !started {
		t.Error("incident 2 waits for incident 1")
	}
	<-other
	close(release)
	rs.wg.Wait()
	run, ok := rs.get(1)
	if !ok || run.Running || run.Result == nil || run.Result.Sent != 2 || run.Progress.Sent != 1 {
		t.Errorf("finished run: %+v", run)
	}
	if len(actors) != 1 || actors[0] != sec {
		t.Errorf("runs acted as %v", actors)
	}
	if _, started := rs.start(sec, 1, now, func(context.Context, func(notify.SendProgress)) (notify.SendResult, error) {
		return notify.SendResult{}, nil
	}); !started {
		t.Error("a new run after the first ended did not start")
	}
}
