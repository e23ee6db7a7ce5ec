package ledger

import (
	"context"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestCheckpointGrown: the scheduled job signs every controller whose log
// grew, nothing when run again, and each new checkpoint is signed by the
// controller's key and consistent with the previous one.
func TestCheckpointGrown(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)

	first, err := l.CheckpointGrown(ctx, db)
	if err != nil || len(first) != 2 || first[0].Controller != "m1" || first[1].Controller != "op" {
		t.Fatalf("first run: %+v %v, want m1 and op signed", first, err)
	}
	again, err := l.CheckpointGrown(ctx, db)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run signed %d checkpoints (%v), want none: nothing grew but the checkpoint entries", len(again), err)
	}

	mustAppend(t, db, deliveries("op", 7, time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC))...)
	next, err := l.CheckpointGrown(ctx, db)
	if err != nil || len(next) != 1 || next[0].Controller != "op" {
		t.Fatalf("after op grew: %+v %v, want op alone", next, err)
	}
	prev, cur := first[1], next[0]
	// 40 deliveries + controller_created, then its checkpoint entry and 7 more.
	if prev.Size != 41 || cur.Size != 49 {
		t.Fatalf("sizes %d then %d, want 41 then 49", prev.Size, cur.Size)
	}
	pub, err := PublicKey(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	trees := make([]tlog.Tree, 2)
	for i, cp := range []Checkpoint{prev, cur} {
		n, err := note.Open([]byte(cp.Note), note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint %d: %v", cp.Size, err)
		}
		if trees[i], err = tlog.ParseTree([]byte(n.Text)); err != nil {
			t.Fatal(err)
		}
	}
	r := &hashReader{ctx: ctx, q: db, logID: 1}
	var logID int64
	db.QueryRow(`SELECT id FROM ledger_logs WHERE controller_id = 'op'`).Scan(&logID)
	r.logID = logID
	proof, err := tlog.ProveTree(trees[1].N, trees[0].N, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(proof, trees[1].N, trees[1].Hash, trees[0].N, trees[0].Hash); err != nil {
		t.Fatalf("checkpoint %d is not consistent with %d: %v", cur.Size, prev.Size, err)
	}
	if latest, _ := LatestCheckpoint(ctx, db, "op"); latest.Size != cur.Size {
		t.Errorf("latest checkpoint %d, want %d", latest.Size, cur.Size)
	}
}
