package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/incident"
)

// Canonical returns the entry's canonical encoding, the bytes its leaf hash
// is computed over (tlog.RecordHash) and its line in entries.jsonl.
//
// It is compact JSON (no insignificant whitespace) with the fields in this
// fixed order, the optional ones omitted when zero:
//
//	{"controller":S,"index":N,"at":S,"kind":S,"incident":N,"account":S,
//	 "notice":N,"channel":S,"possible_duplicate":true,"detail":{...}}
//
// at is RFC 3339 in UTC with nanoseconds and no trailing zeros
// (time.RFC3339Nano). Strings are written as raw UTF-8 except for '"' and
// '\\' (backslash-escaped), \n, \r, \t and the other control characters
// below U+0020 (\u00XX). detail is the caller's JSON object compacted
// (json.Compact: whitespace removed, nothing else changed). Decoding a line
// with encoding/json and re-encoding it yields the same bytes exactly when
// the line is canonical; Verify checks this.
func (e *Entry) Canonical() []byte {
	return e.appendCanonical(make([]byte, 0, 192+len(e.Detail)))
}

func (e *Entry) appendCanonical(b []byte) []byte {
	b = append(b, `{"controller":`...)
	b = appendString(b, e.Controller)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, e.Index, 10)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","kind":`...)
	b = appendString(b, string(e.Kind))
	if e.Incident != 0 {
		b = append(b, `,"incident":`...)
		b = strconv.AppendInt(b, e.Incident, 10)
	}
	if e.Account != "" {
		b = append(b, `,"account":`...)
		b = appendString(b, e.Account)
	}
	if e.Notice != 0 {
		b = append(b, `,"notice":`...)
		b = strconv.AppendInt(b, e.Notice, 10)
	}
	if e.Channel != "" {
		b = append(b, `,"channel":`...)
		b = appendString(b, e.Channel)
	}
	if e.PossibleDuplicate {
		b = append(b, `,"possible_duplicate":true`...)
	}
	if len(e.Detail) > 0 {
		b = append(b, `,"detail":`...)
		b = append(b, e.Detail...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string in canonical form. s must be
// valid UTF-8 (validate checks).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// validate checks an entry before it is appended and compacts its detail.
func (e *Entry) validate() error {
	switch {
	case e.Controller == "":
		return fmt.Errorf("%w: entry without controller", incident.ErrInvalid)
	case !e.Kind.Valid():
		return fmt.Errorf("%w: unknown entry kind %q", incident.ErrInvalid, e.Kind)
	case e.At.IsZero():
		return fmt.Errorf("%w: %s entry without time", incident.ErrInvalid, e.Kind)
	case e.Incident < 0 || e.Notice < 0:
		return fmt.Errorf("%w: %s entry with negative id", incident.ErrInvalid, e.Kind)
	}
	for _, s := range [...]string{e.Controller, e.Account, e.Channel} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s entry with invalid UTF-8", incident.ErrInvalid, e.Kind)
		}
	}
	d := bytes.TrimSpace(e.Detail)
	if len(d) == 0 || string(d) == "null" {
		e.Detail = nil
		return nil
	}
	if d[0] != '{' {
		return fmt.Errorf("%w: %s entry detail is not a JSON object", incident.ErrInvalid, e.Kind)
	}
	var buf bytes.Buffer
	buf.Grow(len(d))
	if err := json.Compact(&buf, d); err != nil {
		return fmt.Errorf("%w: %s entry detail: %v", incident.ErrInvalid, e.Kind, err)
	}
	if !utf8.Valid(buf.Bytes()) {
		return fmt.Errorf("%w: %s entry detail with invalid UTF-8", incident.ErrInvalid, e.Kind)
	}
	if string(buf.Bytes()) == "{}" {
		e.Detail = nil
		return nil
	}
	e.Detail = buf.Bytes()
	return nil
}

// detailFields are the detail keys bundle summaries read.
type detailFields struct {
	Jurisdiction string `json:"jurisdiction"`
	Deadline     string `json:"deadline"`
	PublicKey    string `json:"public_key"`
}

var detailKeys = []string{"jurisdiction", "deadline", "public_key"}

func (e *Entry) detailFields() detailFields {
	var d detailFields
	if len(e.Detail) == 0 {
		return d
	}
	topLevelStrings(e.Detail, detailKeys, func(k, v string) {
		switch k {
		case "jurisdiction":
			d.Jurisdiction = v
		case "deadline":
			d.Deadline = v
		case "public_key":
			d.PublicKey = v
		}
	})
	return d
}

// csvHeader and csvRecord define entries.csv. Cells that a spreadsheet would
// run as a formula (starting with = + - @) are prefixed with a single quote.
var csvHeader = []string{"index", "at", "kind", "incident", "account", "notice", "channel", "possible_duplicate", "detail"}

func csvRecord(e *Entry, rec []string) []string {
	rec = rec[:0]
	rec = append(rec,
		strconv.FormatInt(e.Index, 10),
		e.At.UTC().Format(time.RFC3339Nano),
		string(e.Kind),
		intCell(e.Incident),
		safeCell(e.Account),
		intCell(e.Notice),
		safeCell(e.Channel),
		strconv.FormatBool(e.PossibleDuplicate),
		string(e.Detail),
	)
	return rec
}

func intCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func safeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
