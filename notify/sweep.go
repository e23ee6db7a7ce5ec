package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// SweepResult counts what one retry sweep did, over every incident.
type SweepResult struct {
	Incidents  int `json:"incidents"`
	Sent       int `json:"sent"`
	Deferred   int `json:"deferred"`
	Failed     int `json:"failed"`
	Duplicates int `json:"possible_duplicates"`
	// Remaining counts the email notices not yet final after the sweep.
	Remaining int `json:"remaining"`
}

// Sweep is the scheduler's retry-sweep job: one pass of the dispatcher
// over every incident that is sending (notifying, not on hold). It sends
// the email notices due at now: deferred ones whose retry time has come,
// pending ones, and those whose lease expired (a run that died: re-sent
// with the same Message-ID and flagged possible_duplicate), then returns;
// what is not due yet waits for the next sweep. incident send keeps its
// run-until-final loop. opt's Transport is required; its Now is replaced
// by a clock starting at now.
func Sweep(ctx context.Context, st *incident.Store, now time.Time, opt SendOptions) (SweepResult, error) {
	var res SweepResult
	if opt.Transport == nil {
		return res, fmt.Errorf("retry sweep: no email transport")
	}
	start := time.Now()
	opt.Now = func() time.Time { return now.Add(time.Since(start)) }
	opt.OnePass = true
	opt.Channel = ChannelEmail
	opt.defaults()
	sending, err := incident.IncidentIDs(ctx, st.DB(), incident.IDFilter{Sending: true})
	if err != nil {
		return res, fmt.Errorf("retry sweep: %w", err)
	}
	ids := sending[:0]
	for _, id := range sending {
		var due bool
		err := st.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM notices WHERE incident_id = ? AND channel = 'email'
			AND state IN ('pending', 'deferred', 'sending'))`, id).Scan(&due)
		if err != nil {
			return res, fmt.Errorf("retry sweep: incident %d: %w", id, err)
		}
		if due {
			ids = append(ids, id)
		}
	}
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		r, err := onePass(ctx, st, id, opt)
		if err != nil {
			errs = append(errs, fmt.Errorf("retry sweep: %w", err))
		}
		res.Incidents++
		res.Sent += r.Sent
		res.Deferred += r.Deferred
		res.Failed += r.Failed
		res.Duplicates += r.Duplicates
		res.Remaining += r.Remaining
	}
	return res, errors.Join(errs...)
}
