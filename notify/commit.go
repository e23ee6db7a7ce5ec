package notify

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// commitBatch is the most outcomes recorded in one transaction.
const commitBatch = 256

// commitLoop writes outcomes in batches: each notice's state change and its
// ledger entry in one transaction, many notices per transaction. A batch
// that cannot be written is retried for CommitWait; after that the loop
// stops the run's claiming, keeps taking the workers' outcomes so that none
// of them blocks, and once the workers are done tries one last time to
// record every outcome it holds.
func (d *dispatcher) commitLoop(outs <-chan outcome) error {
	var batch, held []outcome
	var failed error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if failed == nil {
			err := d.retry(context.Background(), func() error { return d.commit(batch) })
			if err == nil {
				batch = batch[:0]
				if d.opt.Progress != nil {
					d.opt.Progress(d.res.SendProgress)
				}
				return
			}
			failed = err
			d.stop(err)
		}
		held = append(held, batch...)
		batch = batch[:0]
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case o, ok := <-outs:
			if !ok {
				flush()
				if failed != nil {
					return d.recordHeld(held, failed)
				}
				return nil
			}
			batch = append(batch, o)
			if len(batch) >= commitBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// recordHeld makes one last attempt to record the outcomes held since
// recording failed, and says in the run's error what became of them.
func (d *dispatcher) recordHeld(held []outcome, failed error) error {
	unrecorded := 0
	for len(held) > 0 {
		chunk := held[:min(len(held), commitBatch)]
		held = held[len(chunk):]
		if err := d.commit(chunk); err != nil {
			var unsent []*job
			for _, o := range chunk {
				if o.err == nil {
					unrecorded++
				} else {
					unsent = append(unsent, o.j)
				}
			}
			// The messages never attempted are given back on their own
			// where the database still takes that, so that the next run
			// does not flag them possible duplicates.
			if len(unsent) > 0 && d.release(context.Background(), unsent) == nil {
				d.inflight.Add(-int64(len(unsent)))
			}
		}
	}
	if unrecorded == 0 {
		return fmt.Errorf("%w; sending stopped, every outcome was recorded in the end: run incident send %d again to finish", failed, d.inc.ID)
	}
	return fmt.Errorf("%w; sending stopped, and the outcomes of %d messages could not be recorded: they stay leased, and the next run re-sends them with the same Message-ID, flagged possible_duplicate in the ledger",
		failed, unrecorded)
}

func (d *dispatcher) commit(batch []outcome) error {
	ctx := context.Background() // outcomes are recorded even after an interrupt
	var released []*job
	var progress SendProgress
	err := d.st.InTx(ctx, func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, `UPDATE notices SET state=?, retry_at=?, lease_owner='', lease_until='',
			last_code=?, last_reply=?, final_at=?, updated_at=?, message_id=?, content_sha256=?, relay=?, maybe_delivered=maybe_delivered|? WHERE id=? AND lease_owner=?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		entries := make([]ledger.Entry, 0, len(batch))
		var counts relayCounts
		for _, o := range batch {
			j := o.j
			if o.err != nil {
				released = append(released, j)
				continue
			}
			at := o.at.UTC()
			ts := at.Format(timeLayout)
			detail := deliveryDetail{MessageID: j.msg.MessageID, To: j.n.Address, Attempt: j.n.Attempts,
				Code: o.r.Code, Reply: o.r.Reply, SHA256: o.r.SHA256, ContentSHA256: j.n.SHA256, Jurisdiction: j.juris,
				Relay: cmp.Or(o.r.Relay, d.relayName), MaybeDelivered: o.r.MaybeDelivered}
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
			counts.add(detail.Relay, state)
			res, err := upd.ExecContext(ctx, state, retry, o.r.Code, o.r.Reply, final, ts, j.msg.MessageID, j.n.SHA256, detail.Relay,
				boolInt(o.r.MaybeDelivered), j.n.ID, d.opt.Owner)
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
		if err := counts.save(ctx, tx, d.inc.ID); err != nil {
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
type deliveryDetail struct {
	MessageID string `json:"message_id"`
	To        string `json:"to"`
	Attempt   int    `json:"attempt"`
	Code      int    `json:"code"`
	Reply     string `json:"reply"`
	// SHA256 is the hash of the message as delivered (what the relay
	// received after DATA, the outbox .eml file byte for byte);
	// ContentSHA256 the hash of its rendered content (subject, text and
	// HTML), the same for every attempt.
	SHA256        string `json:"sha256,omitempty"`
	ContentSHA256 string `json:"content_sha256"`
	Jurisdiction  string `json:"jurisdiction"`
	Deadline      string `json:"deadline,omitempty"`
	RetryAt       string `json:"retry_at,omitempty"`
	Reason        string `json:"reason,omitempty"`
	// Relay names the relay the attempt went through (host and port,
	// never user info); empty for the outbox.
	Relay string `json:"relay,omitempty"`
	// LeaseLost: another run took the notice over after this run's lease
	// expired; this outcome is still a fact, and that run records its own.
	LeaseLost bool `json:"lease_lost,omitempty"`
	// MaybeDelivered: the attempt broke after the end of the message was
	// sent, before the relay replied; the relay may have accepted it, and
	// the notice's later attempts are flagged possible_duplicate.
	MaybeDelivered bool `json:"maybe_delivered,omitempty"`
}

// relayCounts adds up a batch's outcomes per relay, for relay_counts.
type relayCounts []relayCount

type relayCount struct {
	relay                  string
	sent, deferred, failed int
}

func (rc *relayCounts) add(relay, state string) {
	if relay == "" {
		return
	}
	var c *relayCount
	for i := range *rc {
		if (*rc)[i].relay == relay {
			c = &(*rc)[i]
		}
	}
	if c == nil {
		*rc = append(*rc, relayCount{relay: relay})
		c = &(*rc)[len(*rc)-1]
	}
	switch state {
	case StateSent:
		c.sent++
	case StateDeferred:
		c.deferred++
	default:
		c.failed++
	}
}

// save adds the counts to the incident's relay_counts rows, inside tx.
func (rc relayCounts) save(ctx context.Context, tx *sql.Tx, incidentID int64) error {
	for _, c := range rc {
		_, err := tx.ExecContext(ctx, `INSERT INTO relay_counts(incident_id, relay, sent, deferred, failed) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, relay) DO UPDATE SET sent = relay_counts.sent + excluded.sent,
				deferred = relay_counts.deferred + excluded.deferred, failed = relay_counts.failed + excluded.failed`,
			incidentID, c.relay, c.sent, c.deferred, c.failed)
		if err != nil {
			return fmt.Errorf("relay counts: %w", err)
		}
	}
	return nil
}

// RelayCount is what one relay did for an incident: attempts sent,
// deferred (a 4xx reply or a dropped connection) and failed (a 5xx reply,
// or the last attempt).
type RelayCount struct {
	Relay    string `json:"relay"`
	Sent     int    `json:"sent"`
	Deferred int    `json:"deferred"`
	Failed   int    `json:"failed"`
}

// FindRelayCounts returns an incident's counts per relay, by name.
func FindRelayCounts(ctx context.Context, st *incident.Store, incidentID int64) ([]RelayCount, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT relay, sent, deferred, failed FROM relay_counts WHERE incident_id = ? ORDER BY relay`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("relays of incident %d: %w", incidentID, err)
	}
	defer rows.Close()
	out := []RelayCount{}
	for rows.Next() {
		var c RelayCount
		if err := rows.Scan(&c.Relay, &c.Sent, &c.Deferred, &c.Failed); err != nil {
			return nil, fmt.Errorf("relays of incident %d: %w", incidentID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// boolInt is b as the 0 or 1 an INTEGER flag column holds (portable: a
// bound bool is not an integer to PostgreSQL).
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
