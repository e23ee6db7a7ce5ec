package migrations_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/breachnotice/breachnotice/migrations"
)

// TestUpDownUp applies every migration, rolls them all back, and applies
// them again on a real file: each Down must undo its Up exactly.
func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := migrations.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	up, _ := migrations.Version(ctx, db)
	n := tables()
	if up < 3 || n == 0 {
		t.Fatalf("after up: version %d, %d tables", up, n)
	}
	if _, err := db.Exec(`INSERT INTO controllers(id, name, from_email, created_at) VALUES ('op', 'Op', 'a@b.example', 'now')`); err != nil {
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
	// Reopening an up-to-date file applies nothing and keeps the pragmas.
	db2, err := migrations.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var mode string
	var fk int
	db2.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db2.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if mode != "wal" || fk != 1 {
		t.Errorf("journal_mode %q foreign_keys %d, want wal and 1", mode, fk)
	}
}

// TestUp_OutOfOrder: a migration that lands after a higher-numbered one a
// database already applied (numbers are handed out to parallel work) is
// applied when the database is next opened, not refused.
func TestUp_OutOfOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := migrations.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := migrations.Version(ctx, db)
	if up <= 21 {
		t.Skipf("version %d: no migration after 00021 to be out of order with", up)
	}
	// The database as one made before 00021 landed: 00021 neither applied
	// nor recorded, the later ones both.
	for _, q := range []string{`ALTER TABLE notices DROP COLUMN maybe_delivered`, `DELETE FROM goose_db_version WHERE version_id = 21`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err = migrations.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening with 00021 missing: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('notices') WHERE name = 'maybe_delivered'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("notices.maybe_delivered after reopening: %d columns (%v), want 1", n, err)
	}
	if v, _ := migrations.Version(ctx, db); v != up {
		t.Errorf("version %d after reopening, want %d", v, up)
	}
}
