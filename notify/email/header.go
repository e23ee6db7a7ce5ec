package email

import (
	"bytes"
	netmail "net/mail"
	"strings"
	"unicode/utf8"
)

// Header encoding of display names and subjects.
//
// net/mail's Address.String is not used for From and To: for a name that
// is not plain ASCII it writes a Q-encoded word that keeps a backslash
// raw ("=?utf-8?q?\=C3=AD?="), which is not an atom, so the To header of
// a recipient named `\í` did not parse. formatAddress writes every name
// so that net/mail (and any RFC 2047 reader) decodes it back unchanged.

// maxWord is the longest encoded-word written: RFC 2047 allows 75
// characters, and a line holding one at most 76, so words are kept short
// enough to follow "Subject: " on the first line. foldable is the longest
// run of a quoted name without a space: longer runs are written as
// encoded words, which can be folded.
const (
	maxWord  = 66
	foldable = 60
)

// formatAddress returns "display-name <addr>" for a From or To header,
// or "<addr>" when name is empty. name must already be cleaned of control
// characters (headerText); addr is a checked addr-spec.
//
// A name of printable ASCII goes out as a quoted-string, with '"' and '\'
// escaped. A name with anything else (non-ASCII, a word too long to fold,
// or "=?", which some readers decode even inside quotes) goes out as
// RFC 2047 encoded-words in Q encoding restricted to the characters RFC
// 2047 section 5(3) allows in a phrase: letters, digits and "!*+-/" stay,
// a space is "_", every other byte is "=XX". Each word is at most maxWord
// characters and never splits a UTF-8 sequence, and the words are
// separated by spaces, where the header may be folded.
func formatAddress(name, addr string) string {
	bare := (&netmail.Address{Address: addr}).String()
	if name == "" {
		return bare
	}
	return phrase(name) + " " + bare
}

// phrase returns name as an RFC 5322 display-name (see formatAddress).
func phrase(name string) string {
	if quotable(name) {
		var b strings.Builder
		b.Grow(len(name) + 2)
		b.WriteByte('"')
		for i := 0; i < len(name); i++ {
			if c := name[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(name[i])
		}
		b.WriteByte('"')
		return b.String()
	}
	return encodeWords(name, phraseSafe)
}

// quotable reports whether name can go out as a quoted-string: printable
// ASCII and spaces only, no "=?", and no run without a space longer than
// a header line can hold after folding.
func quotable(name string) bool {
	if strings.Contains(name, "=?") {
		return false
	}
	run := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < ' ' || c > '~' {
			return false
		}
		if c == ' ' {
			run = 0
			continue
		}
		if run++; run > foldable {
			return false
		}
	}
	return true
}

// subjectText returns s as the value of an unstructured header such as
// Subject: as it is when quotable says a name could be quoted (printable
// ASCII, no "=?", which a reader would decode, foldable), otherwise as
// Q-encoded words. The characters kept raw are the printable ASCII that
// unstructured text allows, except '=', '?' and '_', which Q encoding
// reserves.
func subjectText(s string) string {
	if quotable(s) {
		return s
	}
	return encodeWords(s, func(c byte) bool {
		return c > ' ' && c <= '~' && c != '=' && c != '?' && c != '_'
	})
}

// phraseSafe reports whether c may stand raw in a Q-encoded word inside a
// phrase (RFC 2047 section 5(3)).
func phraseSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/'
}

// encodeWords writes s as space-separated UTF-8 Q-encoded words of at
// most maxWord characters each, keeping the bytes safe says are safe,
// writing a space as '_' and every other byte as "=XX". A UTF-8 sequence
// is never split across words (each word must decode to whole
// characters on its own).
func encodeWords(s string, safe func(byte) bool) string {
	const open, closing = "=?utf-8?q?", "?="
	const upperhex = "0123456789ABCDEF"
	room := maxWord - len(open) - len(closing)
	var b strings.Builder
	b.Grow(len(s)*3 + (len(s)/room+1)*(len(open)+len(closing)+1))
	used := 0
	b.WriteString(open)
	for i := 0; i < len(s); {
		// One character (or one invalid byte) at a time, encoded whole.
		_, size := utf8.DecodeRuneInString(s[i:])
		need := 0
		for j := i; j < i+size; j++ {
			if s[j] == ' ' || safe(s[j]) {
				need++
			} else {
				need += 3
			}
		}
		if used+need > room {
			b.WriteString(closing)
			b.WriteByte(' ')
			b.WriteString(open)
			used = 0
		}
		for j := i; j < i+size; j++ {
			switch c := s[j]; {
			case c == ' ':
				b.WriteByte('_')
			case safe(c):
				b.WriteByte(c)
			default:
				b.WriteByte('=')
				b.WriteByte(upperhex[c>>4])
				b.WriteByte(upperhex[c&0x0f])
			}
		}
		used += need
		i += size
	}
	b.WriteString(closing)
	return b.String()
}

// writeField writes "key: value" and CRLF to b, folded at spaces so that
// each line holds at most 78 characters where the value allows it (a
// space-free run longer than a line stays whole). value must be ASCII
// without control characters.
func writeField(b *bytes.Buffer, key, value string) {
	const width = 78
	b.WriteString(key)
	b.WriteByte(':')
	line := len(key) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && line+1+len(word) > width {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteByte(' ')
		b.WriteString(word)
		line += 1 + len(word)
	}
	b.WriteString("\r\n")
}
