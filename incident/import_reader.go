package incident

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one rejected row or warning of an import, printed as
// "FILE:LINE: FIELD: reason".
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Reason  string `json:"reason"`
	Warning bool   `json:"warning,omitempty"`
}

// String prints the problem for a terminal. Values quoted into a reason
// are escaped where they are quoted; any control or format character left
// (a file name, say) is escaped here, so no line can move the cursor or
// recolour the terminal.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", escapeControls(p.File), p.Line, escapeControls(p.Field), escapeControls(p.Reason))
}

// escapeControls replaces control and format characters, and bytes that
// are not UTF-8, by Go escapes (\x1b, \u202e).
func escapeControls(s string) string {
	if !hasControls(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case isControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasControls(s string) bool {
	for i, r := range s {
		if isControl(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return true
		}
	}
	return false
}

// isControl reports a character that must not reach a terminal or a
// printed line raw: C0 and C1 controls, DEL, format characters (bidi
// overrides among them) and the Unicode line and paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Format is an import file's format.
type Format string

// Import formats.
const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// FormatOf guesses the format from a file name: .jsonl/.ndjson/.json are
// JSON lines, anything else CSV.
func FormatOf(name string) Format {
	n := strings.ToLower(name)
	for _, ext := range []string{".jsonl", ".ndjson", ".json"} {
		if strings.HasSuffix(n, ext) {
			return FormatJSONL
		}
	}
	return FormatCSV
}

// maxLine caps one physical line of an import file, and one CSV record
// (whose quoted fields may hold line breaks). A longer line is rejected on
// its own, its bytes discarded as they are read: one runaway line neither
// fills memory nor stops the import.
const maxLine = 1 << 20

// record is one row of an import file, its values in schema column order.
type record struct {
	line int
	// lines is the number of physical lines the row spans (more than one
	// when a quoted field holds a line break).
	lines int
	vals  []string
	// has marks, bit i for schema column i, the columns the row holds: a
	// column the file lacks keeps its stored value on update.
	has uint64
	// bad, when set, rejects the row before any field is read.
	bad *Problem
}

// lineCounts accounts for every physical line a reader read: each is the
// header or blank (skipped), continues a row begun on an earlier line
// (continued), or starts a row.
type lineCounts struct {
	lines, skipped, continued int64
}

type recordReader interface {
	// next returns the next record, or io.EOF.
	next() (*record, error)
	// counts accounts for the lines read so far.
	counts() lineCounts
}

// schema names the columns of one import kind, their accepted aliases,
// the columns every file must hold and the cap of each column.
type schema struct {
	kind     string
	cols     []string
	aliases  map[string]string
	required []int
	// max is the cap of each column in bytes of UTF-8, spaces around the
	// value not counted: a longer value rejects the row.
	max []int
}

func (sc schema) index(name string) int {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := sc.aliases[n]; ok {
		n = a
	}
	for i, c := range sc.cols {
		if c == n {
			return i
		}
	}
	return -1
}

func (sc schema) requiredNames() string {
	var names []string
	for _, i := range sc.required {
		names = append(names, sc.cols[i])
	}
	return strings.Join(names, ",")
}

// check rejects a value over its column's cap.
func (sc schema) check(file string, line, idx int, v string) *Problem {
	if n := len(v); n > sc.max[idx] {
		if n = len(strings.TrimSpace(v)); n > sc.max[idx] {
			return &Problem{File: file, Line: line, Field: sc.cols[idx],
				Reason: fmt.Sprintf("%d bytes long: this column holds at most %d", n, sc.max[idx])}
		}
	}
	return nil
}

// quoteValue quotes a value for a problem line, escaped and cut to 64
// bytes.
func quoteValue(s string) string {
	if len(s) <= 64 {
		return strconv.Quote(s)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// newLineReader reads r, skipping a UTF-8 byte order mark at its start.
func newLineReader(r io.Reader) lineReader {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	return lineReader{br: br}
}

// lineReader reads physical lines: up to '\n' or the end of input, a
// trailing "\r" removed.
type lineReader struct {
	br   *bufio.Reader
	n    int // lines read
	long []byte
	err  error // a read error other than io.EOF
}

// next returns the next line (its bytes valid until the next call) and
// whether it was longer than maxLine (its bytes then discarded); ok is
// false at the end of the input or on a read error.
func (lr *lineReader) next() (b []byte, tooLong, ok bool) {
	b, err := lr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = lr.br.ReadSlice('\n')
			if !tooLong && len(lr.long)+len(b) <= maxLine+2 {
				lr.long = append(lr.long, b...)
			} else {
				tooLong = true
			}
		}
		b = lr.long
	}
	if err != nil && err != io.EOF {
		lr.err = err
		return nil, false, false
	}
	if len(b) == 0 && !tooLong {
		return nil, false, false
	}
	lr.n++
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) > maxLine {
		tooLong = true
	}
	if tooLong {
		b = nil
	}
	return b, tooLong, true
}

// pendingLine is a line read again after a failed multi-line record.
type pendingLine struct {
	b       []byte
	n       int
	tooLong bool
}

// csvScanner splits a stream into CSV records, strictly (RFC 4180, as
// encoding/csv without LazyQuotes), and never lets one bad line take
// others with it: a record is one physical line unless a quoted field
// holds a line break. When a quoted field opened on a line does not close
// into a valid record, that line alone is rejected and the lines after it
// are read again on their own. Each line is scanned again at most once
// per line that started a failed record, and the scan stops at the first
// quote that cannot be part of a field, so the cost stays linear.
type csvScanner struct {
	lr     lineReader
	back   []pendingLine
	parts  []pendingLine
	rec    []byte
	field  []byte
	ends   []int
	fields []string
	// line and span: the first line and the line count of the last record.
	line, span int
	// blank and continued count skipped blank lines and the lines that
	// continue a record begun on an earlier line.
	blank, continued int64
}

func newCSVScanner(r io.Reader) *csvScanner {
	return &csvScanner{lr: newLineReader(r)}
}

func (s *csvScanner) readLine() (pendingLine, bool) {
	if len(s.back) > 0 {
		l := s.back[0]
		s.back = s.back[1:]
		return l, true
	}
	b, long, ok := s.lr.next()
	return pendingLine{b: b, n: s.lr.n, tooLong: long}, ok
}

// errUnbalanced rejects a line whose quoted field never closes into a
// valid record.
const errUnbalanced = `unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)`

// next returns the fields of the next record (valid until the next call),
// or why the record at s.line cannot be read; fields is the count a
// record spanning several lines must have (-1: any). err is io.EOF at the
// end.
func (s *csvScanner) next(fields int) ([]string, string, error) {
	for {
		l, ok := s.readLine()
		if !ok {
			if s.lr.err != nil {
				return nil, "", s.lr.err
			}
			return nil, "", io.EOF
		}
		s.line, s.span = l.n, 1
		if l.tooLong {
			return nil, fmt.Sprintf("line longer than %d bytes: rejected unread", maxLine), nil
		}
		if len(bytes.TrimSpace(l.b)) == 0 {
			s.blank++
			continue
		}
		if bytes.Count(l.b, []byte{'"'})%2 == 0 {
			if reason := s.split(l.b); reason != "" {
				return nil, reason, nil
			}
			return s.fields, "", nil
		}
		// A quoted field holds a line break: join lines until a line with
		// an odd number of quotes closes it.
		s.rec = append(s.rec[:0], l.b...)
		s.parts = s.parts[:0]
		closed := false
		for !closed {
			m, ok := s.readLine()
			if !ok {
				break
			}
			s.parts = append(s.parts, pendingLine{b: bytes.Clone(m.b), n: m.n, tooLong: m.tooLong})
			if m.tooLong || len(s.rec)+1+len(m.b) > maxLine {
				break
			}
			s.rec = append(s.rec, '\n')
			s.rec = append(s.rec, m.b...)
			closed = bytes.Count(m.b, []byte{'"'})%2 == 1
		}
		if closed && s.split(s.rec) == "" && (fields < 0 || len(s.fields) == fields) {
			s.span += len(s.parts)
			s.continued += int64(len(s.parts))
			return s.fields, "", nil
		}
		s.back = append(append([]pendingLine(nil), s.parts...), s.back...)
		return nil, errUnbalanced, nil
	}
}

// split parses one record into s.fields, returning why it cannot.
func (s *csvScanner) split(b []byte) string {
	s.fields = s.fields[:0]
	if bytes.IndexByte(b, '"') < 0 {
		str := string(b)
		for {
			i := strings.IndexByte(str, ',')
			if i < 0 {
				s.fields = append(s.fields, str)
				return ""
			}
			s.fields = append(s.fields, str[:i])
			str = str[i+1:]
		}
	}
	s.field, s.ends = s.field[:0], s.ends[:0]
	for i := 0; ; {
		if i < len(b) && b[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					return `quoted field not closed`
				}
				s.field = append(s.field, b[i:i+j]...)
				i += j + 1
				if i < len(b) && b[i] == '"' {
					s.field = append(s.field, '"')
					i++
					continue
				}
				break
			}
			s.ends = append(s.ends, len(s.field))
			if i == len(b) {
				break
			}
			if b[i] != ',' {
				return `extraneous or missing " in quoted-field`
			}
			i++
			continue
		}
		end := len(b)
		if j := bytes.IndexByte(b[i:], ','); j >= 0 {
			end = i + j
		}
		if bytes.IndexByte(b[i:end], '"') >= 0 {
			return `bare " in non-quoted-field`
		}
		s.field = append(s.field, b[i:end]...)
		s.ends = append(s.ends, len(s.field))
		if end == len(b) {
			break
		}
		i = end + 1
	}
	str := string(s.field)
	prev := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, str[prev:e])
		prev = e
	}
	return ""
}

