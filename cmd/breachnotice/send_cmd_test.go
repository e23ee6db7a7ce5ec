package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestCLI_SendFailedForGood: emails the relay refuses for good make
// incident send exit 3 and say so; a plain re-run leaves them alone and
// still exits 3; --retry-failed puts them back in the queue, with a ledger
// entry each, and sends them.
func TestCLI_SendFailedForGood(t *testing.T) {
	c := newCLI(t)
	srv, refuse := c.plannedWithFailingAna(t, smtptest.Reply550)
	send := func(extra ...string) (string, string, int) {
		return c.run(append([]string{"incident", "send", "1", "--channel", "email", "--smtp", srv.URL(), "--retry-base", "1ms"}, extra...)...)
	}
	out, errOut, code := send()
	if code != 3 || !strings.Contains(errOut, "1 email notices of incident 1 failed for good") || !strings.Contains(errOut, "--retry-failed") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	before := srv.Count()
	if _, errOut, code := send(); code != 3 || srv.Count() != before {
		t.Errorf("plain re-run: exit %d, %d messages sent (want none)\n%s", code, srv.Count()-before, errOut)
	}

	refuse.Store(false)
	out, errOut, code = send("--retry-failed", "--json")
	if code != 0 || !strings.Contains(out, `"retried": 1`) || !strings.Contains(out, `"failed_total": 0`) {
		t.Fatalf("--retry-failed: exit %d\n%s%s", code, out, errOut)
	}
	if srv.Count() != before+1 || srv.Attempts("ana@example.org") != 2 {
		t.Errorf("--retry-failed sent %d messages, ana@ attempted %d times", srv.Count()-before, srv.Attempts("ana@example.org"))
	}
	db := c.openDB()
	retried := 0
	err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "op", Incident: 1}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindEmailRetried && e.Account == "a1" {
			retried++
		}
		return nil
	})
	var state string
	db.QueryRow(`SELECT state FROM notices WHERE channel = 'email' AND account_id = 'a1'`).Scan(&state)
	if err != nil || retried != 1 || state != "sent" {
		t.Errorf("ledger has %d email_retried entries for a1 (%v); a1's email notice is %q", retried, err, state)
	}
}

// TestCLI_ShowProgressAndSubstitute: incident show counts people owed,
// notified and outstanding and lists the deadlines needing attention (the
// GDPR authority's 72 hours passed); incident substitute lists whom no
// direct notice reaches.
func TestCLI_ShowProgressAndSubstitute(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("more.csv", "id,name,email,country,region\na4,Di,di@example.org,US,US-CA\n"))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	srv := smtptest.Start(t)
	srv.Behave(func(rcpt string, _ int) smtptest.Behaviour {
		if strings.HasPrefix(rcpt, "di@") {
			return smtptest.Reply550
		}
		return smtptest.Accept
	})
	c.run("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())

	show := c.ok("incident", "show", "1")
	for _, want := range []string{"people", "substitute notice owed", "deadlines needing attention (as of 2026-11-28)", "OVERDUE by 5 days", "2026-11-23  DE"} {
		if !strings.Contains(show, want) {
			t.Errorf("incident show lacks %q:\n%s", want, show)
		}
	}
	sub := c.ok("incident", "substitute", "1", "--json")
	if !strings.Contains(sub, `"account_id":"a4"`) || !strings.Contains(sub, "email failed") || strings.Contains(sub, `"a1"`) {
		t.Errorf("incident substitute --json:\n%s", sub)
	}
	var p struct {
		Progress notify.Progress `json:"progress"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "1", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	if p.Progress.Substitute != 1 || p.Progress.Notified == 0 || p.Progress.Owed != p.Progress.Notified+p.Progress.Outstanding {
		t.Errorf("progress %+v", p.Progress)
	}
}

// plannedWithFailingAna plans incident 1 on the seed data (every account)
// and starts a relay that answers ana@'s messages with b for as long as the
// switch it returns is on; everyone else's are accepted.
func (c *cli) plannedWithFailingAna(t *testing.T, b smtptest.Behaviour) (*smtptest.Server, *atomic.Bool) {
	t.Helper()
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	srv := smtptest.Start(t)
	failing := new(atomic.Bool)
	failing.Store(true)
	srv.Behave(func(rcpt string, _ int) smtptest.Behaviour {
		if failing.Load() && strings.HasPrefix(rcpt, "ana@") {
			return b
		}
		return smtptest.Accept
	})
	return srv, failing
}
