// Package storetest opens real stores for tests: a fresh SQLite file in
// the test's temporary directory, migrated, with a fixed clock. Never
// ":memory:": behind a pool each connection would get its own database.
package storetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/migrations"
)

// Now is the clock of stores opened by Open.
var Now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Open returns a store on a new database file that is closed when the test
// ends.
func Open(t testing.TB) *incident.Store {
	t.Helper()
	db, err := migrations.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := incident.NewStore(db)
	st.Now = func() time.Time { return Now }
	return st
}
