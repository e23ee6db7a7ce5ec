package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestCLI_SendSeveralRelays: incident send with --smtp given twice sends
// through both relays, and incident show (text and --json) counts what
// each carried; a relays file is read with its weights and the password
// from the environment; a bad relays file is refused naming file, line and
// field, without the password.
func TestCLI_SendSeveralRelays(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	a, b := smtptest.Start(t), smtptest.Start(t, smtptest.WithAuth("relayuser", "relay-pass-from-env"))

	bad := c.file("bad.relays", "# relays\n"+a.URL()+" weight=0\n")
	if _, errOut, code := c.run("incident", "send", "1", "--channel", "email", "--relays", bad); code == 0 ||
		!strings.Contains(errOut, "bad.relays:2: weight:") {
		t.Fatalf("bad relays file: exit %d\n%s", code, errOut)
	}
	c.env["RELAY_B_PASSWORD"] = "relay-pass-from-env"
	good := c.file("good.relays", "smtp://relayuser@"+b.Addr()+"?tls=none weight=1 password-env=RELAY_B_PASSWORD\n")
	out, errOut, code := c.run("incident", "send", "1", "--channel", "email", "--smtp", a.URL(), "--relays", good, "--json")
	if code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	total := a.Count() + b.Count()
	if total == 0 || a.Count() == 0 || b.Count() == 0 {
		t.Fatalf("relays got %d and %d messages: want both used", a.Count(), b.Count())
	}
	show := c.ok("incident", "show", "1")
	for _, srv := range []*smtptest.Server{a, b} {
		if !strings.Contains(show, "relay "+srv.Addr()) {
			t.Errorf("incident show lacks relay %s:\n%s", srv.Addr(), show)
		}
	}
	if strings.Contains(show, "relayuser") || strings.Contains(show, "relay-pass") {
		t.Errorf("incident show names the relay's user or password:\n%s", show)
	}
	var j struct {
		Relays []notify.RelayCount `json:"relays"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "1", "--json")), &j); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	sum := 0
	for _, r := range j.Relays {
		got[r.Relay] = r.Sent
		sum += r.Sent
	}
	if got[a.Addr()] != a.Count() || got[b.Addr()] != b.Count() || sum != total {
		t.Errorf("--json relays %+v; servers got %s=%d %s=%d", j.Relays, a.Addr(), a.Count(), b.Addr(), b.Count())
	}
}

// TestCLI_JobsRelaysFile: jobs run (and serve, which shares its flags)
// reads --relays as incident send does, refusing a bad file by file, line
// and field.
func TestCLI_JobsRelaysFile(t *testing.T) {
	c := newCLI(t)
	c.seed()
	bad := c.file("jobs.relays", "smtp://mx1.example.org:587 rate=fast\n")
	_, errOut, code := c.run("jobs", "run", "retry-sweep", "--relays", bad)
	if code == 0 || !strings.Contains(errOut, "jobs.relays:1: rate:") {
		t.Fatalf("bad relays file: exit %d\n%s", code, errOut)
	}
	a, b := smtptest.Start(t), smtptest.Start(t)
	good := c.file("good.relays", a.URL()+" weight=2\n"+b.URL()+"\n")
	if out, errOut, code := c.run("jobs", "run", "retry-sweep", "--relays", good); code != 0 {
		t.Fatalf("jobs run retry-sweep --relays: exit %d\n%s%s", code, out, errOut)
	}
}
