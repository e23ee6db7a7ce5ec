// Package storetest opens real stores for tests: a fresh SQLite file in
// the test's temporary directory, migrated, with a fixed clock. Never
// ":memory:": behind a pool each connection would get its own database.
package storetest

import (
	"context"
	"path/filepath"
	"strings"
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
