// Package mailhouse is the letter channel's round trip with a mail house:
// it exports queued letter notices as a batch of print-ready PDFs
// (rendered by notify/letter) and applies the mail house's confirmation
// and returned-to-sender files.
//
// # Model
//
// notify queues letter notices (QueueLetters, and QueueFallbackLetter when
// an email fails for good): a row of the notices table in state queued, or
// unprintable when the postal address is not complete. From there this
// package moves them:
//
//	queued             --Export-->   exported
//	exported           --Confirm-->  mailed
//	exported or mailed --Returned--> returned
//
// Every move commits together with its ledger entry (letter_exported,
// letter_mailed, letter_returned) in one transaction. A letter is in
// exactly one batch. A letter's id, as the mail house sees it, is "L" and
// the notice id (LetterID).
//
// A batch is a zip: <letter_id>.pdf per letter and manifest.csv, whose
// cells a spreadsheet cannot read as formulas. Its audit row's time is the
// letters' date, so Export with again reproduces a batch byte for byte.
// Mail-house files are CSV, letter_id,DATE[,TEXT]: a bad line is reported
// and skipped, the others commit (see parse.go for the rules that need no
// database).
//
// Each operation reads the clock once, and every transaction it runs
// (incident.Store.InTxAt) stamps that time on what it writes: rows, ledger
// entries and the audit row.
//
// # Dependencies
//
// mailhouse imports notify (the notice states, NoticeFor), notify/letter
// (the renderer), notify/ledger and incident; notify never imports it.
// cmd/breachnotice calls it for "letters export | confirm | returned".
package mailhouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// FileResult reports a mail-house confirmation or returns file.
type FileResult struct {
	File string `json:"file"`
	// Controller is the controller whose letters the file applied to.
	Controller string `json:"controller,omitempty"`
	Accepted   int    `json:"accepted"`
	Rejected   int    `json:"rejected"`
	// Warnings counts accepted lines whose free text was cut to MaxText.
	Warnings int `json:"warnings,omitempty"`
}

// FileOptions names and scopes a mail-house file.
type FileOptions struct {
	// File names the file in problems: "FILE:LINE: FIELD: reason".
	File string
	// Controller, when set, applies only that controller's letters: a line
	// naming another controller's letter is rejected as an unknown letter,
	// exactly like a letter that does not exist. A member actor's files are
	// always scoped to its own controller.
	Controller string
}

// MixedControllersError refuses, as a whole, a mail-house file whose
// letters belong to more than one controller when no controller scopes
// it. Nothing of the file is applied.
type MixedControllersError struct {
	File string
	// Lines lists each controller's lines (the first maxListedLines of
	// them); Count counts them all.
	Lines map[string][]int
	Count map[string]int
}

// maxListedLines is how many lines per controller a MixedControllersError
// lists.
const maxListedLines = 10

func (e *MixedControllersError) Error() string {
	ids := make([]string, 0, len(e.Lines))
	for id := range e.Lines {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		var b strings.Builder
		fmt.Fprintf(&b, "%s on line", id)
		if e.Count[id] > 1 {
			b.WriteString("s")
		}
		for i, l := range e.Lines[id] {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %d", l)
		}
		if more := e.Count[id] - len(e.Lines[id]); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
		parts = append(parts, b.String())
	}
	return fmt.Sprintf("%v: %s: letters of %d controllers (%s): nothing applied: scope the file to one controller",
		incident.ErrInvalid, e.File, len(ids), strings.Join(parts, "; "))
}

func (e *MixedControllersError) Unwrap() error { return incident.ErrInvalid }

// letterEvent is what a mail-house file line moves a letter to.
type letterEvent struct {
	state string
	kind  ledger.Kind
	field string // the date column: mailed_at or returned_at
	from  map[string]bool
	extra string // the optional third column: tracking or reason
}

var (
	mailedEvent = letterEvent{state: notify.StateMailed, kind: ledger.KindLetterMailed, field: "mailed_at",
		from: map[string]bool{notify.StateExported: true}, extra: "tracking"}
	returnedEvent = letterEvent{state: notify.StateReturned, kind: ledger.KindLetterReturned, field: "returned_at",
		from: map[string]bool{notify.StateExported: true, notify.StateMailed: true}, extra: "reason"}
)

