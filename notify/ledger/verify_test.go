package ledger

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// zmember is one member of a zip built by buildZip, which writes it as
// told, lies included.
type zmember struct {
	name  string
	data  []byte
	mode  fs.FileMode // 0: a regular file
	store bool        // stored, not deflated
	size  uint64      // the uncompressed size to declare; 0: len(data)
	csize uint64      // the compressed size to declare; 0: the real one
	noCRC bool        // declare no CRC-32 (archive/zip then skips the check)
}

func buildZip(t testing.TB, ms []zmember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		body := m.data
		method := zip.Deflate
		if m.store {
			method = zip.Store
		} else {
			var c bytes.Buffer
			fw, _ := flate.NewWriter(&c, flate.BestCompression)
			fw.Write(m.data)
			fw.Close()
			body = c.Bytes()
		}
		fh := &zip.FileHeader{Name: m.name, Method: method,
			CRC32: crc32.ChecksumIEEE(m.data), CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(m.data))}
		if m.noCRC {
			fh.CRC32 = 0
		}
		if m.size != 0 {
			fh.UncompressedSize64 = m.size
		}
		if m.csize != 0 {
			fh.CompressedSize64 = m.csize
		}
		fh.SetMode(0o644)
		if m.mode != 0 {
			fh.SetMode(m.mode)
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zmembers turns a bundle's members into buildZip's.
func zmembers(ms []member) []zmember {
	out := make([]zmember, len(ms))
	for i, m := range ms {
		out[i] = zmember{name: m.name, data: m.data}
	}
	return out
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func TestVerify_ZipDirectory(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	good := filepath.Join(t.TempDir(), "good.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: good, Actor: incident.Actor{Role: "cli"}}); err != nil {
		t.Fatal(err)
	}
	orig := zmembers(readBundle(t, good))
	entries := readMember(t, good, fileEntries)
	noise := make([]byte, 8<<20)
	rand.Read(noise)

	with := func(edit func([]zmember) []zmember) func() []zmember {
		return func() []zmember {
			return edit(append([]zmember{}, orig...))
		}
	}
	set := func(name string, edit func(*zmember)) func() []zmember {
		return with(func(ms []zmember) []zmember {
			for i := range ms {
				if ms[i].name == name {
					edit(&ms[i])
				}
			}
			return ms
		})
	}
	tests := []struct {
		name    string
		members func() []zmember
		want    string
		maxRead int64 // bytes Verify may read of the zip; 0: no limit
	}{
		{"Genuine", with(func(ms []zmember) []zmember { return ms }), "", 0},
		{"TraversalName", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: "../../../tmp/evil", data: []byte("x")})
		}), `"../../../tmp/evil": not a plain file name`, 0},
		{"AbsoluteName", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: "/etc/cron.d/x", data: []byte("x")})
		}), `"/etc/cron.d/x": not a plain file name`, 0},
		{"BackslashName", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: `..\..\evil.bat`, data: []byte("x")})
		}), `not a plain file name`, 0},
		{"DirectoryInName", set(fileSummary, func(m *zmember) { m.name = "sub/" + fileSummary }), `"sub/summary.json": not a plain file name`, 0},
		{"ControlCharName", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: "x\x1b[2Jy", data: []byte("x")})
		}), `"x\x1b[2Jy": not a plain file name`, 0},
		{"DuplicateMember", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: fileEntries, data: []byte("{}\n")})
		}), "entries.jsonl: appears twice in the zip", 0},
		{"SymlinkMember", set(filePublicKey, func(m *zmember) {
			m.mode, m.data = fs.ModeSymlink|0o777, []byte("/etc/passwd")
		}), "public_key: not a regular file (mode L", 0},
		{"DirectoryMember", with(func(ms []zmember) []zmember {
			return append(ms, zmember{name: "d", mode: fs.ModeDir | 0o755})
		}), "d: not a regular file (mode d", 0},
		{"TooManyMembers", with(func(ms []zmember) []zmember {
			for i := 0; i < maxMembers; i++ {
				ms = append(ms, zmember{name: "x" + string(rune('a'+i%26)) + string(rune('a'+i/26)), data: []byte("x")})
			}
			return ms
		}), fmt.Sprintf("more than a bundle's %d", maxMembers), 0},
		{"StoredSizeLie", set(fileCheckpoint, func(m *zmember) { m.store, m.size = true, 1<<40 }),
			"checkpoint: stored uncompressed, but declares 1099511627776 bytes in", 0},
		{"CompressedSizeBeyondZip", set(fileEntries, func(m *zmember) { m.csize = 1 << 40 }),
			"entries.jsonl: declares 1099511627776 compressed bytes", 0},
		{"HugeDeclaredSize", set(fileEntries, func(m *zmember) { m.size = 1 << 62 }),
			"entries.jsonl: declares 4611686018427387904 bytes compressed into", 0},
		{"ZipBomb", set(fileEntries, func(m *zmember) { m.data = append(m.data, make([]byte, 64<<20)...) }),
			"more than 200:1: a zip bomb", 64 << 10},
		{"SmallFileTooBig", set(fileManifest, func(m *zmember) { m.data = append(m.data, noise[:2<<20]...) }),
			"manifest.json: declares 2098", 16 << 10},
		// The zip declares the size of what the member holds, more than
		// manifest.json says: refused from the directory, before a byte
		// of the 8 MiB is read (the old verifier read every member to
		// its end before comparing sizes).
		{"DeclaredSizeNotManifest", set(fileEntries, func(m *zmember) { m.store, m.data = true, append(m.data, noise...) }),
			"entries.jsonl: size differs from manifest.json: the zip declares", 256 << 10},
		{"DeclaredSizeNotManifestCSV", set(fileCSV, func(m *zmember) { m.store, m.data = true, append(m.data, noise...) }),
			"entries.csv: size differs from manifest.json", 256 << 10},
		// The zip declares manifest.json's size but the member inflates
		// past it: reading stops at the declared size.
		{"InflatesPastDeclared", set(fileEntries, func(m *zmember) {
			m.size, m.noCRC, m.data = uint64(len(entries)), true, append(m.data, noise...)
		}), "entries.jsonl", 2 << 20},
		{"InflatesShortOfDeclared", set(fileEntries, func(m *zmember) {
			m.size, m.noCRC, m.data = uint64(len(entries)), true, m.data[:len(m.data)/2]
		}), "entries.jsonl", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := buildZip(t, tt.members())
			r := &countingReaderAt{r: bytes.NewReader(data)}
			_, err := verifyReaderAt(ctx, r, int64(len(data)), tt.name+".zip", "")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify succeeded on a hostile zip")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify error\n%v\nwant it to contain\n%s", err, tt.want)
			}
			if !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			read := r.n.Load()
			t.Logf("read %d bytes of %d", read, len(data))
			if tt.maxRead > 0 && read > tt.maxRead {
				t.Fatalf("Verify read %d bytes of a %d-byte zip before refusing it, want at most %d", read, len(data), tt.maxRead)
			}
		})
	}
}

