package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/incident"
)

// errNotCanonical reports that a line is not in the canonical layout; it
// may still be a JSON entry.
var errNotCanonical = errors.New("not canonical")

// parseEntry decodes one entry encoding, reporting whether it was the
// canonical one. Canonical lines take a fast path that reads the fixed
// layout directly; anything else is decoded with encoding/json (and is not
// canonical).
func parseEntry(line []byte) (Entry, bool, error) {
	if e, err := parseCanonical(line); err == nil {
		var scratch [512]byte
		return e, bytes.Equal(e.appendCanonical(scratch[:0]), line), nil
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, false, err
	}
	return e, false, nil
}

// scanner reads the canonical layout.
type scanner struct {
	b   []byte
	err error
}

func (s *scanner) lit(l string) bool {
	if s.err != nil {
		return false
	}
	if len(s.b) < len(l) || string(s.b[:len(l)]) != l {
		return false
	}
	s.b = s.b[len(l):]
	return true
}

func (s *scanner) must(l string) {
	if !s.lit(l) && s.err == nil {
		s.err = errNotCanonical
	}
}

func (s *scanner) int() int64 {
	if s.err != nil {
		return 0
	}
	i := 0
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(s.b[:i]), 10, 64)
	if err != nil {
		s.err = errNotCanonical
		return 0
	}
	s.b = s.b[i:]
	return n
}

// str reads a JSON string.
func (s *scanner) str() string {
	if s.err != nil {
		return ""
	}
	if len(s.b) == 0 || s.b[0] != '"' {
		s.err = errNotCanonical
		return ""
	}
	b := s.b[1:]
	// Fast path: no escapes.
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			if !utf8.Valid(b[:i]) {
				s.err = errNotCanonical
				return ""
			}
			s.b = b[i+1:]
			return string(b[:i])
		case c == '\\':
			return s.strSlow()
		case c < 0x20:
			s.err = errNotCanonical
			return ""
		}
	}
	s.err = errNotCanonical
	return ""
}

func (s *scanner) strSlow() string {
	b := s.b[1:]
	var out []byte
	fail := func() string { s.err = errNotCanonical; return "" }
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			if !utf8.Valid(out) {
				return fail()
			}
			s.b = b[i+1:]
			return string(out)
		}
		if c < 0x20 {
			return fail()
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i >= len(b) {
			return fail()
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(b) {
				return fail()
			}
			r, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32)
			if err != nil {
				return fail()
			}
			i += 4
			rr := rune(r)
			if utf16.IsSurrogate(rr) {
				rr = utf8.RuneError
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if r2, err := strconv.ParseUint(string(b[i+3:i+7]), 16, 32); err == nil {
						if d := utf16.DecodeRune(rune(r), rune(r2)); d != utf8.RuneError {
							rr = d
							i += 6
						}
					}
				}
			}
			out = utf8.AppendRune(out, rr)
		default:
			return fail()
		}
	}
	return fail()
}

// kindNames and channelNames are strings parseCanonical returns without
// allocating.
var (
	kindNames = func() []string {
		kinds := incident.EventKinds()
		s := make([]string, len(kinds))
		for i, k := range kinds {
			s[i] = string(k)
		}
		return s
	}()
	channelNames = []string{"email", "letter", "banner"}
)

// known reads a JSON string, returning the equal element of names when
// there is one.
func (s *scanner) known(names []string) string {
	if n, ok := s.match(names); ok {
		return n
	}
	return s.str()
}

// match reads a JSON string equal, as written, to one of names.
func (s *scanner) match(names []string) (string, bool) {
	if s.err == nil && len(s.b) > 0 && s.b[0] == '"' {
		for _, n := range names {
			if len(s.b) > len(n)+1 && s.b[len(n)+1] == '"' && string(s.b[1:len(n)+1]) == n {
				s.b = s.b[len(n)+2:]
				return n, true
			}
		}
	}
	return "", false
}

// parseCanonical reads an entry laid out as Canonical writes it, failing
// with errNotCanonical on anything else. Strings are unescaped leniently;
// the caller compares the re-encoding with the input.
func parseCanonical(line []byte) (Entry, error) {
	s := &scanner{b: line}
	var e Entry
	s.must(`{"controller":`)
	e.Controller = s.str()
	s.must(`,"index":`)
	e.Index = s.int()
	s.must(`,"at":`)
	at := s.str()
	s.must(`,"kind":`)
	e.Kind = Kind(s.known(kindNames))
	if s.lit(`,"incident":`) {
		e.Incident = s.int()
	}
	if s.lit(`,"account":`) {
		e.Account = s.str()
	}
	if s.lit(`,"notice":`) {
		e.Notice = s.int()
	}
	if s.lit(`,"channel":`) {
		e.Channel = s.known(channelNames)
	}
	if s.lit(`,"possible_duplicate":true`) {
		e.PossibleDuplicate = true
	}
	if s.lit(`,"detail":`) {
		// The detail object runs to the line's closing brace.
		if len(s.b) < 3 || s.b[0] != '{' || s.b[len(s.b)-1] != '}' {
			return Entry{}, errNotCanonical
		}
		d := s.b[:len(s.b)-1]
		if !json.Valid(d) {
			return Entry{}, errNotCanonical
		}
		e.Detail = append(json.RawMessage(nil), d...)
		s.b = s.b[len(d):]
	}
	s.must(`}`)
	if s.err != nil || len(s.b) != 0 {
		return Entry{}, errNotCanonical
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Entry{}, errNotCanonical
	}
	e.At = t
	return e, nil
}

// topLevelStrings calls fn for every top-level key of the JSON object obj
// that is one of keys and whose value is a string, with the key and the
// decoded value. obj must be valid JSON (detail always is).
func topLevelStrings(obj []byte, keys []string, fn func(key, val string)) {
	s := &scanner{b: bytes.TrimSpace(obj)}
	if !s.lit("{") {
		return
	}
	for s.err == nil {
		s.skipSpace()
		if s.lit("}") {
			return
		}
		s.lit(",")
		s.skipSpace()
		key, wanted := s.match(keys)
		if !wanted {
			s.skipValue() // the key
		}
		s.skipSpace()
		s.must(":")
		s.skipSpace()
		if wanted && len(s.b) > 0 && s.b[0] == '"' {
			val := s.str()
			if s.err == nil {
				fn(key, val)
			}
			continue
		}
		s.skipValue()
	}
}

func (s *scanner) skipSpace() {
	for len(s.b) > 0 && (s.b[0] == ' ' || s.b[0] == '\t' || s.b[0] == '\n' || s.b[0] == '\r') {
		s.b = s.b[1:]
	}
}

// skipValue skips a JSON value.
func (s *scanner) skipValue() {
	depth := 0
	for i := 0; i < len(s.b); i++ {
		switch s.b[i] {
		case '"':
			for i++; i < len(s.b) && s.b[i] != '"'; i++ {
				if s.b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				s.b = s.b[min(i+1, len(s.b)):]
				return
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				s.b = s.b[i:]
				return
			}
			depth--
			if depth == 0 {
				s.b = s.b[i+1:]
				return
			}
		case ',':
			if depth == 0 {
				s.b = s.b[i:]
				return
			}
		}
	}
	s.err = errNotCanonical
}
