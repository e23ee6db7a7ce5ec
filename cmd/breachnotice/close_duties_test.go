package main

import (
	"archive/zip"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_CloseDuties walks one incident from planned to closable: after
// each step, incident close lists exactly the duties still open (a DE
// regulator filing not yet due and not recorded as sent, people not yet
// notified, a letter not confirmed mailed, the banner's required posting
// not yet over) and refuses; once every duty is met it closes. A person no
// notice reaches makes a website posting owed while no banner is up; a
// banner withdrawn by force before its required posting ends is listed.
func TestCLI_CloseDuties(t *testing.T) {
	c := newCLI(t) // the clock: 2026-11-28 12:00 UTC
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-27", "--elements", "name,email,password,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")

	const (
		filing  = "filing not recorded as sent: DE filing with competent supervisory authority"
		people  = "people owed notice not yet notified"
		letter  = "letters not confirmed mailed"
		posting = "website posting minimum not met: the banner must stay up until 2026-12-28 12:00 UTC (30 days required by US-CA"
		owed    = "website posting owed"
	)
	steps := []struct {
		name string
		do   func()
		open []string // duties listed, in this order
	}{
		{"Planned", func() {}, []string{people, filing}},
		{"Sent", func() { c.ok("incident", "send", "1", "--outbox", filepath.Join(c.dir, "outbox")) }, []string{people, filing, letter}},
		{"FilingRecorded", func() { c.ok("regulators", "sent", "1", "DE", "--at", "2026-11-28", "--ref", "LfD 1") }, []string{people, letter}},
		{"BannerUp", func() { c.ok("banner", "publish", "1", "--public-url", "https://notices.example") }, []string{people, letter, posting}},
		{"LetterMailed", func() {
			zipPath := filepath.Join(c.dir, "batch.zip")
			c.lettersOK("export", "1", "--out", zipPath)
			zr, err := zip.OpenReader(zipPath)
			if err != nil {
				t.Fatal(err)
			}
			id := strings.TrimSuffix(zr.File[0].Name, ".pdf")
			zr.Close()
			c.lettersOK("confirm", c.file("mailed.csv", "letter_id,mailed_at\n"+id+",2026-11-28\n"))
		}, []string{posting}},
		{"PostingOver", func() { c.now = c.now.AddDate(0, 0, 31) }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			_, errOut, code := c.run("incident", "close", "1", "--json")
			if len(st.open) == 0 {
				if code != 0 {
					t.Fatalf("close with nothing open: exit %d\n%s", code, errOut)
				}
				return
			}
			if code != 1 {
				t.Fatalf("close with %v open: exit %d\n%s", st.open, code, errOut)
			}
			var listed []string
			for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
				l = strings.TrimPrefix(l, "breachnotice: incident 1: ")
				for _, d := range []string{filing, people, letter, posting, owed} {
					if strings.HasPrefix(l, d) || strings.Contains(l, d) {
						listed = append(listed, d)
					}
				}
			}
			if strings.Join(listed, "|") != strings.Join(st.open, "|") {
				t.Errorf("listed %q, want %q\n%s", listed, st.open, errOut)
			}
		})
		if t.Failed() {
			return
		}
	}
}

func TestCLI_ClosePostingOwed(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("retired.csv", "id,name,country,region,status\nr1,,US,CA,retired\n"))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-27", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	c.ok("incident", "send", "1", "--outbox", filepath.Join(c.dir, "outbox"))
	for _, tc := range []struct {
		name string
		do   []string
		want string
	}{
		{"NoBanner", nil, "website posting owed: 1 people count towards substitute notice and no banner is published (banner publish 1); US-CA requires 30 days"},
		{"Up", []string{"banner", "publish", "1", "--public-url", "https://notices.example"}, "website posting minimum not met: the banner must stay up until 2026-12-28 12:00 UTC"},
		{"WithdrawnEarly", []string{"banner", "withdraw", "1", "--force", "--reason", "posted in error"}, "website posting minimum not met: the banner was withdrawn 2026-11-28 12:00 UTC, before 2026-12-28 12:00 UTC (30 days required by US-CA)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.do != nil {
				c.ok(tc.do...)
			}
			_, errOut, code := c.run("incident", "close", "1")
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 1 and %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}
