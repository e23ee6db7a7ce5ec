package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IsPostgres reports whether db is PostgreSQL rather than SQLite: its
// driver (migrations.OpenPostgres's) says so. The store's SQL is written
// once with SQLite's ?N parameters, which that driver rewrites; where the
// dialects differ beyond that (bulk loading, JSON, temp tables, row
// locks) the statement is split on this.
func IsPostgres(db *sql.DB) bool {
	d, ok := db.Driver().(interface{ Dialect() string })
	return ok && d.Dialect() == "postgres"
}

// Postgres reports whether the store is on PostgreSQL.
func (s *Store) Postgres() bool { return s.pg }

// JSONValues is a subquery of the values of a JSON array bound to one
// parameter, as SQL type typ (INTEGER or TEXT): json_each on SQLite,
// json_array_elements_text on PostgreSQL. Use it as
// "x IN ("+st.JSONValues("INTEGER")+")" with the array's JSON text as the
// argument.
func (s *Store) JSONValues(typ string) string {
	if !s.pg {
		return "SELECT value FROM json_each(?)"
	}
	if typ == "INTEGER" {
		typ = "BIGINT"
	}
	return "SELECT CAST(value AS " + typ + ") FROM json_array_elements_text(CAST(? AS json)) AS value"
}

// LockIncident makes tx the only transaction that runs past it for the
// incident until tx ends, for work that reads what it is about to change
// (who still lacks a code, which codes are free). On PostgreSQL it locks
// the incident's row FOR NO KEY UPDATE, which waits for another holder
// yet lets rows that reference the incident (a sender's fallback letter)
// be inserted meanwhile. SQLite needs nothing: its write transactions
// begin immediate, one at a time.
func (s *Store) LockIncident(ctx context.Context, tx *sql.Tx, id int64) error {
	if !s.pg {
		return nil
	}
	var got int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE id = ? FOR NO KEY UPDATE`, id).Scan(&got); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("lock incident %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("lock incident %d: %w", id, err)
	}
	return nil
}
