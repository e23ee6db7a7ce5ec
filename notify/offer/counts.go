package offer

import (
	"context"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
)

// Counts is an incident's protection codes: given to a person, and left
// to give.
type Counts struct {
	Assigned  int `json:"assigned"`
	Remaining int `json:"remaining"`
}

// FindCounts counts an incident's codes.
func FindCounts(ctx context.Context, q incident.Querier, incidentID int64) (Counts, error) {
	var c Counts
	err := q.QueryRowContext(ctx, `SELECT count(account_id), count(*) - count(account_id) FROM offer_codes WHERE incident_id = ?`,
		incidentID).Scan(&c.Assigned, &c.Remaining)
	if err != nil {
		return c, fmt.Errorf("offer codes of incident %d: %w", incidentID, err)
	}
	return c, nil
}
