package ledger

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Bundle file names.
const (
	fileEntries     = "entries.jsonl"
	fileCSV         = "entries.csv"
	fileCheckpoint  = "checkpoint"
	filePublicKey   = "public_key"
	fileSubtrees    = "subtrees.jsonl"
	fileProofs      = "proofs.jsonl"
	fileSummary     = "summary.json"
	fileSummaryPDF  = "summary.pdf"
	fileManifest    = "manifest.json"
	fileManifestSig = "manifest.sig"
)

// bundleFormat names the bundle layout in manifest.json.
const bundleFormat = "breachnotice-ledger-bundle/1"

// ExportOptions says which slice of which log to export, where, and for whom.
type ExportOptions struct {
	Controller string
	Incident   int64  // 0: every entry
	Account    string // "": every account (Prove sets it)
	// Out is the zip's path. It is written to a temporary file in the same
	// directory and renamed into place.
	Out string
	// Actor is who asks: a member actor may only export its own controller.
	Actor incident.Actor
	// Attach supplies the bytes that exported entries record by hash (a
	// banner revision's pages, see Entry.Attachments); the bundle carries
	// them. An export whose entries name such bytes fails without it.
	Attach Attacher
}

// manifest is manifest.json.
type manifest struct {
	Format     string         `json:"format"`
	Controller string         `json:"controller"`
	Incident   int64          `json:"incident,omitempty"`
	Account    string         `json:"account,omitempty"`
	TreeSize   int64          `json:"tree_size"`
	Root       string         `json:"root"`
	Entries    int64          `json:"entries"`
	Files      []manifestFile `json:"files"`
}

type manifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Export writes a proof bundle (see the package documentation) of the
// controller's log, or of one incident's entries, to opt.Out. It first
// takes a checkpoint if the latest one does not cover the log, and exports
// the entries that checkpoint covers. An incident with no entry in the
// controller's log (one that does not exist, or another controller's) is
// refused with incident.ErrNotFound. The bundle holds personal data: it is
// written with mode 0600 (see writeFile).
func (l *Ledger) Export(ctx context.Context, db *sql.DB, opt ExportOptions) (Summary, error) {
	var s Summary
	err := writeFile(opt.Out, func(w io.Writer) error {
		var err error
		s, err = l.writeBundle(ctx, db, opt, w)
		return err
	})
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: export %s: %w", opt.Controller, err)
	}
	return s, nil
}

// Prove writes to w a bundle of one account's entries in the controller's
// log with their inclusion proofs against a signed checkpoint: Verify checks
// it like any bundle, and it discloses no other entry (only hashes of the
// subtrees around the account's entries).
func (l *Ledger) Prove(ctx context.Context, db *sql.DB, actor incident.Actor, controllerID, accountID string, w io.Writer) (Summary, error) {
	s, err := l.prove(ctx, db, actor, controllerID, accountID, w)
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: prove %s account %s: %w", controllerID, accountID, err)
	}
	return s, nil
}

// ProveFile is Prove into the file out, written as Export writes its
// bundle: mode 0600, in place only when complete (see writeFile).
func (l *Ledger) ProveFile(ctx context.Context, db *sql.DB, actor incident.Actor, controllerID, accountID, out string) (Summary, error) {
	var s Summary
	err := writeFile(out, func(w io.Writer) error {
		var err error
		s, err = l.prove(ctx, db, actor, controllerID, accountID, w)
		return err
	})
	if err != nil {
		return Summary{}, fmt.Errorf("ledger: prove %s account %s: %w", controllerID, accountID, err)
	}
	return s, nil
}

func (l *Ledger) prove(ctx context.Context, db *sql.DB, actor incident.Actor, controllerID, accountID string, w io.Writer) (Summary, error) {
	if accountID == "" {
		return Summary{}, fmt.Errorf("%w: no account", incident.ErrInvalid)
	}
	return l.writeBundle(ctx, db, ExportOptions{Controller: controllerID, Account: accountID, Actor: actor}, w)
}

