package ledger

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
)

// TestAppend_Concurrent: workers appending to one controller's log at
// once, each batch in its own transaction, never write the same index:
// every entry is in the log once, in one Merkle tree that checks. On
// PostgreSQL the appends really run at once (the log head's row lock
// orders them); on SQLite the write lock does.
func TestAppend_Concurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, k storetest.Kind) {
		ctx := context.Background()
		db := storetest.OpenDB(t, k)
		db.SetMaxOpenConns(8)
		l, _ := newTestLedger(t)
		addController(t, db, l, "op")
		base, err := CheckLog(ctx, db, "op")
		if err != nil {
			t.Fatal(err)
		}
		const workers, batches, per = 6, 10, 7
		at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, workers*batches)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := 0; b < batches; b++ {
					errs <- inTx(db, func(ctx context.Context, tx *sql.Tx) error {
						return Append(ctx, tx, deliveries("op", per, at)...)
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		size, err := CheckLog(ctx, db, "op")
		if err != nil {
			t.Fatal(err)
		}
		if want := base + workers*batches*per; size != want {
			t.Fatalf("log size %d, want %d", size, want)
		}
		if _, err := l.Checkpoint(ctx, db, "op"); err != nil {
			t.Fatal(err)
		}
	})
}
