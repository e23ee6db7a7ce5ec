package notify

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
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
	// Lease is how long a claimed notice may stay in flight, unrenewed,
	// before another run may send it again, flagged as a possible
	// duplicate (default 2m). A live run renews its leases every Lease/3,
	// so only a run that died (or cannot write) loses them.
	Lease time.Duration
	// CommitWait bounds how long the run keeps retrying a write it cannot
	// make (outcomes, claims: the database locked by another process, a
	// full disk) before it stops claiming, finishes what is in flight and
	// returns the error (default 2m).
	CommitWait time.Duration
	// Grace is how long in-flight messages may take to finish after the
	// run is interrupted (default 5s).
	Grace time.Duration
	// Claim is the number of notices claimed at once (default 8 per
	// connection, 16 to 256): with the jobs queued for the workers, this is
	// the window of possible duplicates after a crash. With a Rate, the
	// notices in flight are also capped at what the run sends in half a
	// Lease.
	Claim int
	// Progress, when set, is called after each committed batch.
	Progress func(SendProgress)
	// Now and Sleep are the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// RetryFailed puts the email notices that failed for good back in the
	// queue before sending, each with an email_retried ledger entry.
	RetryFailed bool
	// Owner names this run in leases (default: host/pid/random, which lets
	// a later run on the same host take over at once the leases of a run
	// whose process is gone).
	Owner string
	// OnePass makes the run return once nothing is due now, instead of
	// waiting for deferred notices and others' leases (Sweep).
	OnePass bool
	// RegulatorFirstOff sends to the residents of jurisdictions whose law
	// wants the regulator told first before that notice is recorded; the
	// decision is recorded per jurisdiction (ledger and audit). Without
	// it their notices wait (see RegulatorFirst).
	RegulatorFirstOff bool
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
	// Unreachable counts the people owed notice whom the plan found no
	// direct channel for, recorded by this run (the first).
	Unreachable int `json:"unreachable_recorded"`
	// Retried counts the failed emails RetryFailed put back in the queue;
	// RetriedMaybeDelivered those of them an attempt may have delivered
	// (it broke after the end of the message was sent), whose re-sends are
	// flagged possible_duplicate. The others were refused with a reply code
	// or never got that far: their re-sends are not duplicates.
	Retried               int `json:"retried"`
	RetriedMaybeDelivered int `json:"retried_maybe_delivered"`
	// FailedTotal counts the incident's email notices that have failed for
	// good after this run, in this run or earlier ones.
	FailedTotal int  `json:"failed_total"`
	Interrupted bool `json:"interrupted"`
	// HeldForRegulator lists the jurisdictions whose residents' notices
	// wait for the regulator notice their law wants first; HeldNotices
	// counts their email notices waiting.
	HeldForRegulator []string `json:"held_for_regulator,omitempty"`
	HeldNotices      int      `json:"held_notices,omitempty"`
	// RegulatorFirstWaived lists the jurisdictions RegulatorFirstOff
	// released, recorded by this run.
	RegulatorFirstWaived []string `json:"regulator_first_waived,omitempty"`
}

// DefaultSendOptions returns the settings a run takes for what its options
// leave unset; the command line shows them as its flags' defaults.
func DefaultSendOptions() SendOptions {
	return SendOptions{Channel: "all", Concurrency: 4, RetryBase: time.Minute, MaxAttempts: 8,
		Lease: 2 * time.Minute, CommitWait: 2 * time.Minute, Grace: 5 * time.Second}
}

