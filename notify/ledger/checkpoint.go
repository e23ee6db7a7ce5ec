package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint signs the controller's current tree head and returns it. When
// the latest checkpoint already covers the log (nothing was appended after
// it but its own checkpoint entry) it is returned unchanged, so calling
// Checkpoint on a schedule is cheap and idempotent.
//
// A new checkpoint is refused, with an error wrapping incident.ErrConflict,
// when the stored hashes do not reproduce the previous checkpoint's root or
// the new tree is not consistent with it (tlog.ProveTree/CheckTree). After
// signing, Checkpoint appends a checkpoint entry (detail: tree_size,
// root_hash) at index size, in the same transaction.
func (l *Ledger) Checkpoint(ctx context.Context, db *sql.DB, controllerID string) (Checkpoint, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint %s: %w", controllerID, err)
	}
	defer tx.Rollback()
	cp, created, err := l.checkpoint(ctx, tx, controllerID)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint %s: %w", controllerID, err)
	}
	if !created {
		return cp, nil
	}
	if err := tx.Commit(); err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint %s: %w", controllerID, err)
	}
	return cp, nil
}

func (l *Ledger) checkpoint(ctx context.Context, tx *sql.Tx, controllerID string) (Checkpoint, bool, error) {
	id, size, edge, err := readLog(ctx, tx, controllerID, false)
	if err != nil {
		return Checkpoint{}, false, err
	}
	prev, err := latestCheckpoint(ctx, tx, controllerID)
	hasPrev := err == nil
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return Checkpoint{}, false, err
	}
	// Only Checkpoint writes checkpoints, and it appends exactly one entry
	// with each, so size == prev.Size+1 means that entry is all there is.
	if hasPrev && size <= prev.Size+1 {
		return prev, false, nil
	}
	if size == 0 {
		return Checkpoint{}, false, fmt.Errorf("%w: empty ledger", incident.ErrInvalid)
	}
	signer, _, err := l.signer(ctx, tx, controllerID)
	if err != nil {
		return Checkpoint{}, false, err
	}
	a := &appender{size: size}
	if err := a.setEdge(edge); err != nil {
		return Checkpoint{}, false, err
	}
	r := &hashReader{ctx: ctx, q: tx, logID: id}
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return Checkpoint{}, false, err
	}
	if root != a.root() {
		return Checkpoint{}, false, fmt.Errorf("%w: stored hashes give root %v for size %d, the log's tree edge %v", incident.ErrConflict, root, size, a.root())
	}
	if hasPrev {
		prevRoot, err := tlog.ParseHash(prev.Root)
		if err != nil {
			return Checkpoint{}, false, fmt.Errorf("%w: checkpoint %d: %v", incident.ErrConflict, prev.Size, err)
		}
		old, err := tlog.TreeHash(prev.Size, r)
		if err != nil {
			return Checkpoint{}, false, err
		}
		if old != prevRoot {
			return Checkpoint{}, false, fmt.Errorf("%w: stored hashes no longer give the root signed at size %d: history was rewritten", incident.ErrConflict, prev.Size)
		}
		proof, err := tlog.ProveTree(size, prev.Size, r)
		if err != nil {
			return Checkpoint{}, false, err
		}
		if err := tlog.CheckTree(proof, size, root, prev.Size, prevRoot); err != nil {
			return Checkpoint{}, false, fmt.Errorf("%w: tree of size %d is not consistent with the checkpoint at size %d: %v", incident.ErrConflict, size, prev.Size, err)
		}
	}
	signed, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: size, Hash: root}))}, signer)
	if err != nil {
		return Checkpoint{}, false, err
	}
	now := l.now().UTC()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_checkpoints(log_id, size, root, note, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, size, root[:], string(signed), now.Format(time.RFC3339Nano)); err != nil {
		return Checkpoint{}, false, err
	}
	detail, _ := json.Marshal(map[string]any{"tree_size": size, "root_hash": root.String()})
	if err := Append(ctx, tx, Entry{Controller: controllerID, At: now, Kind: KindCheckpoint, Detail: detail}); err != nil {
		return Checkpoint{}, false, err
	}
	return Checkpoint{Controller: controllerID, Size: size, Root: root.String(), Note: string(signed), At: now}, true, nil
}

// LatestCheckpoint returns the controller's latest signed checkpoint, or an
// error wrapping incident.ErrNotFound when there is none.
func LatestCheckpoint(ctx context.Context, q Queryer, controllerID string) (Checkpoint, error) {
	cp, err := latestCheckpoint(ctx, q, controllerID)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: latest checkpoint %s: %w", controllerID, err)
	}
	return cp, nil
}

