package migrations_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident/storetest/pgtest"
	"github.com/breachnotice/breachnotice/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ?1 AND b = ?2 OR a = ?1`, `SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1`},
		{`INSERT INTO t VALUES (?, ?, ?)`, `INSERT INTO t VALUES ($1, $2, $3)`},
		{`SELECT ?3, ?`, `SELECT $3, $4`},
		{`SELECT '?1', "a?b", ? -- is it?` + "\n" + `, ? /* or ? */`, `SELECT '?1', "a?b", $1 -- is it?` + "\n" + `, $2 /* or ? */`},
		{`SELECT 'it''s ?', ?12`, `SELECT 'it''s ?', $12`},
		{`SELECT $1 FROM goose`, `SELECT $1 FROM goose`},
	} {
		if got := migrations.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// openPG opens a fresh, migrated PostgreSQL database (skipped without one).
func openPG(t *testing.T) *sql.DB {
	t.Helper()
	db, err := migrations.Open(context.Background(), pgtest.URL(t, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPostgres_UpDownUp is TestUpDownUp on PostgreSQL.
func TestPostgres_UpDownUp(t *testing.T) {
	ctx := context.Background()
	db := openPG(t)
	if !migrations.IsPostgres(db) {
		t.Fatal("IsPostgres = false on a postgres:// database")
	}
	tables := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'goose%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	up, _ := migrations.Version(ctx, db)
	n := tables()
	if _, err := db.Exec(`INSERT INTO controllers(id, name, from_email, created_at) VALUES (?1, 'Op', 'a@b.example', 'now')`, "op"); err != nil {
		t.Fatal(err)
	}
	if err := migrations.DownTo(ctx, db, 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := migrations.Version(ctx, db); v != 0 || tables() != 0 {
		t.Fatalf("after down: version %d, %d tables left", v, tables())
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	if v, _ := migrations.Version(ctx, db); v != up || tables() != n {
		t.Fatalf("after up again: version %d (want %d), %d tables (want %d)", v, up, tables(), n)
	}
}

// TestPostgres_Twins: the PostgreSQL schema is the SQLite schema, version
// for version and column for column, so a new SQLite migration without its
// postgres/ twin fails here.
func TestPostgres_Twins(t *testing.T) {
	ctx := context.Background()
	lite, err := migrations.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := openPG(t)
	lv, _ := migrations.Version(ctx, lite)
	pv, _ := migrations.Version(ctx, pg)
	if lv != pv {
		t.Errorf("schema version: SQLite %d, PostgreSQL %d: add the twin of each new migration under migrations/postgres (twins of migrations/sqlite)", lv, pv)
	}
	schema := func(db *sql.DB, q string) map[string][]string {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string][]string{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(table, "goose") {
				continue
			}
			m[table] = append(m[table], col)
		}
		for _, cols := range m {
			sort.Strings(cols)
		}
		return m
	}
	ls := schema(lite, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_xinfo(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'`)
	ps := schema(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`)
	for table, cols := range ls {
		if !reflect.DeepEqual(cols, ps[table]) {
			t.Errorf("table %s: SQLite columns %v, PostgreSQL %v", table, cols, ps[table])
		}
	}
	for table := range ps {
		if _, ok := ls[table]; !ok {
			t.Errorf("table %s only on PostgreSQL", table)
		}
	}
}