// Confirm reads the mail house's confirmation CSV
// (letter_id,mailed_at[,tracking]; a header row is optional) and moves each
// confirmed letter from exported to mailed with its letter_mailed ledger
// entry.
//
// A bad line is reported ("FILE:LINE: FIELD: reason") and skipped; the
// other lines commit. A line is bad when it names an unknown letter (or,
// with a controller scope, another controller's letter: reported the same
// way), one not exported, one already mailed or named twice, or has a
// malformed date, a date after now plus DateSlack, or a date before the
// day the letter was exported (dates compare by UTC day). The tracking text
// is made one clean line and cut to MaxText runes (a warning says so).
//
// Without a controller scope (opt.Controller, or a member actor's own), a
// file naming letters of more than one controller is refused as a whole
// with a *MixedControllersError, before anything is applied.
func Confirm(ctx context.Context, st *incident.Store, r io.Reader, opt FileOptions, report func(incident.Problem)) (FileResult, error) {
	return applyLetterFile(ctx, st, r, opt, report, mailedEvent)
}

// Returned reads the mail house's returned-to-sender CSV
// (letter_id,returned_at[,reason]) and moves each letter to returned with
// its letter_returned ledger entry; a returned letter's recipient counts
// towards substitute notice (notify.FindLetterCounts). Lines are checked as by
// Confirm; besides, a returned date before the day the letter was mailed
// is rejected, and the reason is cleaned and cut like a tracking number.
func Returned(ctx context.Context, st *incident.Store, r io.Reader, opt FileOptions, report func(incident.Problem)) (FileResult, error) {
	return applyLetterFile(ctx, st, r, opt, report, returnedEvent)
}

// letterFileBatch is how many lines commit per transaction.
const letterFileBatch = 1000

func applyLetterFile(ctx context.Context, st *incident.Store, r io.Reader, opt FileOptions, report func(incident.Problem), ev letterEvent) (FileResult, error) {
	file := opt.File
	res := FileResult{File: file}
	if report == nil {
		report = func(incident.Problem) {}
	}
	// The clock is read once: the future-date check and every transaction
	// of the file (updated_at, ledger entries, the audit row) use now.
	now := st.Now().UTC()
	scope, err := letterScope(ctx, st, opt.Controller)
	if err != nil {
		return res, err
	}
	if scope == "" {
		// Unscoped: read the file once to learn whose letters it names, and
		// refuse it whole if they are several controllers'.
		spool, err := os.CreateTemp("", "breachnotice-letters-*.csv")
		if err != nil {
			return res, fmt.Errorf("%s: %w", file, err)
		}
		defer os.Remove(spool.Name())
		defer spool.Close()
		if _, err := io.Copy(spool, r); err != nil {
			return res, fmt.Errorf("%s: %w", file, err)
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return res, fmt.Errorf("%s: %w", file, err)
		}
		mixed, err := letterControllers(ctx, st, spool, ev, now)
		if err != nil {
			return res, fmt.Errorf("%s: %w", file, err)
		}
		if len(mixed.Count) > 1 {
			mixed.File = file
			return res, mixed
		}
		for id := range mixed.Count {
			scope = id
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return res, fmt.Errorf("%s: %w", file, err)
		}
		r = spool
	}
	res.Controller = scope
	ap := &letterApply{ev: ev, scope: scope, pg: st.Postgres(), exported: map[string]time.Time{}, res: &res,
		report: func(p incident.Problem) {
			p.File = file
			if p.Warning {
				res.Warnings++
			} else {
				res.Rejected++
			}
			report(p)
		}}
	var batch []letterLine
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.InTxAt(ctx, now, func(tx *incident.Tx) error { return ap.lines(ctx, tx, batch) })
		batch = batch[:0]
		return err
	}
	err = parseLetterFile(r, ev, now, func(l letterLine) error {
		batch = append(batch, l)
		if len(batch) >= letterFileBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("%s: %w", file, err)
	}
	if err := flush(); err != nil {
		return res, err
	}
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		return tx.Audit(ctx, "letters."+string(ev.kind), "file:"+filepath.Base(file), res)
	})
	return res, err
}

