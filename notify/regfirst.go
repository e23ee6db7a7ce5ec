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

// Regulator first. Some laws want the regulator told before the people
// (Maryland: the Attorney General "BEFORE notifying individuals"; New
// Jersey: the State Police "BEFORE notifying customers"). For those
// jurisdictions incident send (and the retry sweep) hold the residents'
// notices, email and letter, until the regulator notice is recorded as
// sent (regulators sent), unless the sender decided otherwise
// (SendOptions.RegulatorFirstOff, incident send --regulator-first=false),
// which is recorded per jurisdiction: a regulator_filings row's waived_at,
// a regulator_first_waived ledger entry and an audit row.

// RegulatorFirst reports whether the law of ob wants its regulator notified
// before the individuals. The rules table says so in the regulator
// deadline's text ("BEFORE notifying ...").
func RegulatorFirst(ob law.Obligation) bool {
	return ob.Regulator.Required && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(ob.Regulator.DueText)), "BEFORE")
}

// HeldJurisdictions returns the jurisdictions of a planned incident whose
// residents' notices wait for the regulator notice: the law wants the
// regulator first, and it is neither recorded as sent nor waived.
func HeldJurisdictions(ctx context.Context, st *incident.Store, id int64) ([]string, error) {
	p, err := FindPlan(ctx, st, id)
	if err != nil {
		return nil, err
	}
	var held []string
	for _, ob := range p.Jurisdictions {
		if !RegulatorFirst(ob) || ob.Tally.Owed == 0 {
			continue
		}
		var sent, waived string
		err := st.DB().QueryRowContext(ctx, `SELECT sent_on, waived_at FROM regulator_filings WHERE incident_id = ? AND jurisdiction = ? AND duty = 'regulator'`,
			id, ob.Jurisdiction).Scan(&sent, &waived)
		if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("regulator first, incident %d: %w", id, err)
		}
		if sent == "" && waived == "" {
			held = append(held, ob.Jurisdiction)
		}
	}
	return held, nil
}

// waiveRegulatorFirst records, for every jurisdiction still held, that the
// sender chose to notify the people before the regulator, and returns the
// jurisdictions it recorded. One that another sender waived, or whose
// filing was recorded as sent, since HeldJurisdictions read it (several
// incident send processes at once) is left alone: it is no longer held,
// and its waiver is recorded once.
func waiveRegulatorFirst(ctx context.Context, st *incident.Store, inc *incident.Incident, now time.Time) ([]string, error) {
	held, err := HeldJurisdictions(ctx, st, inc.ID)
	if err != nil || len(held) == 0 {
		return nil, err
	}
	var waived []string
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		waived = waived[:0]
		at := tx.Now.Format(time.RFC3339Nano)
		var entries []ledger.Entry
		for _, j := range held {
			r, err := tx.ExecContext(ctx, `INSERT INTO regulator_filings(incident_id, jurisdiction, duty, waived_at) VALUES (?, ?, 'regulator', ?)
				ON CONFLICT (incident_id, jurisdiction, duty) DO UPDATE SET waived_at = excluded.waived_at
				WHERE regulator_filings.sent_on = '' AND regulator_filings.waived_at = ''`, inc.ID, j, at)
			if err != nil {
				return err
			}
			if n, err := r.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			waived = append(waived, j)
			detail, _ := json.Marshal(map[string]any{"jurisdiction": j, "actor": incident.ActorFrom(ctx).Name})
			entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: tx.Now, Kind: ledger.KindRegulatorWaived, Incident: inc.ID, Detail: detail})
		}
		if len(waived) == 0 {
			return nil
		}
		if err := ledger.Append(ctx, tx.Tx, entries...); err != nil {
			return err
		}
		return tx.Audit(ctx, "incident.regulator_first_waived", fmt.Sprintf("incident:%d", inc.ID), map[string]any{"jurisdictions": waived})
	})
	if err != nil {
		return nil, fmt.Errorf("send incident %d: record --regulator-first=false: %w", inc.ID, err)
	}
	if len(waived) == 0 {
		return nil, nil
	}
	return waived, nil
}

// heldJSON is the JSON array of the held jurisdictions, for SQL
// (incident.Store.JSONValues).
func heldJSON(held []string) string {
	if len(held) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(held)
	return string(b)
}
