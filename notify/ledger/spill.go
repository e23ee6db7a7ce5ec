package ledger

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// A bundle may hold millions of entries. What Export and Verify must
// remember of each (its leaf hash; what the summary counts per notice and
// per person) is kept in memory up to a fixed budget and in a temporary
// file beyond it, so their memory does not grow with the bundle. The files
// are created with mode 0600 (they hold account ids) and removed by close.

// leafSize is an encoded leaf: its index (big-endian) and hash.
const leafSize = 8 + tlog.HashSize

// leafMemory is the most bytes of leaves a leafFile keeps in memory:
// 26,000 leaves, more than a bundle with record proofs holds.
const leafMemory = 1 << 20

// leafFile holds a bundle's leaves in index order, for reading again in
// order or at a position.
type leafFile struct {
	n   int64
	mem []byte // the leaves, until they outgrow leafMemory
	f   *os.File
	w   *bufio.Writer
}

func (lf *leafFile) add(l leaf) error {
	var rec [leafSize]byte
	binary.BigEndian.PutUint64(rec[:8], uint64(l.idx))
	copy(rec[8:], l.hash[:])
	lf.n++
	if lf.f == nil && len(lf.mem)+leafSize <= leafMemory {
		lf.mem = append(lf.mem, rec[:]...)
		return nil
	}
	if lf.f == nil {
		f, err := os.CreateTemp("", "breachnotice-leaves-*")
		if err != nil {
			return err
		}
		lf.f, lf.w = f, bufio.NewWriterSize(f, 64<<10)
		lf.w.Write(lf.mem)
		lf.mem = nil
	}
	_, err := lf.w.Write(rec[:])
	return err
}

func decodeLeaf(rec []byte) leaf {
	l := leaf{idx: int64(binary.BigEndian.Uint64(rec[:8]))}
	copy(l.hash[:], rec[8:leafSize])
	return l
}

// source returns the leaves' bytes for reading, from the start.
func (lf *leafFile) source() (io.ReaderAt, error) {
	if lf.f == nil {
		return bytes.NewReader(lf.mem), nil
	}
	if err := lf.w.Flush(); err != nil {
		return nil, err
	}
	return lf.f, nil
}

// at returns leaf i.
func (lf *leafFile) at(i int64) (leaf, error) {
	src, err := lf.source()
	if err != nil {
		return leaf{}, err
	}
	var rec [leafSize]byte
	if _, err := src.ReadAt(rec[:], i*leafSize); err != nil {
		return leaf{}, fmt.Errorf("leaf %d: %w", i, err)
	}
	return decodeLeaf(rec[:]), nil
}

// search returns the position of the first leaf whose index is at least
// idx (n when there is none), and whether its index is idx.
func (lf *leafFile) search(idx int64) (int64, bool, error) {
	lo, hi := int64(0), lf.n
	for lo < hi {
		mid := lo + (hi-lo)/2
		l, err := lf.at(mid)
		if err != nil {
			return 0, false, err
		}
		if l.idx < idx {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == lf.n {
		return lo, false, nil
	}
	l, err := lf.at(lo)
	return lo, err == nil && l.idx == idx, err
}

// leaves returns an iterator over the leaves in order: next returns false
// after the last.
func (lf *leafFile) leaves() (next func() (leaf, bool, error)) {
	src, err := lf.source()
	if err != nil {
		return func() (leaf, bool, error) { return leaf{}, false, err }
	}
	r := bufio.NewReaderSize(io.NewSectionReader(src, 0, lf.n*leafSize), 64<<10)
	var rec [leafSize]byte
	return func() (leaf, bool, error) {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return leaf{}, false, nil
			}
			return leaf{}, false, err
		}
		return decodeLeaf(rec[:]), true, nil
	}
}

func (lf *leafFile) close() {
	if lf.f != nil {
		lf.f.Close()
		os.Remove(lf.f.Name())
		lf.f = nil
	}
	lf.mem = nil
}

