package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestServe_WorkersOnlyUsage: --workers-only runs no HTTP server, so the
// flags of one are a usage error naming them; serve's help documents it.
func TestServe_WorkersOnlyUsage(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"serve", "--workers-only", "--addr", "127.0.0.1:0"}, "--addr"},
		{[]string{"serve", "--workers-only", "--demo"}, "--demo"},
		{[]string{"serve", "--public-url", "https://notices.example.org", "--workers-only"}, "--public-url"},
	} {
		out, errOut, code := c.run(tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "serve: --workers-only runs no HTTP server: drop "+tc.flag) ||
			!strings.Contains(errOut, "run 'breachnotice help serve'") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and a message naming %s", strings.Join(tc.args, " "), code, out, errOut, tc.flag)
		}
	}
	if _, err := os.Stat(c.env["BREACHNOTICE_DB"]); err == nil {
		t.Error("a refused serve --workers-only --demo created the database")
	}
	help := c.ok("help", "serve")
	for _, w := range []string{"--workers-only", "--poll duration", "--concurrency int", "--max-attempts int", "--lease duration", "--retry-base duration", "--rate float", "--smtp value", "--relays string", "--outbox string"} {
		if !strings.Contains(help, w) {
			t.Errorf("help serve lacks %q:\n%s", w, help)
		}
	}
}

// proc is a breachnotice process the test started, its stderr collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	errb bytes.Buffer
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// TestCLI_Postgres_Workers: two serve --workers-only processes and one
// incident send share one incident on one PostgreSQL database: every
// person gets exactly one message, nothing is flagged possible_duplicate,
// the proof bundle verifies; the workers pick the incident up as soon as
// incident send starts it, and SIGTERM, mid-run or idle, makes a worker
// finish what is in flight and exit 0.
func TestCLI_Postgres_Workers(t *testing.T) {
	c := newCLI(t)
	c.env["BREACHNOTICE_DB"] = storetest.Location(t, storetest.Postgres)
	const n = 300
	c.plannedWithLearners("w", n)
	srv := smtptest.Start(t, smtptest.WithLatency(10*time.Millisecond))
	bin := buildBinary(t, c.dir)
	env := c.procEnv()
	start := func(args ...string) *proc {
		p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
		p.cmd.Env = env
		p.cmd.Stdout = &p.out
		r, w := io.Pipe()
		p.cmd.Stderr = w
		go func() {
			s := bufio.NewScanner(r)
			for s.Scan() {
				p.mu.Lock()
				p.errb.WriteString(s.Text() + "\n")
				p.mu.Unlock()
			}
		}()
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); w.Close(); close(p.done) }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
		return p
	}
	wait := func(p *proc, what string) int {
		t.Helper()
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s still running after a minute:\n%s", what, p.stderr())
		}
		return p.cmd.ProcessState.ExitCode()
	}
	worker := func() *proc {
		p := start("serve", "--workers-only", "--smtp", srv.URL(), "--concurrency", "2", "--poll", "200ms")
		for end := time.Now().Add(60 * time.Second); !strings.Contains(p.stderr(), `msg="workers started"`); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("worker did not start:\n%s", p.stderr())
			}
		}
		return p
	}
	w1, w2 := worker(), worker()

	// incident send starts the incident, at most 100 messages a second: the
	// workers, polling, join it.
	send := start("incident", "send", "1", "--channel", "email", "--smtp", srv.URL(), "--concurrency", "2", "--rate", "100")
	for end := time.Now().Add(60 * time.Second); srv.Count() < n/3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("only %d messages after a minute", srv.Count())
		}
	}
	// SIGTERM mid-run: the worker finishes what it holds and exits 0.
	atTerm := srv.Count()
	w1.cmd.Process.Signal(syscall.SIGTERM)
	if code := wait(w1, "worker 1"); code != 0 {
		t.Errorf("worker 1 exited %d after SIGTERM:\n%s", code, w1.stderr())
	}
	if code := wait(send, "incident send"); code != 0 {
		t.Fatalf("incident send exited %d:\n%s%s", code, send.out.String(), send.stderr())
	}
	// Idle, then SIGTERM.
	w2.cmd.Process.Signal(syscall.SIGTERM)
	if code := wait(w2, "worker 2"); code != 0 {
		t.Errorf("worker 2 exited %d after SIGTERM:\n%s", code, w2.stderr())
	}

	bySend := 0
	if m := regexp.MustCompile(`incident 1: (\d+) sent`).FindStringSubmatch(send.out.String()); m != nil {
		bySend, _ = strconv.Atoi(m[1])
	} else {
		t.Errorf("incident send said %q", send.out.String())
	}
	byWorkers := 0
	pass := regexp.MustCompile(`msg="workers: pass" incident_id=1 sent=(\d+) `)
	for i, w := range []*proc{w1, w2} {
		logs := w.stderr()
		for _, m := range pass.FindAllStringSubmatch(logs, -1) {
			k, _ := strconv.Atoi(m[1])
			byWorkers += k
		}
		if !strings.Contains(logs, `msg="workers stopped"`) {
			t.Errorf("worker %d did not log its stop:\n%s", i+1, logs)
		}
		if strings.Contains(logs, "@example.org") {
			t.Errorf("worker %d's log names an address:\n%s", i+1, logs)
		}
	}

	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	for a, k := range got {
		if k > 1 {
			t.Errorf("%s received %d copies", a, k)
		}
	}
	db := c.openDB()
	defer db.Close()
	var sent, unsent int
	db.QueryRow(`SELECT count(*) FROM notices WHERE incident_id = 1 AND channel = 'email' AND state = 'sent'`).Scan(&sent)
	db.QueryRow(`SELECT count(*) FROM notices WHERE incident_id = 1 AND channel = 'email' AND state <> 'sent'`).Scan(&unsent)
	if sent < n || unsent != 0 || len(got) != sent {
		t.Errorf("%d notices sent, %d not, %d people received a message; want every one of at least %d once", sent, unsent, len(got), n)
	}
	if bySend+byWorkers != sent || byWorkers == 0 {
		t.Errorf("incident send sent %d, the workers %d, of %d: want them to add up, the workers' share not 0", bySend, byWorkers, sent)
	}
	dups := 0
	err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		if e.PossibleDuplicate {
			dups++
		}
		return nil
	})
	if err != nil || dups != 0 {
		t.Errorf("ledger: %d entries flagged possible_duplicate (%v)", dups, err)
	}
	zip := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", zip)
	if out := c.ok("ledger", "verify", zip); !strings.HasPrefix(out, "ok: controller op, incident 1:") {
		t.Errorf("verify: %q", out)
	}
	inFlight := regexp.MustCompile(`passes_in_flight=\d+`).FindString(w1.stderr())
	t.Logf("%d notices: incident send sent %d, the workers %d; worker 1 got SIGTERM after %d messages (%s)", sent, bySend, byWorkers, atTerm, inFlight)
}
