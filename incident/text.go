package incident

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText removes control characters from a value that will be printed
// in a header, a letter's address block or a table: CR, LF and tab become a
// space, other control and format characters are dropped, runs of spaces
// collapse and the ends are trimmed.
func CleanText(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t' || r == '\u2028' || r == '\u2029' || r == ' ':
			space = true
			continue
		case r < 0x20 || r == 0x7f || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// CheckEmail checks that s is one bare, deliverable-looking address
// (local@domain.tld, no display name, no spaces) and returns it with the
// domain lower-cased.
func CheckEmail(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty address")
	}
	if strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return "", errors.New("not a single bare address")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", errors.New("missing '@' or a part around it")
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if len(local) > 64 || len(s) > 254 {
		return "", errors.New("too long")
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", fmt.Errorf("domain %s is not a full domain name", quoteValue(domain))
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", fmt.Errorf("domain %s has an empty or malformed label", quoteValue(domain))
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f && unicode.IsLetter(r)) {
				return "", fmt.Errorf("domain %s holds an invalid character", quoteValue(domain))
			}
		}
	}
	addr := s
	if domain != s[at+1:] {
		addr = local + "@" + domain
	}
	// The usual address, a dot-atom of ASCII letters, digits and the
	// other atext characters at a checked ASCII domain, is what
	// mail.ParseAddress accepts and returns unchanged: it skips the parser
	// (a quarter of an import's time on the client).
	if dotAtom(local) && isASCII(domain) {
		return addr, nil
	}
	p, err := mail.ParseAddress(addr)
	if err != nil || p.Address != addr || p.Name != "" {
		return "", errors.New("not a valid address")
	}
	return addr, nil
}

// dotAtom reports whether s is an RFC 5322 dot-atom of ASCII atext: one or
// more runs of letters, digits and !#$%&'*+-/=?^_`{|}~ joined by single
// dots.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
