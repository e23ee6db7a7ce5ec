//go:build e2e

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/templates"
)

// spamLimit is the highest SpamAssassin score (of the default 5.0) a
// notice may get from the local rules.
const spamLimit = 2.0

// TestE2E_SpamScore: SpamAssassin (local rules only, no network tests)
// scores one rendered notice of every content profile and catalogue
// language at most spamLimit, and a failure names the rules that fired.
// The first notice is the one incident preview writes; the others are
// the same sample rendered under each profile and language, written as
// the transports write them.
func TestE2E_SpamScore(t *testing.T) {
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		t.Fatal("spamassassin not found: apt-get install spamassassin (.ci/run does)")
	}
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "Course database copied", "--discovered", "2026-11-20",
		"--elements", "name,email,password,ssn", "--description-file", c.file("what.txt", "An attacker copied the course database.\n"))
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	dir := filepath.Join(c.dir, "pv")
	c.ok("incident", "preview", "1", "--out", dir, "--channel", "email")
	emls := map[string]string{"preview gdpr.en": filepath.Join(dir, "gdpr.en.eml")}
	names := []string{"preview gdpr.en"}

	// Every profile and language, from the preview's sample.
	var base *notify.Sample
	a := newApp(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	defer a.close()
	ctx := context.Background()
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	err = notify.Preview(ctx, st, 1, notify.PreviewOptions{Channel: "email", Now: a.now}, func(s *notify.Sample) error {
		if base == nil && s.Email != nil {
			base = s
		}
		return nil
	})
	if err != nil || base == nil {
		t.Fatalf("preview: %v (sample %v)", err, base != nil)
	}
	for _, p := range templates.Profiles() {
		for _, lang := range templates.Languages() {
			n := base.Notice
			n.Profile, n.Locale = p, lang
			e, err := templates.RenderEmail(ctx, n)
			if err != nil {
				t.Fatalf("%s.%s: %v", p, lang, err)
			}
			m := *base.Email
			m.FromName, m.ToName, m.Subject, m.HTML, m.Text = e.FromName, e.ToName, e.Subject, e.HTML, e.Text
			var b bytes.Buffer
			if err := email.WriteMessage(&b, &m, c.now); err != nil {
				t.Fatalf("%s.%s: %v", p, lang, err)
			}
			name := p + "." + lang
			emls[name] = filepath.Join(c.dir, name+".eml")
			if err := os.WriteFile(emls[name], b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	}

	home := t.TempDir() // SpamAssassin's per-user state, away from $HOME
	worst, worstName := -1.0, ""
	for _, name := range names {
		score, rules, report := spamScore(t, sa, home, emls[name])
		if score > worst {
			worst, worstName = score, name+" ("+strings.Join(rules, ", ")+")"
		}
		if score > spamLimit {
			t.Errorf("%s: SpamAssassin scores %.1f (limit %.1f), rules: %s\n%s", name, score, spamLimit, strings.Join(rules, ", "), report)
		}
	}
	t.Logf("%d notices scored; highest %.1f: %s", len(names), worst, worstName)
}

var (
	spamStatus = regexp.MustCompile(`(?m)^X-Spam-Status: (?:Yes|No), score=(-?[0-9.]+)`)
	spamRule   = regexp.MustCompile(`(?m)^\s*(-?[0-9.]+)\s+([A-Z0-9_]+)\s`)
)

// spamScore runs SpamAssassin's local tests on one message file and
// returns its score, the rules that fired (with their points) and the
// report.
func spamScore(t *testing.T, sa, home, eml string) (float64, []string, string) {
	t.Helper()
	f, err := os.Open(eml)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(sa, "--local", "--test-mode", "-x")
	cmd.Stdin = f
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("spamassassin %s: %v\n%s", eml, err, errOut.String())
	}
	m := spamStatus.FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatalf("spamassassin %s: no X-Spam-Status in its output:\n%s", eml, out.String())
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	// The report ("Content analysis details") lists "pts rule name
	// description", one rule a line, after a dashed header line.
	report := out.String()
	if i := strings.Index(report, "Content analysis details"); i >= 0 {
		report = report[i:]
		if j := strings.Index(report, "\n\n"); j >= 0 {
			report = report[:j]
		}
	}
	var rules []string
	for _, r := range spamRule.FindAllStringSubmatch(report, -1) {
		rules = append(rules, fmt.Sprintf("%s %s", r[2], r[1]))
	}
	return score, rules, report
}