// letterScope returns the controller a mail-house file is scoped to: the
// one given (which the actor must be able to see), else a member actor's
// own, else none.
func letterScope(ctx context.Context, st *incident.Store, given string) (string, error) {
	if err := incident.Authorize(ctx, incident.ActLetters, given); err != nil {
		return "", fmt.Errorf("letters: %w", err)
	}
	if given != "" {
		if _, err := st.FindControllerByID(ctx, given); err != nil {
			return "", err
		}
		return given, nil
	}
	if a := incident.ActorFrom(ctx); a.Role == incident.RoleMember {
		if a.Controller == "" {
			// Unscoped, the refusal of a mixed file would name controllers.
			return "", fmt.Errorf("%w: member %s has no controller", incident.ErrForbidden, a.Name)
		}
		return a.Controller, nil
	}
	return "", nil
}

// letterControllers reads a mail-house file and returns the controllers of
// the letters it names, with their lines. Rejected lines and unknown
// letters belong to no controller.
func letterControllers(ctx context.Context, st *incident.Store, r io.Reader, ev letterEvent, now time.Time) (*MixedControllersError, error) {
	m := &MixedControllersError{Lines: map[string][]int{}, Count: map[string]int{}}
	find, err := st.DB().PrepareContext(ctx, `SELECT controller_id FROM notices WHERE id = ? AND channel = 'letter'`)
	if err != nil {
		return nil, fmt.Errorf("letters: %w", err)
	}
	defer find.Close()
	err = parseLetterFile(r, ev, now, func(l letterLine) error {
		if l.reason != "" {
			return nil
		}
		var c string
		err := find.QueryRowContext(ctx, l.id).Scan(&c)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("letters: %w", err)
		}
		if len(m.Lines[c]) < maxListedLines {
			m.Lines[c] = append(m.Lines[c], l.line)
		}
		m.Count[c]++
		return nil
	})
	return m, err
}

// letterApply applies the parsed lines of one mail-house file.
type letterApply struct {
	ev    letterEvent
	scope string // "" or the only controller whose letters apply
	// pg: the store is PostgreSQL, where a letter's row is locked as it is
	// read, so that two files applied at once (say by two processes) move
	// it once: the second reads the state the first left. SQLite's write
	// transactions already run one at a time.
	pg bool
	// exported caches the export day of each batch seen.
	exported map[string]time.Time
	report   func(incident.Problem)
	res      *FileResult
}

