package ledger

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
)

// bombMember is the uncompressed size of each member of the bombs below:
// at ratioFloor, members of this size may compress as they like, each
// on its own.
const bombMember = ratioFloor

// bombBundle returns a self-signed bundle (a fresh key of the
// controller's name, as anyone can make; Verify without --key reads it
// through) made of the genuine bundle's files and n extra members of
// bombMember zero bytes, each deflated to about 1 KiB, all listed in
// manifest.json with their right size and SHA-256. With overlap, the
// extra members' directory records all point at one member's compressed
// bytes, so the zip grows by about 60 bytes per member; otherwise each
// member has its own copy. Before Verify bounded the bundle as a whole,
// it inflated and hashed every one of them: n MiB, 1 GiB from a 70 KB
// zip, for seconds, before refusing the bundle.
func bombBundle(t testing.TB, genuine []member, n int, overlap bool) []byte {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, KeyName("op"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, bombMember)
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	fw.Write(zeros)
	fw.Close()
	zsum := sha256.Sum256(zeros)
	bombName := func(i int) string { return fmt.Sprintf("bomb%04d", i) }

	// manifest.json: the genuine files, then the extra members.
	var m manifest
	files := map[string][]byte{}
	for _, x := range genuine {
		files[x.name] = x.data
		if x.name == fileManifest {
			if err := json.Unmarshal(x.data, &m); err != nil {
				t.Fatal(err)
			}
		}
	}
	files[filePublicKey] = []byte(vkey + "\n")
	for i, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(files[f.Name]))
	}
	for i := range n {
		m.Files = append(m.Files, manifestFile{Name: bombName(i), Size: bombMember, SHA256: hex.EncodeToString(zsum[:])})
	}
	text, _ := json.Marshal(m)
	text = append(text, '\n')
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	files[fileManifest], files[fileManifestSig] = text, signed[len(text)+1:]

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, x := range genuine {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: x.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[x.name])
	}
	written := n
	if overlap {
		written = 1
	}
	for i := range written {
		fh := &zip.FileHeader{Name: bombName(i), Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(zeros),
			CompressedSize64: uint64(packed.Len()), UncompressedSize64: bombMember}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(packed.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !overlap {
		return buf.Bytes()
	}
	return repeatRecord(t, buf.Bytes(), bombName(0), n, bombName)
}

// repeatRecord returns the zip data with the central directory record of
// member name copied n-1 times, copy i renamed name(i) (of the same
// length): n members whose data is the same bytes.
func repeatRecord(t testing.TB, data []byte, name string, n int, rename func(int) string) []byte {
	t.Helper()
	const eocdLen = 22
	eocd := data[len(data)-eocdLen:]
	if binary.LittleEndian.Uint32(eocd) != 0x06054b50 {
		t.Fatal("zip has a comment or zip64 end record")
	}
	count := int(binary.LittleEndian.Uint16(eocd[10:]))
	cdSize := int(binary.LittleEndian.Uint32(eocd[12:]))
	cdOff := int(binary.LittleEndian.Uint32(eocd[16:]))
	cd := data[cdOff : cdOff+cdSize]
	var rec []byte
	for p := 0; p < len(cd); {
		l := 46 + int(binary.LittleEndian.Uint16(cd[p+28:])) + int(binary.LittleEndian.Uint16(cd[p+30:])) + int(binary.LittleEndian.Uint16(cd[p+32:]))
		if string(cd[p+46:p+46+len(name)]) == name && int(binary.LittleEndian.Uint16(cd[p+28:])) == len(name) {
			rec = cd[p : p+l]
		}
		p += l
	}
	if rec == nil {
		t.Fatalf("no directory record for %s", name)
	}
	out := append([]byte{}, data[:cdOff+cdSize]...)
	for i := 1; i < n; i++ {
		c := append([]byte{}, rec...)
		copy(c[46:], rename(i))
		out = append(out, c...)
	}
	end := append([]byte{}, eocd...)
	binary.LittleEndian.PutUint16(end[8:], uint16(count+n-1))
	binary.LittleEndian.PutUint16(end[10:], uint16(count+n-1))
	binary.LittleEndian.PutUint32(end[12:], uint32(cdSize+(n-1)*len(rec)))
	return append(out, end...)
}

// TestVerify_Bombs: bundles whose members each pass the per-member
// checks but together declare far more than the zip could hold (the
// slow input the fuzzers' seed corpus keeps as bomb-overlapping-members)
// are refused from the zip's directory, naming the bomb, before any
// member is inflated: Verify reads only the directory and the members'
// local headers of the zip.
func TestVerify_Bombs(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	good := filepath.Join(t.TempDir(), "good.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: good, Actor: incident.Actor{Role: "cli"}}); err != nil {
		t.Fatal(err)
	}
	genuine := readBundle(t, good)
	tests := []struct {
		name string
		data func() []byte
		want string
	}{
		// 1000 members share one member's 1 KiB of deflated zeros: 1 GiB
		// from a zip of about 70 KB.
		{"OverlappingMembers", func() []byte { return bombBundle(t, genuine, 1000, true) },
			"its data overlaps bomb0000's in the zip: a zip bomb"},
		// 300 members of 1 MiB, each with its own 1 KiB: 300 MiB from
		// about 330 KB, past 1 MiB + 200 times the zip's size.
		{"ManyMembersPastRatio", func() []byte { return bombBundle(t, genuine, 300, false) },
			"ManyMembersPastRatio.zip: its members declare 3146"},
		// The seed the fuzzers keep, as committed.
		{"Seed", func() []byte { return readCorpusFile(t, filepath.Join(corpusDir, "bomb-overlapping-members")) },
			"its data overlaps bomb0000's in the zip: a zip bomb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data()
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			var declared uint64
			for _, f := range zr.File {
				declared += f.UncompressedSize64
			}
			if declared < 300<<20 {
				t.Fatalf("the bomb declares only %d bytes", declared)
			}
			r := &countingReaderAt{r: bytes.NewReader(data)}
			_, err = verifyReaderAt(ctx, r, int64(len(data)), tt.name+".zip", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("Verify of a %d-byte zip declaring %d bytes = %v\nwant an ErrInvalid containing %q", len(data), declared, err, tt.want)
			}
			t.Log(err)
			// The directory and the members' local headers, not their
			// data: 1000 local headers of 38 bytes are more than half of
			// the overlapping zip, but the 1000 KiB of data that inflating
			// the members reads are 15 times the zip.
			read, limit := r.n.Load(), int64(2*len(data))
			if tt.name == "ManyMembersPastRatio" {
				limit = int64(len(data) / 4)
			}
			if read > limit {
				t.Errorf("Verify read %d bytes of a %d-byte zip before refusing it, want at most %d", read, len(data), limit)
			}
		})
	}
}

func TestInflateLimit(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want uint64
	}{
		{0, 1 << 20},
		{1000, 1<<20 + 200_000},
		{100 << 20, 1<<20 + 200*(100<<20)},
		{1 << 30, maxInflated},
		{1 << 62, maxInflated},
		{-1, maxInflated},
	} {
		if got := inflateLimit(tt.size); got != tt.want {
			t.Errorf("inflateLimit(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
