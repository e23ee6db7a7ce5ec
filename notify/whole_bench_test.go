package notify_test

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// BenchmarkWholeIncident plays the demo's whole incident on WHOLE_N
// learners (default 100,000): demo data generated and imported, an
// incident on northbridge's copy opened and scoped, planned, its emails
// sent over 8 connections to a discarding SMTP sink, the proof exported and
// verified. It prints, per stage, the seconds, the peak resident set of the
// stage (VmHWM, reset before each stage through /proc/self/clear_refs), the
// largest Go heap seen during the stage and what the Go heap holds after
// the stage and a GC; the run's peak is the largest stage peak.
//
// The sink runs in a child process (this test binary, TestWholeIncidentSink)
// so that the process measured holds only breachnotice: smtptest counts
// attempts per recipient in a map, which at a million recipients would be
// counted against the sender. WHOLE_SINK=inproc keeps it in process.
//
// WHOLE_UNTIL=STAGE stops after that stage.
//
// WHOLE_PROFILE=DIR writes DIR/heap-STAGE.pprof after each stage (after a
// GC; its alloc_space less the previous stage's is what the stage
// allocated) and DIR/heap-STAGE-peak.pprof each time the stage's Go heap
// grows by a quarter past 8 MB (as of the last GC: near the stage's peak):
// go tool pprof -sample_index=inuse_space -top; and DIR/cpu-STAGE.pprof. WHOLE_DIR keeps the
// database, demo files and bundle there instead of a temporary directory.
//
//	WHOLE_N=1000000 go test ./notify -run '^$' -bench WholeIncident -benchtime 1x -timeout 30m
func BenchmarkWholeIncident(b *testing.B) {
	n := benchEnvInt("WHOLE_N", 100_000)
	profDir := os.Getenv("WHOLE_PROFILE")
	controller := cmp.Or(os.Getenv("WHOLE_CONTROLLER"), "openlearn")
	elements, err := incident.ParseElements(cmp.Or(os.Getenv("WHOLE_ELEMENTS"), "name,ssn"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	url := wholeSink(b)

	for i := 0; i < b.N; i++ {
		dir := os.Getenv("WHOLE_DIR")
		if dir == "" {
			dir = b.TempDir()
		} else {
			dir = filepath.Join(dir, strconv.Itoa(i))
			os.RemoveAll(dir)
		}
		m := newStageMeter(b, profDir)
		var (
			files demodata.Files
			st    *incident.Store
			led   *ledger.Ledger
			inc   *incident.Incident
			plan  *notify.Plan
			sent  notify.SendResult
			sum   ledger.Summary
			db    = filepath.Join(dir, "whole.db")
			zip   = filepath.Join(dir, "proof.zip")
		)
		m.stage("generate", func() (err error) {
			files, err = demodata.Write(ctx, filepath.Join(dir, "data"), demodata.Options{Accounts: n, Seed: 1})
			return err
		})
		m.stage("import", func() error {
			sdb, err := migrations.Open(ctx, db)
			if err != nil {
				return err
			}
			b.Cleanup(func() { sdb.Close() })
			st, m.db = incident.NewStore(sdb), sdb
			if led, err = ledger.New([]byte("whole-bench-secret-0123456789"), nil); err != nil {
				return err
			}
			st.Journal = led
			_, err = demodata.Load(ctx, st, files, func(incident.Problem) {})
			return err
		})
		m.stage("scope", func() (err error) {
			inc, err = st.CreateIncident(ctx, incident.NewIncident{ControllerID: controller, Title: "Course database copied",
				Description: "An attacker copied the course database.",
				Discovered:  incident.Date{Time: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)},
				Elements:    elements})
			if err != nil {
				return err
			}
			_, err = st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil)
			return err
		})
		m.stage("plan", func() (err error) {
			plan, err = notify.MakePlan(ctx, st, inc.ID)
			return err
		})
		m.stage("send", func() error {
			cfg, err := email.ParseURL(url)
			if err != nil {
				return err
			}
			cfg.Timeout = time.Minute
			sent, err = notify.Send(ctx, st, inc.ID, notify.SendOptions{Channel: "email", Transport: email.NewSMTP(cfg), Concurrency: 8})
			return err
		})
		m.stage("export", func() (err error) {
			sum, err = led.Export(ctx, st.DB(), ledger.ExportOptions{Controller: controller, Incident: inc.ID, Out: zip,
				Actor: incident.ActorFrom(ctx)})
			return err
		})
		m.stage("verify", func() error {
			vs, err := ledger.Verify(ctx, zip, "")
			if err == nil && vs.Entries != sum.Entries {
				err = fmt.Errorf("verified %d entries, exported %d", vs.Entries, sum.Entries)
			}
			return err
		})
		if plan != nil {
			b.Logf("%d learners: %d owed notice, %d emails sent, %d failed; %d ledger entries exported", n, plan.Owed, sent.Sent, sent.Failed, sum.Entries)
		}
		m.report()
	}
}

