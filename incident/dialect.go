package incident

import "database/sql"

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
