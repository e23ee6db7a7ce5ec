package notify

import (
	"context"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
)

// A letter notice is queued by notify (QueueLetters, and
// QueueFallbackLetter when an email fails), then handled by the letter
// channel, notify/letter, which imports notify: it exports queued letters
// to a mail house in batches and applies the mail house's confirmation and
// returned-to-sender files, moving each letter from queued to exported,
// then mailed or returned, with its ledger entry. notify counts them.

// LetterCounts is an incident's letters by state.
type LetterCounts struct {
	Incident int64          `json:"incident"`
	States   map[string]int `json:"states"`
	Total    int            `json:"total"`
	// Substitute counts the people a letter did not reach (returned, or
	// unprintable for want of a complete address): they count towards
	// substitute notice.
	Substitute int `json:"substitute"`
}

// LetterStats counts an incident's letter notices by state.
func LetterStats(ctx context.Context, st *incident.Store, incidentID int64) (LetterCounts, error) {
	lc := LetterCounts{Incident: incidentID, States: map[string]int{}}
	if _, err := st.FindIncidentByID(ctx, incidentID); err != nil {
		return lc, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT state, count(*) FROM notices WHERE incident_id = ? AND channel = 'letter' GROUP BY state`, incidentID)
	if err != nil {
		return lc, fmt.Errorf("letter stats %d: %w", incidentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return lc, fmt.Errorf("letter stats %d: %w", incidentID, err)
		}
		lc.States[s] = n
		lc.Total += n
	}
	lc.Substitute = lc.States[StateReturned] + lc.States[StateUnprintable]
	return lc, rows.Err()
}
