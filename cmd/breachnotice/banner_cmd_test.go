package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// postingLine returns the "website posting" line of incident show or
// incident plan output.
func postingLine(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "website posting"); ok {
			return strings.TrimLeft(rest, ": ")
		}
	}
	t.Fatalf("no website posting line in:\n%s", out)
	return ""
}

// TestCLI_PostingInShowAndPlan: incident show and incident plan say since
// when the banner is up, until when the law requires it and by which
// jurisdiction, through publication, a new last day and a withdrawal.
func TestCLI_PostingInShowAndPlan(t *testing.T) {
	c := webCLI(t) // incidents 1 (nb) and 2 (op) published 2026-11-28 12:00 UTC; 3 (nb) planned only
	steps := []struct {
		name string
		do   func()
		id   string
		want string
	}{
		{"Unpublished", nil, "3",
			"no banner published (breachnotice banner publish 3); once published it must stay up 30 days, required by US-CA"},
		{"Published", nil, "1",
			"banner since 2026-11-28 12:00 UTC, required until 2026-12-28 12:00 UTC (30 days required by US-CA); shown until withdrawn"},
		{"WithUntil", func() { c.ok("banner", "publish", "1", "--until", "2027-01-15") }, "1",
			"banner since 2026-11-28 12:00 UTC, required until 2026-12-28 12:00 UTC (30 days required by US-CA); shown through 2027-01-15"},
		{"ForcedWithdrawal", func() {
			c.now = c.now.Add(72 * time.Hour)
			c.ok("banner", "withdraw", "1", "--force", "--reason", "wrong incident")
		}, "1",
			"banner since 2026-11-28 12:00 UTC, required until 2026-12-28 12:00 UTC (30 days required by US-CA); withdrawn early (forced) 2026-12-01 12:00 UTC"},
		{"Withdrawal", func() {
			c.now = time.Date(2026, 12, 29, 9, 0, 0, 0, time.UTC)
			c.ok("banner", "withdraw", "2")
		}, "2",
			"banner since 2026-11-28 12:00 UTC, required until 2026-12-28 12:00 UTC (30 days required by US-CA); withdrawn 2026-12-29 09:00 UTC"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.do != nil {
				s.do()
			}
			if got := postingLine(t, c.ok("incident", "show", s.id)); got != s.want {
				t.Errorf("incident show %s:\n got %s\nwant %s", s.id, got, s.want)
			}
			if got := postingLine(t, c.ok("incident", "plan", s.id)); got != s.want {
				t.Errorf("incident plan %s:\n got %s\nwant %s", s.id, got, s.want)
			}
		})
	}
	// banner expire, the scheduler's hourly job, withdraws a banner once its
	// last day is over.
	c.ok("banner", "publish", "3", "--until", "2027-02-01")
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2027, 2, 1, 23, 0, 0, 0, time.UTC), "expired 0 banners"},
		{time.Date(2027, 2, 2, 0, 0, 0, 0, time.UTC), "expired 1 banners"},
		{time.Date(2027, 2, 2, 1, 0, 0, 0, time.UTC), "expired 0 banners"},
	} {
		c.now = tc.now
		if out := c.ok("banner", "expire"); !strings.HasPrefix(out, tc.want) {
			t.Errorf("banner expire at %s: %q, want %q", tc.now, out, tc.want)
		}
	}
	if got, want := postingLine(t, c.ok("incident", "show", "3")), "banner since 2026-12-29 09:00 UTC, required until 2027-01-28 09:00 UTC (30 days required by US-CA); withdrawn 2027-02-02 00:00 UTC"; got != want {
		t.Errorf("after expiry:\n got %s\nwant %s", got, want)
	}

	var show struct {
		Posting struct {
			Days          int       `json:"required_days"`
			By            string    `json:"required_by"`
			Published     bool      `json:"published"`
			Since         time.Time `json:"since"`
			RequiredUntil time.Time `json:"required_until"`
			Until         string    `json:"until"`
			Withdrawn     time.Time `json:"withdrawn"`
			Forced        bool      `json:"forced"`
		} `json:"posting"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "1", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	p := show.Posting
	if p.Days != 30 || p.By != "US-CA" || !p.Published || p.Until != "2027-01-15" || !p.Forced ||
		!p.Since.Equal(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)) || !p.RequiredUntil.Equal(p.Since.AddDate(0, 0, 30)) ||
		!p.Withdrawn.Equal(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("incident show --json posting %+v", p)
	}
}
