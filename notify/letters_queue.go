package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// LetterBatchSize is how many affected people QueueLetters considers per
// transaction.
const LetterBatchSize = 5000

// letterDetail is the detail of a letter_queued ledger entry.
type letterDetail struct {
	Jurisdiction string `json:"jurisdiction"`
	Deadline     string `json:"deadline"`
	Variant      int64  `json:"variant"`
	FallbackFrom string `json:"fallback_from,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// QueueLetters queues a letter notice for every affected person of an
// incident whose stored decision includes the letter channel and who has
// no letter notice yet; it returns how many it queued. A person whose
// postal address is incomplete gets an unprintable notice instead (not
// counted in queued, never exported, and counted as unreachable by letter
// by FindLetterCounts).
//
// The work is set-based and batched: per transaction, one INSERT ... SELECT
// over a window of LetterBatchSize affected people (incident.AffectedPeople
// ⋈ plan_map ⋈ plan_variants), then one SELECT of the new rows to build
// their letter_queued ledger entries, appended in the same transaction. Re-running
// queues nothing twice: notices are unique per incident, account and
// channel. The clock is read once: every window is written at that time.
func QueueLetters(ctx context.Context, st *incident.Store, incidentID int64) (queued int, err error) {
	inc, err := st.FindIncidentByID(ctx, incidentID)
	if err != nil {
		return 0, err
	}
	if _, err := FindPlan(ctx, st, incidentID); err != nil {
		return 0, err
	}
	// Residents whose law wants the regulator told first get their letters
	// once it is (regfirst.go): a later send queues them.
	heldJ, err := HeldJurisdictions(ctx, st, incidentID)
	if err != nil {
		return 0, err
	}
	held := heldJSON(heldJ)
	now := st.Now().UTC()
	after := "" // account ids are non-empty, so "" sorts before them all
	for {
		// The window's upper bound: the LetterBatchSize-th affected account
		// after the previous window, or none for the last window.
		hi, err := incident.AffectedWindowEnd(ctx, st.DB(), incidentID, after, LetterBatchSize)
		if err != nil {
			return queued, fmt.Errorf("queue letters of incident %d: %w", incidentID, err)
		}
		n := 0
		err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
			var e error
			n, e = queueWindow(ctx, tx.Tx, inc, after, hi, tx.Now, held, st.JSONValues("TEXT"))
			return e
		})
		if err != nil {
			return queued, err
		}
		queued += n
		if !hi.Valid {
			return queued, nil
		}
		after = hi.String
	}
}

// queueWindow queues the letters of the affected accounts in (after, hi]
// (or after "after" when hi is null) and appends their ledger entries.
// jsonValues reads held, a JSON array (incident.Store.JSONValues).
func queueWindow(ctx context.Context, tx *sql.Tx, inc *incident.Incident, after string, hi sql.NullString, now time.Time, held, jsonValues string) (int, error) {
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notices`).Scan(&maxID); err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
	}
	at := now.Format(time.RFC3339Nano)
	_, err := tx.ExecContext(ctx, `INSERT INTO notices(incident_id, controller_id, account_id, channel, variant, state, created_at, updated_at)
		SELECT f.incident_id, ?, f.account_id, 'letter', m.variant,
			CASE WHEN f.postal_complete THEN 'queued' ELSE 'unprintable' END, ?, ?
		FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND f.account_id > ? AND (CAST(? AS TEXT) IS NULL OR f.account_id <= ?)
			AND v.notify = 1 AND (',' || v.channels || ',') LIKE '%,letter,%'
			AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.incident_id = f.incident_id AND n.account_id = f.account_id AND n.channel = 'letter')
			AND v.jurisdiction NOT IN (`+jsonValues+`)
		ORDER BY f.account_id`,
		inc.ControllerID, at, at, inc.ID, after, hi, hi, held)
	if err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: insert: %w", inc.ID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT n.id, n.account_id, n.state, n.variant, v.jurisdiction, v.deadline
		FROM notices n JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
		WHERE n.id > ? AND n.incident_id = ? AND n.channel = 'letter' ORDER BY n.id`, maxID, inc.ID)
	if err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
	}
	defer rows.Close()
	var entries []ledger.Entry
	queued := 0
	for rows.Next() {
		var id int64
		var d letterDetail
		var acct, state string
		if err := rows.Scan(&id, &acct, &state, &d.Variant, &d.Jurisdiction, &d.Deadline); err != nil {
			return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return 0, err
		}
		// A letter that cannot be printed is recorded too: the person is
		// unreachable by letter and counts towards substitute notice.
		kind := ledger.KindLetterUnprintable
		if state == StateQueued {
			kind = ledger.KindLetterQueued
			queued++
		}
		entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: now, Kind: kind,
			Incident: inc.ID, Account: acct, Notice: id, Channel: ChannelLetter, Detail: detail})
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
	}
	rows.Close()
	if err := ledger.Append(ctx, tx, entries...); err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
	}
	return queued, nil
}

// QueueFallbackLetter queues a letter for one person, inside the caller's
// transaction, after their email notice failed permanently: the email
// dispatcher calls it in the transaction that records the failure. It
// queues a letter (with its letter_queued ledger entry, whose detail says
// "fallback_from":"email" and the reason) when the stored decision says
// notice is owed, the person's postal address is complete and they have no
// letter notice yet; otherwise it records nothing and returns false.
func QueueFallbackLetter(ctx context.Context, tx *sql.Tx, incidentID int64, accountID string, reason string, at time.Time) (queued bool, err error) {
	var controller string
	var d letterDetail
	var owed, complete bool
	err = tx.QueryRowContext(ctx, `SELECT m.variant, v.jurisdiction, v.deadline, v.notify, f.postal_complete
		FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND f.account_id = ?`, incidentID, accountID).
		Scan(&d.Variant, &d.Jurisdiction, &d.Deadline, &owed, &complete)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fallback letter %s of incident %d: %w", accountID, incidentID, err)
	}
	if !owed || !complete {
		return false, nil
	}
	if controller, err = incident.ControllerOf(ctx, tx, incidentID); err != nil {
		return false, fmt.Errorf("fallback letter %s of incident %d: %w", accountID, incidentID, err)
	}
	now := at.UTC()
	ts := now.Format(time.RFC3339Nano)
	// RETURNING gives no row when the notice existed (DO NOTHING).
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO notices(incident_id, controller_id, account_id, channel, variant, state, created_at, updated_at)
		VALUES (?, ?, ?, 'letter', ?, 'queued', ?, ?) ON CONFLICT (incident_id, account_id, channel) DO NOTHING RETURNING id`,
		incidentID, controller, accountID, d.Variant, ts, ts).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fallback letter %s of incident %d: %w", accountID, incidentID, err)
	}
	d.FallbackFrom, d.Reason = ChannelEmail, reason
	detail, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	if err := ledger.Append(ctx, tx, ledger.Entry{Controller: controller, At: now, Kind: ledger.KindLetterQueued,
		Incident: incidentID, Account: accountID, Notice: id, Channel: ChannelLetter, Detail: detail}); err != nil {
		return false, fmt.Errorf("fallback letter %s of incident %d: %w", accountID, incidentID, err)
	}
	return true, nil
}
