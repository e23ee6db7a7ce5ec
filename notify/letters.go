package notify

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
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/letter"
)

// Written notice goes to a mail house in batches: ExportLetters writes a
// zip of PDFs (one per letter) and a manifest, and moves the letters from
// queued to exported; the mail house's confirmation file moves them to
// mailed (ConfirmLetters), its returned-to-sender file to returned
// (ReturnedLetters). A letter is in exactly one batch.

// LetterID is a letter's id as the mail house sees it: "L" and the notice
// id.
func LetterID(noticeID int64) string { return "L" + strconv.FormatInt(noticeID, 10) }

// ExportResult reports a mail-house batch.
type ExportResult struct {
	Incident int64  `json:"incident"`
	Batch    string `json:"batch"`
	Letters  int    `json:"letters"`
	Pages    int    `json:"pages"`
	File     string `json:"file,omitempty"`
	Again    bool   `json:"again,omitempty"`
}

// manifestHeader is the mail-house manifest's columns.
var manifestHeader = []string{"letter_id", "account_id", "name", "address_line1", "address_line2", "city", "region",
	"postal_code", "country", "pages", "sha256"}

// auditExport is the audit action of a batch export; the row's time is
// the batch's letter date, so a re-export reproduces the same PDFs.
const auditExport = "letters.export"