// sorter sorts byte-string records (by bytes.Compare) in bounded memory:
// records are buffered up to budget bytes, then sorted and appended to a
// temporary file as a run; each merges the runs.
type sorter struct {
	budget int
	buf    []byte
	recs   []span // the buffered records, in buf
	f      *os.File
	w      *bufio.Writer
	runs   []int64 // where each run in f ends
	size   int64   // bytes written to f
}

type span struct{ off, n uint32 }

func newSorter(budget int) *sorter { return &sorter{budget: budget} }

func (s *sorter) rec(sp span) []byte { return s.buf[sp.off : sp.off+sp.n] }

func (s *sorter) add(rec []byte) error {
	if len(s.recs) > 0 && len(s.buf)+len(rec) > s.budget {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.recs = append(s.recs, span{uint32(len(s.buf)), uint32(len(rec))})
	s.buf = append(s.buf, rec...)
	return nil
}

func (s *sorter) sortBuffered() {
	slices.SortFunc(s.recs, func(a, b span) int { return bytes.Compare(s.rec(a), s.rec(b)) })
}

// spill writes the buffered records to the file as one sorted run.
func (s *sorter) spill() error {
	if s.f == nil {
		f, err := os.CreateTemp("", "breachnotice-summary-*")
		if err != nil {
			return err
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	s.sortBuffered()
	var n [binary.MaxVarintLen64]byte
	for _, sp := range s.recs {
		k := binary.PutUvarint(n[:], uint64(sp.n))
		s.w.Write(n[:k])
		if _, err := s.w.Write(s.rec(sp)); err != nil {
			return err
		}
		s.size += int64(k) + int64(sp.n)
	}
	s.runs = append(s.runs, s.size)
	s.buf, s.recs = s.buf[:0], s.recs[:0]
	return nil
}

// each calls fn with every record added, in order; rec is only valid
// during the call. The sorter is spent afterwards.
func (s *sorter) each(fn func(rec []byte) error) error {
	if s.f == nil {
		s.sortBuffered()
		for _, sp := range s.recs {
			if err := fn(s.rec(sp)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(s.recs) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	s.buf, s.recs = nil, nil
	h := make(runHeap, 0, len(s.runs))
	start := int64(0)
	for _, end := range s.runs {
		r := &run{r: bufio.NewReaderSize(io.NewSectionReader(s.f, start, end-start), 16<<10)}
		start = end
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, r)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		r := h[0]
		if err := fn(r.rec); err != nil {
			return err
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

func (s *sorter) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
	s.buf, s.recs = nil, nil
}

// run reads one sorted run back.
type run struct {
	r   *bufio.Reader
	rec []byte
}

func (r *run) next() (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.rec = slices.Grow(r.rec[:0], int(n))[:n]
	_, err = io.ReadFull(r.r, r.rec)
	return err == nil, err
}

type runHeap []*run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].rec, h[j].rec) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// appendKeyInt appends v so that the bytes order as the numbers do.
func appendKeyInt(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^1<<63)
}

// appendKeyString appends s so that no encoding is a prefix of another:
// each 0x00 becomes 0x00 0xff, and 0x00 0x01 ends it.
func appendKeyString(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i]...), 0, 0xff)
		s = s[i+1:]
	}
	return append(append(b, s...), 0, 1)
}

// decodeKeyString returns the string appendKeyString encoded at the start
// of b.
func decodeKeyString(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			out = append(out, b[i])
			continue
		}
		if i+1 < len(b) && b[i+1] == 0xff {
			out = append(out, 0)
			i++
			continue
		}
		break
	}
	return string(out)
}

// keyStringEnd returns the end of the key string that starts at b[i].
func keyStringEnd(b []byte, i int) int {
	for ; i+1 < len(b); i++ {
		if b[i] == 0 {
			if b[i+1] == 1 {
				return i + 2
			}
			i++ // 0x00 0xff
		}
	}
	return len(b)
}
