package offer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/offer"
)

// TestImport_Concurrent_Postgres: the same codes file imported twice at
// once (two processes on one PostgreSQL) while two people wait for a code
// that is already stored and free. Each person gets one code and the
// ledger one offer_assigned per person: the second import waits for the
// first and finds no one left to serve, rather than giving the same codes
// again and recording assignments that did not happen.
//
// Until both imports have started, another transaction holds the free
// codes' rows, so both are running (or waiting to run) before either can
// assign: the order in which they read and write is then the store's to
// keep, not the scheduler's.
func TestImport_Concurrent_Postgres(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenOn(t, storetest.Postgres)
	people := "id,name,email,locale,country,region,e_consent\n" +
		"c1,Cal One,c1@example.org,en,US,CA,yes\nc2,Cal Two,c2@example.org,en,US,CA,yes\nc3,Cal Three,c3@example.org,en,US,CA,yes\n"
	id := storetest.ScopedIncident(t, st, people, incident.ElemName, incident.ElemSSN)
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	var codes []offer.Code
	for i, c := range []string{"K-1", "K-2", "K-3", "K-4", "K-5"} {
		codes = append(codes, offer.Code{Code: c, Line: i + 2})
	}
	if res, err := offer.Import(ctx, st, id, "codes.csv", codes, storetest.Now); err != nil || res.Assigned != 3 || res.Spare != 2 {
		t.Fatalf("first import: %+v, %v; want 3 assigned, 2 spare", res, err)
	}
	// Two more Californians join the incident: they wait for the spares.
	if res, err := st.ImportAccounts(ctx, strings.NewReader("id,name,email,locale,country,region,e_consent\n"+
		"c4,Cal Four,c4@example.org,en,US,CA,yes\nc5,Cal Five,c5@example.org,en,US,CA,yes\n"), incident.ImportOptions{File: "more.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if _, err := st.ScopeIncident(ctx, id, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}

	hold, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT code FROM offer_codes WHERE incident_id = ? AND account_id IS NULL FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	type result struct {
		res offer.ImportResult
		err error
	}
	done := make(chan result, 2)
	for range 2 {
		go func() {
			res, err := offer.Import(ctx, st, id, "codes.csv", codes, storetest.Now)
			done <- result{res, err}
		}()
	}
	storetest.AwaitLockWaiters(t, st.DB(), 2, "")
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	assigned := 0
	for range 2 {
		r := <-done
		if r.err != nil {
			t.Errorf("an import failed: %v", r.err)
			continue
		}
		if r.res.Known != 5 || r.res.New != 0 {
			t.Errorf("import: %+v, want the 5 codes known", r.res)
		}
		assigned += r.res.Assigned
	}
	if assigned != 2 {
		t.Errorf("the two imports assigned %d codes, want 2 (c4 and c5, once)", assigned)
	}

	holders := map[string]string{}
	rows, err := st.DB().Query(`SELECT code, account_id FROM offer_codes WHERE incident_id = ? AND account_id IS NOT NULL`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c, a string
		if err := rows.Scan(&c, &a); err != nil {
			t.Fatal(err)
		}
		holders[a] = c
	}
	rows.Close()
	if len(holders) != 5 {
		t.Errorf("code holders %v, want c1 to c5", holders)
	}
	entries := map[string]int{}
	if err := ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindOfferAssigned {
			entries[e.Account]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"c1", "c2", "c3", "c4", "c5"} {
		if entries[a] != 1 {
			t.Errorf("%s has %d offer_assigned entries, want 1 (all: %v)", a, entries[a], entries)
		}
	}
}
