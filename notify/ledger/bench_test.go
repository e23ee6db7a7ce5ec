package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// benchN is the ledger size of the benchmarks: LEDGER_BENCH_N, default one
// million.
func benchN(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("LEDGER_BENCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("LEDGER_BENCH_N=%q", s)
		}
		n = v
	}
	return n
}

const benchBatch = 10_000

// benchEntries fills es with delivery entries numbered from first.
func benchEntries(es []Entry, first int) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	juris := [...]string{"US-CA", "US-TX", "US-NY", "DE", "GB", "FR"}
	for i := range es {
		n := first + i
		es[i] = Entry{
			Controller: "op", At: at.Add(time.Duration(n) * time.Millisecond), Kind: KindEmailSent,
			Incident: 1, Account: "acct-" + strconv.Itoa(n), Notice: int64(n + 1), Channel: "email",
			Detail: json.RawMessage(fmt.Sprintf(`{"jurisdiction":"%s","deadline":"2025-03-31","message_id":"<n%d.i1@notice.example>","smtp":"250 2.0.0 queued"}`, juris[n%len(juris)], n)),
		}
	}
}

// fillLedger appends n entries to controller op in batches, returning the
// time spent appending and committing.
func fillLedger(b *testing.B, db *sql.DB, n int) time.Duration {
	es := make([]Entry, benchBatch)
	var spent time.Duration
	for done := 0; done < n; {
		k := min(benchBatch, n-done)
		benchEntries(es[:k], done)
		start := time.Now()
		if err := inTx(db, func(ctx context.Context, tx *sql.Tx) error { return Append(ctx, tx, es[:k]...) }); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(start)
		done += k
	}
	return spent
}

// BenchmarkAppend appends LEDGER_BENCH_N entries in transactions of 10,000
// to a fresh SQLite file and reports entries per second.
func BenchmarkAppend(b *testing.B) {
	n := benchN(b)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, _ := mustOpenDB(b)
		l, _ := newTestLedger(b)
		addController(b, db, l, "op")
		b.StartTimer()
		total += fillLedger(b, db, n)
		b.StopTimer()
		db.Close()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "entries/s")
}

// BenchmarkExportVerify exports a LEDGER_BENCH_N-entry ledger and verifies
// the bundle, reporting the seconds each takes.
func BenchmarkExportVerify(b *testing.B) {
	n := benchN(b)
	ctx := context.Background()
	db, _ := mustOpenDB(b)
	l, _ := newTestLedger(b)
	addController(b, db, l, "op")
	fillLedger(b, db, n)
	if _, err := l.Checkpoint(ctx, db, "op"); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "op.zip")
	var exp, ver time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: incident.Actor{Role: "cli"}}); err != nil {
			b.Fatal(err)
		}
		exp += time.Since(start)
		start = time.Now()
		s, err := Verify(ctx, out, "")
		if err != nil {
			b.Fatal(err)
		}
		ver += time.Since(start)
		if s.Entries != int64(n)+1 {
			b.Fatalf("verified %d entries, want %d", s.Entries, n+1)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(out); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "zip_MB")
	}
	b.ReportMetric(exp.Seconds()/float64(b.N), "export_s")
	b.ReportMetric(ver.Seconds()/float64(b.N), "verify_s")
}
