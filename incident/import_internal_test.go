package incident

import (
	"net/mail"
	"strings"
	"testing"
)

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

// TestCheckEmailShortcut checks that CheckEmail, which skips net/mail for
// a dot-atom local part at an ASCII domain, gives what it gave when every
// address went through mail.ParseAddress: the same address or a refusal,
// for every local part of one or two printable ASCII characters, dotted
// and non-ASCII ones, at plain, upper-case, A-label and U-label domains.
func TestCheckEmailShortcut(t *testing.T) {
	reference := func(s string) (string, bool) {
		addr, err := CheckEmail(s) // the checks before the parser are unchanged
		if err != nil {
			return "", false
		}
		at := strings.LastIndexByte(s, '@')
		full := s[:at] + "@" + strings.ToLower(s[at+1:])
		p, perr := mail.ParseAddress(full)
		if perr != nil || p.Address != full || p.Name != "" {
			return "", false
		}
		return addr, true
	}
	var locals []string
	for a := 0x20; a < 0x7f; a++ {
		locals = append(locals, string(rune(a)))
		for b := 0x20; b < 0x7f; b++ {
			locals = append(locals, string(rune(a))+string(rune(b)))
		}
	}
	locals = append(locals, "a.b", ".a", "a.", "a..b", "first.last+tag", "é", "aé", "\"a b\"", "a\x00", "\xff", "o'neil", "a.-b")
	n := 0
	for _, domain := range []string{"example.org", "Example.ORG", "xn--bcher-kva.example", "bücher.example"} {
		for _, local := range locals {
			s := local + "@" + domain
			got, err := CheckEmail(s)
			want, ok := reference(s)
			if (err == nil) != ok || got != want {
				t.Errorf("CheckEmail(%q) = %q, %v; through net/mail: %q, accepted %v", s, got, err, want, ok)
			}
			if ok {
				n++
			}
		}
	}
	if n < 4*1000 {
		t.Errorf("only %d addresses accepted: the test no longer covers the shortcut", n)
	}
}
