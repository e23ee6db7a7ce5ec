package incident

import "testing"

// TestCleanTextShortcut checks that the import's shortcut returns what
// CleanText does, for every string of up to four pieces drawn from
// printable ASCII, spaces, controls and non-ASCII runes.
func TestCleanTextShortcut(t *testing.T) {
	pieces := []string{"", "a", " ", "~", "\x7f", "\x00", "\t", "\n", "é", "\u2028", "\u200b", "\xff", "Z9"}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		if got, want := cleanText(prefix), CleanText(prefix); got != want {
			t.Errorf("cleanText(%q) = %q, CleanText gives %q", prefix, got, want)
		}
		if n == 0 {
			return
		}
		for _, p := range pieces {
			gen(prefix+p, n-1)
		}
	}
	gen("", 4)
}

// TestAppendCopyText checks the escapes of COPY's text format, which the
// validated values, cleaned of controls, rarely need: a backslash stays
// a backslash once stored.
func TestAppendCopyText(t *testing.T) {
	for v, want := range map[string]string{
		"":                  "",
		"plain Zoë":         "plain Zoë",
		`a\b`:               `a\\b`,
		"\\\t\n\r\\":        `\\\t\n\r\\`,
		`\.`:                `\\.`,
		"\\N":               `\\N`,
		"tab\tend\r\nx\\\\": `tab\tend\r\nx\\\\`,
	} {
		if got := string(appendCopyText([]byte("x"), v)); got != "x"+want {
			t.Errorf("appendCopyText(%q) = %q, want %q", v, got[1:], want)
		}
	}
}
