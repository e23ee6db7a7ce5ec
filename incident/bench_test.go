package incident_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/incident/storetest/pgtest"
)

// benchAccounts is the size of the import benchmark: BENCH_ACCOUNTS, or a
// million.
func benchAccounts() int { return benchEnvInt("BENCH_ACCOUNTS", 1_000_000) }

// benchEnvInt is the positive integer in the environment variable name,
// or def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
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

// writeAccountsCSV writes n generated accounts (the demo data, seed 7) to
// a CSV file in the benchmark's temporary directory and returns its path.
func writeAccountsCSV(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "accounts.csv")
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
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkImportScope imports BENCH_ACCOUNTS generated accounts from a CSV
// file and scopes an operator incident over all of them, reporting rows/s
// for each step and the peak memory of the process.
//
//	go test ./incident -run '^$' -bench ImportScope -benchtime 1x
func BenchmarkImportScope(b *testing.B) {
	n := benchAccounts()
	path := writeAccountsCSV(b, n)
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
		if !st.Postgres() {
			if _, err := st.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
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

// BenchmarkImportVsSQLite3 imports the same 200,000-row accounts CSV
// (BENCH_ACCOUNTS to change it) with the sqlite3 shell's .import into a
// plain table and with ImportAccounts (every check on) into a fresh store,
// back to back, BENCH_REPS times (default 3) per iteration, and reports
// the rows/s of each and the ratio ours/sqlite3 (of the total times, and
// the lowest and highest of the repetitions). Both write a new database
// file with WAL and synchronous NORMAL; the shell's time includes starting
// the process. Skipped without Debian's sqlite3 on the PATH.
//
//	go test ./incident -run '^$' -bench ImportVsSQLite3 -benchtime 1x -count 3 -v
func BenchmarkImportVsSQLite3(b *testing.B) {
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Skip("sqlite3 shell not found (apt-get install sqlite3): no baseline to compare the import with")
	}
	n := benchEnvInt("BENCH_ACCOUNTS", 200_000)
	reps := benchEnvInt("BENCH_REPS", 3)
	path := writeAccountsCSV(b, n)
	ctx := context.Background()

	// shellImport runs the sqlite3 shell's CSV import into a new file
	// database, with the pragmas of migrations.DSN that bear on writing.
	shellImport := func() (secs, cpu float64) {
		db := filepath.Join(b.TempDir(), "shell.db")
		cmd := exec.Command(shell, db,
			"-cmd", "PRAGMA journal_mode=WAL", "-cmd", "PRAGMA synchronous=NORMAL", "-cmd", "PRAGMA cache_size=-16384",
			"-cmd", ".mode csv", ".import "+path+" accounts_raw")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		secs = time.Since(start).Seconds()
		if err != nil {
			b.Fatalf("sqlite3 .import: %v\n%s", err, out)
		}
		cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		got, err := exec.Command(shell, db, "SELECT count(*) FROM accounts_raw").Output()
		if err != nil || strings.TrimSpace(string(got)) != strconv.Itoa(n) {
			b.Fatalf("sqlite3 imported %q rows (%v), want %d", got, err, n)
		}
		return secs, cpu
	}
	oursImport := func() (secs, cpu float64) {
		st := storetest.Open(b)
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close()
		cpu0 := cpuTime()
		start := time.Now()
		res, err := st.ImportAccounts(ctx, in, incident.ImportOptions{File: "accounts.csv", Format: incident.FormatCSV})
		secs = time.Since(start).Seconds()
		cpu = cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if res.Inserted != int64(n) || res.Rejected != 0 {
			b.Fatalf("imported %+v, want %d inserted", res, n)
		}
		return secs, cpu
	}

	b.ResetTimer()
	var oursTotal, shellTotal, oursCPU, shellCPU float64
	lo, hi := 0.0, 0.0
	for i := 0; i < b.N; i++ {
		for r := 0; r < reps; r++ {
			sh, shCPU := shellImport()
			ours, cpu := oursImport()
			oursTotal, shellTotal, oursCPU, shellCPU = oursTotal+ours, shellTotal+sh, oursCPU+cpu, shellCPU+shCPU
			ratio := sh / ours
			if lo == 0 || ratio < lo {
				lo = ratio
			}
			hi = max(hi, ratio)
			b.Logf("rep %d: ours %.0f rows/s (%.2f s CPU), sqlite3 %.0f rows/s (%.2f s CPU), ratio %.2f",
				r+1, float64(n)/ours, cpu, float64(n)/sh, shCPU, ratio)
		}
	}
	runs := float64(b.N * reps)
	b.ReportMetric(runs*float64(n)/oursTotal, "ours_rows/s")
	b.ReportMetric(runs*float64(n)/shellTotal, "sqlite3_rows/s")
	b.ReportMetric(shellTotal/oursTotal, "ratio")
	b.ReportMetric(lo, "ratio_min")
	b.ReportMetric(hi, "ratio_max")
	// CPU seconds, ours over the shell's: the cost of the checks and the
	// driver, less sensitive than the wall-clock ratio to other load.
	b.ReportMetric(oursCPU/shellCPU, "cpu_ours/sqlite3")
}

// cpuTime returns the CPU time (user and system) of this process so far,
// in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkImportVsCopy_Postgres imports the same accounts CSV (1,000,000
// rows; BENCH_ACCOUNTS to change it) into PostgreSQL with psql's \copy
// into a plain table of text columns and with ImportAccounts (COPY into a
// staging table, every check, the upsert) into a fresh migrated database
// on the same test server, back to back, BENCH_REPS times (default 1),
// and reports the rows/s of each (with BENCH_REIMPORT set, ours imports
// the file a second time into the same store and logs the rows/s of that
// import, every row an update), the ratio ours/psql, and the CPU
// seconds and peak RSS of this process during ours (the client's share;
// the server's is not counted, nor psql's). psql's time includes starting
// the process. Skipped without PostgreSQL.
//
//	go test ./incident -run '^$' -bench ImportVsCopy_Postgres -benchtime 1x -v
func BenchmarkImportVsCopy_Postgres(b *testing.B) {
	if err := pgtest.Available(); err != nil {
		b.Skipf("no PostgreSQL: %v", err)
	}
	bin, err := pgtest.Bin()
	if err != nil {
		b.Skip(err)
	}
	psql := filepath.Join(bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		b.Skipf("no psql next to postgres: %v", err)
	}
	n := benchEnvInt("BENCH_ACCOUNTS", 1_000_000)
	reps := benchEnvInt("BENCH_REPS", 1)
	path := writeAccountsCSV(b, n)
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	header, err := csv.NewReader(f).Read()
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = `"` + h + `" text`
	}

	copyImport := func() float64 {
		url := storetest.Location(b, storetest.Postgres)
		sqlPsql := func(args ...string) []byte {
			out, err := exec.Command(psql, append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url}, args...)...).CombinedOutput()
			if err != nil {
				b.Fatalf("psql %v: %v\n%s", args, err, out)
			}
			return out
		}
		sqlPsql("-c", "CREATE TABLE accounts_raw ("+strings.Join(cols, ", ")+")")
		start := time.Now()
		sqlPsql("-c", `\copy accounts_raw FROM '`+path+`' WITH (FORMAT csv, HEADER true)`)
		secs := time.Since(start).Seconds()
		if got := strings.TrimSpace(string(sqlPsql("-t", "-A", "-c", "SELECT count(*) FROM accounts_raw"))); got != strconv.Itoa(n) {
			b.Fatalf("psql copied %s rows, want %d", got, n)
		}
		return secs
	}
	oursImport := func() (secs, cpu float64) {
		st := storetest.OpenOn(b, storetest.Postgres)
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close()
		resetPeakRSS()
		cpu0 := cpuTime()
		start := time.Now()
		res, err := st.ImportAccounts(ctx, in, incident.ImportOptions{File: "accounts.csv", Format: incident.FormatCSV})
		secs = time.Since(start).Seconds()
		cpu = cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if res.Inserted != int64(n) || res.Rejected != 0 {
			b.Fatalf("imported %+v, want %d inserted", res, n)
		}
		if os.Getenv("BENCH_REIMPORT") != "" {
			// The same file again: every row an update, through the
			// staging table and the upsert.
			in2, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer in2.Close()
			start := time.Now()
			res, err := st.ImportAccounts(ctx, in2, incident.ImportOptions{File: "accounts.csv", Format: incident.FormatCSV})
			again := time.Since(start).Seconds()
			if err != nil || res.Updated != int64(n) {
				b.Fatalf("imported again: %+v, %v; want %d updated", res, err, n)
			}
			b.Logf("imported again: %.0f rows/s (%.1f s)", float64(n)/again, again)
		}
		return secs, cpu
	}

	b.ResetTimer()
	var oursTotal, copyTotal, oursCPU float64
	var peak int64
	for i := 0; i < b.N; i++ {
		for r := 0; r < reps; r++ {
			cp := copyImport()
			ours, cpu := oursImport()
			rss := peakRSS()
			peak = max(peak, rss)
			oursTotal, copyTotal, oursCPU = oursTotal+ours, copyTotal+cp, oursCPU+cpu
			b.Logf("rep %d: ours %.0f rows/s (%.1f s, %.1f s CPU in this process, peak RSS %.0f MB), psql \\copy %.0f rows/s (%.1f s), ratio %.2f",
				r+1, float64(n)/ours, ours, cpu, float64(rss)/(1<<20), float64(n)/cp, cp, cp/ours)
		}
	}
	runs := float64(b.N * reps)
	b.ReportMetric(runs*float64(n)/oursTotal, "ours_rows/s")
	b.ReportMetric(runs*float64(n)/copyTotal, "psql_copy_rows/s")
	b.ReportMetric(copyTotal/oursTotal, "ratio")
	b.ReportMetric(oursCPU/runs, "ours_client_cpu_s")
	b.ReportMetric(float64(peak)/(1<<20), "peak_MB")
}
