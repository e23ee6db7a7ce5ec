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
