package bounce

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Message is one message read from a file: where it came from
// ("FILE" for a single message, "FILE#N" for the Nth of an mbox) and its
// bytes, with line ends normalised to LF (so the same bounce read from an
// mbox and from an .eml file hashes the same).
type Message struct {
	Source string
	Raw    []byte
}

// MaxMessage is the largest message read; larger ones are reported as an
// error naming the file.
const MaxMessage = 32 << 20

// Read calls fn for every message under path: a single message (.eml or
// any file not starting "From "), an mbox (mboxrd: ">From " lines are
// unescaped), a maildir (a directory with cur/ or new/: the files of both,
// by name), or a directory of such files, by name. Nothing is moved or
// deleted.
func Read(path string, fn func(Message) error) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("bounces: %w", err)
	}
	if !fi.IsDir() {
		return readFile(path, fn)
	}
	var files []string
	if isMaildir(path) {
		for _, sub := range []string{"new", "cur"} {
			es, err := os.ReadDir(filepath.Join(path, sub))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("bounces: %w", err)
			}
			for _, e := range es {
				if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
					files = append(files, filepath.Join(path, sub, e.Name()))
				}
			}
		}
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != path && isMaildir(p) {
				if err := Read(p, fn); err != nil {
					return err
				}
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bounces: %w", err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if err := readFile(f, fn); err != nil {
			return err
		}
	}
	return nil
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

func readFile(path string, fn func(Message) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bounces: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64*1024)
	head, _ := br.Peek(5)
	if string(head) != "From " {
		raw, err := io.ReadAll(io.LimitReader(br, MaxMessage+1))
		if err != nil {
			return fmt.Errorf("bounces: %s: %w", path, err)
		}
		if len(raw) > MaxMessage {
			return fmt.Errorf("bounces: %s: larger than %d bytes", path, MaxMessage)
		}
		return fn(Message{Source: path, Raw: normalize(raw)})
	}
	return readMbox(path, br, fn)
}

// readMbox splits an mbox at its "From " lines.
func readMbox(path string, br *bufio.Reader, fn func(Message) error) error {
	var cur bytes.Buffer
	n, line := 0, 0
	started := false
	flush := func() error {
		if !started {
			return nil
		}
		n++
		raw := bytes.TrimSuffix(cur.Bytes(), []byte("\n")) // the blank line before the next From_
		m := Message{Source: fmt.Sprintf("%s#%d", path, n), Raw: normalize(append([]byte(nil), raw...))}
		cur.Reset()
		return fn(m)
	}
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			switch {
			case bytes.HasPrefix(b, []byte("From ")):
				if err := flush(); err != nil {
					return err
				}
				started = true
			case started:
				if bytes.HasPrefix(bytes.TrimLeft(b, ">"), []byte("From ")) && b[0] == '>' {
					b = b[1:]
				}
				if cur.Len()+len(b) > MaxMessage {
					return fmt.Errorf("bounces: %s line %d: message larger than %d bytes", path, line, MaxMessage)
				}
				cur.Write(b)
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("bounces: %s line %d: %w", path, line, err)
		}
	}
}

// normalize turns CRLF into LF.
func normalize(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// NewMessage is a message read from elsewhere (an IMAP mailbox, say),
// its line ends normalised as Read's are, so the same bounce hashes the
// same whichever way it arrived.
func NewMessage(source string, raw []byte) Message {
	return Message{Source: source, Raw: normalize(raw)}
}
