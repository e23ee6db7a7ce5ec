package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/tlog"
)

// Append appends entries to their controllers' logs inside the caller's
// transaction, so they commit or roll back with the state change they
// record. It assigns each entry's Index (written back into entries) and
// fills in nothing else: At must be set. Entries of several controllers may
// be mixed; each controller's entries keep their order.
//
// Append is built for batches: one call reads each controller's log row
// once (its size and the right edge of its tree), computes every entry's
// stored hashes in memory and writes the entries in runs of up to RunSize
// per row.
func Append(ctx context.Context, tx *sql.Tx, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	// Assign indexes, reading each log row once.
	logs := map[string]*appender{}
	var order []*appender
	owner := make([]*appender, len(entries))
	var last *appender
	for i := range entries {
		e := &entries[i]
		a := last
		if a == nil || a.controller != e.Controller {
			if a = logs[e.Controller]; a == nil {
				var err error
				if a, err = loadAppender(ctx, tx, e.Controller); err != nil {
					return fmt.Errorf("ledger: append %s: %w", e.Controller, err)
				}
				logs[e.Controller] = a
				order = append(order, a)
			}
			last = a
		}
		e.Index = a.next
		a.next++
		owner[i] = a
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO ledger_runs(id, n, hashes, records) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("ledger: append: %w", err)
	}
	defer ins.Close()
	var enc encoded
	for lo := 0; lo < len(entries); lo += encodeChunk {
		hi := min(lo+encodeChunk, len(entries))
		if err := enc.encode(entries[lo:hi]); err != nil {
			return fmt.Errorf("ledger: append: %w", err)
		}
		for i := lo; i < hi; i++ {
			a := owner[i]
			if err := a.append(enc.at(i - lo)); err != nil {
				return fmt.Errorf("ledger: append %s #%d: %w", a.controller, entries[i].Index, err)
			}
			if a.runN == RunSize {
				if err := a.flush(ctx, ins); err != nil {
					return fmt.Errorf("ledger: append %s: %w", a.controller, err)
				}
			}
		}
	}
	for _, a := range order {
		if err := a.flush(ctx, ins); err != nil {
			return fmt.Errorf("ledger: append %s: %w", a.controller, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_logs SET size = ?, edge = ? WHERE id = ?`, a.size, a.edgeBytes(), a.logID); err != nil {
			return fmt.Errorf("ledger: append %s: %w", a.controller, err)
		}
	}
	return nil
}

// encodeChunk is how many entries Append validates, encodes and hashes at a
// time (in parallel when there are many), bounding its memory.
const encodeChunk = 16384

// encoded holds a chunk of entries' canonical encodings and leaf hashes,
// in parts encoded concurrently.
type encoded struct {
	per   int // entries per part
	parts []encodedPart
}

type encodedPart struct {
	arena  []byte
	ends   []int
	leaves []tlog.Hash
}

// at returns entry i's canonical encoding and leaf hash.
func (c *encoded) at(i int) ([]byte, tlog.Hash) {
	p := &c.parts[i/c.per]
	i %= c.per
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.arena[start:p.ends[i]], p.leaves[i]
}

// encode validates, encodes and hashes es, splitting big chunks across the
// available processors.
func (c *encoded) encode(es []Entry) error {
	workers := max(1, min(runtime.GOMAXPROCS(0), 4, len(es)/1024))
	c.per = (len(es) + workers - 1) / workers
	if len(c.parts) < workers {
		c.parts = make([]encodedPart, workers)
	}
	if workers == 1 {
		return c.parts[0].encode(es)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*c.per, min((w+1)*c.per, len(es))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = c.parts[w].encode(es[lo:hi])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *encodedPart) encode(es []Entry) error {
	size := 0
	for i := range es {
		size += 160 + len(es[i].Controller) + len(es[i].Account) + len(es[i].Detail)
	}
	if cap(p.arena) < size {
		p.arena = make([]byte, 0, size)
	}
	p.arena, p.ends, p.leaves = p.arena[:0], p.ends[:0], p.leaves[:0]
	for i := range es {
		e := &es[i]
		if err := e.validate(); err != nil {
			return err
		}
		start := len(p.arena)
		p.arena = e.appendCanonical(p.arena)
		p.ends = append(p.ends, len(p.arena))
		p.leaves = append(p.leaves, tlog.RecordHash(p.arena[start:]))
	}
	return nil
}

// RunSize is the most entries one ledger_runs row holds.
const RunSize = 64

// runID is the rowid of the run of log logID starting at entry first.
func runID(logID, first int64) int64 { return logID<<40 | first }

// appender holds one log's state during an Append: its size and the right
// edge of its tree, which are the only hashes tlog.StoredHashes reads, and
// the run being filled.
type appender struct {
	controller string
	logID      int64
	size       int64 // entries stored, including the current run
	next       int64 // the index Append gives the next entry
	// edge[l] is the hash of the complete subtree at level l on the right
	// edge of the tree (present when bit l of size is set).
	edge [64]tlog.Hash
	q    Queryer
	ctx  context.Context

	runFirst int64
	runN     int
	hashes   []byte
	records  []byte
}

// append adds the entry at index a.size, given its canonical encoding and
// leaf hash, to the current run.
func (a *appender) append(rec []byte, leaf tlog.Hash) error {
	if a.runN == 0 {
		a.runFirst = a.size
	}
	hashes, err := tlog.StoredHashesForRecordHash(a.size, leaf, a)
	if err != nil {
		return err
	}
	a.records = append(append(a.records, rec...), '\n')
	for _, h := range hashes {
		a.hashes = append(a.hashes, h[:]...)
	}
	a.runN++
	a.push(hashes)
	return nil
}

// flush writes the current run, if any.
func (a *appender) flush(ctx context.Context, ins *sql.Stmt) error {
	if a.runN == 0 {
		return nil
	}
	if _, err := ins.ExecContext(ctx, runID(a.logID, a.runFirst), a.runN, a.hashes, a.records); err != nil {
		return err
	}
	a.runN, a.hashes, a.records = 0, a.hashes[:0], a.records[:0]
	return nil
}

// loadAppender reads (creating if needed) a controller's log row, and
// locks it until tx ends: the no-op UPDATE ... RETURNING takes the row's
// lock on PostgreSQL, where several workers append at once, so a second
// appender of the log waits here for the first to commit and then reads
// the size it left (never the same index twice). On SQLite the
// transaction already holds the database's write lock (_txlock=immediate)
// and the statement is one more read of a page the append writes anyway.
func loadAppender(ctx context.Context, tx *sql.Tx, controller string) (*appender, error) {
	var id, size int64
	var edge []byte
	lock := func() error {
		return tx.QueryRowContext(ctx, `UPDATE ledger_logs SET size = size WHERE controller_id = ? RETURNING id, size, edge`, controller).Scan(&id, &size, &edge)
	}
	err := lock()
	if errors.Is(err, sql.ErrNoRows) {
		// The controller's first entry: create the row, then lock it.
		if _, _, _, err = readLog(ctx, tx, controller, true); err == nil {
			err = lock()
		}
	}
	if err != nil {
		return nil, err
	}
	a := &appender{controller: controller, logID: id, size: size, next: size, q: tx, ctx: ctx}
	if err := a.setEdge(edge); err != nil {
		return nil, err
	}
	return a, nil
}

// readLog returns a controller's log id, size and right edge. When create
// is set a missing row is created (the controller must exist).
func readLog(ctx context.Context, q Queryer, controller string, create bool) (id, size int64, edge []byte, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, size, edge FROM ledger_logs WHERE controller_id = ?`, controller).Scan(&id, &size, &edge)
	if errors.Is(err, sql.ErrNoRows) && create {
		if _, ok := q.(execer); !ok {
			return 0, 0, nil, fmt.Errorf("no ledger for controller %q", controller)
		}
		ok, err := incident.ControllerExists(ctx, q, controller)
		if err != nil {
			return 0, 0, nil, err
		}
		if !ok {
			return 0, 0, nil, fmt.Errorf("%w: controller %q", incident.ErrNotFound, controller)
		}
		// A concurrent first append (PostgreSQL) may create the row first:
		// then this one waits for it, inserts nothing, and reads the row.
		err = q.QueryRowContext(ctx, `INSERT INTO ledger_logs(controller_id) VALUES (?)
			ON CONFLICT (controller_id) DO NOTHING RETURNING id`, controller).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return readLog(ctx, q, controller, false)
		}
		return id, 0, nil, err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil, fmt.Errorf("%w: no ledger for controller %q", incident.ErrNotFound, controller)
	}
	return id, size, edge, err
}

// setEdge decodes a stored right edge: one hash per set bit of size,
// lowest level first.
func (a *appender) setEdge(b []byte) error {
	if len(b) != tlog.HashSize*bits.OnesCount64(uint64(a.size)) {
		return fmt.Errorf("%w: ledger tree edge has %d bytes for size %d", incident.ErrConflict, len(b), a.size)
	}
	for l := 0; l < 64; l++ {
		if a.size&(1<<l) != 0 {
			copy(a.edge[l][:], b)
			b = b[tlog.HashSize:]
		}
	}
	return nil
}

func (a *appender) edgeBytes() []byte {
	b := make([]byte, 0, tlog.HashSize*bits.OnesCount64(uint64(a.size)))
	for l := 0; l < 64; l++ {
		if a.size&(1<<l) != 0 {
			b = append(b, a.edge[l][:]...)
		}
	}
	return b
}

// push records the stored hashes of the entry just appended at index size.
// Appending entry n completes the subtrees at levels 0..m where m is the
// number of trailing one bits of n; the top one, at level m, joins the
// right edge and replaces those below it.
func (a *appender) push(hashes []tlog.Hash) {
	m := len(hashes) - 1
	a.edge[m] = hashes[m]
	a.size++
}

// root returns the tree hash of the current size, folded from the edge.
func (a *appender) root() tlog.Hash {
	return edgeRoot(a.size, &a.edge)
}

func edgeRoot(size int64, edge *[64]tlog.Hash) tlog.Hash {
	var h tlog.Hash
	first := true
	for l := 0; l < 64; l++ {
		if size&(1<<l) == 0 {
			continue
		}
		if first {
			h, first = edge[l], false
		} else {
			h = tlog.NodeHash(edge[l], h)
		}
	}
	return h
}

// ReadHashes serves tlog.StoredHashes from the right edge; any other index
// (never asked for by StoredHashes) is read from the database.
func (a *appender) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		if a.size&(1<<level) != 0 && n == a.size>>level-1 {
			out[i] = a.edge[level]
			continue
		}
		hs, err := (&hashReader{ctx: a.ctx, q: a.q, logID: a.logID}).ReadHashes([]int64{x})
		if err != nil {
			return nil, err
		}
		out[i] = hs[0]
	}
	return out, nil
}

