package ledger

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
)

// A learner, or anyone holding a notice, ties it to the proof by its
// SHA-256: an email_sent entry records the digest of the message exactly
// as delivered (the outbox .eml file, the bytes after SMTP DATA), a
// letter_exported or letter_mailed entry that of the PDF handed to the mail
// house. A message saved from a mailbox has usually gained header lines on
// the way (Received, Return-Path, Delivered-To...) above the ones sent, and
// may have been saved with bare LF line ends; FindRecorded also tries the
// file with leading header lines removed, one at a time, and with CRLF line
// ends, and says which form matched.

// Recorded is an entry of a bundle that records a file's digest.
type Recorded struct {
	Entry Entry `json:"entry"`
	// SHA256 is the digest that matched.
	SHA256 string `json:"sha256"`
	// Stripped counts the header lines removed from the top of the file
	// (added in transit) before it matched; CRLF reports that its line ends
	// were made CRLF first.
	Stripped int  `json:"stripped_header_lines,omitempty"`
	CRLF     bool `json:"crlf,omitempty"`
}

// maxStripped bounds how many leading header lines FindRecorded removes.
const maxStripped = 200

// candidate is one form of a file FindRecorded looks for.
type candidate struct {
	file     int
	stripped int
	crlf     bool
}

// digestForms returns the digests of the forms of file b, with the form
// each stands for, for file number i: the bytes as they are, then (when
// its line ends are not all CRLF) with CRLF line ends; each also with its
// first 1, 2, ... header lines removed, up to the blank line ending the
// header.
func digestForms(i int, b []byte, into map[string]candidate) {
	add := func(data []byte, crlf bool) {
		stripped := 0
		for {
			sum := sha256.Sum256(data)
			k := hex.EncodeToString(sum[:])
			if _, ok := into[k]; !ok {
				into[k] = candidate{file: i, stripped: stripped, crlf: crlf}
			}
			// Remove one header field: a line and its continuation lines.
			if stripped >= maxStripped || len(data) == 0 || data[0] == '\r' || data[0] == '\n' {
				return
			}
			end := 0
			for {
				nl := bytes.IndexByte(data[end:], '\n')
				if nl < 0 {
					return
				}
				end += nl + 1
				if end >= len(data) || (data[end] != ' ' && data[end] != '\t') {
					break
				}
			}
			data = data[end:]
			stripped++
		}
	}
	add(b, false)
	if bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		crlf := bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		add(crlf, true)
	}
}

// FindRecorded reads the entries of the bundle at zipPath, which Verify
// should have checked first, and returns for each file the entries whose
// detail records its SHA-256 ("sha256") in one of its forms (see
// digestForms), in log order.
func FindRecorded(ctx context.Context, zipPath string, files [][]byte) ([][]Recorded, error) {
	forms := map[string]candidate{}
	for i, b := range files {
		digestForms(i, b, forms)
	}
	out := make([][]Recorded, len(files))
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, bad(zipPath, "not a readable zip: %v", err)
	}
	defer zr.Close()
	f, err := zr.Open(fileEntries)
	if err != nil {
		return nil, bad(fileEntries, "missing: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	key := []byte(`"sha256":"`)
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := sc.Bytes()
		for rest := line; ; {
			i := bytes.Index(rest, key)
			if i < 0 || len(rest) < i+len(key)+64 {
				break
			}
			rest = rest[i+len(key):]
			c, ok := forms[string(rest[:64])]
			if !ok {
				continue
			}
			var e Entry
			if err := json.Unmarshal(line, &e); err != nil {
				return nil, bad(fileEntries, "line %d: %v", n, err)
			}
			var d struct {
				SHA256 string `json:"sha256"`
			}
			if json.Unmarshal(e.Detail, &d) != nil || d.SHA256 != string(rest[:64]) {
				continue // the digest is not the entry's own "sha256"
			}
			out[c.file] = append(out[c.file], Recorded{Entry: e, SHA256: d.SHA256, Stripped: c.stripped, CRLF: c.crlf})
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, bad(fileEntries, "%v", err)
	}
	return out, nil
}

// ErrNotRecorded reports a file no entry of a bundle records.
var ErrNotRecorded = fmt.Errorf("%w: not recorded in the bundle", incident.ErrNotFound)
