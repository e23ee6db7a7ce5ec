package ledger

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var writeCorpus = flag.Bool("corpus", false, "rewrite the seed corpus of FuzzVerify in testdata/fuzz/FuzzVerify")

// FuzzVerify feeds the bundle verifier arbitrary zips. Whatever the input,
// Verify returns nil or an error wrapping incident.ErrInvalid; it never
// panics, and it reads no more than the zip's directory allows (see
// checkMember). The seed corpus in testdata/fuzz/FuzzVerify holds genuine
// bundles (whole log, incident, prove) and hostile zips made from them:
// path traversal names, duplicate members, symlinks, members whose declared
// size lies, zip bombs and huge declared sizes; TestFuzzVerifyCorpus says
// which of them verify, and with -corpus rewrites them.
//
// In CI: go test ./notify/ledger -run '^$' -fuzz '^FuzzVerify$' -fuzztime 10s
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := verifyReaderAt(ctx, bytes.NewReader(data), int64(len(data)), "fuzz.zip", "")
		if err != nil {
			if !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("Verify error %v (%T) does not wrap ErrInvalid", err, err)
			}
			return
		}
		// Verified: the summary describes what the key signed.
		if s.KeyName != KeyName(s.Controller) || s.Entries > s.TreeSize {
			t.Fatalf("Verify accepted a bundle with summary %+v", s)
		}
		if _, err := Fingerprint(s.PublicKey); err != nil {
			t.Fatalf("Verify accepted key %q: %v", s.PublicKey, err)
		}
		// Pinned to its own key it verifies; pinned to another it does not.
		if _, err := verifyReaderAt(ctx, bytes.NewReader(data), int64(len(data)), "fuzz.zip", s.PublicKey); err != nil {
			t.Fatalf("Verify pinned to the bundle's own key: %v", err)
		}
	})
}

