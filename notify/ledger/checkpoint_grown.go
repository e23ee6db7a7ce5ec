package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CheckpointGrown signs a checkpoint for every controller whose log grew
// since its latest checkpoint (the scheduler's ledger-checkpoint job, every
// ten minutes and at shutdown), each in its own transaction, and returns
// the new ones. A log that did not grow gets none: running it twice signs
// nothing the second time. A controller whose checkpoint is refused (its
// log not consistent with the previous checkpoint) does not stop the
// others; the errors are joined.
func (l *Ledger) CheckpointGrown(ctx context.Context, db *sql.DB) ([]Checkpoint, error) {
	rows, err := db.QueryContext(ctx, `SELECT controller_id FROM ledger_logs ORDER BY controller_id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: checkpoints: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: checkpoints: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: checkpoints: %w", err)
	}
	var signed []Checkpoint
	var errs []error
	for _, id := range ids {
		cp, created, err := l.checkpointTx(ctx, db, id)
		switch {
		case err != nil:
			errs = append(errs, err)
		case created:
			signed = append(signed, cp)
		}
	}
	return signed, errors.Join(errs...)
}

func (l *Ledger) checkpointTx(ctx context.Context, db *sql.DB, id string) (Checkpoint, bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("ledger: checkpoint %s: %w", id, err)
	}
	defer tx.Rollback()
	cp, created, err := l.checkpoint(ctx, tx, id)
	if err != nil || !created {
		if err != nil {
			err = fmt.Errorf("ledger: checkpoint %s: %w", id, err)
		}
		return cp, false, err
	}
	if err := tx.Commit(); err != nil {
		return Checkpoint{}, false, fmt.Errorf("ledger: checkpoint %s: %w", id, err)
	}
	return cp, true, nil
}
