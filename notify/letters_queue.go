package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
// ⋈ plan_map ⋈ plan_variants) whose RETURNING rows become their
// letter_queued ledger entries, appended in the same transaction. Re-running
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
//
// The ledger entries are built from the rows the INSERT itself returns,
// never from a later read of "letter notices above some id": on
// PostgreSQL another sender may commit a fallback letter of the same
// incident (QueueFallbackLetter) between two statements of this
// transaction, and that letter already has its entry. For the same
// reason a person whose letter another sender queued after this INSERT's
// snapshot is skipped (ON CONFLICT DO NOTHING), not an error.
func queueWindow(ctx context.Context, tx *sql.Tx, inc *incident.Incident, after string, hi sql.NullString, now time.Time, held, jsonValues string) (int, error) {
	at := now.Format(time.RFC3339Nano)
	rows, err := tx.QueryContext(ctx, `INSERT INTO notices(incident_id, controller_id, account_id, channel, variant, state, created_at, updated_at)
		SELECT f.incident_id, ?, f.account_id, 'letter', m.variant,
			CASE WHEN f.postal_complete THEN 'queued' ELSE 'unprintable' END, ?, ?
		FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND f.account_id > ? AND (CAST(? AS TEXT) IS NULL OR f.account_id <= ?)
			AND v.notify = 1 AND (',' || v.channels || ',') LIKE '%,letter,%'
			AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.incident_id = f.incident_id AND n.account_id = f.account_id AND n.channel = 'letter')
			AND v.jurisdiction NOT IN (`+jsonValues+`)
		ORDER BY f.account_id
		ON CONFLICT (incident_id, account_id, channel) DO NOTHING
		RETURNING id, account_id, state, variant`,
		inc.ControllerID, at, at, inc.ID, after, hi, hi, held)
	if err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: insert: %w", inc.ID, err)
	}
	type inserted struct {
		id, variant int64
		acct, state string
	}
	var ins []inserted
	for rows.Next() {
		var r inserted
		if err := rows.Scan(&r.id, &r.acct, &r.state, &r.variant); err != nil {
			rows.Close()
			return 0, fmt.Errorf("queue letters of incident %d: insert: %w", inc.ID, err)
		}
		ins = append(ins, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: insert: %w", inc.ID, err)
	}
	if len(ins) == 0 {
		return 0, nil
	}
	// RETURNING promises no order: the entries follow the notices' ids.
	sort.Slice(ins, func(i, j int) bool { return ins[i].id < ins[j].id })
	variants, err := letterVariants(ctx, tx, inc.ID)
	if err != nil {
		return 0, err
	}
	var entries []ledger.Entry
	queued := 0
	for _, r := range ins {
		v, ok := variants[r.variant]
		if !ok {
			return 0, fmt.Errorf("queue letters of incident %d: notice %d: no plan variant %d", inc.ID, r.id, r.variant)
		}
		d := letterDetail{Jurisdiction: v.jurisdiction, Deadline: v.deadline, Variant: r.variant}
		detail, err := json.Marshal(d)
		if err != nil {
			return 0, err
		}
		// A letter that cannot be printed is recorded too: the person is
		// unreachable by letter and counts towards substitute notice.
		kind := ledger.KindLetterUnprintable
		if r.state == StateQueued {
			kind = ledger.KindLetterQueued
			queued++
		}
		entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: now, Kind: kind,
			Incident: inc.ID, Account: r.acct, Notice: r.id, Channel: ChannelLetter, Detail: detail})
	}
	if err := ledger.Append(ctx, tx, entries...); err != nil {
		return 0, fmt.Errorf("queue letters of incident %d: %w", inc.ID, err)
	}
	return queued, nil
}

// planVariant is what a letter_queued entry says of a notice's variant.
type planVariant struct{ jurisdiction, deadline string }

// letterVariants reads the jurisdiction and deadline of each of an
// incident's plan variants.
func letterVariants(ctx context.Context, tx *sql.Tx, incidentID int64) (map[int64]planVariant, error) {
	rows, err := tx.QueryContext(ctx, `SELECT variant, jurisdiction, deadline FROM plan_variants WHERE incident_id = ?`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("queue letters of incident %d: plan variants: %w", incidentID, err)
	}
	defer rows.Close()
	m := map[int64]planVariant{}
	for rows.Next() {
		var n int64
		var v planVariant
		if err := rows.Scan(&n, &v.jurisdiction, &v.deadline); err != nil {
			return nil, fmt.Errorf("queue letters of incident %d: plan variants: %w", incidentID, err)
		}
		m[n] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue letters of incident %d: plan variants: %w", incidentID, err)
	}
	return m, nil
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
