package notify

import (
	"context"

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

// FindLetterCounts counts an incident's letter notices by state.
func FindLetterCounts(ctx context.Context, st *incident.Store, incidentID int64) (LetterCounts, error) {
	lc := LetterCounts{Incident: incidentID, States: map[string]int{}}
	counts, err := countNotices(ctx, st, incidentID, ChannelLetter)
	if err != nil {
		return lc, err
	}
	for s, n := range counts[ChannelLetter] {
		lc.States[s] = n
		lc.Total += n
	}
	lc.Substitute = lc.States[StateReturned] + lc.States[StateUnprintable]
	return lc, nil
}
