package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
)

// FindCheckpoints returns the controller's latest signed checkpoints,
// newest first, at most limit of them (the notes left out: a list to show,
// not to verify).
func FindCheckpoints(ctx context.Context, q Queryer, controllerID string, limit int) ([]Checkpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.size, c.root, c.created_at FROM ledger_checkpoints c
		JOIN ledger_logs l ON l.id = c.log_id WHERE l.controller_id = ? ORDER BY c.size DESC LIMIT ?`, controllerID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: checkpoints of %s: %w", controllerID, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		cp := Checkpoint{Controller: controllerID}
		var root []byte
		var at string
		if err := rows.Scan(&cp.Size, &root, &at); err != nil {
			return nil, fmt.Errorf("ledger: checkpoints of %s: %w", controllerID, err)
		}
		cp.Root = base64.StdEncoding.EncodeToString(root)
		cp.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, cp)
	}
	return out, rows.Err()
}