// TestVerify_Pin checks a bundle made by another ledger for a controller of
// the same id: a fresh key of the same name, a bundle consistent in every
// way. Unpinned it verifies (only its fingerprint tells it apart); pinned to
// the real key, by text or by fingerprint, it fails.
func TestVerify_Pin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cli := incident.Actor{Role: "cli"}
	db, l := setup(t)
	real := filepath.Join(dir, "real.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: real, Actor: cli}); err != nil {
		t.Fatal(err)
	}
	realKey, err := PublicKey(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	db2, l2 := setup(t) // the forger's own ledger, with a controller "op"
	forged := filepath.Join(dir, "forged.zip")
	if _, err := l2.Export(ctx, db2, ExportOptions{Controller: "op", Out: forged, Actor: cli}); err != nil {
		t.Fatal(err)
	}
	forgedKey, _ := PublicKey(ctx, db2, "op")
	realFP, err := Fingerprint(realKey)
	if err != nil {
		t.Fatal(err)
	}
	forgedFP, _ := Fingerprint(forgedKey)
	if realFP == forgedFP || !strings.HasPrefix(realFP, "SHA256:") || len(realFP) != len("SHA256:")+43 {
		t.Fatalf("fingerprints %q and %q", realFP, forgedFP)
	}

	tests := []struct {
		name, bundle, pin string
		want              string // "": verifies
		wantKey           string
	}{
		{"RealUnpinned", real, "", "", realKey},
		{"RealPinnedKey", real, realKey, "", realKey},
		{"RealPinnedKeyNewline", real, realKey + "\n", "", realKey},
		{"RealPinnedFingerprint", real, realFP, "", realKey},
		{"ForgedUnpinned", forged, "", "", forgedKey},
		{"ForgedPinnedKey", forged, realKey, "public_key: key " + keyID(forgedKey) + " is not the pinned key " + keyID(realKey), ""},
		{"ForgedPinnedFingerprint", forged, realFP, "public_key: key " + keyID(forgedKey) + " (fingerprint " + forgedFP + ") is not the pinned key " + realFP, ""},
		{"RealPinnedForgedFingerprint", real, forgedFP, "is not the pinned key " + forgedFP, ""},
		{"BadFingerprint", real, "SHA256:nope", "is not the pinned key SHA256:nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Verify(ctx, tt.bundle, tt.pin)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.PublicKey != tt.wantKey || s.KeyName != "breachnotice/op" {
					t.Fatalf("verified key %s (%s), want %s", s.PublicKey, s.KeyName, tt.wantKey)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("Verify = %v, want an ErrInvalid containing\n%s", err, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	ctx := context.Background()
	db, _ := setup(t)
	vkey, _ := PublicKey(ctx, db, "op")
	fp, err := Fingerprint(vkey)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := PublicKey(ctx, db, "m1")
	ofp, _ := Fingerprint(other)
	tests := []struct {
		name, vkey string
		want       string // "": an error
	}{
		{"Key", vkey, fp},
		{"Spaces", "  " + vkey + "\n", fp},
		{"OtherKey", other, ofp},
		{"NotAKey", "breachnotice/op", ""},
		{"BadHash", strings.Replace(vkey, "+", "+0", 1)[:len(vkey)], ""},
		{"Empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fingerprint(tt.vkey)
			if tt.want == "" {
				if err == nil || !errors.Is(err, incident.ErrInvalid) {
					t.Fatalf("Fingerprint(%q) = %q, %v; want ErrInvalid", tt.vkey, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Fingerprint = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if fp == ofp {
		t.Fatal("two keys, one fingerprint")
	}
}
