package incident

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Reason)
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

// record is one row of an import file, its values in schema column order.
type record struct {
	line int
	vals []string
	// bad, when set, rejects the row before any field is read.
	bad *Problem
}

type recordReader interface {
	// next returns the next record, or io.EOF.
	next() (*record, error)
}

// schema names the columns of one import kind and their accepted aliases.
type schema struct {
	cols    []string
	aliases map[string]string
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

// csvReader streams a CSV file as exported by real systems: a UTF-8 BOM,
// quoted fields holding commas and newlines, CRLF line ends and blank lines
// are all accepted.
type csvReader struct {
	file   string
	r      *csv.Reader
	sc     schema
	colMap []int // file column -> schema column, -1 to ignore
	rec    record
}

func newCSVReader(file string, r io.Reader, sc schema, warn func(Problem)) (*csvReader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file: a header row is required", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	c := &csvReader{file: file, r: cr, sc: sc, colMap: make([]int, len(header))}
	seen := map[int]bool{}
	for i, h := range header {
		idx := sc.index(h)
		if idx >= 0 && seen[idx] {
			return nil, fmt.Errorf("%s:1: %s: column appears twice", file, h)
		}
		if idx < 0 {
			warn(Problem{File: file, Line: 1, Field: h, Reason: "unknown column, ignored (known: " + strings.Join(sc.cols, ",") + ")", Warning: true})
		}
		seen[idx] = true
		c.colMap[i] = idx
	}
	if !seen[0] {
		return nil, fmt.Errorf("%s:1: header: no %q column (header must name the columns: %s)", file, sc.cols[0], strings.Join(sc.cols, ","))
	}
	c.rec.vals = make([]string, len(sc.cols))
	return c, nil
}

func (c *csvReader) next() (*record, error) {
	fields, err := c.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	rec := &c.rec
	for i := range rec.vals {
		rec.vals[i] = ""
	}
	rec.bad = nil
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rec.line = pe.StartLine
			rec.bad = &Problem{File: c.file, Line: pe.StartLine, Field: "row", Reason: pe.Err.Error()}
			return rec, nil
		}
		return nil, fmt.Errorf("%s: %w", c.file, err)
	}
	rec.line, _ = c.r.FieldPos(0)
	if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
		return c.next() // a line of spaces
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
		rec.vals[idx] = f
	}
	return rec, nil
}

// jsonlReader streams one JSON object per line.
type jsonlReader struct {
	file string
	s    *bufio.Scanner
	sc   schema
	line int
	rec  record
	obj  map[string]json.RawMessage
	warn func(Problem)
	// unknown remembers which unknown keys were already warned about.
	unknown map[string]bool
}

func newJSONLReader(file string, r io.Reader, sc schema, warn func(Problem)) *jsonlReader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 256<<10), 16<<20)
	return &jsonlReader{file: file, s: s, sc: sc, rec: record{vals: make([]string, len(sc.cols))}, warn: warn, unknown: map[string]bool{}}
}

func (j *jsonlReader) next() (*record, error) {
	for j.s.Scan() {
		j.line++
		b := bytes.TrimSpace(j.s.Bytes())
		if j.line == 1 {
			b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
		}
		if len(b) == 0 {
			continue
		}
		rec := &j.rec
		rec.line, rec.bad = j.line, nil
		for i := range rec.vals {
			rec.vals[i] = ""
		}
		clear(j.obj)
		if err := json.Unmarshal(b, &j.obj); err != nil {
			rec.bad = &Problem{File: j.file, Line: j.line, Field: "row", Reason: "not a JSON object: " + err.Error()}
			return rec, nil
		}
		for k, raw := range j.obj {
			idx := j.sc.index(k)
			if idx < 0 {
				if !j.unknown[k] {
					j.unknown[k] = true
					j.warn(Problem{File: j.file, Line: j.line, Field: k, Reason: "unknown key, ignored", Warning: true})
				}
				continue
			}
			if !utf8.Valid(raw) {
				rec.bad = &Problem{File: j.file, Line: j.line, Field: j.sc.cols[idx], Reason: "invalid UTF-8"}
				return rec, nil
			}
			v, err := jsonScalar(raw)
			if err != nil {
				rec.bad = &Problem{File: j.file, Line: j.line, Field: j.sc.cols[idx], Reason: err.Error()}
				return rec, nil
			}
			rec.vals[idx] = v
		}
		return rec, nil
	}
	if err := j.s.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", j.file, j.line+1, err)
	}
	return nil, io.EOF
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
			return "", fmt.Errorf("bad number %s", raw)
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
