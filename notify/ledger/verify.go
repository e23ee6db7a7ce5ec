package ledger

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyError is the first thing in a bundle that does not verify: a file,
// and an entry of the log when one is to blame. It wraps incident.ErrInvalid.
type VerifyError struct {
	File  string // the bundle member at fault
	Index int64  // the entry's index in the controller's log, or -1
	Msg   string
}

func (e *VerifyError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("ledger: verify: entry %d (%s): %s", e.Index, e.File, e.Msg)
	}
	return fmt.Sprintf("ledger: verify: %s: %s", e.File, e.Msg)
}

func (e *VerifyError) Unwrap() error { return incident.ErrInvalid }

func bad(file string, format string, args ...any) error {
	return &VerifyError{File: file, Index: -1, Msg: fmt.Sprintf(format, args...)}
}

func badEntry(file string, index int64, format string, args ...any) error {
	return &VerifyError{File: file, Index: index, Msg: fmt.Sprintf(format, args...)}
}

// maxLine bounds one line of entries.jsonl, proofs.jsonl or subtrees.jsonl.
const maxLine = 16 << 20

// Limits on what a zip may declare, checked on its directory before any
// member is read. Export deflates its members at about 15:1; a member
// declaring more than maxRatio times its compressed size is a zip bomb.
// Together they bound what Verify reads (and so the temporary disk it
// uses for the entries' leaf hashes and summary records, see spill.go) by a
// multiple of the zip's size; its memory does not grow with the bundle.
//
// The ratio holds for the whole bundle too, so that the work does not grow
// with the number of members: all members together may declare at most
// inflateLimit(zip size) bytes (ratioFloor plus maxRatio times the zip's
// size, and never more than maxInflated), and no two members' data may
// overlap, so their compressed sizes add up to at most the zip's. Each
// member is read at most twice (its SHA-256, and its parse), each time
// through a limit of its declared size, so Verify inflates at most twice
// inflateLimit(zip size) bytes: its time is linear in the zip's size.
const (
	maxMembers   = 16 + maxAttachments // a bundle has 10 files and its attachments
	maxRatio     = 200                 // uncompressed : compressed, above ratioFloor
	ratioFloor   = 1 << 20             // smaller members may compress as they like
	maxInflated  = 32 << 30            // declared bytes of a whole bundle, at most
	maxNameBytes = 64
)

// inflateLimit is how many bytes the members of a zip of size bytes may
// declare in all.
func inflateLimit(size int64) uint64 {
	if size < 0 || uint64(size) > (maxInflated-ratioFloor)/maxRatio {
		return maxInflated
	}
	return ratioFloor + maxRatio*uint64(size)
}

// smallFiles are the members read whole, with their size limits.
var smallFiles = map[string]int64{
	filePublicKey:   4096,
	fileManifest:    1 << 20,
	fileManifestSig: 64 << 10,
	fileCheckpoint:  64 << 10,
	fileSummary:     64 << 20,
}

// Verify checks a bundle written by Export or Prove, offline: the manifest's
// signature by the bundle's public key (which must equal pinnedKey when one
// is given), every file's SHA-256 against the manifest, the checkpoint's
// signature, every entry's canonical form and leaf hash, every record proof
// and the batch inclusion proof against the signed tree head, the CSV copy
// and the summary counts. It returns the bundle's summary, or a *VerifyError
// naming the first entry or file that does not match.
//
// pinnedKey is the controller's public key (note verifier key text) or its
// Fingerprint. Without it Verify checks only that the bundle is consistent
// with the key it carries: anyone can make a fresh key of the same name and
// sign a consistent bundle with it.
//
// Verify reads the zip's directory first and refuses, before reading any
// member, names that are not plain file names, duplicates, anything but
// regular files, sizes that differ from manifest.json's, and members that
// declare more than maxRatio times their compressed size.
func Verify(ctx context.Context, zipPath string, pinnedKey string) (Summary, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return Summary{}, bad(zipPath, "cannot be opened: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Summary{}, bad(zipPath, "cannot be opened: %v", err)
	}
	return verifyReaderAt(ctx, f, st.Size(), zipPath, pinnedKey)
}

