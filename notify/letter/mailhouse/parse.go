package mailhouse

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// A mail-house file (confirmation or returned-to-sender) is a CSV of
// letter_id,DATE[,TEXT] with an optional header row. parseLetterFile reads
// it without touching the database; applyLetterFile then checks each parsed
// line against the letter it names. The rules that need no database are
// here:
//
//   - every line that is neither blank nor the header comes out exactly
//     once, in order, with the number of the file line it starts on:
//     parsed, or rejected with a field and a reason;
//   - a date is YYYY-MM-DD or RFC 3339, and not after now plus
//     DateSlack;
//   - a letter named twice is rejected on its second line;
//   - the free text (tracking number, returned reason) is made one clean
//     line (incident.CleanText, then templates.OneLine: no control or
//     format characters, tabs or newlines; invalid UTF-8 and runs of white
//     space become one space) and cut to MaxText runes;
//   - a reason quotes at most maxQuoted runes of what the file held.

// MaxText is the most runes of free text (the tracking number of a
// confirmation, the reason of a returned letter) kept from a mail-house
// file line; longer text is cut, and the line gets a warning.
const MaxText = 500

// DateSlack is how far past now a mail-house date may be: the mail
// house may be a time zone ahead, and a date-only value means the whole
// day. A later date is rejected as in the future.
const DateSlack = 24 * time.Hour

// maxQuoted is the most runes of a bad value quoted in a problem's reason.
const maxQuoted = 40

// letterLine is one line of a mail-house file.
type letterLine struct {
	line  int
	id    int64
	at    time.Time
	extra string
	// cut says extra was longer than MaxText and was cut.
	cut bool
	// field and reason, when set, reject the line (reported in line order
	// with the rejections the database finds).
	field, reason string
}

// parseLetterFile reads a mail-house file of event ev and calls emit with
// every line that is neither blank nor the header, in file order. now is
// the clock for the future-date check. It returns emit's error, or an
// error reading r; a malformed line is a rejected letterLine, never an
// error.
func parseLetterFile(r io.Reader, ev letterEvent, now time.Time, emit func(letterLine) error) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	seen := map[int64]int{}
	first := true // no non-blank record yet: it may be the header
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			first = false
			if err := emit(letterLine{line: pe.StartLine, field: "csv", reason: pe.Err.Error()}); err != nil {
				return err
			}
			continue
		}
		// The line the record starts on: a quoted field may span lines.
		line, _ := cr.FieldPos(0)
		if first {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if strings.EqualFold(strings.TrimSpace(rec[0]), "letter_id") {
				continue
			}
		}
		if err := emit(parseLetterLine(rec, line, ev, now, seen)); err != nil {
			return err
		}
	}
}

// parseLetterLine parses one record; seen maps the letters of earlier
// lines to their line.
func parseLetterLine(rec []string, line int, ev letterEvent, now time.Time, seen map[int64]int) letterLine {
	bad := func(field, reason string) letterLine { return letterLine{line: line, field: field, reason: reason} }
	if len(rec) < 2 || len(rec) > 3 {
		return bad("line", fmt.Sprintf("want letter_id,%s[,%s], got %d fields", ev.field, ev.extra, len(rec)))
	}
	id, ok := parseLetterID(rec[0])
	if !ok {
		return bad("letter_id", quote(rec[0])+" is not a letter id")
	}
	at, err := parseMailDate(rec[1])
	if err != nil {
		return bad(ev.field, err.Error())
	}
	if at.After(now.Add(DateSlack)) {
		return bad(ev.field, mailDate(at)+" is in the future")
	}
	if first, dup := seen[id]; dup {
		return bad("letter_id", fmt.Sprintf("%s is also on line %d", LetterID(id), first))
	}
	seen[id] = line
	l := letterLine{line: line, id: id, at: at}
	if len(rec) == 3 {
		l.extra, l.cut = cleanLetterText(rec[2])
	}
	return l
}

// blank reports whether every field of rec is white space.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// parseLetterID reads "L17" (or "17") back.
func parseLetterID(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "L")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// parseMailDate reads YYYY-MM-DD or an RFC 3339 time.
func parseMailDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(incident.DateLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s is not YYYY-MM-DD or an RFC 3339 time", quote(s))
}

// cleanLetterText makes free text from a mail-house file one clean line of
// at most MaxText runes; cut reports that it was longer.
func cleanLetterText(s string) (clean string, cut bool) {
	// CleanText drops control and format characters (zero-width, bidi
	// overrides); OneLine then turns invalid UTF-8 and every kind of white
	// space into single spaces and trims the ends, which CleanText does
	// only for ASCII white space.
	s = templates.OneLine(incident.CleanText(s))
	if utf8.RuneCountInString(s) <= MaxText {
		return s, false
	}
	n := 0
	for i := range s {
		if n == MaxText {
			return strings.TrimSpace(s[:i]), true
		}
		n++
	}
	return s, false
}

// quote quotes a value from the file for a problem's reason, cut to
// maxQuoted runes so that a huge or hostile field cannot flood the report.
func quote(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

// mailDate formats a parsed mail-house date for a reason: YYYY-MM-DD when
// it has no time of day.
func mailDate(t time.Time) string {
	if t.Equal(day(t)) {
		return t.Format(incident.DateLayout)
	}
	return t.Format(time.RFC3339)
}

// day is t's UTC day: mail-house dates are compared by day.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
