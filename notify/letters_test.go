package notify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// The mail-house round trip that follows queueing (export, confirm,
// returned) is tested with its code in notify/letter/mailhouse.

// letterStore opens a store whose journal is the delivery ledger and
// plans an incident whose people are owed letters. u1's address loses its
// city after planning; w1's and w2's were never complete: their city is
// white space only (a tab, no-break spaces), which the import keeps.
func letterStore(t *testing.T) (*incident.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	led, err := ledger.New([]byte("letters-test-secret-0123456789"), st.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	id := storetest.ScopedIncident(t, st, "id,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status\n"+
		"l1,Ana García,,es-US,US,CA,1 Main St,Apt 4,Los Angeles,90012,false,active\n"+
		"l2,Seán O'Brien,,en,US,TX,2 Oak Ave,,Austin,78701,false,active\n"+
		"e1,Eve,eve@example.org,en,US,CA,5 Bay St,,Oakland,94607,true,active\n"+
		"u1,Uma,,en,US,CA,6 Hill St,,Sacramento,95814,false,active\n"+
		"w1,Wes,,en,US,CA,7 Elm St,,\"\u00a0\u00a0\",95814,false,active\n"+
		"w2,Wyn,,en,US,CA,8 Elm St,,\"\u202f\",95814,false,active\n",
		incident.ElemName, incident.ElemSSN)
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	if res, err := st.ImportAccounts(ctx, strings.NewReader("id,name,country,region,postal_line1,city,postal_code\nu1,Uma,US,CA,6 Hill St,,95814\n"),
		incident.ImportOptions{File: "u.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	return st, id
}

func letterStates(t *testing.T, st *incident.Store, id int64) map[string]string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT account_id, state FROM notices WHERE incident_id = ? AND channel = 'letter'`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var a, s string
		if err := rows.Scan(&a, &s); err != nil {
			t.Fatal(err)
		}
		m[a] = s
	}
	return m
}

func TestQueueLetters(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	n, err := notify.QueueLetters(ctx, st, id)
	if err != nil || n != 2 {
		t.Fatalf("QueueLetters = %d, %v; want 2 (e1 by email, u1 unprintable)", n, err)
	}
	if n, err := notify.QueueLetters(ctx, st, id); err != nil || n != 0 {
		t.Fatalf("second QueueLetters = %d, %v; want 0", n, err)
	}
	// w1 and w2 are owed notice, but their address is incomplete
	// (incident.Account.PostalComplete): the plan found no letter for them,
	// so they get no letter notice at all; u1's letter is unprintable.
	got := letterStates(t, st, id)
	want := map[string]string{"l1": notify.StateQueued, "l2": notify.StateQueued, "u1": notify.StateUnprintable}
	if len(got) != len(want) {
		t.Errorf("letters %v, want %v", got, want)
	}
	for a, s := range want {
		if got[a] != s {
			t.Errorf("%s's letter is %q, want %q (all: %v)", a, got[a], s, got)
		}
	}
	if lc, err := notify.FindLetterCounts(ctx, st, id); err != nil || lc.States[notify.StateQueued] != 2 || lc.Substitute != 1 || lc.Total != 3 {
		t.Errorf("FindLetterCounts = %+v, %v", lc, err)
	}

	// Every row and ledger entry of one QueueLetters run carries the one
	// time it read from the clock.
	var times int
	st.DB().QueryRow(`SELECT count(DISTINCT created_at) + count(DISTINCT updated_at) FROM notices WHERE incident_id = ?`, id).Scan(&times)
	if times != 2 {
		t.Errorf("the letters carry %d distinct created_at and updated_at times, want one each", times)
	}
	var at []time.Time
	ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindLetterQueued || e.Kind == ledger.KindLetterUnprintable {
			at = append(at, e.At)
		}
		return nil
	})
	if len(at) != 3 || !at[0].Equal(storetest.Now) || !at[1].Equal(at[0]) || !at[2].Equal(at[0]) {
		t.Errorf("ledger times %v, want 3 at %v", at, storetest.Now)
	}

	t.Run("Fallback", func(t *testing.T) {
		// An email fails permanently: a fallback letter is queued once.
		var queued, again bool
		err := st.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if queued, err = notify.QueueFallbackLetter(ctx, tx, id, "e1", "550 mailbox unavailable", st.Now()); err != nil {
				return err
			}
			again, err = notify.QueueFallbackLetter(ctx, tx, id, "e1", "550 again", st.Now())
			return err
		})
		if err != nil || !queued || again {
			t.Fatalf("QueueFallbackLetter = %v then %v, %v; want true then false", queued, again, err)
		}
		for _, a := range []string{"u1", "w1", "w2"} {
			err = st.InTx(ctx, func(tx *sql.Tx) error {
				ok, err := notify.QueueFallbackLetter(ctx, tx, id, a, "550", st.Now())
				if ok {
					t.Errorf("fallback letter queued for %s's incomplete address", a)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var fallback map[string]string
		ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op", Account: "e1"}, func(e ledger.Entry) error {
			if e.Kind == ledger.KindLetterQueued {
				json.Unmarshal(e.Detail, &fallback)
			}
			return nil
		})
		if fallback["fallback_from"] != "email" || fallback["reason"] != "550 mailbox unavailable" || fallback["deadline"] == "" || fallback["jurisdiction"] != "US-CA" {
			t.Errorf("fallback letter_queued detail: %v", fallback)
		}
		if s := letterStates(t, st, id)["e1"]; s != notify.StateQueued {
			t.Errorf("e1's fallback letter is %q, want queued", s)
		}
	})
}
