package mailhouse_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/letter/mailhouse"
)

// A batch is a row of its own (letter_batches): export records its file,
// digest and counts, confirm and returned files count its letters, and a
// re-export and the mail-house date checks find it there, not in the
// audit log, which still gets its row.
func TestLetters_BatchTable(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "b1.zip")
	res, err := mailhouse.Export(ctx, st, id, out, "")
	if err != nil || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	zipBytes, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(zipBytes)
	batch := func(t *testing.T, want mailhouse.Batch) {
		t.Helper()
		bs, err := mailhouse.FindBatches(ctx, st, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 {
			t.Fatalf("batches: %+v, want one", bs)
		}
		if got := bs[0]; got != want {
			t.Errorf("batch:\n got %+v\nwant %+v", got, want)
		}
	}
	want := mailhouse.Batch{ID: "B1-1", Controller: "op", Incident: id, CreatedAt: storetest.Now, File: "b1.zip",
		SHA256: hex.EncodeToString(digest[:]), Letters: 4, Pages: res.Pages, Open: 4, State: "exported"}
	batch(t, want)
	var audits int
	if err := st.DB().QueryRow(`SELECT count(*) FROM audit WHERE action = 'letters.export' AND object = 'batch:B1-1'`).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("audit rows of the export: %d, %v; want 1", audits, err)
	}

	// Without the audit row, the batch is still found: written again
	// three days later it carries its own date, and a mail-house date is
	// checked against its export day.
	if _, err := st.DB().Exec(`UPDATE audit SET action = 'renamed' WHERE action = 'letters.export'`); err != nil {
		t.Fatal(err)
	}
	later := storetest.Now.Add(72 * time.Hour)
	st.Now = func() time.Time { return later }
	again := filepath.Join(dir, "again.zip")
	if _, err := mailhouse.Export(ctx, st, id, again, "B1-1"); err != nil {
		t.Fatalf("export again: %v", err)
	}
	a, b := zipMembers(t, out), zipMembers(t, again)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("written again, %s differs", name)
		}
	}
	rows, err := st.DB().Query(`SELECT id FROM notices WHERE batch = 'B1-1' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var inBatch []string
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		inBatch = append(inBatch, mailhouse.LetterID(n))
	}
	rows.Close()
	if len(inBatch) != 4 {
		t.Fatalf("letters of B1-1: %v", inBatch)
	}
	_, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "early.csv"}, inBatch[0]+",2026-11-27\n")
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "was exported (2026-11-28)") {
		t.Fatalf("a mailing date before the export day: %q, %v", problems, err)
	}

	// Three mailed, one of them returned, then the fourth returned unmailed.
	body := inBatch[0] + ",2026-11-29\n" + inBatch[1] + ",2026-11-29\n" + inBatch[2] + ",2026-11-29\n"
	if r, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv"}, body); err != nil || r.Accepted != 3 {
		t.Fatalf("confirm: %+v, %v, %q", r, err, problems)
	}
	want.Mailed, want.Open, want.State = 3, 1, "mailing"
	batch(t, want)
	if r, problems, err := letterFile(t, ctx, st, true, mailhouse.FileOptions{File: "r.csv"}, inBatch[0]+",2026-11-30,moved\n"); err != nil || r.Accepted != 1 {
		t.Fatalf("returned: %+v, %v, %q", r, err, problems)
	}
	want.Returned = 1
	batch(t, want)
	if r, problems, err := letterFile(t, ctx, st, true, mailhouse.FileOptions{File: "r2.csv"}, inBatch[3]+",2026-11-30,no such street\n"); err != nil || r.Accepted != 1 {
		t.Fatalf("returned unmailed: %+v, %v, %q", r, err, problems)
	}
	want.Returned, want.Open, want.State = 2, 0, "settled"
	batch(t, want)

	// A database whose batches were audit rows only: migration 00016 copies
	// them, with counts from their letters (no file name or digest was
	// recorded then).
	t.Run("FromAuditRows", func(t *testing.T) {
		if st.Postgres() {
			t.Skip("on PostgreSQL: stores start at migration 00016's schema, so none has audit-row batches to copy")
		}
		if _, err := st.DB().Exec(`UPDATE audit SET action = 'letters.export' WHERE action = 'renamed'`); err != nil {
			t.Fatal(err)
		}
		if err := migrations.DownTo(ctx, st.DB(), 15); err != nil {
			t.Fatal(err)
		}
		if err := migrations.Up(ctx, st.DB()); err != nil {
			t.Fatal(err)
		}
		want.File, want.SHA256 = "", ""
		batch(t, want)
	})
}
