package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestCLI_Postgres: the pipeline a user runs, with --db a postgres:// URL
// (BREACHNOTICE_DB): import, open, scope, plan, send over SMTP, letters
// export, and a proof bundle that verifies; without a shared secret the
// commands refuse to start.
func TestCLI_Postgres(t *testing.T) {
	c := newCLI(t)
	c.env["BREACHNOTICE_DB"] = storetest.Location(t, storetest.Postgres)
	secret := c.env["BREACHNOTICE_SECRET"]
	delete(c.env, "BREACHNOTICE_SECRET")
	if _, errOut, code := c.run("controllers", "list"); code == 0 || !strings.Contains(errOut, "needs BREACHNOTICE_SECRET") {
		t.Errorf("no secret: exit %d, %q", code, errOut)
	}
	c.env["BREACHNOTICE_SECRET"] = secret
	c.seed()
	if out := c.ok("controllers", "list"); !strings.Contains(out, "Northbridge University") {
		t.Errorf("controllers list: %q", out)
	}
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	if out := c.ok("incident", "plan", "1"); !strings.Contains(out, "US-CA") {
		t.Errorf("plan: %q", out)
	}
	srv := smtptest.Start(t)
	c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())
	if srv.Count() == 0 {
		t.Error("send delivered nothing")
	}
	c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())
	seen := map[string]bool{}
	for _, m := range srv.Messages() {
		if seen[m.MessageID] {
			t.Errorf("%s delivered twice", m.MessageID)
		}
		seen[m.MessageID] = true
	}
	zip := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", zip)
	if out := c.ok("ledger", "verify", zip); !strings.HasPrefix(out, "ok: controller op, incident 1:") {
		t.Errorf("verify: %q", out)
	}
	c.ok("incident", "show", "1")
}
