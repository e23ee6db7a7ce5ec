package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/breachnotice/breachnotice/incident"
)

// EntryFilter selects entries of one controller's log.
type EntryFilter struct {
	Controller string
	Incident   int64  // 0: any
	Account    string // "": any
	// From and To bound the indexes, To exclusive (0: no bound).
	From, To int64
}

// FindEntries streams the entries matching f, in index order, to fn; fn's
// error stops the scan and is returned. Filtering by incident or account
// scans the log (cheaply: a byte search of the canonical encodings picks the
// candidates to decode).
func FindEntries(ctx context.Context, q Queryer, f EntryFilter, fn func(Entry) error) error {
	err := scanEntries(ctx, q, f, func(e *Entry, _ []byte) error { return fn(*e) })
	if err != nil {
		return fmt.Errorf("ledger: find entries %s: %w", f.Controller, err)
	}
	return nil
}

const indexMask = 1<<40 - 1

// scanEntries streams the entries matching f with their canonical
// encodings, which are only valid during the call. Each stored encoding is
// checked to be canonical and at its index.
func scanEntries(ctx context.Context, q Queryer, f EntryFilter, fn func(e *Entry, line []byte) error) error {
	logID, _, _, err := readLog(ctx, q, f.Controller, false)
	if errors.Is(err, incident.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	lo := max(f.From-RunSize+1, 0) // the run holding From starts here or later
	hi := int64(indexMask)
	if f.To > 0 {
		hi = f.To
	}
	var needles [][]byte
	if f.Incident != 0 {
		needles = append(needles, strconv.AppendInt([]byte(`,"incident":`), f.Incident, 10))
	}
	if f.Account != "" {
		needles = append(needles, appendString([]byte(`,"account":`), f.Account))
	}
	rows, err := q.QueryContext(ctx, `SELECT id, records FROM ledger_runs WHERE id >= ? AND id < ? ORDER BY id`,
		runID(logID, lo), runID(logID, hi))
	if err != nil {
		return err
	}
	defer rows.Close()
	var id int64
	var recs sql.RawBytes
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id, &recs); err != nil {
			return err
		}
		idx := id & indexMask
	lines:
		for ; len(recs) > 0; idx++ {
			nl := bytes.IndexByte(recs, '\n')
			if nl < 0 {
				return fmt.Errorf("%w: entry %d: truncated record", incident.ErrConflict, idx)
			}
			line := recs[:nl]
			recs = recs[nl+1:]
			if idx < f.From || f.To > 0 && idx >= f.To {
				continue
			}
			for _, nd := range needles {
				if !bytes.Contains(line, nd) {
					continue lines
				}
			}
			e, canonical, err := parseEntry(line)
			if err != nil || !canonical || e.Index != idx || e.Controller != f.Controller {
				return fmt.Errorf("%w: entry %d: stored record is not its canonical encoding", incident.ErrConflict, idx)
			}
			if f.Incident != 0 && e.Incident != f.Incident || f.Account != "" && e.Account != f.Account {
				continue
			}
			if err := fn(&e, line); err != nil {
				return err
			}
		}
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}
