package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// BenchmarkSendProcesses_Postgres is issue 16's measurement: on one
// PostgreSQL, one incident's email notices (BN_PROCS_PEOPLE, default
// 30,000) sent by 1, 2 and 4 separate `incident send` processes at the same
// per-process concurrency (BN_PROCS_CONCURRENCY, default 8) to a loopback
// SMTP sink that answers each message after 20 ms; then 4 processes with
// one of them killed with SIGKILL a third of the way in (the survivors, on
// the same host, see its process gone and take its leases over at once;
// from another host they would after --lease, 5s); then one incident send
// and 3 `serve --workers-only` processes (polling every 500 ms), timed
// until the send returns. Each row checks that nobody owed an email is
// left without one, counts who received two copies and whether
// every one of them is named possible_duplicate in the ledger, and
// verifies the proof bundle. It prints one table:
//
//	go test ./cmd/breachnotice -run '^$' -bench SendProcesses_Postgres -benchtime 1x
func BenchmarkSendProcesses_Postgres(b *testing.B) {
	people := envInt("BN_PROCS_PEOPLE", 30000)
	conc := envInt("BN_PROCS_CONCURRENCY", 8)
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	csv := filepath.Join(dir, "accounts.csv")
	writeLearners(b, csv, people)

	type row struct {
		name                         string
		workers                      int
		perSec                       float64
		elapsed                      time.Duration
		lost, twice, flagged, copies int
		verified                     bool
		cpu                          time.Duration // the senders' user+system time
		pgCPU, sinkCPU               time.Duration // PostgreSQL's, and this process's (the sink)
	}
	var rows []row
	for _, tc := range []struct {
		workers int
		kill    bool
		// serve: the first process is incident send (it starts the send),
		// the others serve --workers-only, stopped with SIGTERM once the
		// send has returned (every notice final).
		serve bool
	}{{1, false, false}, {2, false, false}, {4, false, false}, {4, true, false}, {4, false, true}} {
		name := fmt.Sprintf("workers=%d", tc.workers)
		if tc.kill {
			name += "/one-killed"
		}
		if tc.serve {
			name += "/send+3-serve-workers-only"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				p := newProcBench(b, bin)
				p.cmd("controllers", "add", "--id", "op", "--name", "OpenLearn", "--from", "notice@openlearn.example",
					"--postal-address", "141 Portland St;Cambridge, MA 02139", "--contact-email", "privacy@openlearn.example")
				p.cmd("accounts", "import", csv)
				p.cmd("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
				p.cmd("incident", "scope", "1", "--all")
				p.cmd("incident", "plan", "1")
				srv := smtptest.Start(b, smtptest.WithDiscard(), smtptest.WithLatency(20*time.Millisecond))

				b.StartTimer()
				pg0, self0 := postgresCPU(), selfCPU()
				start := time.Now()
				procs := make([]*exec.Cmd, tc.workers)
				outs := make([]*bytes.Buffer, tc.workers)
				for w := range procs {
					args := []string{"incident", "send", "1", "--channel", "email"}
					if tc.serve && w > 0 {
						args = []string{"serve", "--workers-only", "--poll", "500ms"}
					}
					procs[w], outs[w] = p.start(append(args, "--smtp", srv.URL(), "--concurrency", strconv.Itoa(conc), "--lease", "5s")...)
				}
				if tc.kill {
					for srv.Count() < people/3 && procs[0].ProcessState == nil {
						time.Sleep(5 * time.Millisecond)
					}
					if err := procs[0].Process.Signal(syscall.SIGKILL); err != nil {
						b.Fatal(err)
					}
				}
				var cpu time.Duration
				for w, cmd := range procs {
					if tc.serve && w > 0 {
						// The send returned: every notice is final.
						if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
							b.Fatal(err)
						}
					}
					err := cmd.Wait()
					cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
					if tc.kill && w == 0 {
						continue
					}
					if err != nil {
						b.Fatalf("sender %d: %v\n%s", w, err, outs[w])
					}
				}
				el := time.Since(start)
				b.StopTimer()
				pgCPU, sinkCPU := postgresCPU()-pg0, selfCPU()-self0

				r := row{name: name, workers: tc.workers, elapsed: el, cpu: cpu, pgCPU: pgCPU, sinkCPU: sinkCPU}
				r.lost, r.twice, r.flagged, r.copies = p.check(b, srv.Deliveries())
				r.verified = p.verify(b)
				r.perSec = float64(people) / el.Seconds()
				b.ReportMetric(r.perSec, "emails/s")
				rows = append(rows, r)
				if r.lost != 0 || r.flagged != r.twice || !r.verified {
					b.Errorf("%s: %d lost, %d received twice of whom %d flagged possible_duplicate, verified %v", name, r.lost, r.twice, r.flagged, r.verified)
				}
				b.StartTimer()
			}
		})
	}
	if len(rows) == 0 {
		return
	}
	base := rows[0].perSec
	fmt.Printf("\n%d notices, %d connections per process, sink latency 20 ms, PostgreSQL %s\n", people, conc, "(throwaway, fsync=off)")
	fmt.Printf("| processes | seconds | emails/s | vs 1 | CPU per email: senders, PostgreSQL, sink | cores busy | lost | received twice | named possible_duplicate | bundle verifies |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		us := func(d time.Duration) int64 { return d.Microseconds() / int64(people) }
		fmt.Printf("| %s | %.1f | %.0f | %.2f× | %d, %d, %d µs | %.2f | %d | %d | %d | %v |\n", strings.TrimPrefix(r.name, "workers="), r.elapsed.Seconds(), r.perSec, r.perSec/base,
			us(r.cpu), us(r.pgCPU), us(r.sinkCPU), (r.cpu+r.pgCPU+r.sinkCPU).Seconds()/r.elapsed.Seconds(), r.lost, r.twice, r.flagged, r.verified)
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// writeLearners writes n Californian learners with an email address and a
// postal address (ids and addresses p00000@example.org and up).
func writeLearners(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,name,email,country,region,postal_line1,city,postal_code")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "p%06d,Learner %d,p%06d@example.org,US,CA,%d Main St,Los Angeles,90012\n", i, i, i, i+1)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// procBench runs the built binary against one fresh PostgreSQL database.
type procBench struct {
	tb  testing.TB
	bin string
	dir string
	env []string
	db  string
}

func newProcBench(tb testing.TB, bin string) *procBench {
	db := storetest.Location(tb, storetest.Postgres)
	return &procBench{tb: tb, bin: bin, dir: tb.TempDir(), db: db,
		env: append(os.Environ(), "BREACHNOTICE_DB="+db, "BREACHNOTICE_SECRET=bench-secret-0123456789abcdef")}
}

// cmd runs one command to its end; it must succeed.
func (p *procBench) cmd(args ...string) string {
	p.tb.Helper()
	c := exec.Command(p.bin, args...)
	c.Env, c.Dir = p.env, p.dir
	out, err := c.CombinedOutput()
	if err != nil {
		p.tb.Fatalf("breachnotice %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start starts one command and returns it with its combined output.
func (p *procBench) start(args ...string) (*exec.Cmd, *bytes.Buffer) {
	p.tb.Helper()
	c := exec.Command(p.bin, args...)
	c.Env, c.Dir = p.env, p.dir
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		p.tb.Fatal(err)
	}
	return c, &out
}

// check compares what the sink received with the database and the ledger:
// the people owed an email who received none, those who received more than
// one copy, how many of those have an email_sent entry flagged
// possible_duplicate, and the copies received in all.
func (p *procBench) check(tb testing.TB, got map[string]int) (lost, twice, flagged, copies int) {
	db, err := migrations.Open(context.Background(), p.db)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	account := map[string]string{}
	rows, err := db.Query(`SELECT lower(address), account_id, state FROM notices WHERE incident_id = 1 AND channel = 'email'`)
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var a, acct, state string
		if err := rows.Scan(&a, &acct, &state); err != nil {
			tb.Fatal(err)
		}
		account[a] = acct
		if state != "sent" || got[a] == 0 {
			lost++
		}
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	dup := map[string]bool{}
	err = ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindEmailSent && e.PossibleDuplicate {
			dup[e.Account] = true
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for a, k := range got {
		copies += k
		if k > 1 {
			twice++
			if dup[account[a]] {
				flagged++
			}
		}
	}
	return lost, twice, flagged, copies
}

// verify exports the incident's proof bundle and verifies it.
func (p *procBench) verify(tb testing.TB) bool {
	zip := filepath.Join(p.dir, "proof.zip")
	p.cmd("ledger", "export", "--controller", "op", "--incident", "1", "--out", zip)
	return strings.HasPrefix(p.cmd("ledger", "verify", zip), "ok: controller op, incident 1:")
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the user and system time of the test's PostgreSQL: its
// postmaster (a child of this process, started by pgtest), the children
// it reaped (the backends of closed connections), and its live children
// (backends, background workers). Other PostgreSQL servers on the machine
// are not counted.
func postgresCPU() time.Duration {
	type proc struct {
		ppid  int
		ticks []int64 // utime, stime, cutime, cstime
	}
	procs := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: fields after the comm's closing
		// parenthesis; utime, stime, cutime, cstime are fields 14-17.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 15 {
			continue
		}
		p := proc{}
		p.ppid, _ = strconv.Atoi(f[1])
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			p.ticks = append(p.ticks, n)
		}
		procs[pid] = p
	}
	var ticks int64
	for pid, p := range procs {
		if p.ppid != os.Getpid() {
			continue
		}
		ticks += p.ticks[0] + p.ticks[1] + p.ticks[2] + p.ticks[3]
		for _, c := range procs {
			if c.ppid == pid {
				ticks += c.ticks[0] + c.ticks[1]
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