// lines moves the letters of one batch of lines, with their ledger entries,
// in tx, at its time.
func (ap *letterApply) lines(ctx context.Context, tx *incident.Tx, lines []letterLine) error {
	ev := ap.ev
	bad := func(line int, field, reason string) {
		ap.report(incident.Problem{Line: line, Field: field, Reason: reason})
	}
	lockSQL := ""
	if ap.pg {
		lockSQL = " FOR UPDATE OF n"
	}
	find, err := tx.PrepareContext(ctx, `SELECT n.incident_id, n.controller_id, n.account_id, n.state, n.batch, n.final_at, n.created_at,
		coalesce(v.jurisdiction, ''), coalesce(v.deadline, ''), n.content_sha256
		FROM notices n LEFT JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
		WHERE n.id = ? AND n.channel = 'letter'`+lockSQL)
	if err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	defer find.Close()
	upd, err := tx.PrepareContext(ctx, `UPDATE notices SET state = ?, final_at = CASE WHEN ? = 'mailed' THEN ? ELSE final_at END,
		tracking = CASE WHEN ? = 'mailed' THEN ? ELSE tracking END, last_reply = CASE WHEN ? = 'returned' THEN ? ELSE last_reply END,
		updated_at = ? WHERE id = ? AND state = ?`)
	if err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	defer upd.Close()
	ts := tx.Now.Format(time.RFC3339Nano)
	entries := make([]ledger.Entry, 0, len(lines))
	counts := map[string]*batchCounts{} // per batch, what these lines change
	for _, l := range lines {
		if l.reason != "" {
			bad(l.line, l.field, l.reason)
			continue
		}
		id := LetterID(l.id)
		var incID int64
		var controller, account, state, batch, mailed, created, jurisdiction, deadline, pdfSum string
		err := find.QueryRowContext(ctx, l.id).Scan(&incID, &controller, &account, &state, &batch, &mailed, &created, &jurisdiction, &deadline, &pdfSum)
		if errors.Is(err, sql.ErrNoRows) || err == nil && ap.scope != "" && controller != ap.scope {
			// Another controller's letter is reported exactly like one
			// that does not exist.
			bad(l.line, "letter_id", fmt.Sprintf("unknown letter %s", id))
			continue
		}
		if err != nil {
			return fmt.Errorf("letters: %w", err)
		}
		if !ev.from[state] {
			bad(l.line, "letter_id", letterStateReason(id, state))
			continue
		}
		exported, err := ap.exportDay(ctx, tx.Tx, batch)
		if err != nil {
			return err
		}
		since := "exported"
		if exported.IsZero() {
			// No export recorded: the letter was queued no later.
			since = "queued"
			if t, err := time.Parse(time.RFC3339Nano, created); err == nil {
				exported = day(t)
			}
		}
		if day(l.at).Before(exported) {
			bad(l.line, ev.field, fmt.Sprintf("%s is before %s was %s (%s)", mailDate(l.at), id, since, exported.Format(incident.DateLayout)))
			continue
		}
		if state == notify.StateMailed {
			if m, err := time.Parse(time.RFC3339, mailed); err == nil && day(l.at).Before(day(m)) {
				bad(l.line, ev.field, fmt.Sprintf("%s is before %s was mailed (%s)", mailDate(l.at), id, mailDate(m)))
				continue
			}
		}
		at := l.at.Format(time.RFC3339)
		r, err := upd.ExecContext(ctx, ev.state, ev.state, at, ev.state, l.extra, ev.state, l.extra, ts, l.id, state)
		if err != nil {
			return fmt.Errorf("letters: %s: %w", id, err)
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: letters: %s is no longer %s (another file applied at once?)", incident.ErrConflict, id, state)
		}
		if batch != "" {
			bc := counts[batch]
			if bc == nil {
				bc = &batchCounts{}
				counts[batch] = bc
			}
			bc.count(state, ev.state)
		}
		detail := map[string]string{ev.field: at, "batch": batch, "jurisdiction": jurisdiction, "deadline": deadline}
		if l.extra != "" {
			detail[ev.extra] = l.extra
		}
		if pdfSum != "" {
			// The SHA-256 of the PDF handed to the mail house, as its
			// letter_exported entry recorded it.
			detail["sha256"] = pdfSum
		}
		raw, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		entries = append(entries, ledger.Entry{Controller: controller, At: tx.Now, Kind: ev.kind, Incident: incID,
			Account: account, Notice: l.id, Channel: notify.ChannelLetter, Detail: raw})
		if l.cut {
			ap.report(incident.Problem{Line: l.line, Field: ev.extra, Warning: true,
				Reason: fmt.Sprintf("longer than %d characters: cut to %d", MaxText, MaxText)})
		}
	}
	if err := ledger.Append(ctx, tx.Tx, entries...); err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	for batch, bc := range counts {
		if err := bc.apply(ctx, tx.Tx, batch); err != nil {
			return err
		}
	}
	ap.res.Accepted += len(entries)
	return nil
}

// exportDay returns the UTC day batch was exported (from letter_batches),
// or the zero time if that is not recorded.
func (ap *letterApply) exportDay(ctx context.Context, tx *sql.Tx, batch string) (time.Time, error) {
	if d, ok := ap.exported[batch]; ok {
		return d, nil
	}
	var at string
	err := tx.QueryRowContext(ctx, `SELECT created_at FROM letter_batches WHERE id = ?`, batch).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("letters: batch %s: %w", batch, err)
	}
	var d time.Time
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		d = day(t)
	}
	ap.exported[batch] = d
	return d, nil
}

func letterStateReason(id, state string) string {
	switch state {
	case notify.StateQueued, notify.StateUnprintable:
		return fmt.Sprintf("%s is %s: not exported to a mail house yet", id, state)
	case notify.StateMailed:
		return fmt.Sprintf("%s is already mailed", id)
	case notify.StateReturned:
		return fmt.Sprintf("%s is already returned", id)
	}
	return fmt.Sprintf("%s is %s", id, state)
}
