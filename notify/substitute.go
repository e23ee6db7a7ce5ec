package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// Substitute notice is what the law falls back on for the people no
// direct notice reaches: a conspicuous website posting, media notice, a
// notice to the regulator. A person counts towards it when they are owed
// notice and
//
//   - the plan found no direct channel for them (a retired account, no
//     usable email and no complete postal address): recorded once, when
//     sending starts, in the unreachable table with a notice_unreachable
//     ledger entry; or
//   - every notice they were given has ended without reaching them: an
//     email that failed for good, a letter that cannot be printed or came
//     back, and nothing else on its way.

// unreachableDetail is the ledger detail of a notice_unreachable entry.
type unreachableDetail struct {
	Jurisdiction string `json:"jurisdiction"`
	Deadline     string `json:"deadline,omitempty"`
	Variant      int64  `json:"variant"`
	Reason       string `json:"reason"`
}

// recordUnreachable records, inside the caller's transaction, every
// affected person the plan says is owed notice but unreachable, with a
// notice_unreachable entry each, and returns how many it recorded. People
// already recorded are skipped, so a second run records nothing.
func recordUnreachable(ctx context.Context, tx *sql.Tx, inc *incident.Incident, now time.Time) (int, error) {
	ts := now.UTC().Format(time.RFC3339Nano)
	_, err := tx.ExecContext(ctx, `INSERT INTO unreachable(incident_id, account_id, variant, recorded_at)
		SELECT f.incident_id, f.account_id, m.variant, ?2
		FROM `+incident.AffectedRows+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ?1 AND v.notify = 1 AND v.unreachable = 1
		ON CONFLICT (incident_id, account_id) DO NOTHING`, inc.ID, ts)
	if err != nil {
		return 0, fmt.Errorf("record unreachable people of incident %d: %w", inc.ID, err)
	}
	// Append the entries of the rows just inserted, a thousand at a time,
	// so a large set never sits in memory.
	n, after := 0, ""
	for {
		rows, err := tx.QueryContext(ctx, `SELECT u.account_id, u.variant, v.jurisdiction, v.deadline, v.reasons
			FROM unreachable u JOIN plan_variants v ON v.incident_id = u.incident_id AND v.variant = u.variant
			WHERE u.incident_id = ? AND u.recorded_at = ? AND u.account_id > ? ORDER BY u.account_id LIMIT 1000`, inc.ID, ts, after)
		if err != nil {
			return n, fmt.Errorf("record unreachable people of incident %d: %w", inc.ID, err)
		}
		var entries []ledger.Entry
		for rows.Next() {
			var d unreachableDetail
			var acct, reasons string
			if err := rows.Scan(&acct, &d.Variant, &d.Jurisdiction, &d.Deadline, &reasons); err != nil {
				rows.Close()
				return n, fmt.Errorf("record unreachable people of incident %d: %w", inc.ID, err)
			}
			d.Reason = unreachableReason(reasons)
			detail, _ := json.Marshal(d)
			entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: now.UTC(), Kind: ledger.KindNoticeUnreachable,
				Incident: inc.ID, Account: acct, Detail: detail})
			after = acct
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("record unreachable people of incident %d: %w", inc.ID, err)
		}
		if len(entries) == 0 {
			return n, nil
		}
		if err := ledger.Append(ctx, tx, entries...); err != nil {
			return n, fmt.Errorf("record unreachable people of incident %d: %w", inc.ID, err)
		}
		n += len(entries)
	}
}

// unreachableReason picks, from a decision's stored reasons, the rule that
// made the person unreachable.
func unreachableReason(reasons string) string {
	var rs []law.Reason
	json.Unmarshal([]byte(reasons), &rs)
	for i := len(rs) - 1; i >= 0; i-- {
		// Rules are named JURISDICTION/topic/case: "US-CA/channel/retired".
		rule := rs[i].Rule[strings.LastIndexByte(rs[i].Rule, '/')+1:]
		if rule == "retired" || strings.HasPrefix(rule, "unreachable") {
			return rule
		}
	}
	return "unreachable"
}

// SubstituteCase is one person owed notice whom no direct notice reaches.
type SubstituteCase struct {
	Account      string `json:"account_id"`
	Jurisdiction string `json:"jurisdiction"`
	// Reason is the plan's rule for the unreachable ("retired",
	// "unreachable-no-contact", ...), or how each notice ended ("email
	// failed: 550 ...; letter unprintable").
	Reason string `json:"reason"`
}

// substituteSQL selects the people of incident ?1 who count towards
// substitute notice, with their jurisdiction and reason, in account order.
const substituteSQL = `
	SELECT u.account_id, v.jurisdiction, '' AS ended, v.reasons
	FROM unreachable u JOIN plan_variants v ON v.incident_id = u.incident_id AND v.variant = u.variant
	WHERE u.incident_id = ?1
	UNION ALL
	SELECT n.account_id, max(v.jurisdiction),
		string_agg(n.channel || ' ' || n.state || CASE WHEN n.last_reply <> '' THEN ': ' || n.last_reply ELSE '' END, '; '), ''
	FROM notices n JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
	WHERE n.incident_id = ?1
	GROUP BY n.account_id
	HAVING sum(CASE WHEN (n.channel = 'email' AND n.state IN ('pending', 'sending', 'deferred', 'sent'))
		OR (n.channel = 'letter' AND n.state IN ('queued', 'exported', 'mailed')) THEN 1 ELSE 0 END) = 0
	ORDER BY 1`

// FindSubstituteCases calls fn for every person of the incident who counts
// towards substitute notice, in account order, streaming.
func FindSubstituteCases(ctx context.Context, st *incident.Store, id int64, fn func(SubstituteCase) error) error {
	if _, err := st.FindIncidentByID(ctx, id); err != nil {
		return err
	}
	rows, err := st.DB().QueryContext(ctx, substituteSQL, id)
	if err != nil {
		return fmt.Errorf("substitute notice of incident %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c SubstituteCase
		var ended, reasons string
		if err := rows.Scan(&c.Account, &c.Jurisdiction, &ended, &reasons); err != nil {
			return fmt.Errorf("substitute notice of incident %d: %w", id, err)
		}
		c.Reason = ended
		if reasons != "" {
			c.Reason = unreachableReason(reasons)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountSubstituteCases counts the people of the incident who count towards
// substitute notice.
func CountSubstituteCases(ctx context.Context, st *incident.Store, id int64) (int, error) {
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM (`+substituteSQL+`) x`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("substitute notice of incident %d: %w", id, err)
	}
	return n, nil
}