// csvReader streams a CSV file as exported by real systems: a UTF-8 BOM,
// quoted fields holding commas and newlines, CRLF line ends and blank lines
// are all accepted; quotes are parsed strictly.
type csvReader struct {
	file   string
	s      *csvScanner
	sc     schema
	colMap []int // file column -> schema column, -1 to ignore
	has    uint64
	header int64 // lines of the header
	rec    record
}

func newCSVReader(file string, r io.Reader, sc schema, warn func(Problem)) (*csvReader, error) {
	s := newCSVScanner(r)
	header, reason, err := s.next(-1)
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file: a header row is required", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if reason != "" {
		return nil, fmt.Errorf("%s:%d: header: %s", file, s.line, reason)
	}
	c := &csvReader{file: file, s: s, sc: sc, colMap: make([]int, len(header)), header: int64(s.span)}
	s.continued = 0
	var names []string
	for i, h := range header {
		names = append(names, quoteValue(h))
		idx := sc.index(h)
		if idx >= 0 && c.has&(1<<idx) != 0 {
			return nil, fmt.Errorf("%s:%d: %s: column appears twice", file, s.line, quoteValue(h))
		}
		if idx < 0 {
			warn(Problem{File: file, Line: s.line, Field: quoteValue(h), Reason: "unknown column, ignored (known: " + strings.Join(sc.cols, ",") + ")", Warning: true})
		} else {
			c.has |= 1 << idx
		}
		c.colMap[i] = idx
	}
	var missing []string
	for _, i := range sc.required {
		if c.has&(1<<i) == 0 {
			missing = append(missing, strconv.Quote(sc.cols[i]))
		}
	}
	if len(missing) > 0 {
		col := "column"
		if len(missing) > 1 {
			col += "s"
		}
		return nil, fmt.Errorf("%s:%d: header: missing required %s %s: nothing imported (%s files need the columns %s; this header has %s)",
			file, s.line, col, strings.Join(missing, ", "), sc.kind, sc.requiredNames(), strings.Join(names, ","))
	}
	c.rec.vals = make([]string, len(sc.cols))
	return c, nil
}