// verifyReaderAt verifies the bundle of size bytes that r holds; name is
// what errors call it.
func verifyReaderAt(ctx context.Context, r io.ReaderAt, size int64, name, pinnedKey string) (Summary, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Summary{}, bad(name, "not a readable zip: %v", err)
	}
	if len(zr.File) > maxMembers {
		return Summary{}, bad(name, "has %d members, more than a bundle's %d", len(zr.File), maxMembers)
	}
	v := &verifier{ctx: ctx, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if err := checkMember(f, size); err != nil {
			return Summary{}, err
		}
		if v.files[f.Name] != nil {
			return Summary{}, bad(f.Name, "appears twice in the zip")
		}
		v.files[f.Name] = f
	}
	if err := checkLayout(zr.File, size, name); err != nil {
		return Summary{}, err
	}
	return v.verify(pinnedKey)
}

// checkLayout checks what the members declare together, before any is
// read: their data lie within the zip without overlapping (a directory
// may point many members at the same compressed bytes), and their sizes
// add up to at most inflateLimit of the zip's size.
func checkLayout(files []*zip.File, size int64, name string) error {
	type span struct {
		name     string
		off, end int64
	}
	spans := make([]span, 0, len(files))
	var total uint64
	for _, f := range files {
		off, err := f.DataOffset() // reads the member's local header
		if err != nil {
			return bad(f.Name, "cannot be read: %v", err)
		}
		// checkMember bounds the compressed size by the zip's size.
		end := off + int64(f.CompressedSize64)
		if off < 0 || end < off || end > size {
			return bad(f.Name, "its %d compressed bytes at offset %d lie outside the zip of %d bytes", f.CompressedSize64, off, size)
		}
		spans = append(spans, span{f.Name, off, end})
		if total += f.UncompressedSize64; total < f.UncompressedSize64 {
			total = math.MaxUint64 // wrapped
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	for i := 1; i < len(spans); i++ {
		if spans[i].off < spans[i-1].end {
			return bad(spans[i].name, "its data overlaps %s's in the zip: a zip bomb", spans[i-1].name)
		}
	}
	if limit := inflateLimit(size); total > limit {
		return bad(name, "its members declare %d bytes in all, more than the %d Verify reads from a zip of %d bytes (1 MiB and %d times the zip's size, at most %d GiB): a zip bomb",
			total, limit, size, maxRatio, maxInflated>>30)
	}
	return nil
}

// checkMember checks what the zip's directory says of a member, before it
// is read: a bundle holds regular files with plain names, stored or
// deflated, and no zip bombs.
func checkMember(f *zip.File, zipSize int64) error {
	if !plainName(f.Name) {
		return bad(strconv.Quote(f.Name), "not a plain file name: a bundle holds no paths or directories")
	}
	switch {
	case !f.Mode().IsRegular():
		return bad(f.Name, "not a regular file (mode %v)", f.Mode())
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return bad(f.Name, "compression method %d: a bundle uses store or deflate", f.Method)
	case f.Flags&0x1 != 0:
		return bad(f.Name, "encrypted")
	case f.CompressedSize64 > uint64(zipSize):
		return bad(f.Name, "declares %d compressed bytes, the zip has %d", f.CompressedSize64, zipSize)
	case f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64:
		return bad(f.Name, "stored uncompressed, but declares %d bytes in %d", f.UncompressedSize64, f.CompressedSize64)
	case f.UncompressedSize64 > ratioFloor && f.UncompressedSize64/maxRatio > f.CompressedSize64:
		return bad(f.Name, "declares %d bytes compressed into %d, more than %d:1: a zip bomb", f.UncompressedSize64, f.CompressedSize64, maxRatio)
	}
	if max, ok := smallFiles[f.Name]; ok && f.UncompressedSize64 > uint64(max) {
		return bad(f.Name, "declares %d bytes, more than %d", f.UncompressedSize64, max)
	}
	return nil
}

// plainName reports whether name is a file name without a directory, as
// every bundle member's is.
func plainName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > maxNameBytes {
		return false
	}
	for _, r := range name {
		if r == '/' || r == '\\' || r == ':' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

type verifier struct {
	ctx   context.Context
	files map[string]*zip.File
	m     manifest
	sums  map[string]manifestFile
	// attach holds the files the entries' details name (Entry.Attachments)
	// with the SHA-256 recorded and the entry recording it.
	attach map[string]attachment
}

type attachment struct {
	sum   string
	index int64
}

// bundleFiles are the members every bundle may have beside attachments.
var bundleFiles = map[string]bool{fileEntries: true, fileCSV: true, fileCheckpoint: true, filePublicKey: true,
	fileSubtrees: true, fileProofs: true, fileSummary: true, fileSummaryPDF: true, fileManifest: true, fileManifestSig: true}

// open opens a member for reading through a limit of its declared size,
// which is checked against manifest.json's before anything but the small
// files is read. (archive/zip fails a member that inflates past its
// declared size too; the limit does not rely on it.)
func (v *verifier) open(name string) (io.ReadCloser, error) {
	f := v.files[name]
	if f == nil {
		return nil, bad(name, "missing from the bundle")
	}
	r, err := f.Open()
	if err != nil {
		return nil, bad(name, "cannot be read: %v", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{&sizeLimit{r: r, name: name, size: f.UncompressedSize64, left: int64(f.UncompressedSize64)}, r}, nil
}

// sizeLimit reads a member up to its declared size and fails, rather than
// stop quietly, if it holds more.
type sizeLimit struct {
	r    io.Reader
	name string
	size uint64
	left int64
}

func (l *sizeLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, bad(l.name, "declares %d bytes, more than Verify reads", l.size)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left+1] // one more, to see whether there is more
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		return int(l.left), bad(l.name, "inflates past the %d bytes the zip declares", l.size)
	}
	l.left -= int64(n)
	return n, err
}

func (v *verifier) readSmall(name string, max int64) ([]byte, error) {
	r, err := v.open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, bad(name, "cannot be read: %v", err)
	}
	if int64(len(b)) > max {
		return nil, bad(name, "larger than %d bytes", max)
	}
	return b, nil
}

func (v *verifier) verify(pinnedKey string) (Summary, error) {
	// The key, and the manifest it signs.
	pub, err := v.readSmall(filePublicKey, smallFiles[filePublicKey])
	if err != nil {
		return Summary{}, err
	}
	vkey := strings.TrimSpace(string(pub))
	nv, err := note.NewVerifier(vkey)
	if err != nil {
		return Summary{}, bad(filePublicKey, "not a note verifier key: %v", err)
	}
	if err := checkPin(vkey, pinnedKey); err != nil {
		return Summary{}, err
	}
	known := note.VerifierList(nv)
	text, err := v.readSmall(fileManifest, smallFiles[fileManifest])
	if err != nil {
		return Summary{}, err
	}
	sig, err := v.readSmall(fileManifestSig, smallFiles[fileManifestSig])
	if err != nil {
		return Summary{}, err
	}
	msg := append(append(append([]byte{}, text...), '\n'), sig...)
	if _, err := note.Open(msg, known); err != nil {
		return Summary{}, bad(fileManifestSig, "manifest.json is not signed by public_key %s: %v", keyID(vkey), err)
	}
	if err := json.Unmarshal(text, &v.m); err != nil {
		return Summary{}, bad(fileManifest, "%v", err)
	}
	if v.m.Format != bundleFormat {
		return Summary{}, bad(fileManifest, "unknown format %q", v.m.Format)
	}
	if nv.Name() != KeyName(v.m.Controller) {
		return Summary{}, bad(filePublicKey, "key %s is not controller %s's key", nv.Name(), v.m.Controller)
	}

	// Every file as the manifest lists it, and nothing else.
	v.sums = map[string]manifestFile{}
	for _, f := range v.m.Files {
		if f.Name == fileManifest || f.Name == fileManifestSig || v.sums[f.Name].Name != "" {
			return Summary{}, bad(fileManifest, "lists %s wrongly", f.Name)
		}
		v.sums[f.Name] = f
	}
	for name := range v.files {
		if _, ok := v.sums[name]; !ok && name != fileManifest && name != fileManifestSig {
			return Summary{}, bad(name, "not listed in manifest.json")
		}
	}
	for _, name := range []string{fileEntries, fileCSV, fileCheckpoint, filePublicKey, fileSubtrees, fileSummary, fileSummaryPDF} {
		if _, ok := v.sums[name]; !ok {
			return Summary{}, bad(fileManifest, "does not list %s", name)
		}
	}
	// Every member's declared size before any of them is read: a member
	// that would inflate past what the signed manifest says is refused
	// without inflating it.
	for _, f := range v.m.Files {
		zf := v.files[f.Name]
		if zf == nil {
			return Summary{}, bad(f.Name, "listed in manifest.json but missing from the bundle")
		}
		if f.Size < 0 || zf.UncompressedSize64 != uint64(f.Size) {
			return Summary{}, bad(f.Name, "size differs from manifest.json: the zip declares %d bytes, manifest.json %d", zf.UncompressedSize64, f.Size)
		}
	}

	// The files' sums are checked while the entries are (the work is on two
	// cores); a sum that differs is reported before anything found in the
	// entries, as it comes first.
	sums := make(chan error, 1)
	go func() {
		for _, f := range v.m.Files {
			if err := v.checkSum(f); err != nil {
				sums <- err
				return
			}
		}
		sums <- nil
	}()
	s, err := v.verifyEntries(pub, nv)
	if sumErr := <-sums; sumErr != nil {
		return Summary{}, sumErr
	}
	return s, err
}

func (v *verifier) verifyEntries(pub []byte, nv note.Verifier) (Summary, error) {
	vkey := strings.TrimSpace(string(pub))
	known := note.VerifierList(nv)

	// The signed tree head.
	cpText, err := v.readSmall(fileCheckpoint, smallFiles[fileCheckpoint])
	if err != nil {
		return Summary{}, err
	}
	n, err := note.Open(cpText, known)
	if err != nil {
		return Summary{}, bad(fileCheckpoint, "not signed by public_key %s: %v", keyID(vkey), err)
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return Summary{}, bad(fileCheckpoint, "%v", err)
	}
	if tree.N != v.m.TreeSize || tree.Hash.String() != v.m.Root {
		return Summary{}, bad(fileManifest, "tree size %d root %s, the checkpoint signed size %d root %s", v.m.TreeSize, v.m.Root, tree.N, tree.Hash)
	}

	// The entries, their proofs, and what is derived from them.
	leaves, counts, csvSum, err := v.entries(tree, vkey)
	if err != nil {
		return Summary{}, err
	}
	defer leaves.close()
	defer counts.close()
	if _, ok := v.sums[fileProofs]; ok {
		if err := v.recordProofs(tree, leaves); err != nil {
			return Summary{}, err
		}
	}
	if err := v.subtrees(tree, leaves); err != nil {
		return Summary{}, err
	}
	if leaves.n != v.m.Entries {
		return Summary{}, bad(fileManifest, "says %d entries, entries.jsonl holds %d", v.m.Entries, leaves.n)
	}
	if csvSum != v.sums[fileCSV].SHA256 {
		return Summary{}, bad(fileCSV, "does not match entries.jsonl")
	}
	if err := v.summary(counts); err != nil {
		return Summary{}, err
	}
	if err := v.attachments(); err != nil {
		return Summary{}, err
	}
	return Summary{
		Controller: v.m.Controller, Incident: v.m.Incident, Account: v.m.Account,
		Entries: leaves.n, TreeSize: tree.N, Root: tree.Hash.String(),
		KeyName: nv.Name(), PublicKey: vkey,
	}, nil
}

// checkPin checks the bundle's key against the pinned one: a note verifier
// key, or a Fingerprint.
func checkPin(vkey, pinnedKey string) error {
	pin := strings.TrimSpace(pinnedKey)
	if pin == "" {
		return nil
	}
	if strings.HasPrefix(pin, "SHA256:") {
		fp, err := Fingerprint(vkey)
		if err != nil {
			return bad(filePublicKey, "%v", err)
		}
		if fp != pin {
			return bad(filePublicKey, "key %s (fingerprint %s) is not the pinned key %s", keyID(vkey), fp, pin)
		}
		return nil
	}
	if pin != vkey {
		return bad(filePublicKey, "key %s is not the pinned key %s", keyID(vkey), keyID(pin))
	}
	return nil
}

// keyID names a verifier key by its name and hash, leaving out the key.
func keyID(vkey string) string {
	// name+hash+key: the name has no '+', the hash is hex, the base64
	// key may hold '+'.
	name, rest, _ := strings.Cut(vkey, "+")
	hash, _, ok := strings.Cut(rest, "+")
	if !ok {
		return vkey
	}
	return name + "+" + hash
}

func (v *verifier) checkSum(f manifestFile) error {
	r, err := v.open(f.Name)
	if err != nil {
		return bad(f.Name, "listed in manifest.json but missing from the bundle")
	}
	defer r.Close()
	// The declared size was checked against f.Size before anything was
	// read; the limit holds whatever the member inflates to.
	h := sha256.New()
	size, err := io.Copy(h, io.LimitReader(r, f.Size+1))
	if err != nil {
		return bad(f.Name, "cannot be read: %v", err)
	}
	if size != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return bad(f.Name, "SHA-256 or size differs from manifest.json")
	}
	return v.ctx.Err()
}

func (v *verifier) lines(name string, fn func(line []byte, lineNo int) error) error {
	r, err := v.open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if err := fn(sc.Bytes(), lineNo); err != nil {
			return err
		}
		if lineNo%4096 == 0 {
			if err := v.ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return bad(name, "line %d: %v", lineNo+1, err)
	}
	return nil
}

// entries reads entries.jsonl: each line canonical, of this bundle's
// controller and slice, in increasing index order within the signed tree.
// It returns the leaves, the summary counts and the SHA-256 of the CSV copy
// re-derived from the entries; the caller closes the first two.
func (v *verifier) entries(tree tlog.Tree, vkey string) (*leafFile, *counter, string, error) {
	leaves := &leafFile{}
	count := newCounter()
	v.attach = map[string]attachment{}
	csvOut := startCSVSpool(nil)
	defer csvOut.close()
	ok := false
	defer func() {
		if !ok {
			leaves.close()
			count.close()
		}
	}()
	prev := int64(-1)
	err := v.lines(fileEntries, func(line []byte, lineNo int) error {
		e, canonical, err := parseEntry(line)
		if err != nil {
			return bad(fileEntries, "line %d: %v", lineNo, err)
		}
		switch {
		case !canonical:
			return badEntry(fileEntries, e.Index, "line %d is not the entry's canonical encoding", lineNo)
		case e.Controller != v.m.Controller:
			return badEntry(fileEntries, e.Index, "belongs to controller %q, the bundle is for %q", e.Controller, v.m.Controller)
		case e.Index <= prev:
			return badEntry(fileEntries, e.Index, "out of order: line %d follows entry %d", lineNo, prev)
		case e.Index >= tree.N:
			return badEntry(fileEntries, e.Index, "beyond the signed tree of size %d", tree.N)
		case v.m.Incident != 0 && e.Incident != v.m.Incident:
			return badEntry(fileEntries, e.Index, "belongs to incident %d, the bundle is for incident %d", e.Incident, v.m.Incident)
		case v.m.Account != "" && e.Account != v.m.Account:
			return badEntry(fileEntries, e.Index, "belongs to another account, the bundle is for account %s", v.m.Account)
		case e.Index == 0 && e.Kind == KindControllerCreated && strings.TrimSpace(e.detailFields().PublicKey) != vkey:
			return badEntry(fileEntries, 0, "controller_created names another public key than public_key")
		}
		prev = e.Index
		want, err := e.Attachments()
		if err != nil {
			return badEntry(fileEntries, e.Index, "%v", err)
		}
		for name, sum := range want {
			if a, ok := v.attach[name]; ok && a.sum != sum {
				return badEntry(fileEntries, e.Index, "records %s with another SHA-256 than entry %d", name, a.index)
			}
			if len(v.attach) >= maxAttachments {
				return badEntry(fileEntries, e.Index, "the entries name more than %d files", maxAttachments)
			}
			v.attach[name] = attachment{sum, e.Index}
		}
		if err := leaves.add(leaf{e.Index, tlog.RecordHash(line)}); err != nil {
			return bad(fileEntries, "line %d: %v", lineNo, err)
		}
		count.add(&e)
		csvOut.add(&e)
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	res, err := csvOut.close()
	if err != nil {
		return nil, nil, "", err
	}
	ok = true
	return leaves, count, res.sha256, nil
}

// recordProofs checks proofs.jsonl: one tlog record proof per entry, in
// entry order, each against the signed tree head.
func (v *verifier) recordProofs(tree tlog.Tree, leaves *leafFile) error {
	next := leaves.leaves() // the leaves before cur have their proof
	cur, have, err := next()
	if err != nil {
		return bad(fileEntries, "%v", err)
	}
	err = v.lines(fileProofs, func(line []byte, lineNo int) error {
		var p recordProof
		if err := json.Unmarshal(line, &p); err != nil {
			return bad(fileProofs, "line %d: %v", lineNo, err)
		}
		if !have || cur.idx != p.Index {
			_, found, err := leaves.search(p.Index)
			switch {
			case err != nil:
				return bad(fileEntries, "%v", err)
			case !found:
				return badEntry(fileEntries, p.Index, "missing, though proofs.jsonl line %d proves it", lineNo)
			default:
				return bad(fileProofs, "line %d: proof for entry %d out of order", lineNo, p.Index)
			}
		}
		if err := tlog.CheckRecord(p.Proof, tree.N, tree.Hash, p.Index, cur.hash); err != nil {
			return badEntry(fileEntries, p.Index, "not included in the signed tree of size %d: its record proof fails (%v)", tree.N, err)
		}
		if cur, have, err = next(); err != nil {
			return bad(fileEntries, "%v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if have {
		return badEntry(fileEntries, cur.idx, "has no record proof in proofs.jsonl")
	}
	return nil
}

// subtrees checks that the entries and the subtree hashes of subtrees.jsonl
// give the signed root.
func (v *verifier) subtrees(tree tlog.Tree, leaves *leafFile) error {
	r, err := v.open(fileSubtrees)
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	lineNo := 0
	next := func() (subtree, bool, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return subtree{}, false, bad(fileSubtrees, "line %d: %v", lineNo+1, err)
			}
			return subtree{}, false, nil
		}
		lineNo++
		var s subtree
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return subtree{}, false, bad(fileSubtrees, "line %d: %v", lineNo, err)
		}
		return s, true, nil
	}
	root, err := rootOfStream(tree.N, leaves.leaves(), func(lo, hi int64) (tlog.Hash, error) {
		s, ok, err := next()
		if err != nil {
			return tlog.Hash{}, err
		}
		if !ok || s.Lo != lo || s.Hi != hi {
			return tlog.Hash{}, badEntry(fileEntries, lo, "missing: neither entries.jsonl nor subtrees.jsonl accounts for entries [%d, %d) of the signed tree", lo, hi)
		}
		return s.Hash, nil
	})
	if err != nil {
		return err
	}
	if _, ok, err := next(); err != nil || ok {
		if err != nil {
			return err
		}
		return bad(fileSubtrees, "line %d: more subtree hashes than the entries leave room for", lineNo)
	}
	if root != tree.Hash {
		return bad(fileEntries, "the entries and subtree hashes give root %s, the checkpoint signed %s", root, tree.Hash)
	}
	return nil
}

// summary checks summary.json against the bundle and the counts
// recomputed from the entries, as of the checkpoint time it states.
func (v *verifier) summary(count *counter) error {
	b, err := v.readSmall(fileSummary, smallFiles[fileSummary])
	if err != nil {
		return err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return bad(fileSummary, "%v", err)
	}
	if rep.Controller != v.m.Controller || rep.Incident != v.m.Incident || rep.Account != v.m.Account ||
		rep.TreeSize != v.m.TreeSize || rep.Root != v.m.Root {
		return bad(fileSummary, "describes another bundle than manifest.json")
	}
	counts, err := count.counts(rep.CheckpointAt)
	if err != nil {
		return bad(fileEntries, "counting the summary: %v", err)
	}
	counts.legacy(summaryKeys(b))
	got, err1 := json.Marshal(rep.Counts)
	want, err2 := json.Marshal(counts)
	if err := errors.Join(err1, err2); err != nil {
		return bad(fileSummary, "%v", err)
	}
	if !bytes.Equal(got, want) {
		return bad(fileSummary, "counts differ from the ones recomputed from entries.jsonl")
	}
	return nil
}

// summaryKeys returns the keys of summary.json's counts: a bundle written
// before summaries had deadline outcomes and the people's breakdown (no
// "deadline_outcomes"), or the substitute-notice list (no
// "substitute_cases"), still verifies against the counts it states.
func summaryKeys(summary []byte) map[string]bool {
	var rep struct {
		Counts map[string]json.RawMessage `json:"counts"`
	}
	keys := map[string]bool{}
	if json.Unmarshal(summary, &rep) != nil {
		return keys
	}
	for k := range rep.Counts {
		keys[k] = true
	}
	return keys
}

// attachments checks the files the entries name (a banner revision's
// page and object as posted) against the manifest, whose sums checkSum
// holds the members to: each one is there with the SHA-256 its entry
// recorded, and the bundle carries no other file.
func (v *verifier) attachments() error {
	names := make([]string, 0, len(v.attach))
	for name := range v.attach {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := v.attach[name]
		f, ok := v.sums[name]
		if !ok {
			return badEntry(fileEntries, a.index, "records %s, which the bundle lacks", name)
		}
		if f.SHA256 != a.sum {
			return badEntry(name, a.index, "not the bytes the entry recorded: SHA-256 %s, the entry says %s", f.SHA256, a.sum)
		}
	}
	for _, f := range v.m.Files {
		if _, ok := v.attach[f.Name]; !ok && !bundleFiles[f.Name] {
			return bad(f.Name, "not a bundle file, and no entry names it")
		}
	}
	return nil
}
