package mailhouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/letter/mailhouse"
)

// TestLetters_ConfirmTwiceAtOnce_Postgres: the mail house's confirmation
// file applied twice at once (two processes on one PostgreSQL, or the
// admin page and the command line). The letter is mailed once: one
// letter_mailed entry in the ledger, one letter counted mailed in its
// batch, and the second file reports it already mailed, as it would
// applied after the first.
//
// Until both have started, another transaction holds the letter's row,
// so both are running before either can move it.
func TestLetters_ConfirmTwiceAtOnce_Postgres(t *testing.T) {
	ctx := context.Background()
	st, id := letterStoreOn(t, storetest.Postgres)
	L := exportedLetters(t, st, id)
	letter := L["l1"]

	hold, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM notices WHERE id = ? FOR UPDATE`, strings.TrimPrefix(letter, "L")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		res      mailhouse.FileResult
		problems []string
		err      error
	}
	done := make(chan result, 2)
	for range 2 {
		go func() {
			var r result
			r.res, r.err = mailhouse.Confirm(ctx, st, strings.NewReader(letter+",2026-11-28\n"), mailhouse.FileOptions{File: "mailed.csv"},
				func(p incident.Problem) { r.problems = append(r.problems, p.String()) })
			done <- r
		}()
	}
	storetest.AwaitLockWaiters(t, st.DB(), 2, "")
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	accepted, already := 0, 0
	for range 2 {
		r := <-done
		if r.err != nil {
			t.Errorf("a confirmation failed: %v", r.err)
			continue
		}
		accepted += r.res.Accepted
		for _, p := range r.problems {
			if strings.Contains(p, letter+" is already mailed") {
				already++
			}
		}
	}
	if accepted != 1 || already != 1 {
		t.Errorf("accepted %d, reported already mailed %d; want 1 and 1", accepted, already)
	}
	if n := letterKinds(t, st)[ledger.KindLetterMailed]; n != 1 {
		t.Errorf("%d letter_mailed entries, want 1", n)
	}
	bs, err := mailhouse.FindBatches(ctx, st, id)
	if err != nil || len(bs) != 1 || bs[0].Mailed != 1 {
		t.Errorf("batches %+v, %v; want one with 1 letter mailed", bs, err)
	}
}
