package ledger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestLeafFile: leaves past the memory budget go to a file and read back
// the same, in order, at a position and by search; close removes the file.
func TestLeafFile(t *testing.T) {
	for _, n := range []int64{0, 3, leafMemory/leafSize + 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lf := &leafFile{}
			defer lf.close()
			idx := func(i int64) int64 { return 3*i + 1 } // gaps between leaves
			for i := int64(0); i < n; i++ {
				if err := lf.add(leaf{idx(i), tlog.RecordHash([]byte(fmt.Sprint(i)))}); err != nil {
					t.Fatal(err)
				}
			}
			if spilled := lf.f != nil; spilled != (n*leafSize > leafMemory) {
				t.Fatalf("%d leaves: spilled %v", n, spilled)
			}
			next := lf.leaves()
			for i := int64(0); ; i++ {
				l, ok, err := next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					if i != n {
						t.Fatalf("read %d leaves, want %d", i, n)
					}
					break
				}
				if l.idx != idx(i) || l.hash != tlog.RecordHash([]byte(fmt.Sprint(i))) {
					t.Fatalf("leaf %d: %+v", i, l)
				}
			}
			for _, i := range []int64{0, n / 2, n - 1} {
				if i < 0 || i >= n {
					continue
				}
				if l, err := lf.at(i); err != nil || l.idx != idx(i) {
					t.Fatalf("at(%d) = %+v, %v", i, l, err)
				}
				if pos, found, err := lf.search(idx(i)); err != nil || !found || pos != i {
					t.Fatalf("search(%d) = %d, %v, %v", idx(i), pos, found, err)
				}
				if pos, found, err := lf.search(idx(i) + 1); err != nil || found || pos != i+1 {
					t.Fatalf("search(%d) = %d, %v, %v", idx(i)+1, pos, found, err)
				}
			}
			if f := lf.f; f != nil {
				lf.close()
				if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
					t.Fatalf("%s left behind: %v", f.Name(), err)
				}
			}
		})
	}
}

// TestSorter: records come back in bytes.Compare order, duplicates kept,
// whether they stayed in memory or were merged from many runs.
func TestSorter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var recs [][]byte
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.IntN(20))
		for j := range b {
			b[j] = byte(r.IntN(4)) // many duplicates and shared prefixes
		}
		recs = append(recs, b)
	}
	want := slices.Clone(recs)
	slices.SortFunc(want, bytes.Compare)
	for _, budget := range []int{1 << 20, 1000, 1} {
		s := newSorter(budget)
		for _, b := range recs {
			if err := s.add(b); err != nil {
				t.Fatal(err)
			}
		}
		var got [][]byte
		if err := s.each(func(b []byte) error { got = append(got, slices.Clone(b)); return nil }); err != nil {
			t.Fatal(err)
		}
		s.close()
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("budget %d: records out of order or lost (%d of %d)", budget, len(got), len(want))
		}
	}
}

// TestKeyEncoding: the key encodings order like their values and no
// string's is a prefix of another's.
func TestKeyEncoding(t *testing.T) {
	ints := []int64{-1 << 63, -2, -1, 0, 1, 255, 256, 1<<63 - 1}
	for i := 1; i < len(ints); i++ {
		if bytes.Compare(appendKeyInt(nil, ints[i-1]), appendKeyInt(nil, ints[i])) >= 0 {
			t.Errorf("%d does not sort before %d", ints[i-1], ints[i])
		}
	}
	strs := []string{"", "\x00", "\x00\x00", "\x00\x01", "a", "a\x00", "a\x00b", "a\x01", "ab"}
	for i, a := range strs {
		ka := appendKeyString(nil, a)
		if end := keyStringEnd(append(ka, 9, 9), 0); end != len(ka) {
			t.Errorf("%q: key ends at %d, want %d", a, end, len(ka))
		}
		for _, b := range strs[i+1:] {
			kb := appendKeyString(nil, b)
			if bytes.Compare(ka, kb) >= 0 || bytes.HasPrefix(kb, ka) {
				t.Errorf("%q and %q: keys %x, %x", a, b, ka, kb)
			}
		}
	}
}
