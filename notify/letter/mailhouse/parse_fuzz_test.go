package mailhouse

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzParseLetterFile fuzzes the parser of mail-house files (confirmation
// and returned-to-sender share it), reading every input as both. The seed
// corpus is in testdata/fuzz/FuzzParseLetterFile; run it longer with
//
//	go test ./notify/letter/mailhouse -run '^$' -fuzz FuzzParseLetterFile -fuzztime 120s
//
// It checks that the parser never panics or fails on an in-memory reader,
// that every line comes out at most once, in order, with a line number of
// the input, and, for inputs without a quote character (where a record is
// exactly one line), that every line that is neither blank nor the header
// comes out exactly once; and that what it accepts is clean.
func FuzzParseLetterFile(f *testing.F) {
	f.Add([]byte("letter_id,mailed_at,tracking\nL1,2026-11-28,T1\n"))
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ev := range []letterEvent{mailedEvent, returnedEvent} {
			var got []letterLine
			err := parseLetterFile(bytes.NewReader(data), ev, now, func(l letterLine) error {
				got = append(got, l)
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", ev.field, err)
			}
			checkLetterLines(t, data, ev, now, got)
		}
	})
}

func checkLetterLines(t *testing.T, data []byte, ev letterEvent, now time.Time, got []letterLine) {
	t.Helper()
	lines := strings.Split(string(data), "\n")
	nonBlank := make([]bool, len(lines)+1) // by line number
	header := 0                            // the header's line number, if any
	seenNonBlank := false
	for i, ln := range lines {
		if !seenNonBlank {
			ln = strings.TrimPrefix(ln, "\ufeff")
		}
		for _, f := range strings.Split(ln, ",") {
			if strings.TrimSpace(f) != "" {
				nonBlank[i+1] = true
			}
		}
		if nonBlank[i+1] && !seenNonBlank {
			seenNonBlank = true
			first, _, _ := strings.Cut(ln, ",")
			if strings.EqualFold(strings.TrimSpace(first), "letter_id") {
				header = i + 1
			}
		}
	}

	ids := map[int64]bool{}
	prev := 0
	for _, l := range got {
		if l.line <= prev || l.line > len(lines) {
			t.Fatalf("%s: line %d after line %d (input has %d lines)", ev.field, l.line, prev, len(lines))
		}
		prev = l.line
		if !nonBlank[l.line] {
			t.Fatalf("%s: line %d is blank but was reported", ev.field, l.line)
		}
		if l.reason != "" {
			switch l.field {
			case "csv", "line", "letter_id", ev.field:
			default:
				t.Fatalf("line %d: rejected in field %q", l.line, l.field)
			}
			if len(l.reason) > 512 || !utf8.ValidString(l.reason) || strings.ContainsAny(l.reason, "\n\r") {
				t.Fatalf("line %d: reason of %d bytes is unbounded or not one line: %q", l.line, len(l.reason), l.reason)
			}
			continue
		}
		if l.field != "" {
			t.Fatalf("line %d: field %q without a reason", l.line, l.field)
		}
		if l.id <= 0 || ids[l.id] {
			t.Fatalf("line %d: letter %d accepted (twice?)", l.line, l.id)
		}
		ids[l.id] = true
		// No lower bound here: a date before the letter's export is
		// rejected by the store, which knows the export.
		if l.at.After(now.Add(DateSlack)) {
			t.Fatalf("line %d: date %v accepted", l.line, l.at)
		}
		// A cut text keeps MaxText runes, less a trailing space.
		if n := utf8.RuneCountInString(l.extra); n > MaxText || l.cut && n < MaxText-1 {
			t.Fatalf("line %d: %s of %d runes (cut %v)", l.line, ev.extra, n, l.cut)
		}
		if !utf8.ValidString(l.extra) || strings.TrimSpace(l.extra) != l.extra || strings.Contains(l.extra, "  ") {
			t.Fatalf("line %d: %s %q is not one clean line", l.line, ev.extra, l.extra)
		}
		for _, r := range l.extra {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("line %d: %s %q holds %U", l.line, ev.extra, l.extra, r)
			}
		}
	}

	if bytes.IndexByte(data, '"') >= 0 {
		return // a quoted field may span lines: the exact check below does not hold
	}
	reported := map[int]bool{}
	for _, l := range got {
		reported[l.line] = true
	}
	for n := 1; n <= len(lines); n++ {
		if want := nonBlank[n] && n != header; reported[n] != want {
			t.Fatalf("%s: line %d %q: reported %v, want %v", ev.field, n, lines[n-1], reported[n], want)
		}
	}
}