func (o *SendOptions) defaults() {
	d := DefaultSendOptions()
	orDefault(&o.Channel, d.Channel)
	orDefault(&o.Concurrency, d.Concurrency)
	orDefault(&o.RetryBase, d.RetryBase)
	orDefault(&o.MaxAttempts, d.MaxAttempts)
	orDefault(&o.Lease, d.Lease)
	orDefault(&o.CommitWait, d.CommitWait)
	orDefault(&o.Grace, d.Grace)
	orDefault(&o.Claim, min(max(8*o.Concurrency, 16), 256))
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

// orDefault sets *v to d when *v is unset: zero, or for a number or a
// duration, negative.
func orDefault[T cmp.Ordered](v *T, d T) {
	var zero T
	if *v <= zero {
		*v = d
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
// is final, waiting out backoff. Running it again sends nothing twice, and
// runs started at once share the work.
//
// When ctx is cancelled it stops claiming, lets the messages in flight
// finish (or releases them) within opt.Grace, and returns with
// Interrupted set and Remaining counted. When it cannot record outcomes
// for opt.CommitWait, it stops the same way and returns the error: a
// message whose outcome could not be recorded stays leased, and the next
// run re-sends it with the same Message-ID, flagged possible_duplicate.
func Send(ctx context.Context, st *incident.Store, id int64, opt SendOptions) (SendResult, error) {
	opt.defaults()
	var res SendResult
	inc, err := st.FindIncidentFor(ctx, id, incident.ActSend)
	if err != nil {
		return res, fmt.Errorf("send: %w", err)
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
	if inc.Protection != nil && inc.Protection.Months > 0 {
		// The notices would offer fewer months than the law owes somewhere
		// (months set before the plan found that jurisdiction).
		p, err := FindPlan(ctx, st, id)
		if err != nil {
			return res, err
		}
		if err := CheckProtectionMonths(p, inc.Protection.Months); err != nil {
			return res, fmt.Errorf("send: %w: nothing sent; fix it with incident update %d --protection-months N", err, id)
		}
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return res, err
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		if inc.Status == incident.StatusPlanned {
			// Sending starts: the plan is fixed, and the people it found
			// unreachable are recorded, once.
			if _, err := st.SetStatus(ctx, tx, id, incident.StatusNotifying); err != nil {
				return err
			}
			if res.Unreachable, err = recordUnreachable(ctx, tx, inc, opt.Now()); err != nil {
				return err
			}
		}
		return st.Audit(ctx, tx, "incident.send", fmt.Sprintf("incident:%d", id), map[string]any{"channel": opt.Channel})
	})
	if err != nil {
		return res, err
	}
	if opt.RegulatorFirstOff {
		if res.RegulatorFirstWaived, err = waiveRegulatorFirst(ctx, st, inc, opt.Now()); err != nil {
			return res, err
		}
	}
	if res.HeldForRegulator, err = HeldJurisdictions(ctx, st, id); err != nil {
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
		if opt.RetryFailed {
			if res.Retried, res.RetriedMaybeDelivered, err = retryFailed(ctx, st, inc, opt.Now()); err != nil {
				return res, err
			}
		}
		d := &dispatcher{st: st, inc: inc, c: c, opt: opt, res: &res}
		if err := d.run(ctx); err != nil {
			return res, err
		}
		err := st.DB().QueryRowContext(context.WithoutCancel(ctx), `SELECT count(*) FROM notices WHERE incident_id = ? AND channel = 'email' AND state = 'failed'`,
			id).Scan(&res.FailedTotal)
		if err != nil {
			return res, fmt.Errorf("send incident %d: %w", id, err)
		}
	}
	return res, nil
}

// retryFailed puts an incident's failed email notices back in the queue,
// a thousand per transaction, each with its email_retried entry, and
// returns how many, and how many of them may have been delivered. The
// letter a failure queued stays queued. A notice keeps its Message-ID (it
// is stable per notice), so a receiver that got an earlier attempt can
// tell the re-send is the same message; the re-send is flagged
// possible_duplicate only if an attempt may have been delivered.
func retryFailed(ctx context.Context, st *incident.Store, inc *incident.Incident, now time.Time) (int, int, error) {
	total, maybe := 0, 0
	for {
		n, m := 0, 0
		err := st.InTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, account_id, last_code, last_reply, maybe_delivered FROM notices
				WHERE incident_id = ? AND channel = 'email' AND state = 'failed' ORDER BY id LIMIT 1000`, inc.ID)
			if err != nil {
				return err
			}
			var entries []ledger.Entry
			var ids []any
			for rows.Next() {
				var id int64
				var account, reply string
				var code int
				var maybeDelivered int
				if err := rows.Scan(&id, &account, &code, &reply, &maybeDelivered); err != nil {
					rows.Close()
					return err
				}
				d := map[string]any{"previous_code": code, "previous_reply": reply}
				if maybeDelivered != 0 {
					d["maybe_delivered"] = true
					m++
				}
				detail, _ := json.Marshal(d)
				entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: now, Kind: ledger.KindEmailRetried,
					Incident: inc.ID, Account: account, Notice: id, Channel: ChannelEmail, Detail: detail})
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(ids) == 0 {
				return err
			}
			ts := now.UTC().Format(timeLayout)
			_, err = tx.ExecContext(ctx, `UPDATE notices SET state = 'pending', attempts = 0, retry_at = '', final_at = '',
				updated_at = ? WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, append([]any{ts}, ids...)...)
			if err != nil {
				return err
			}
			n = len(ids)
			if err := ledger.Append(ctx, tx, entries...); err != nil {
				return err
			}
			return st.Audit(ctx, tx, "incident.retry_failed", fmt.Sprintf("incident:%d", inc.ID), map[string]any{"notices": n, "maybe_delivered": m})
		})
		if err != nil {
			return total, maybe, fmt.Errorf("send incident %d: retry failed emails: %w", inc.ID, err)
		}
		total, maybe = total+n, maybe+m
		if n == 0 {
			return total, maybe, nil
		}
	}
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
				f.notice_address, 'pending', ?3, ?3
			FROM `+incident.AffectedPeople+` f
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

// MessageID is the stable Message-ID of a notice.
func MessageID(incidentID, noticeID int64, domain string) string {
	return fmt.Sprintf("<notice-%d.incident-%d@%s>", noticeID, incidentID, domain)
}
