package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLI_Jobs: jobs run runs one job by hand and records it; jobs list
// shows each job's last run and next run; mistakes are usage errors.
func TestCLI_Jobs(t *testing.T) {
	c := newCLI(t)
	c.seed()
	out := c.ok("jobs", "run", "ledger-checkpoint")
	if !strings.Contains(out, "ledger-checkpoint as of 2026-11-28T12:00:00Z: ok: nb signed at size") || !strings.Contains(out, "op signed") {
		t.Fatalf("first run: %s", out)
	}
	if out := c.ok("jobs", "run", "ledger-checkpoint", "--now", "2026-11-28T13:00:00Z"); !strings.Contains(out, "ok: no log grew") {
		t.Fatalf("second run signed again: %s", out)
	}
	var sts []struct {
		Name string
		Spec string
		Last *struct {
			Trigger, State, Result string
		} `json:"last_run"`
		Next string `json:"next_run"`
	}
	if err := json.Unmarshal([]byte(c.ok("jobs", "list", "--json")), &sts); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sts {
		if s.Name == "ledger-checkpoint" {
			found = true
			if s.Last == nil || s.Last.Trigger != "manual" || s.Last.Result != "no log grew" || s.Next != "2026-11-28T12:10:00Z" {
				t.Errorf("ledger-checkpoint: %+v", s)
			}
		}
	}
	if !found {
		t.Fatalf("jobs list: %+v", sts)
	}
	if _, errOut, code := c.run("jobs", "run", "ledger-checkpiont"); code != 2 || !strings.Contains(errOut, `did you mean "ledger-checkpoint"`) {
		t.Errorf("unknown job: exit %d %s", code, errOut)
	}
	if _, errOut, code := c.run("jobs", "run", "ledger-checkpoint", "--now", "yesterday"); code != 2 || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --now: exit %d %s", code, errOut)
	}
}

// TestCLI_DeadlineWatch: jobs run deadline-watch --now raises the alerts
// due then, once, writes the alert email to the outbox, and incident show
// marks them.
func TestCLI_DeadlineWatch(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("controllers", "update", "nb", "--security-email", "soc@nb.example")
	c.ok("incident", "open", "--controller", "nb", "--title", "LMS database copied", "--discovered", "2026-11-20", "--elements", "password,name,email")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	outbox := filepath.Join(c.dir, "alerts")
	out := c.ok("jobs", "run", "deadline-watch", "--now", "2026-12-05T09:00:00Z", "--outbox", outbox)
	if !strings.Contains(out, "1 incidents watched, 2 alerts raised (1 missed), 1 emails sent") {
		t.Fatalf("first watch: %s", out)
	}
	out = c.ok("jobs", "run", "deadline-watch", "--now", "2026-12-05T10:00:00Z", "--outbox", outbox)
	if !strings.Contains(out, "0 alerts raised") {
		t.Fatalf("second watch raised again: %s", out)
	}
	emls, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("outbox holds %v, want one alert", emls)
	}
	b, _ := os.ReadFile(emls[0])
	if !strings.Contains(string(b), "To: <soc@nb.example>") {
		t.Errorf("alert email:\n%s", b)
	}
	c.now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	show := c.ok("incident", "show", "1")
	for _, w := range []string{"deadline alerts raised by the scheduler:", "missed             2026-11-23  DE            regulator", "due within 7 days  2026-12-11  DE            individuals  1 people"} {
		if !strings.Contains(show, w) {
			t.Errorf("incident show lacks %q:\n%s", w, show)
		}
	}
}

// TestCLI_BannerExpiryJob: the banner-expiry job withdraws a banner once
// its last day has passed, once (banner.Expire holds the legal minimum;
// its own tests cover that).
func TestCLI_BannerExpiryJob(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "LMS database copied", "--discovered", "2026-11-20", "--elements", "password,name,email")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	c.ok("banner", "publish", "1", "--public-url", "https://notices.example.org", "--until", "2026-12-30")
	for _, step := range []struct{ now, want string }{
		{"2026-12-30T12:00:00Z", "0 banners withdrawn"},
		{"2026-12-31T01:00:00Z", "1 banners withdrawn"},
		{"2026-12-31T02:00:00Z", "0 banners withdrawn"},
	} {
		if out := c.ok("jobs", "run", "banner-expiry", "--now", step.now); !strings.Contains(out, "ok: "+step.want) {
			t.Errorf("%s: %s, want %s", step.now, out, step.want)
		}
	}
	if out := c.ok("banner", "list"); !strings.Contains(out, "withdrawn") {
		t.Errorf("banner list after expiry:\n%s", out)
	}
}

// TestCLI_Regulators: incident send holds the Marylanders until the
// regulator notice is recorded; regulator-drafts drafts it; regulators
// list shows it and writes it out; regulators sent records it, and the
// next send delivers them.
func TestCLI_Regulators(t *testing.T) {
	c := newCLI(t)
	c.ok("controllers", "add", "--id", "op", "--name", "OpenLearn", "--from", "notice@openlearn.example", "--terms-e-consent",
		"--postal-address", "141 Portland St;Cambridge, MA 02139", "--contact-email", "privacy@openlearn.example")
	c.ok("accounts", "import", c.file("accounts.csv", `id,name,email,country,region,postal_line1,city,postal_code,e_consent
md1,Mary Land,md1@example.org,US,MD,1 Bay St,Baltimore,21201,yes
ca1,Cal If,ca1@example.org,US,CA,4 Main St,Los Angeles,90012,yes
`))
	c.ok("incident", "open", "--controller", "op", "--title", "Records copied", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	outbox := filepath.Join(c.dir, "outbox")
	out, errOut, code := c.run("incident", "send", "1", "--outbox", outbox)
	if code != 0 || !strings.Contains(out, "1 sent") || !strings.Contains(errOut, "residents of US-MD wait for the regulator notice") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	if out := c.ok("regulators", "list", "1"); !strings.Contains(out, "not drafted") || !strings.Contains(out, "residents' notices wait for it") {
		t.Errorf("list before drafting:\n%s", out)
	}
	c.ok("jobs", "run", "regulator-drafts", "--now", "2026-11-28T06:00:00Z")
	dir := filepath.Join(c.dir, "drafts")
	c.ok("regulators", "list", "1", "--out", dir)
	for _, name := range []string{"US-MD-regulator.txt", "US-MD-regulator.pdf"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || len(b) < 100 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	if _, errOut, code := c.run("regulators", "sent", "1", "US-MD", "--at", "2026-12-30"); code != 1 || !strings.Contains(errOut, "after today") {
		t.Errorf("a date after today: exit %d %s", code, errOut)
	}
	if out := c.ok("regulators", "sent", "1", "US-MD", "--at", "2026-11-28", "--ref", "AG-77"); !strings.Contains(out, "recorded as sent on 2026-11-28") {
		t.Errorf("sent: %s", out)
	}
	var fs []struct {
		Jurisdiction string `json:"jurisdiction"`
		SentOn       string `json:"sent_on"`
		Ref          string `json:"ref"`
	}
	if err := json.Unmarshal([]byte(c.ok("regulators", "list", "1", "--json")), &fs); err != nil || len(fs) == 0 || fs[0].SentOn != "2026-11-28" || fs[0].Ref != "AG-77" {
		t.Fatalf("list --json: %+v %v", fs, err)
	}
	if out := c.ok("incident", "send", "1", "--outbox", outbox); !strings.Contains(out, "1 sent") {
		t.Errorf("send after the filing: %s", out)
	}
}
