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
	return letterStoreOn(t, storetest.Default())
}

// letterStoreOn is letterStore on a store of kind k.
func letterStoreOn(t *testing.T, k storetest.Kind) (*incident.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenOn(t, k)
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

// TestQueueLetters_FallbackRace_Postgres: on PostgreSQL another sender
// commits a letter of the same incident (an email's fallback letter) while
// QueueLetters's transaction is running. QueueLetters writes ledger
// entries for the letters it inserted only, so every letter notice has
// exactly one letter_queued or letter_unprintable entry; and a person
// whose letter the other sender queued first is skipped, not an error.
//
// The other sender's transaction stays open until QueueLetters waits on
// it (a lock of its, seen in pg_stat_activity), so the order is certain:
// QueueLetters has begun, the other commits, QueueLetters goes on.
func TestQueueLetters_FallbackRace_Postgres(t *testing.T) {
	for _, tc := range []struct {
		name, account string
		lockIncident  bool // the other sender also locks the incident's row
		queued        int  // what QueueLetters queues
	}{
		// e1 is reached by email: QueueLetters never queues their letter,
		// and waits (foreign-key check of its insert) on the incident's
		// row, which the other sender locked.
		{"OtherPerson", "e1", true, 2},
		// l1 is owed a letter: QueueLetters's insert waits on the other
		// sender's uncommitted row of the same notice.
		{"SamePerson", "l1", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, id := letterStoreOn(t, storetest.Postgres)
			other, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Rollback()
			if ok, err := notify.QueueFallbackLetter(ctx, other, id, tc.account, "550 mailbox unavailable", st.Now()); err != nil || !ok {
				t.Fatalf("fallback letter for %s: %v, %v", tc.account, ok, err)
			}
			if tc.lockIncident {
				if _, err := other.ExecContext(ctx, `SELECT id FROM incidents WHERE id = ? FOR UPDATE`, id); err != nil {
					t.Fatal(err)
				}
			}

			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := notify.QueueLetters(ctx, st, id)
				done <- result{n, err}
			}()
			// Wait (bounded) until QueueLetters waits on the other sender.
			for waiting, tries := 0, 0; waiting == 0; tries++ {
				select {
				case r := <-done:
					t.Fatalf("QueueLetters = %d, %v before the other sender committed", r.n, r.err)
				default:
				}
				if tries == 3000 {
					t.Fatal("QueueLetters never waited on the other sender's lock")
				}
				time.Sleep(10 * time.Millisecond)
				if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
			}
			if err := other.Commit(); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil || r.n != tc.queued {
				t.Fatalf("QueueLetters = %d, %v; want %d", r.n, r.err, tc.queued)
			}

			notices := map[int64]string{}
			rows, err := st.DB().Query(`SELECT id, account_id FROM notices WHERE incident_id = ? AND channel = 'letter'`, id)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var n int64
				var a string
				if err := rows.Scan(&n, &a); err != nil {
					t.Fatal(err)
				}
				notices[n] = a
			}
			rows.Close()
			entries := map[int64]int{}
			if err := ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
				if e.Kind == ledger.KindLetterQueued || e.Kind == ledger.KindLetterUnprintable {
					entries[e.Notice]++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(notices) {
				t.Errorf("%d letter notices (%v), ledger entries for %d", len(notices), notices, len(entries))
			}
			for n, a := range notices {
				if entries[n] != 1 {
					t.Errorf("%s's letter (notice %d) has %d ledger entries, want 1", a, n, entries[n])
				}
			}
		})
	}
}
