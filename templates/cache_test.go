package templates

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestEmailCache_MatchesRenderEmail holds the cache to RenderEmail's bytes
// for names that stress escaping, cleaning and wrapping, in both languages.
func TestEmailCache_MatchesRenderEmail(t *testing.T) {
	ctx := context.Background()
	names := []string{
		"Ana García", "Seán O'Brien", "Zoë <script>alert(1)</script> & Co", `Bob "Bobby" Tables`,
		"Ó Súilleabháin-Fernández de la Peña y Castillo, María José Guadalupe Alejandra", // too long for one line: full render
		strings.Repeat("Long", 30), "  spaced   out  ", "Tab\tNewline\nName", "", "Łukasz Żółć", "李小龍",
	}
	cache := NewEmailCache()
	for _, profile := range []string{"generic", "us-ca", "us-ma", "gdpr"} {
		for _, locale := range []string{"en-US", "es-MX"} {
			for _, name := range names {
				n := Notice{Profile: profile, Locale: locale, RecipientName: name,
					Controller:  Party{Name: "Northbridge University", Email: "privacy@nb.example", Phone: "+1 512 555 0142"},
					Description: "An attacker copied the course database.", Discovered: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
					NoticeDate: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Elements: []string{"name", "email", "password"}}
				want, err := RenderEmail(ctx, n)
				if err != nil {
					t.Fatal(err)
				}
				got, err := cache.Render(ctx, n, profile)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s %s %q: cached rendering differs from RenderEmail", profile, locale, name)
				}
			}
		}
	}
	if len(cache.m) != 8 {
		t.Errorf("%d cached renderings, want one per profile and language (8)", len(cache.m))
	}
}