// wholeSink returns the URL of a discarding SMTP sink: in a child process
// unless WHOLE_SINK=inproc.
func wholeSink(b *testing.B) string {
	if os.Getenv("WHOLE_SINK") == "inproc" {
		return smtptest.Start(b, smtptest.WithDiscard()).URL()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWholeIncidentSink$", "-test.bench=^$", "-test.timeout=0")
	cmd.Env = append(os.Environ(), "BN_WHOLE_SINK=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close() // the sink exits when its stdin closes
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "SINK "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return u
		}
	}
	b.Fatalf("the SMTP sink did not start: %v", sc.Err())
	return ""
}

// TestWholeIncidentSink is BenchmarkWholeIncident's SMTP sink process; it
// skips unless started by it.
func TestWholeIncidentSink(t *testing.T) {
	if os.Getenv("BN_WHOLE_SINK") != "1" {
		t.Skip("the SMTP sink of BenchmarkWholeIncident")
	}
	srv := smtptest.Start(t, smtptest.WithDiscard())
	fmt.Printf("SINK %s\n", srv.URL())
	bufio.NewReader(os.Stdin).ReadString(0) // until the benchmark closes stdin
}

// stageMeter times stages and measures their memory.
type stageMeter struct {
	b       *testing.B
	profDir string
	until   string // the last stage to run ("": all)
	done    bool
	db      *sql.DB // once open: its pool's connections are reported
	rows    []stageRow
}

type stageRow struct {
	name                string
	secs                float64
	peakRSS, peakHeap   int64 // during the stage
	heapAfter, goMapped int64 // after it, after a GC: the Go heap, and all the Go runtime holds from the OS
}

func newStageMeter(b *testing.B, profDir string) *stageMeter {
	if profDir != "" {
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	return &stageMeter{b: b, profDir: profDir, until: os.Getenv("WHOLE_UNTIL")}
}

func (m *stageMeter) stage(name string, run func() error) {
	m.b.Helper()
	if m.done {
		return
	}
	m.done = name == m.until
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // VmHWM := VmRSS
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peakHeap int64
	peakConns := 0
	wg.Add(1)
	go func() { // the Go heap's high-water mark, sampled
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var profiled int64
		for {
			metrics.Read(s)
			h := int64(s[0].Value.Uint64())
			peakHeap = max(peakHeap, h)
			if m.db != nil {
				peakConns = max(peakConns, m.db.Stats().OpenConnections)
			}
			if m.profDir != "" && h > 8<<20 && h > profiled+profiled/4 {
				// The heap profile as of the last GC, near the stage's peak.
				profiled = h
				m.writeHeap("heap-" + name + "-peak.pprof")
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	if m.profDir != "" {
		f, err := os.Create(filepath.Join(m.profDir, "cpu-"+name+".pprof"))
		if err != nil {
			m.b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			m.b.Fatal(err)
		}
	}
	start := time.Now()
	err := run()
	secs := time.Since(start).Seconds()
	if m.profDir != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	wg.Wait()
	if err != nil {
		m.b.Fatalf("%s: %v", name, err)
	}
	row := stageRow{name: name, secs: secs, peakRSS: procStatus("VmHWM"), peakHeap: peakHeap}
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	row.heapAfter = int64(s[0].Value.Uint64())
	row.goMapped = int64(s[1].Value.Uint64() - s[2].Value.Uint64())
	if m.profDir != "" {
		m.writeHeap("heap-" + name + ".pprof")
	}
	m.rows = append(m.rows, row)
	conns := 0
	if m.db != nil {
		conns = m.db.Stats().OpenConnections
	}
	fmt.Fprintf(os.Stderr, "whole: %-8s %7.1f s  peak RSS %6.1f MB  peak Go heap %6.1f MB  after: heap %6.1f MB, Go runtime %6.1f MB, RSS %6.1f MB; SQLite connections: %d at most, %d after\n",
		name, secs, mb(row.peakRSS), mb(peakHeap), mb(row.heapAfter), mb(row.goMapped), mb(procStatus("VmRSS")), peakConns, conns)
}

// writeHeap writes the heap profile to name in the profile directory.
func (m *stageMeter) writeHeap(name string) {
	f, err := os.Create(filepath.Join(m.profDir, name))
	if err != nil {
		m.b.Error(err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		m.b.Error(err)
	}
}

// report prints the table and reports each stage's time and peak as
// metrics, with the total time (less generating the data) and the run's
// peak.
func (m *stageMeter) report() {
	var total float64
	var peak int64
	for _, r := range m.rows {
		m.b.ReportMetric(r.secs, r.name+"_s")
		m.b.ReportMetric(mb(r.peakRSS), r.name+"_MB")
		if r.name != "generate" {
			total += r.secs
		}
		peak = max(peak, r.peakRSS)
	}
	m.b.ReportMetric(total, "incident_s")
	m.b.ReportMetric(mb(peak), "peak_MB")
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// procStatus returns a /proc/self/status memory figure (VmHWM, VmRSS) in
// bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}
