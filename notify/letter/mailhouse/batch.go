package mailhouse

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// Batch is one mail-house batch, as letters export recorded it and the
// confirm and returned files since counted it (table letter_batches).
type Batch struct {
	ID         string    `json:"id"`
	Controller string    `json:"controller"`
	Incident   int64     `json:"incident"`
	CreatedAt  time.Time `json:"created_at"`
	// File is the zip's base name and SHA256 its hex digest; both are
	// empty for a batch exported before they were recorded.
	File    string `json:"file,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Letters int    `json:"letters"`
	Pages   int    `json:"pages"`
	// Mailed counts the letters confirmed mailed, Returned those returned
	// to sender, Open those still exported (neither).
	Mailed   int `json:"mailed"`
	Returned int `json:"returned"`
	Open     int `json:"open"`
	// State is exported (no letter settled), mailing (some) or settled
	// (every letter mailed or returned).
	State string `json:"state"`
}

// FindBatches returns an incident's letter batches, oldest first.
func FindBatches(ctx context.Context, st *incident.Store, incidentID int64) ([]Batch, error) {
	if _, err := st.FindIncidentFor(ctx, incidentID, incident.ActRead); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT id, controller_id, incident_id, created_at, file, sha256, letters, pages,
		mailed, returned, open, state FROM letter_batches WHERE incident_id = ? ORDER BY created_at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("letter batches of incident %d: %w", incidentID, err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		var at string
		if err := rows.Scan(&b.ID, &b.Controller, &b.Incident, &at, &b.File, &b.SHA256, &b.Letters, &b.Pages,
			&b.Mailed, &b.Returned, &b.Open, &b.State); err != nil {
			return nil, fmt.Errorf("letter batches of incident %d: %w", incidentID, err)
		}
		b.CreatedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// batchCounts is what one transaction's lines change in a batch's counts.
type batchCounts struct{ mailed, returned, settled int }

// count adds one letter moved from state from to state to.
func (bc *batchCounts) count(from, to string) {
	switch to {
	case notify.StateMailed:
		bc.mailed++
	case notify.StateReturned:
		bc.returned++
	}
	if from == notify.StateExported {
		bc.settled++
	}
}

// apply adds the counts to the batch's row, in the lines' transaction.
func (bc *batchCounts) apply(ctx context.Context, tx *sql.Tx, batch string) error {
	_, err := tx.ExecContext(ctx, `UPDATE letter_batches SET mailed = mailed + ?, returned = returned + ?, open = open - ?
		WHERE id = ?`, bc.mailed, bc.returned, bc.settled, batch)
	if err != nil {
		return fmt.Errorf("letters: batch %s: %w", batch, err)
	}
	return nil
}