// FuzzVerifySigned fuzzes what lies behind the signatures: a forger who is
// not pinned signs whatever they like, so the entries parser, the record
// proofs, the subtree hashes and the summary must hold against any content
// too. The fuzzer supplies entries.jsonl, subtrees.jsonl, proofs.jsonl, the
// checkpoint's tree text and summary.json, plus the manifest's incident and
// account; the test makes a consistent bundle around them (the CSV copy
// derived from the entries, every sum in the manifest, manifest and
// checkpoint signed with a fixed key) and verifies it. Seeds are the
// genuine bundles of the FuzzVerify corpus, re-keyed.
//
// In CI: go test ./notify/ledger -run '^$' -fuzz '^FuzzVerifySigned$' -fuzztime 10s
func FuzzVerifySigned(f *testing.F) {
	// A fixed key, so that inputs the fuzzer saves still name it.
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), KeyName("op"))
	if err != nil {
		f.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "genuine-*"))
	for _, path := range files {
		ms := readZipBytes(f, readCorpusFile(f, path))
		var m manifest
		json.Unmarshal(ms[fileManifest], &m)
		old := strings.TrimSpace(string(ms[filePublicKey]))
		n, err := note.Open(ms[fileCheckpoint], note.VerifierList(mustVerifier(f, old)))
		if err != nil {
			f.Fatal(err)
		}
		entries, proofs, tree, summary := ms[fileEntries], ms[fileProofs], n.Text, ms[fileSummary]
		if bytes.Contains(entries, []byte(old)) {
			// Entry 0 names the key: re-key it, drop the record proofs
			// (optional) and sign the new root.
			entries = bytes.ReplaceAll(entries, []byte(old), []byte(vkey))
			proofs = nil
			tr, err := tlog.ParseTree([]byte(tree))
			if err != nil {
				f.Fatal(err)
			}
			var leaves []leaf
			for _, line := range bytes.Split(bytes.TrimSuffix(entries, []byte("\n")), []byte("\n")) {
				e, _, _ := parseEntry(line)
				leaves = append(leaves, leaf{e.Index, tlog.RecordHash(line)})
			}
			root, err := rootOf(tr.N, leaves, func(lo, hi int64) (tlog.Hash, error) {
				return tlog.Hash{}, fmt.Errorf("%s: gap [%d, %d)", path, lo, hi)
			})
			if err != nil {
				f.Fatal(err)
			}
			tree = string(tlog.FormatTree(tlog.Tree{N: tr.N, Hash: root}))
			var rep report
			if err := json.Unmarshal(summary, &rep); err != nil {
				f.Fatal(err)
			}
			rep.Root = root.String()
			summary, _ = json.MarshalIndent(rep, "", "  ")
		}
		f.Add(entries, ms[fileSubtrees], proofs, tree, summary, m.Incident, m.Account)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, entries, subtrees, proofs []byte, tree string, summary []byte, incidentID int64, account string) {
		cpNote, err := note.Sign(&note.Note{Text: tree}, signer)
		if err != nil {
			return // not a note text: no bundle to make
		}
		m := manifest{Format: bundleFormat, Controller: "op", Incident: incidentID, Account: account}
		if tr, err := tlog.ParseTree([]byte(tree)); err == nil {
			m.TreeSize, m.Root = tr.N, tr.Hash.String()
		}
		var csvBuf bytes.Buffer
		cw := csv.NewWriter(&csvBuf)
		cw.Write(csvHeader)
		var rec []string
		for _, line := range bytes.Split(entries, []byte("\n")) {
			if e, _, err := parseEntry(line); err == nil {
				m.Entries++
				rec = csvRecord(&e, rec)
				cw.Write(rec)
			}
		}
		cw.Flush()
		members := map[string][]byte{
			fileEntries: entries, fileCSV: csvBuf.Bytes(), fileCheckpoint: cpNote, filePublicKey: []byte(vkey + "\n"),
			fileSubtrees: subtrees, fileSummary: summary, fileSummaryPDF: []byte("%PDF-1.3\n"),
		}
		if proofs != nil {
			members[fileProofs] = proofs
		}
		for _, name := range sortedNames(members) {
			sum := sha256.Sum256(members[name])
			m.Files = append(m.Files, manifestFile{Name: name, Size: int64(len(members[name])), SHA256: hex.EncodeToString(sum[:])})
		}
		text, _ := json.MarshalIndent(m, "", "  ")
		text = append(text, '\n')
		signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		members[fileManifest], members[fileManifestSig] = text, signed[len(text)+1:]
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, name := range sortedNames(members) {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			w.Write(members[name])
		}
		zw.Close()

		s, err := verifyReaderAt(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "fuzz.zip", vkey)
		if err != nil {
			if !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("Verify error %v (%T) does not wrap ErrInvalid", err, err)
			}
			return
		}
		if s.Entries != m.Entries || s.TreeSize != m.TreeSize || s.Root != m.Root || s.Entries > s.TreeSize {
			t.Fatalf("Verify accepted %+v for manifest %+v", s, m)
		}
	})
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readZipBytes returns a zip's members by name.
func readZipBytes(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// corpusDir holds FuzzVerify's seeds, one zip per file in the format of
// go test's fuzzing corpus.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzVerify")

// TestFuzzVerifyCorpus checks the committed seeds: those named genuine-*
// verify, every other one fails with ErrInvalid. With -corpus it first
// rewrites the seeds it makes (files it does not make, such as inputs the
// fuzzer found, are kept).
func TestFuzzVerifyCorpus(t *testing.T) {
	if *writeCorpus {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range fuzzSeeds(t) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(corpusDir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("%d seeds in %s", len(files), corpusDir)
	}
	ctx := context.Background()
	for _, fi := range files {
		t.Run(fi.Name(), func(t *testing.T) {
			data := readCorpusFile(t, filepath.Join(corpusDir, fi.Name()))
			_, err := verifyReaderAt(ctx, bytes.NewReader(data), int64(len(data)), fi.Name(), "")
			switch {
			case strings.HasPrefix(fi.Name(), "genuine-"):
				if err != nil {
					t.Fatalf("genuine seed: %v", err)
				}
			case err == nil:
				t.Fatal("hostile seed verifies")
			case !errors.Is(err, incident.ErrInvalid):
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			default:
				t.Log(err)
			}
		})
	}
}

// readCorpusFile decodes a one-[]byte fuzzing corpus file.
func readCorpusFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	s, ok2 := strings.CutSuffix(strings.TrimRight(s, "\n"), ")")
	if !ok || !ok2 {
		t.Fatalf("%s: not a []byte corpus file", path)
	}
	data, err := strconv.Unquote(s)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(data)
}

// fuzzSeeds makes FuzzVerify's seeds: small genuine bundles and hostile
// zips made from them.
func fuzzSeeds(t testing.TB) map[string][]byte {
	ctx := context.Background()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")
	mustAppend(t, db, deliveries("op", 12, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))...)
	cli := incident.Actor{Role: "cli"}
	dir := t.TempDir()
	seeds := map[string][]byte{}
	export := func(name string, opt ExportOptions) []member {
		opt.Controller, opt.Out, opt.Actor = "op", filepath.Join(dir, name+".zip"), cli
		if _, err := l.Export(ctx, db, opt); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(opt.Out)
		if err != nil {
			t.Fatal(err)
		}
		seeds["genuine-"+name] = b
		return readBundle(t, opt.Out)
	}
	whole := export("whole", ExportOptions{})
	export("incident", ExportOptions{Incident: 2})
	var buf bytes.Buffer
	if _, err := l.Prove(ctx, db, cli, "op", "a1", &buf); err != nil {
		t.Fatal(err)
	}
	seeds["genuine-prove"] = buf.Bytes()

	signer, _, err := l.signer(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	forgedSkey, forgedVkey, _ := note.GenerateKey(nil, KeyName("op"))
	forged, _ := note.NewSigner(forgedSkey)

	var entries []byte
	for _, m := range whole {
		if m.name == fileEntries {
			entries = m.data
		}
	}
	zipOf := func(edit func([]zmember) []zmember) []byte {
		return buildZip(t, edit(zmembers(whole)))
	}
	set := func(name string, edit func(*zmember)) []byte {
		return zipOf(func(ms []zmember) []zmember {
			for i := range ms {
				if ms[i].name == name {
					edit(&ms[i])
				}
			}
			return ms
		})
	}
	add := func(m zmember) []byte {
		return zipOf(func(ms []zmember) []zmember { return append(ms, m) })
	}
	pseudo := make([]byte, 16<<10) // incompressible, and reproducible
	for i, x := 0, uint32(1); i < len(pseudo); i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		pseudo[i] = byte(x)
	}

	for name, data := range map[string][]byte{
		"traversal-name":         add(zmember{name: "../../../../tmp/evil", data: []byte("x")}),
		"absolute-name":          add(zmember{name: "/etc/passwd", data: []byte("x")}),
		"backslash-name":         add(zmember{name: `..\..\evil.bat`, data: []byte("x")}),
		"subdir-member":          set(fileSummary, func(m *zmember) { m.name = "a/../" + fileSummary }),
		"duplicate-member":       add(zmember{name: fileEntries, data: entries}),
		"duplicate-manifest":     add(zmember{name: fileManifest, data: []byte("{}")}),
		"symlink-public-key":     set(filePublicKey, func(m *zmember) { m.mode, m.data = fs.ModeSymlink|0o777, []byte("/etc/passwd") }),
		"directory-member":       add(zmember{name: "d", mode: fs.ModeDir | 0o755}),
		"declared-size-larger":   set(fileEntries, func(m *zmember) { m.store, m.data = true, append(m.data, pseudo...) }),
		"declared-size-smaller":  set(fileEntries, func(m *zmember) { m.size, m.noCRC = uint64(len(entries)/2), true }),
		"declared-size-huge":     set(fileEntries, func(m *zmember) { m.size = 1 << 62 }),
		"declared-size-max":      set(fileCSV, func(m *zmember) { m.size = 1<<64 - 1 }),
		"compressed-size-huge":   set(fileEntries, func(m *zmember) { m.csize = 1 << 40 }),
		"stored-size-lie":        set(fileCheckpoint, func(m *zmember) { m.store, m.size = true, 1<<30 }),
		"inflates-past-declared": set(fileEntries, func(m *zmember) { m.size, m.noCRC, m.data = uint64(len(entries)), true, append(m.data, pseudo...) }),
		"zip-bomb-entries":       set(fileEntries, func(m *zmember) { m.data = append(m.data, make([]byte, 4<<20)...) }),
		"zip-bomb-resealed":      buildZip(t, zmembers(reseal(t, editMember(whole, fileEntries, func(b []byte) []byte { return append(b, make([]byte, 4<<20)...) }), signer))),
		"zip-bomb-summary":       set(fileSummary, func(m *zmember) { m.data = append(m.data, bytes.Repeat([]byte(" "), 4<<20)...) }),
		"zip-bomb-long-line":     set(fileSubtrees, func(m *zmember) { m.data = bytes.Repeat([]byte("{"), 1<<20) }),
		"too-many-members": zipOf(func(ms []zmember) []zmember {
			for i := 0; i < 40; i++ {
				ms = append(ms, zmember{name: fmt.Sprintf("x%d", i), data: []byte("x")})
			}
			return ms
		}),
		"forged-key-resealed":       buildZip(t, zmembers(reseal(t, editMember(whole, filePublicKey, func([]byte) []byte { return []byte(forgedVkey + "\n") }), forged))),
		"entry-edited-resealed":     buildZip(t, zmembers(reseal(t, editMember(whole, fileEntries, func(b []byte) []byte { return bytes.Replace(b, []byte(`"account":"a4"`), []byte(`"account":"a5"`), 1) }), signer))),
		"subtrees-garbage-resealed": buildZip(t, zmembers(reseal(t, editMember(whole, fileSubtrees, func([]byte) []byte { return []byte("{\"lo\":0,\"hi\":99999999999,\"hash\":\"AA==\"}\n") }), signer))),
		"empty-zip":                 buildZip(t, nil),
		"not-a-zip":                 []byte("PK\x03\x04 not really"),
		"truncated":                 seeds["genuine-whole"][:len(seeds["genuine-whole"])/2],
		// The slow input: 1000 self-signed members of 1 MiB that share 1
		// KiB of deflated zeros, which Verify used to inflate and hash.
		"bomb-overlapping-members": bombBundle(t, whole, 1000, true),
	} {
		seeds[name] = data
	}
	return seeds
}
