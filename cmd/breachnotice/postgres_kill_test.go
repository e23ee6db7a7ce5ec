package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestCLI_Postgres_SenderKilled: two incident send processes share one
// PostgreSQL database; one is killed with SIGKILL mid-run, the other
// finishes, and a third run after the lease takes over what the dead one
// held. Nobody is left without a notice, everyone who got two copies is
// flagged possible_duplicate in the ledger, the notices recorded sent
// equal the people who received one, and the proof bundle verifies.
func TestCLI_Postgres_SenderKilled(t *testing.T) {
	c := newCLI(t)
	c.env["BREACHNOTICE_DB"] = storetest.Location(t, storetest.Postgres)
	const n = 600
	c.plannedWithLearners("k", n)

	// 20 ms per message, 4 connections per sender: about 200 messages a
	// second each, so the run lasts a few seconds.
	srv := smtptest.Start(t, smtptest.WithLatency(20*time.Millisecond))
	bin := buildBinary(t, c.dir)
	const lease = 2 * time.Second
	env := c.procEnv()
	sender := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "incident", "send", "1", "--channel", "email", "--smtp", srv.URL(),
			"--concurrency", "4", "--lease", lease.String())
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	victim, _ := sender()
	survivor, survivorOut := sender()
	for deadline := time.Now().Add(30 * time.Second); srv.Count() < 150 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	atKill := srv.Count()
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait() // reap it: a zombie still answers kill(pid, 0)
	if err := survivor.Wait(); err != nil {
		t.Fatalf("the other sender: %v\n%s", err, survivorOut)
	}
	time.Sleep(lease + 200*time.Millisecond)
	again, againOut := sender()
	if err := again.Wait(); err != nil {
		t.Fatalf("send after the lease: %v\n%s", err, againOut)
	}

	db := c.openDB()
	defer db.Close()
	owed := map[string]bool{}
	rows, err := db.Query(`SELECT address FROM notices WHERE incident_id = 1 AND channel = 'email'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		owed[a] = true
	}
	rows.Close()
	var sent, unsent int
	db.QueryRow(`SELECT count(*) FROM notices WHERE incident_id = 1 AND channel = 'email' AND state = 'sent'`).Scan(&sent)
	db.QueryRow(`SELECT count(*) FROM notices WHERE incident_id = 1 AND channel = 'email' AND state <> 'sent'`).Scan(&unsent)

	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	lost := 0
	for a := range owed {
		if got[a] == 0 {
			lost++
		}
	}
	if len(owed) < n || lost != 0 || unsent != 0 {
		t.Errorf("%d of %d people owed an email received none; %d notices not sent", lost, len(owed), unsent)
	}
	if sent != len(got) {
		t.Errorf("%d notices recorded sent, %d people received a message", sent, len(got))
	}

	accountOf := map[string]string{}
	rows, err = db.Query(`SELECT address, account_id FROM notices WHERE incident_id = 1 AND channel = 'email'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, acct string
		rows.Scan(&a, &acct)
		accountOf[a] = acct
	}
	rows.Close()
	flagged := map[string]bool{}
	err = ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindEmailSent && e.PossibleDuplicate {
			flagged[e.Account] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	twice := 0
	for a, k := range got {
		if k > 2 {
			t.Errorf("%s received %d copies", a, k)
		}
		if k > 1 {
			twice++
			if !flagged[accountOf[a]] {
				t.Errorf("%s received two copies and no email_sent entry is flagged possible_duplicate", a)
			}
		}
	}

	zip := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", zip)
	if out := c.ok("ledger", "verify", zip); !strings.HasPrefix(out, "ok: controller op, incident 1:") {
		t.Errorf("verify: %q", out)
	}
	t.Logf("SIGKILL after %d messages; %d people owed, %d received, %d got two copies (flagged %d), %d recorded sent",
		atKill, len(owed), len(got), twice, len(flagged), sent)
}
