package pgtest_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/breachnotice/breachnotice/incident/storetest/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestPostgresURL: each test gets its own database, made from the template, and a
// table one test creates is not in another's.
func TestPostgresURL(t *testing.T) {
	setup := func(url string) error {
		db, err := sql.Open("pgx", url)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(`CREATE TABLE seeded (v TEXT); INSERT INTO seeded VALUES ('from template')`)
		return err
	}
	var names []string
	for i := 0; i < 2; i++ {
		url := pgtest.URL(t, "pgtest_seeded", setup)
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v, name string
		if err := db.QueryRow(`SELECT v, current_database() FROM seeded`).Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		if v != "from template" {
			t.Errorf("seeded = %q", v)
		}
		if _, err := db.Exec(`INSERT INTO seeded VALUES ('mine')`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM seeded`).Scan(&n); err != nil || n != 2 {
			t.Errorf("rows = %d %v, want 2 (databases not separate)", n, err)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Errorf("both tests got database %s", names[0])
	}
	// Text sorts by bytes, as in SQLite.
	db, _ := sql.Open("pgx", pgtest.URL(t, "", nil))
	defer db.Close()
	var first string
	if err := db.QueryRow(`SELECT v FROM (VALUES ('a'), ('B')) x(v) ORDER BY v LIMIT 1`).Scan(&first); err != nil || first != "B" {
		t.Errorf("first = %q %v, want B (byte order)", first, err)
	}
}