func (c *csvReader) counts() lineCounts {
	return lineCounts{lines: int64(c.s.lr.n), skipped: c.header + c.s.blank, continued: c.s.continued}
}

func (c *csvReader) next() (*record, error) {
	fields, reason, err := c.s.next(len(c.colMap))
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.file, err)
	}
	rec := &c.rec
	clear(rec.vals)
	rec.bad, rec.line, rec.lines, rec.has = nil, c.s.line, c.s.span, c.has
	if reason != "" {
		rec.bad = &Problem{File: c.file, Line: rec.line, Field: "row", Reason: reason}
		return rec, nil
	}
	if len(fields) != len(c.colMap) {
		rec.bad = &Problem{File: c.file, Line: rec.line, Field: "row",
			Reason: fmt.Sprintf("%d fields, header has %d", len(fields), len(c.colMap))}
		return rec, nil
	}
	for i, f := range fields {
		idx := c.colMap[i]
		if idx < 0 {
			continue
		}
		if !utf8.ValidString(f) {
			rec.bad = &Problem{File: c.file, Line: rec.line, Field: c.sc.cols[idx], Reason: "invalid UTF-8"}
			return rec, nil
		}
		if p := c.sc.check(c.file, rec.line, idx, f); p != nil {
			rec.bad = p
			return rec, nil
		}
		rec.vals[idx] = f
	}
	return rec, nil
}

// maxUnknownKeys bounds the unknown JSON keys warned about one by one.
const maxUnknownKeys = 100

// jsonlReader streams one JSON object per line.
type jsonlReader struct {
	file  string
	lr    lineReader
	sc    schema
	blank int64
	rec   record
	obj   map[string]json.RawMessage
	keys  []string
	warn  func(Problem)
	// unknown remembers which unknown keys were already warned about.
	unknown map[string]bool
}

