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
