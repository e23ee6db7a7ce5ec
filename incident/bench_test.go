package incident_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// benchAccounts is the size of the import benchmark: BENCH_ACCOUNTS, or a
// million.
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM (Linux: writing 5 to clear_refs), so the peak
// measured is that of the import, not of the setup.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkImportScope imports BENCH_ACCOUNTS generated accounts from a CSV
// file and scopes an operator incident over all of them, reporting rows/s
// for each step and the peak memory of the process.
//
//	go test ./incident -run '^$' -bench ImportScope -benchtime 1x
func BenchmarkImportScope(b *testing.B) {
	n := benchAccounts()
	dir := b.TempDir()
	path := filepath.Join(dir, "accounts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	if err := demodata.WriteAccounts(context.Background(), w, demodata.Options{Accounts: n, Seed: 7}); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	bw.Flush()
	f.Close()
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := storetest.Open(b)
		if err := st.CreateController(ctx, &incident.Controller{ID: "op", Name: "Operator", From: "n@op.example"}); err != nil {
			b.Fatal(err)
		}
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		resetPeakRSS()
		b.StartTimer()

		start := time.Now()
		res, err := st.ImportAccounts(ctx, in, incident.ImportOptions{File: "accounts.csv", Format: incident.FormatCSV})
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		importSecs := time.Since(start).Seconds()
		if res.Inserted != int64(n) {
			b.Fatalf("imported %+v, want %d", res, n)
		}

		// The CLI imports and scopes in separate processes, and SQLite
		// checkpoints the WAL when the importing process closes the
		// database: do the same here, outside the timings.
		b.StopTimer()
		if _, err := st.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "bench",
			Discovered: incident.Date{Time: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
			Elements:   []incident.Element{incident.ElemName, incident.ElemSSN}})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		sr, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		scopeSecs := time.Since(start).Seconds()
		if sr.Affected != int64(n) {
			b.Fatalf("scoped %d, want %d", sr.Affected, n)
		}
		b.ReportMetric(float64(n)/importSecs, "import_rows/s")
		b.ReportMetric(float64(n)/scopeSecs, "scope_rows/s")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak_MB")
	}
}