// Queryer is what the readers need of a *sql.DB or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// hashReader reads stored hashes from ledger_runs: stored hash index x,
// at (level l, node n), was produced by appending entry (n+1)<<l - 1, and
// sits at byte 32*(x - tlog.StoredHashIndex(0, first)) of the hashes of the
// run holding that entry. It keeps the last run it read, as proofs and
// subtree walks ask for neighbouring hashes.
type hashReader struct {
	ctx   context.Context
	q     Queryer
	logID int64
	stmt  *sql.Stmt // optional: runQuery, prepared

	first, n int64 // the cached run
	hashes   []byte
}

// runQuery selects the run holding the entry whose run id would be ?.
const runQuery = `SELECT id, n, hashes FROM ledger_runs WHERE id <= ? ORDER BY id DESC LIMIT 1`

func (r *hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		idx := (n+1)<<level - 1
		if r.hashes == nil || idx < r.first || idx >= r.first+r.n {
			if err := r.load(idx); err != nil {
				return nil, err
			}
		}
		off := tlog.HashSize * (x - tlog.StoredHashIndex(0, r.first))
		if off < 0 || off+tlog.HashSize > int64(len(r.hashes)) {
			return nil, fmt.Errorf("%w: stored hash %d (entry %d) missing", incident.ErrConflict, x, idx)
		}
		copy(out[i][:], r.hashes[off:])
	}
	return out, nil
}

// load reads the run holding entry idx.
func (r *hashReader) load(idx int64) error {
	var id int64
	var row *sql.Row
	if r.stmt != nil {
		row = r.stmt.QueryRowContext(r.ctx, runID(r.logID, idx))
	} else {
		row = r.q.QueryRowContext(r.ctx, runQuery, runID(r.logID, idx))
	}
	err := row.Scan(&id, &r.n, &r.hashes)
	r.first = id & (1<<40 - 1)
	if err == nil && (id>>40 != r.logID || idx >= r.first+r.n) {
		err = sql.ErrNoRows
	}
	if err != nil {
		r.hashes = nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: entry %d missing", incident.ErrConflict, idx)
	}
	return err
}
