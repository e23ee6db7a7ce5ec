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
	"sync"
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
	// A protection offer with an enrollment link: the notices carry a URL,
	// which is what SpamAssassin's phishing rules look at.
	c.ok("incident", "update", "1", "--protection-provider", "IDX", "--protection-url", "https://app.idx.us/enroll", "--protection-phone", "1-800-939-4170")
	dir := filepath.Join(c.dir, "pv")
	c.ok("incident", "preview", "1", "--out", dir, "--channel", "email")
	emls := map[string]string{"preview gdpr.de": filepath.Join(dir, "gdpr.de.eml"),
		"preview us-ca.es": filepath.Join(dir, "us-ca.es.protection-12mo.eml")}
	names := []string{"preview gdpr.de", "preview us-ca.es"}

	// Every profile and language, from the preview's sample that carries
	// the protection offer.
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
		if s.ProtectionMonths > 0 && s.Email != nil {
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

	// Perl starts slowly: score two messages at a time.
	type result struct {
		score         float64
		rules         []string
		report, error string
	}
	results := make([]result, len(names))
	home := t.TempDir() // SpamAssassin's per-user state, away from $HOME
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for i := range next {
				r := &results[i]
				r.score, r.rules, r.report, r.error = spamScore(sa, home, emls[names[i]])
			}
		})
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	worst, worstName := -1.0, ""
	fired := map[string]int{}
	for i, name := range names {
		r := results[i]
		if r.error != "" {
			t.Fatalf("%s: %s", name, r.error)
		}
		for _, rule := range r.rules {
			fired[rule]++
		}
		if r.score > worst {
			worst, worstName = r.score, name+" ("+strings.Join(r.rules, ", ")+")"
		}
		if r.score > spamLimit {
			t.Errorf("%s: SpamAssassin scores %.1f (limit %.1f), rules: %s\n%s", name, r.score, spamLimit, strings.Join(r.rules, ", "), r.report)
		}
	}
	t.Logf("%d notices scored; highest %.1f: %s; rules fired (notices): %v", len(names), worst, worstName, fired)
}

var (
	spamStatus = regexp.MustCompile(`(?m)^X-Spam-Status: (?:Yes|No), score=(-?[0-9.]+)`)
	spamRule   = regexp.MustCompile(`(?m)^\s*(-?[0-9.]+)\s+([A-Z0-9_]+)\s`)
)

// spamScore runs SpamAssassin's local tests on one message file and
// returns its score, the rules that fired (with their points) and the
// report.
func spamScore(sa, home, eml string) (score float64, rules []string, report, failed string) {
	f, err := os.Open(eml)
	if err != nil {
		return 0, nil, "", err.Error()
	}
	defer f.Close()
	cmd := exec.Command(sa, "--local", "--test-mode", "-x")
	cmd.Stdin = f
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return 0, nil, "", fmt.Sprintf("spamassassin %s: %v\n%s", eml, err, errOut.String())
	}
	m := spamStatus.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, nil, "", fmt.Sprintf("spamassassin %s: no X-Spam-Status in its output:\n%s", eml, out.String())
	}
	score, err = strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, nil, "", err.Error()
	}
	// The report ("Content analysis details") lists "pts rule name
	// description", one rule a line, after a dashed header line.
	report = out.String()
	if i := strings.Index(report, "Content analysis details"); i >= 0 {
		report = report[i:]
		if j := strings.Index(report, "\n----"); j >= 0 {
			table := report[j+1:]
			table = table[strings.IndexByte(table, '\n')+1:]
			if k := strings.Index(table, "\n\n"); k >= 0 {
				table = table[:k]
			}
			report = report[:j+1] + strings.Repeat("-", 10) + "\n" + table
			for _, r := range spamRule.FindAllStringSubmatch(table, -1) {
				rules = append(rules, fmt.Sprintf("%s %s", r[2], r[1]))
			}
		}
	}
	return score, rules, report, ""
}