// writeFile writes a file holding personal data: write fills a temporary
// file created exclusively (O_EXCL) with mode 0600 next to path, which is
// then synced and renamed over path, so path is never seen half written,
// never readable by others, and a file planted at the temporary name (a
// symlink, say) is not written through. On failure nothing is left.
func writeFile(path string, write func(w io.Writer) error) error {
	if path == "" {
		return fmt.Errorf("%w: no output path", incident.ErrInvalid)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// os.CreateTemp opens with O_RDWR|O_CREATE|O_EXCL and mode 0600.
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil { // a zip.Writer buffers its output
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

// hashingFile is a zip member being written, with its SHA-256 and size.
type hashingFile struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func (f *hashingFile) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.h.Write(p[:n])
	f.size += int64(n)
	return n, err
}

type bundleWriter struct {
	zw    *zip.Writer
	files []manifestFile
}

func (b *bundleWriter) create(name string) (*hashingFile, error) {
	w, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	return &hashingFile{w: w, h: sha256.New()}, nil
}

func (b *bundleWriter) done(name string, f *hashingFile) {
	b.files = append(b.files, manifestFile{Name: name, Size: f.size, SHA256: hex.EncodeToString(f.h.Sum(nil))})
}

func (b *bundleWriter) file(name string, write func(w io.Writer) error) error {
	f, err := b.create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b.done(name, f)
	return nil
}

func (l *Ledger) writeBundle(ctx context.Context, db *sql.DB, opt ExportOptions, w io.Writer) (Summary, error) {
	if err := opt.Actor.Can(incident.ActLedgerRead, opt.Controller); err != nil {
		return Summary{}, fmt.Errorf("ledger of controller %q: %w", opt.Controller, err)
	}
	cp, err := l.Checkpoint(ctx, db, opt.Controller)
	if err != nil {
		return Summary{}, err
	}
	root, err := tlog.ParseHash(cp.Root)
	if err != nil {
		return Summary{}, fmt.Errorf("%w: checkpoint root: %v", incident.ErrConflict, err)
	}
	signer, vkey, err := l.signer(ctx, db, opt.Controller)
	if err != nil {
		return Summary{}, err
	}
	var logID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM ledger_logs WHERE controller_id = ?`, opt.Controller).Scan(&logID); err != nil {
		return Summary{}, err
	}
	sum := Summary{
		Controller: opt.Controller, Incident: opt.Incident, Account: opt.Account,
		TreeSize: cp.Size, Root: cp.Root, KeyName: signer.Name(), PublicKey: vkey,
	}

	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	b := &bundleWriter{zw: zw}

	// entries.jsonl and entries.csv come from one scan of the log. The
	// JSONL is deflated and hashed on a second goroutine; the CSV is
	// formatted, deflated and hashed on a third into a spool file, added to
	// the zip pre-compressed later (a zip is written one member at a time).
	spool, err := os.CreateTemp("", "breachnotice-ledger-*.csv")
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	csvOut := startCSVSpool(spool)
	defer csvOut.close()
	jf, err := b.create(fileEntries)
	if err != nil {
		return Summary{}, err
	}
	pr, pw := io.Pipe()
	jsonlDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(jf, pr)
		pr.CloseWithError(err)
		jsonlDone <- err
	}()
	jw := bufio.NewWriterSize(pw, 256<<10)
	// The leaves and the summary's per-notice and per-person state go to
	// temporary files past a fixed memory budget (spill.go).
	leaves := &leafFile{}
	defer leaves.close()
	count := newCounter()
	defer count.close()
	attach := &attachmentsWanted{}
	filter := EntryFilter{Controller: opt.Controller, Incident: opt.Incident, Account: opt.Account, To: cp.Size}
	err = scanEntries(ctx, db, filter, func(e *Entry, line []byte) error {
		if err := leaves.add(leaf{e.Index, tlog.RecordHash(line)}); err != nil {
			return err
		}
		if err := attach.add(e); err != nil {
			return err
		}
		count.add(e)
		csvOut.add(e)
		jw.Write(line)
		return jw.WriteByte('\n')
	})
	if err == nil {
		err = jw.Flush()
	}
	pw.CloseWithError(err)
	if jerr := <-jsonlDone; err == nil && jerr != nil {
		err = fmt.Errorf("%s: %w", fileEntries, jerr)
	}
	if err != nil {
		return Summary{}, err
	}
	b.done(fileEntries, jf)
	sum.Entries = leaves.n
	if opt.Account != "" && leaves.n == 0 {
		return Summary{}, fmt.Errorf("%w: no entries for account %q in the signed log", incident.ErrNotFound, opt.Account)
	}
	// Every incident's log starts with its incident_opened entry: none
	// means no such incident of this controller, and an empty bundle that
	// verifies would say otherwise.
	if opt.Incident != 0 && leaves.n == 0 {
		return Summary{}, fmt.Errorf("%w: no incident %d in controller %s's signed log", incident.ErrNotFound, opt.Incident, opt.Controller)
	}
	csvFile, err := csvOut.close()
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", fileCSV, err)
	}
	if err := attach.write(ctx, opt.Attach, b); err != nil {
		return Summary{}, err
	}

	stmt, err := db.PrepareContext(ctx, runQuery)
	if err != nil {
		return Summary{}, err
	}
	defer stmt.Close()
	hr := &hashReader{ctx: ctx, q: db, logID: logID, stmt: stmt}

	if leaves.n <= MaxRecordProofs {
		err = b.file(fileProofs, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			next := leaves.leaves()
			for {
				lf, ok, err := next()
				if err != nil || !ok {
					return err
				}
				p, err := tlog.ProveRecord(cp.Size, lf.idx, hr)
				if err != nil {
					return err
				}
				if err := enc.Encode(recordProof{Index: lf.idx, Proof: p}); err != nil {
					return err
				}
			}
		})
		if err != nil {
			return Summary{}, err
		}
	}
	// subtrees.jsonl, checking on the way that the entries as exported
	// reproduce the signed root, as Verify will.
	var got tlog.Hash
	err = b.file(fileSubtrees, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		got, err = rootOfStream(cp.Size, leaves.leaves(), func(lo, hi int64) (tlog.Hash, error) {
			h, err := subtreeHash(lo, hi, hr)
			if err != nil {
				return tlog.Hash{}, err
			}
			return h, enc.Encode(subtree{lo, hi, h})
		})
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	if got != root {
		return Summary{}, fmt.Errorf("%w: the stored entries do not reproduce the root signed at size %d", incident.ErrConflict, cp.Size)
	}
	if err := b.file(fileCheckpoint, func(w io.Writer) error { _, err := io.WriteString(w, cp.Note); return err }); err != nil {
		return Summary{}, err
	}
	if err := b.file(filePublicKey, func(w io.Writer) error { _, err := io.WriteString(w, vkey+"\n"); return err }); err != nil {
		return Summary{}, err
	}
	counts, err := count.counts(cp.At)
	if err != nil {
		return Summary{}, err
	}
	rep := &report{Summary: sum, CheckpointAt: cp.At, CreatedAt: l.now().UTC(), Counts: counts}
	err = b.file(fileSummary, func(w io.Writer) error {
		out, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(out, '\n'))
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	if err := b.file(fileSummaryPDF, func(w io.Writer) error { return writePDF(w, rep) }); err != nil {
		return Summary{}, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return Summary{}, err
	}
	cw, err := zw.CreateRaw(&zip.FileHeader{Name: fileCSV, Method: zip.Deflate,
		CRC32: csvFile.crc, CompressedSize64: uint64(csvFile.compressed), UncompressedSize64: uint64(csvFile.size)})
	if err != nil {
		return Summary{}, err
	}
	if _, err := io.Copy(cw, spool); err != nil {
		return Summary{}, fmt.Errorf("%s: %w", fileCSV, err)
	}
	b.files = append(b.files, manifestFile{Name: fileCSV, Size: csvFile.size, SHA256: csvFile.sha256})

	m := manifest{
		Format: bundleFormat, Controller: opt.Controller, Incident: opt.Incident, Account: opt.Account,
		TreeSize: cp.Size, Root: cp.Root, Entries: sum.Entries, Files: b.files,
	}
	text, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Summary{}, err
	}
	text = append(text, '\n')
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return Summary{}, fmt.Errorf("sign manifest: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{fileManifest, text}, {fileManifestSig, signed[len(text)+1:]}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate})
		if err != nil {
			return Summary{}, err
		}
		if _, err := w.Write(f.data); err != nil {
			return Summary{}, err
		}
	}
	if err := zw.Close(); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// recordProof is one line of proofs.jsonl.
type recordProof struct {
	Index int64            `json:"index"`
	Proof tlog.RecordProof `json:"proof"`
}

// subtree is one line of subtrees.jsonl: the hash of leaves [Lo, Hi).
type subtree struct {
	Lo   int64     `json:"lo"`
	Hi   int64     `json:"hi"`
	Hash tlog.Hash `json:"hash"`
}

// split returns the size of the left subtree of an RFC 6962 tree of n > 1
// leaves: the largest power of two smaller than n.
func split(n int64) int64 {
	return 1 << (bits.Len64(uint64(n-1)) - 1)
}

// leaf is an exported entry's index and leaf hash.
type leaf struct {
	idx  int64
	hash tlog.Hash
}

// rootOf is rootOfStream over leaves in a slice.
func rootOf(n int64, leaves []leaf, gap func(lo, hi int64) (tlog.Hash, error)) (tlog.Hash, error) {
	return rootOfStream(n, func() (leaf, bool, error) {
		if len(leaves) == 0 {
			return leaf{}, false, nil
		}
		l := leaves[0]
		leaves = leaves[1:]
		return l, true, nil
	}, gap)
}

// rootOfStream computes the root of the RFC 6962 tree of size n from the leaves
// next yields (in increasing index order, all below n) and, for every
// maximal subtree holding none of them, in left-to-right order, the hash
// gap returns. Export's gap reads stored hashes and writes them to
// subtrees.jsonl; Verify's reads them back. It holds one leaf at a time.
func rootOfStream(n int64, next func() (leaf, bool, error), gap func(lo, hi int64) (tlog.Hash, error)) (tlog.Hash, error) {
	if n == 0 {
		return tlog.TreeHash(0, nil)
	}
	cur, have, err := next()
	if err != nil {
		return tlog.Hash{}, err
	}
	// Every leaf below lo has been used: the ones in [lo, hi) are cur and
	// those after it below hi.
	var walk func(lo, hi int64) (tlog.Hash, error)
	walk = func(lo, hi int64) (tlog.Hash, error) {
		if !have || cur.idx >= hi {
			return gap(lo, hi)
		}
		if hi-lo == 1 {
			h := cur.hash
			if cur.idx != lo {
				return tlog.Hash{}, fmt.Errorf("leaf %d out of order", cur.idx)
			}
			cur, have, err = next()
			return h, err
		}
		mid := lo + split(hi-lo)
		left, err := walk(lo, mid)
		if err != nil {
			return tlog.Hash{}, err
		}
		right, err := walk(mid, hi)
		if err != nil {
			return tlog.Hash{}, err
		}
		return tlog.NodeHash(left, right), nil
	}
	root, err := walk(0, n)
	if err == nil && have {
		err = fmt.Errorf("leaf %d beyond the tree of size %d", cur.idx, n)
	}
	return root, err
}

// subtreeHash returns the hash of leaves [lo, hi) of an RFC 6962 tree: read
// from the stored hashes when the range is a complete subtree (every range
// met walking down from the root that has a power-of-two size is aligned),
// computed from its two halves otherwise.
func subtreeHash(lo, hi int64, r tlog.HashReader) (tlog.Hash, error) {
	size := hi - lo
	if size&(size-1) == 0 {
		level := bits.TrailingZeros64(uint64(size))
		hs, err := r.ReadHashes([]int64{tlog.StoredHashIndex(level, lo>>level)})
		if err != nil {
			return tlog.Hash{}, err
		}
		return hs[0], nil
	}
	k := split(size)
	left, err := subtreeHash(lo, lo+k, r)
	if err != nil {
		return tlog.Hash{}, err
	}
	right, err := subtreeHash(lo+k, hi, r)
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.NodeHash(left, right), nil
}

// csvSpool formats entries.csv on its own goroutine, deflating it into a
// spool file while hashing it.
type csvSpool struct {
	batch []Entry
	ch    chan []Entry
	done  chan error
	res   csvResult
	err   error
	once  bool
}

type csvResult struct {
	size, compressed int64
	crc              uint32
	sha256           string
}

// startCSVSpool starts deflating entries.csv into f; with f nil it only
// hashes it (as Verify does).
func startCSVSpool(f *os.File) *csvSpool {
	c := &csvSpool{ch: make(chan []Entry, 4), done: make(chan error, 1)}
	go func() {
		c.done <- c.run(f)
	}()
	return c
}

func (c *csvSpool) run(f *os.File) error {
	compressed := &countingWriter{w: io.Discard}
	var fw io.WriteCloser = nopCloser{io.Discard}
	if f != nil {
		compressed.w = f
		var err error
		if fw, err = flate.NewWriter(compressed, flate.BestSpeed); err != nil {
			return err
		}
	}
	sha, crc := sha256.New(), crc32.NewIEEE()
	plain := &countingWriter{w: io.MultiWriter(fw, sha, crc)}
	bw := bufio.NewWriterSize(plain, 256<<10)
	w := csv.NewWriter(bw)
	err := w.Write(csvHeader)
	var rec []string
	for batch := range c.ch {
		for i := range batch {
			if err == nil {
				rec = csvRecord(&batch[i], rec)
				err = w.Write(rec)
			}
		}
	}
	if err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	c.res = csvResult{size: plain.n, compressed: compressed.n, crc: crc.Sum32(), sha256: hex.EncodeToString(sha.Sum(nil))}
	return nil
}

func (c *csvSpool) add(e *Entry) {
	c.batch = append(c.batch, *e)
	if len(c.batch) == 1024 {
		c.ch <- c.batch
		c.batch = make([]Entry, 0, 1024)
	}
}

// close finishes the file; it may be called again (deferred) to no effect.
func (c *csvSpool) close() (csvResult, error) {
	if !c.once {
		c.once = true
		if len(c.batch) > 0 {
			c.ch <- c.batch
		}
		close(c.ch)
		c.err = <-c.done
	}
	return c.res, c.err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type countingWriter struct {
	w io.Writer
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}
