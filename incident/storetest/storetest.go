// Package storetest opens real stores for tests: a fresh SQLite file in
// the test's temporary directory, or a fresh database on a throwaway
// PostgreSQL server (package pgtest), migrated, with a fixed clock. Never
// ":memory:": behind a pool each connection would get its own database.
//
// Open gives SQLite unless BREACHNOTICE_TEST_STORE=postgres, so a whole
// package's tests run on PostgreSQL with
//
//	BREACHNOTICE_TEST_STORE=postgres go test ./incident/...
//
// (.ci/run does); Each runs a test on both stores every time.
package storetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest/pgtest"
	"github.com/breachnotice/breachnotice/migrations"
)

// Now is the clock of stores opened by Open.
var Now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Kind names a store.
type Kind string

// The stores.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// StoreEnv names the variable that picks the store Open gives.
const StoreEnv = "BREACHNOTICE_TEST_STORE"

// Default is the store Open gives: Postgres when BREACHNOTICE_TEST_STORE
// is postgres, else SQLite.
func Default() Kind {
	if os.Getenv(StoreEnv) == string(Postgres) {
		return Postgres
	}
	return SQLite
}

// Kinds lists the stores.
func Kinds() []Kind { return []Kind{SQLite, Postgres} }

// Each runs fn as a subtest per store, named after it. The PostgreSQL
// subtest skips where no PostgreSQL can run (see pgtest).
func Each(t *testing.T, fn func(t *testing.T, k Kind)) {
	t.Helper()
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) { fn(t, k) })
	}
}

// Open returns a store on a new database (of the Default kind) that is
// closed when the test ends.
func Open(t testing.TB) *incident.Store {
	t.Helper()
	return OpenOn(t, Default())
}

// OpenOn returns a store of kind k on a new database that is closed when
// the test ends.
func OpenOn(t testing.TB, k Kind) *incident.Store {
	t.Helper()
	st := incident.NewStore(OpenDB(t, k))
	st.Now = func() time.Time { return Now }
	return st
}

// OpenDB returns a new migrated database of kind k, closed when the test
// ends.
func OpenDB(t testing.TB, k Kind) *sql.DB {
	t.Helper()
	db, err := migrations.Open(context.Background(), Location(t, k))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Location returns where a new database of kind k is, for migrations.Open
// or a --db flag: a file in the test's temporary directory, or the URL of
// a fresh PostgreSQL database, already migrated (a copy of a template
// migrated once per test binary).
func Location(t testing.TB, k Kind) string {
	t.Helper()
	if k == Postgres {
		return pgtest.URL(t, "breachnotice_migrated", func(url string) error {
			db, err := migrations.Open(context.Background(), url)
			if err != nil {
				return err
			}
			return db.Close()
		})
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// Main runs a package's tests and then stops the PostgreSQL server if a
// test started one. Call it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int { return pgtest.Run(m) }

// Discovered is the discovery date of incidents opened by ScopedIncident.
var Discovered = incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}

// ScopedIncident loads accounts from CSV text into an operator's copy
// ("op") and opens and scopes to all of them an incident exposing elements,
// discovered on Discovered.
func ScopedIncident(t testing.TB, st *incident.Store, accounts string, elements ...incident.Element) int64 {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateController(ctx, &incident.Controller{ID: "op", Name: "Operator", From: "n@op.example"}); err != nil {
		t.Fatal(err)
	}
	if res, err := st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "t", Discovered: Discovered, Elements: elements})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// AwaitLockWaiters waits until n sessions of db's PostgreSQL database wait
// on a lock, with a query containing like ("" for any), and fails the test
// after 30 s. A concurrency test holds a row lock in a transaction of its
// own, starts the operations that race for it, waits here until each of
// them is blocked, then releases the lock: every one of them has read what
// it read before the lock, as two processes at once would.
func AwaitLockWaiters(t testing.TB, db *sql.DB, n int, like string) {
	t.Helper()
	for waiting, tries := 0, 0; waiting < n; tries++ {
		if tries == 3000 {
			t.Fatalf("%d sessions waiting on a lock, want %d", waiting, n)
		}
		time.Sleep(10 * time.Millisecond)
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%' || ? || '%'`, like).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
}