// ExportLetters writes the incident's queued letters as a new mail-house
// batch to the zip file out: <letter_id>.pdf per letter and manifest.csv.
// With again set to a batch id, it writes that batch's letters again
// (the same batch id and the same bytes) and changes no state.
//
// The zip is written to a temporary file beside out, streaming one PDF at
// a time; then the letters move to exported with the batch id in one
// transaction; only after it commits is the file renamed to out (if the
// commit fails the temporary file is removed). With nothing to export, no
// file is written and the result counts no letters.
func ExportLetters(ctx context.Context, st *incident.Store, incidentID int64, out string, again string) (ExportResult, error) {
	res := ExportResult{Incident: incidentID, Again: again != ""}
	inc, err := st.FindIncidentByID(ctx, incidentID)
	if err != nil {
		return res, err
	}
	if inc.Hold != nil && again == "" {
		return res, fmt.Errorf("%w: incident %d is on a law-enforcement hold: letters are not exported until it is released", incident.ErrConflict, incidentID)
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return res, err
	}
	db := st.DB()
	date := st.Now().UTC()
	var where []any
	if again != "" {
		var at string
		err := db.QueryRowContext(ctx, `SELECT at FROM audit WHERE action = ? AND object = ?`, auditExport, "batch:"+again).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("%w: no letter batch %q", incident.ErrNotFound, again)
		}
		if err != nil {
			return res, fmt.Errorf("export letters: %w", err)
		}
		date, _ = time.Parse(time.RFC3339Nano, at)
		res.Batch = again
		where = []any{`n.batch = ?`, again}
	} else {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT batch) FROM notices WHERE incident_id = ? AND channel = 'letter' AND batch <> ''`,
			incidentID).Scan(&n); err != nil {
			return res, fmt.Errorf("export letters: %w", err)
		}
		res.Batch = fmt.Sprintf("B%d-%d", incidentID, n+1)
		where = []any{`n.state = 'queued'`}
	}
	// The letters' date is the export's day.
	date = time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)

	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return res, fmt.Errorf("export letters: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	ids, err := writeBatch(ctx, st, inc, c, tmp, where, date, &res)
	if err != nil {
		return res, err
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("export letters: %w", err)
	}
	if res.Letters == 0 {
		os.Remove(tmp.Name())
		done = true
		res.Batch = ""
		if again != "" {
			return res, fmt.Errorf("%w: batch %q of incident %d has no letters", incident.ErrNotFound, again, incidentID)
		}
		return res, nil
	}
	if again == "" {
		err = st.InTx(ctx, func(tx *sql.Tx) error {
			now := st.Now().UTC().Format(time.RFC3339Nano)
			r, err := tx.ExecContext(ctx, `UPDATE notices SET state = 'exported', batch = ?, updated_at = ?
				WHERE incident_id = ? AND channel = 'letter' AND state = 'queued' AND id BETWEEN ? AND ?`,
				res.Batch, now, incidentID, ids.min, ids.max)
			if err != nil {
				return fmt.Errorf("export letters: %w", err)
			}
			if n, err := r.RowsAffected(); err != nil || n != int64(res.Letters) {
				return fmt.Errorf("%w: export letters: %d letters written but %d still queued (another export ran?)", incident.ErrConflict, res.Letters, n)
			}
			if err := recordExported(ctx, tx, inc, res.Batch, st.Now().UTC()); err != nil {
				return err
			}
			return st.Audit(ctx, tx, auditExport, "batch:"+res.Batch, map[string]any{"incident": incidentID, "letters": res.Letters, "pages": res.Pages})
		})
		if err != nil {
			return res, err
		}
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return res, fmt.Errorf("export letters: %w (batch %s is recorded; re-export it with --again %s)", err, res.Batch, res.Batch)
	}
	done = true
	res.File = out
	return res, nil
}

type idRange struct{ min, max int64 }

// writeBatch streams the selected letters of the incident into a zip on w.
func writeBatch(ctx context.Context, st *incident.Store, inc *incident.Incident, c *incident.Controller, w io.Writer,
	where []any, date time.Time, res *ExportResult) (idRange, error) {
	var ids idRange
	bw := bufio.NewWriterSize(w, 1<<16)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	manifest, err := os.CreateTemp("", "breachnotice-manifest-*.csv")
	if err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	defer os.Remove(manifest.Name())
	defer manifest.Close()
	mw := csv.NewWriter(manifest)
	mw.Write(manifestHeader)

	rows, err := st.DB().QueryContext(ctx, `SELECT n.id, `+incident.AffectedColumns+`, v.jurisdiction, v.content_profile
		FROM notices n
		JOIN affected f ON f.incident_id = n.incident_id AND f.account_id = n.account_id
		JOIN accounts a ON a.id = n.account_id
		JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
		WHERE n.incident_id = ? AND n.channel = 'letter' AND `+where[0].(string)+` ORDER BY n.id`,
		append([]any{inc.ID}, where[1:]...)...)
	if err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	defer rows.Close()
	opt := letter.Options{Sender: c.Name, ReturnAddress: c.Contact.PostalAddress}
	sum := sha256.New()
	var af incident.Affected
	for rows.Next() {
		var id int64
		var d law.Decision
		var eu, ec, neu int // flags the letter does not print
		var status string
		if err := rows.Scan(&id, &af.ID, &af.Username, &af.Name, &af.Email, &eu, &af.Locale, &af.Country, &af.Region,
			&af.PostalLine1, &af.PostalLine2, &af.City, &af.PostalCode, &ec, &status, &af.NoticeEmail, &neu,
			&d.Jurisdiction, &d.ContentProfile); err != nil {
			return ids, fmt.Errorf("export letters: %w", err)
		}
		if ids.min == 0 {
			ids.min = id
		}
		ids.max = id
		n := NoticeFor(inc, c, &af, d)
		n.NoticeDate = date
		to := letter.Address{Name: af.Name, Lines: []string{af.PostalLine1, af.PostalLine2}, City: af.City,
			PostalCode: af.PostalCode, Region: af.Region, Country: af.Country}
		opt.LetterID = LetterID(id)
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: opt.LetterID + ".pdf", Method: zip.Deflate, Modified: date})
		if err != nil {
			return ids, fmt.Errorf("export letters: %w", err)
		}
		sum.Reset()
		pages, err := letter.Render(io.MultiWriter(fw, sum), n, to, opt)
		if err != nil {
			return ids, fmt.Errorf("export letters: letter %s: %w", opt.LetterID, err)
		}
		mw.Write(csvSafeRow([]string{opt.LetterID, af.ID, af.Name, af.PostalLine1, af.PostalLine2, af.City,
			af.Region, af.PostalCode, af.Country, strconv.Itoa(pages), hex.EncodeToString(sum.Sum(nil))}))
		res.Letters++
		res.Pages += pages
		if res.Letters%256 == 0 {
			if err := ctx.Err(); err != nil {
				return ids, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	rows.Close()
	mw.Flush()
	if err := mw.Error(); err != nil {
		return ids, fmt.Errorf("export letters: manifest: %w", err)
	}
	if _, err := manifest.Seek(0, io.SeekStart); err != nil {
		return ids, fmt.Errorf("export letters: manifest: %w", err)
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.csv", Method: zip.Deflate, Modified: date})
	if err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	if _, err := io.Copy(fw, manifest); err != nil {
		return ids, fmt.Errorf("export letters: manifest: %w", err)
	}
	if err := zw.Close(); err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	return ids, nil
}

// csvSafe keeps a spreadsheet from reading a manifest cell as a formula:
// a cell that starts with = + - @, a tab or a carriage return gets a
// leading apostrophe (OWASP's advice for CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvSafeRow applies csvSafe to every cell of a manifest row, so that no
// column (account ids come from the controller's import) is left out.
func csvSafeRow(row []string) []string {
	for i, c := range row {
		row[i] = csvSafe(c)
	}
	return row
}

// LetterResult reports a mail-house confirmation or returns file.
type LetterResult struct {
	File string `json:"file"`
	// Controller is the controller whose letters the file applied to.
	Controller string `json:"controller,omitempty"`
	Accepted   int    `json:"accepted"`
	Rejected   int    `json:"rejected"`
	// Warnings counts accepted lines whose free text was cut to
	// MaxLetterText.
	Warnings int `json:"warnings,omitempty"`
}

// LetterFileOptions names and scopes a mail-house file.
type LetterFileOptions struct {
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
	mailedEvent = letterEvent{state: StateMailed, kind: ledger.KindLetterMailed, field: "mailed_at",
		from: map[string]bool{StateExported: true}, extra: "tracking"}
	returnedEvent = letterEvent{state: StateReturned, kind: ledger.KindLetterReturned, field: "returned_at",
		from: map[string]bool{StateExported: true, StateMailed: true}, extra: "reason"}
)

// ConfirmLetters reads the mail house's confirmation CSV
// (letter_id,mailed_at[,tracking]; a header row is optional) and moves each
// confirmed letter from exported to mailed with its letter_mailed ledger
// entry.
//
// A bad line is reported ("FILE:LINE: FIELD: reason") and skipped; the
// other lines commit. A line is bad when it names an unknown letter (or,
// with a controller scope, another controller's letter: reported the same
// way), one not exported, one already mailed or named twice, or has a
// malformed date, a date after now plus LetterDateSlack, or a date before
// the day the letter was exported (dates compare by UTC day). The tracking
// text is made one clean line and cut to MaxLetterText runes (a warning
// says so).
//
// Without a controller scope (opt.Controller, or a member actor's own), a
// file naming letters of more than one controller is refused as a whole
// with a *MixedControllersError, before anything is applied.
func ConfirmLetters(ctx context.Context, st *incident.Store, r io.Reader, opt LetterFileOptions, report func(incident.Problem)) (LetterResult, error) {
	return applyLetterFile(ctx, st, r, opt, report, mailedEvent)
}

// ReturnedLetters reads the mail house's returned-to-sender CSV
// (letter_id,returned_at[,reason]) and moves each letter to returned with
// its letter_returned ledger entry; a returned letter's recipient counts
// towards substitute notice (LetterStats). Lines are checked as by
// ConfirmLetters; besides, a returned date before the day the letter was
// mailed is rejected, and the reason is cleaned and cut like a tracking
// number.
func ReturnedLetters(ctx context.Context, st *incident.Store, r io.Reader, opt LetterFileOptions, report func(incident.Problem)) (LetterResult, error) {
	return applyLetterFile(ctx, st, r, opt, report, returnedEvent)
}

// letterFileBatch is how many lines commit per transaction.
const letterFileBatch = 1000

func applyLetterFile(ctx context.Context, st *incident.Store, r io.Reader, opt LetterFileOptions, report func(incident.Problem), ev letterEvent) (LetterResult, error) {
	file := opt.File
	res := LetterResult{File: file}
	if report == nil {
		report = func(incident.Problem) {}
	}
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
	ap := &letterApply{ev: ev, now: now, scope: scope, exported: map[string]time.Time{}, res: &res,
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
		err := st.InTx(ctx, func(tx *sql.Tx) error { return ap.lines(ctx, tx, batch) })
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
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "letters."+string(ev.kind), "file:"+filepath.Base(file), res)
	})
	return res, err
}

// letterScope returns the controller a mail-house file is scoped to: the
// one given (which the actor must be able to see), else a member actor's
// own, else none.
func letterScope(ctx context.Context, st *incident.Store, given string) (string, error) {
	if given != "" {
		if _, err := st.FindControllerByID(ctx, given); err != nil {
			return "", err
		}
		return given, nil
	}
	if a := incident.ActorFrom(ctx); a.Role == "member" {
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
	now   time.Time
	scope string // "" or the only controller whose letters apply
	// exported caches the export day of each batch seen.
	exported map[string]time.Time
	report   func(incident.Problem)
	res      *LetterResult
}

// lines moves the letters of one batch of lines, with their ledger entries,
// in tx.
func (ap *letterApply) lines(ctx context.Context, tx *sql.Tx, lines []letterLine) error {
	ev := ap.ev
	bad := func(line int, field, reason string) {
		ap.report(incident.Problem{Line: line, Field: field, Reason: reason})
	}
	find, err := tx.PrepareContext(ctx, `SELECT n.incident_id, n.controller_id, n.account_id, n.state, n.batch, n.final_at, n.created_at,
		coalesce(v.jurisdiction, ''), coalesce(v.deadline, '')
		FROM notices n LEFT JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
		WHERE n.id = ? AND n.channel = 'letter'`)
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
	ts := ap.now.Format(time.RFC3339Nano)
	entries := make([]ledger.Entry, 0, len(lines))
	for _, l := range lines {
		if l.reason != "" {
			bad(l.line, l.field, l.reason)
			continue
		}
		id := LetterID(l.id)
		var incID int64
		var controller, account, state, batch, mailed, created, jurisdiction, deadline string
		err := find.QueryRowContext(ctx, l.id).Scan(&incID, &controller, &account, &state, &batch, &mailed, &created, &jurisdiction, &deadline)
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
		exported, err := ap.exportDay(ctx, tx, batch)
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
		if state == StateMailed {
			if m, err := time.Parse(time.RFC3339, mailed); err == nil && day(l.at).Before(day(m)) {
				bad(l.line, ev.field, fmt.Sprintf("%s is before %s was mailed (%s)", mailDate(l.at), id, mailDate(m)))
				continue
			}
		}
		at := l.at.Format(time.RFC3339)
		if _, err := upd.ExecContext(ctx, ev.state, ev.state, at, ev.state, l.extra, ev.state, l.extra, ts, l.id, state); err != nil {
			return fmt.Errorf("letters: %s: %w", id, err)
		}
		detail := map[string]string{ev.field: at, "batch": batch, "jurisdiction": jurisdiction, "deadline": deadline}
		if l.extra != "" {
			detail[ev.extra] = l.extra
		}
		raw, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		entries = append(entries, ledger.Entry{Controller: controller, At: ap.now, Kind: ev.kind, Incident: incID,
			Account: account, Notice: l.id, Channel: ChannelLetter, Detail: raw})
		if l.cut {
			ap.report(incident.Problem{Line: l.line, Field: ev.extra, Warning: true,
				Reason: fmt.Sprintf("longer than %d characters: cut to %d", MaxLetterText, MaxLetterText)})
		}
	}
	if err := ledger.Append(ctx, tx, entries...); err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	ap.res.Accepted += len(entries)
	return nil
}

// exportDay returns the UTC day batch was exported (from its audit row),
// or the zero time if that is not recorded.
func (ap *letterApply) exportDay(ctx context.Context, tx *sql.Tx, batch string) (time.Time, error) {
	if d, ok := ap.exported[batch]; ok {
		return d, nil
	}
	var at string
	err := tx.QueryRowContext(ctx, `SELECT at FROM audit WHERE action = ? AND object = ? ORDER BY id LIMIT 1`,
		auditExport, "batch:"+batch).Scan(&at)
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
	case StateQueued, StateUnprintable:
		return fmt.Sprintf("%s is %s: not exported to a mail house yet", id, state)
	case StateMailed:
		return fmt.Sprintf("%s is already mailed", id)
	case StateReturned:
		return fmt.Sprintf("%s is already returned", id)
	}
	return fmt.Sprintf("%s is %s", id, state)
}

// LetterCounts is an incident's letters by state.
type LetterCounts struct {
	Incident int64          `json:"incident"`
	States   map[string]int `json:"states"`
	Total    int            `json:"total"`
	// Substitute counts the people a letter did not reach (returned, or
	// unprintable for want of a complete address): they count towards
	// substitute notice.
	Substitute int `json:"substitute"`
}

// LetterStats counts an incident's letter notices by state.
func LetterStats(ctx context.Context, st *incident.Store, incidentID int64) (LetterCounts, error) {
	lc := LetterCounts{Incident: incidentID, States: map[string]int{}}
	if _, err := st.FindIncidentByID(ctx, incidentID); err != nil {
		return lc, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT state, count(*) FROM notices WHERE incident_id = ? AND channel = 'letter' GROUP BY state`, incidentID)
	if err != nil {
		return lc, fmt.Errorf("letter stats %d: %w", incidentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return lc, fmt.Errorf("letter stats %d: %w", incidentID, err)
		}
		lc.States[s] = n
		lc.Total += n
	}
	lc.Substitute = lc.States[StateReturned] + lc.States[StateUnprintable]
	return lc, rows.Err()
}

// recordExported appends a letter_exported entry for every letter of the
// batch, in the transaction that marks them exported.
func recordExported(ctx context.Context, tx *sql.Tx, inc *incident.Incident, batch string, at time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, account_id FROM notices WHERE incident_id = ? AND channel = 'letter' AND batch = ? ORDER BY id`,
		inc.ID, batch)
	if err != nil {
		return fmt.Errorf("export letters: %w", err)
	}
	defer rows.Close()
	detail, _ := json.Marshal(map[string]string{"batch": batch})
	var entries []ledger.Entry
	for rows.Next() {
		e := ledger.Entry{Controller: inc.ControllerID, At: at, Kind: ledger.KindLetterExported, Incident: inc.ID,
			Channel: ChannelLetter, Detail: detail}
		if err := rows.Scan(&e.Notice, &e.Account); err != nil {
			return fmt.Errorf("export letters: %w", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export letters: %w", err)
	}
	return ledger.Append(ctx, tx, entries...)
}