func newJSONLReader(file string, r io.Reader, sc schema, warn func(Problem)) *jsonlReader {
	return &jsonlReader{file: file, lr: newLineReader(r), sc: sc,
		rec: record{vals: make([]string, len(sc.cols)), lines: 1}, warn: warn, unknown: map[string]bool{}}
}

func (j *jsonlReader) counts() lineCounts {
	return lineCounts{lines: int64(j.lr.n), skipped: j.blank}
}

func (j *jsonlReader) next() (*record, error) {
	for {
		b, tooLong, ok := j.lr.next()
		if !ok {
			if j.lr.err != nil {
				return nil, fmt.Errorf("%s:%d: %w", j.file, j.lr.n+1, j.lr.err)
			}
			return nil, io.EOF
		}
		line := j.lr.n
		rec := &j.rec
		rec.line, rec.bad, rec.has = line, nil, 0
		clear(rec.vals)
		if tooLong {
			rec.bad = &Problem{File: j.file, Line: line, Field: "row", Reason: fmt.Sprintf("line longer than %d bytes: rejected unread", maxLine)}
			return rec, nil
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			j.blank++
			continue
		}
		clear(j.obj)
		if err := json.Unmarshal(b, &j.obj); err != nil || j.obj == nil {
			reason := "not a JSON object"
			if err != nil {
				reason += ": " + err.Error()
			}
			rec.bad = &Problem{File: j.file, Line: line, Field: "row", Reason: reason}
			return rec, nil
		}
		// Keys in sorted order: the problems of a row come out the same
		// on every run.
		j.keys = j.keys[:0]
		for k := range j.obj {
			j.keys = append(j.keys, k)
		}
		sort.Strings(j.keys)
		for _, k := range j.keys {
			raw := j.obj[k]
			idx := j.sc.index(k)
			if idx < 0 {
				if !j.unknown[k] && len(j.unknown) <= maxUnknownKeys {
					j.unknown[k] = true
					reason := "unknown key, ignored"
					if len(j.unknown) > maxUnknownKeys {
						reason += "; further unknown keys are ignored without a warning"
					}
					j.warn(Problem{File: j.file, Line: line, Field: quoteValue(k), Reason: reason, Warning: true})
				}
				continue
			}
			if rec.bad != nil {
				continue
			}
			if rec.has&(1<<idx) != 0 {
				rec.bad = &Problem{File: j.file, Line: line, Field: j.sc.cols[idx], Reason: "given twice (under two names)"}
				continue
			}
			rec.has |= 1 << idx
			if !utf8.Valid(raw) {
				rec.bad = &Problem{File: j.file, Line: line, Field: j.sc.cols[idx], Reason: "invalid UTF-8"}
				continue
			}
			v, err := jsonScalar(raw)
			if err != nil {
				rec.bad = &Problem{File: j.file, Line: line, Field: j.sc.cols[idx], Reason: err.Error()}
				continue
			}
			rec.bad = j.sc.check(j.file, line, idx, v)
			rec.vals[idx] = v
		}
		if rec.bad == nil {
			for _, i := range j.sc.required {
				if rec.has&(1<<i) == 0 {
					rec.bad = &Problem{File: j.file, Line: line, Field: j.sc.cols[i],
						Reason: fmt.Sprintf("no %q key: every row of %s %s file holds %s (null when unknown)", j.sc.cols[i], article(j.sc.kind), j.sc.kind, j.sc.requiredNames())}
					break
				}
			}
		}
		return rec, nil
	}
}

// jsonScalar turns a JSON string, number, boolean or null into the text an
// import validates.
func jsonScalar(raw json.RawMessage) (string, error) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case string(raw) == "true" || string(raw) == "false":
		return string(raw), nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return "", fmt.Errorf("bad number %s", quoteValue(string(raw)))
		}
		return string(raw), nil
	}
	return "", errors.New("must be a string, number, boolean or null")
}

func newRecordReader(file string, format Format, r io.Reader, sc schema, warn func(Problem)) (recordReader, error) {
	if format == FormatJSONL {
		return newJSONLReader(file, r, sc, warn), nil
	}
	return newCSVReader(file, r, sc, warn)
}

// ParseBool accepts true/false/yes/no/1/0 (any case); "" is false.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "y", "t":
		return true, nil
	case "false", "no", "0", "", "n", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false/yes/no/1/0)", s)
}

// article is "an" before a word that begins with a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