func latestCheckpoint(ctx context.Context, q Queryer, controllerID string) (Checkpoint, error) {
	cp := Checkpoint{Controller: controllerID}
	var root []byte
	var at string
	err := q.QueryRowContext(ctx, `SELECT c.size, c.root, c.note, c.created_at FROM ledger_checkpoints c
		JOIN ledger_logs l ON l.id = c.log_id WHERE l.controller_id = ? ORDER BY c.size DESC LIMIT 1`, controllerID).
		Scan(&cp.Size, &root, &cp.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, fmt.Errorf("%w: no checkpoint for controller %q", incident.ErrNotFound, controllerID)
	}
	if err != nil {
		return Checkpoint{}, err
	}
	if len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint %d has a %d-byte root", incident.ErrConflict, cp.Size, len(root))
	}
	cp.Root = base64.StdEncoding.EncodeToString(root)
	cp.At, _ = time.Parse(time.RFC3339Nano, at)
	return cp, nil
}

// TreeSize returns the number of entries in the controller's log (0 when it
// has none).
func TreeSize(ctx context.Context, q Queryer, controllerID string) (int64, error) {
	var size int64
	err := q.QueryRowContext(ctx, `SELECT size FROM ledger_logs WHERE controller_id = ?`, controllerID).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: tree size %s: %w", controllerID, err)
	}
	return size, nil
}

// CheckLog re-derives the controller's whole log from its stored entries:
// every entry is canonical and at its index, every stored hash equals the
// one recomputed from the entries, the entry count equals the tree size,
// the tree edge matches, and every signed checkpoint's root is the root
// recomputed at its size. It returns the tree size, or an error wrapping
// incident.ErrConflict naming the first entry or checkpoint that differs.
func CheckLog(ctx context.Context, q Queryer, controllerID string) (int64, error) {
	n, err := checkLog(ctx, q, controllerID)
	if err != nil {
		return 0, fmt.Errorf("ledger: check %s: %w", controllerID, err)
	}
	return n, nil
}

func checkLog(ctx context.Context, q Queryer, controllerID string) (int64, error) {
	id, size, edge, err := readLog(ctx, q, controllerID, false)
	if err != nil {
		return 0, err
	}
	roots := map[int64][]byte{}
	rows, err := q.QueryContext(ctx, `SELECT size, root FROM ledger_checkpoints WHERE log_id = ?`, id)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var n int64
		var root []byte
		if err := rows.Scan(&n, &root); err != nil {
			rows.Close()
			return 0, err
		}
		roots[n] = root
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	mem := &appender{q: q, ctx: ctx, logID: id}
	checkRoot := func() error {
		if want, ok := roots[mem.size]; ok {
			if got := mem.root(); !bytes.Equal(got[:], want) {
				return fmt.Errorf("%w: entries recompute root %v at size %d, the checkpoint signed another", incident.ErrConflict, got, mem.size)
			}
		}
		return nil
	}
	rows, err = q.QueryContext(ctx, `SELECT id, n, hashes, records FROM ledger_runs WHERE id >= ? AND id < ? ORDER BY id`,
		runID(id, 0), runID(id+1, 0))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var rid, n int64
	var stored, recs sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&rid, &n, &stored, &recs); err != nil {
			return 0, err
		}
		if first := rid & indexMask; first != mem.size {
			return 0, fmt.Errorf("%w: entry %d missing", incident.ErrConflict, mem.size)
		}
		for i := int64(0); i < n; i++ {
			idx := mem.size
			nl := bytes.IndexByte(recs, '\n')
			if nl < 0 {
				return 0, fmt.Errorf("%w: entry %d missing from its run", incident.ErrConflict, idx)
			}
			rec := recs[:nl]
			recs = recs[nl+1:]
			e, canonical, err := parseEntry(rec)
			if err != nil || !canonical || e.Index != idx || e.Controller != controllerID {
				return 0, fmt.Errorf("%w: entry %d: record is not this entry's canonical encoding", incident.ErrConflict, idx)
			}
			hashes, err := tlog.StoredHashes(idx, rec, mem)
			if err != nil {
				return 0, err
			}
			for _, h := range hashes {
				if len(stored) < tlog.HashSize || !bytes.Equal(h[:], stored[:tlog.HashSize]) {
					return 0, fmt.Errorf("%w: entry %d: stored hashes differ from the ones recomputed from the entries", incident.ErrConflict, idx)
				}
				stored = stored[tlog.HashSize:]
			}
			mem.push(hashes)
			if err := checkRoot(); err != nil {
				return 0, err
			}
		}
		if len(recs) != 0 || len(stored) != 0 {
			return 0, fmt.Errorf("%w: run at entry %d holds more than its %d entries", incident.ErrConflict, rid&indexMask, n)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if mem.size != size {
		return 0, fmt.Errorf("%w: %d entries, tree size %d", incident.ErrConflict, mem.size, size)
	}
	if !bytes.Equal(mem.edgeBytes(), edge) {
		return 0, fmt.Errorf("%w: tree edge differs from the one recomputed from the entries", incident.ErrConflict)
	}
	return size, nil
}
