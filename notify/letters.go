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

// parseLetterID reads "L17" (or "17") back.
func parseLetterID(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "L")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

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
		mw.Write([]string{opt.LetterID, af.ID, csvSafe(af.Name), csvSafe(af.PostalLine1), csvSafe(af.PostalLine2), csvSafe(af.City),
			csvSafe(af.Region), csvSafe(af.PostalCode), af.Country, strconv.Itoa(pages), hex.EncodeToString(sum.Sum(nil))})
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

// csvSafe keeps a spreadsheet from reading a manifest cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// LetterResult reports a mail-house confirmation or returns file.
type LetterResult struct {
	File     string `json:"file"`
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
}

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
// entry. A line naming an unknown letter, one not exported, one already
// mailed or named twice, or with a bad date is reported
// ("FILE:LINE: FIELD: reason") and skipped; the other lines commit.
func ConfirmLetters(ctx context.Context, st *incident.Store, r io.Reader, file string, report func(incident.Problem)) (LetterResult, error) {
	return applyLetterFile(ctx, st, r, file, report, mailedEvent)
}

// ReturnedLetters reads the mail house's returned-to-sender CSV
// (letter_id,returned_at[,reason]) and moves each letter to returned with
// its letter_returned ledger entry; a returned letter's recipient counts
// towards substitute notice (LetterStats). Bad lines are reported as by
// ConfirmLetters.
func ReturnedLetters(ctx context.Context, st *incident.Store, r io.Reader, file string, report func(incident.Problem)) (LetterResult, error) {
	return applyLetterFile(ctx, st, r, file, report, returnedEvent)
}

// letterFileBatch is how many lines commit per transaction.
const letterFileBatch = 1000

type letterLine struct {
	line  int
	id    int64
	at    time.Time
	extra string
	// field and reason, when set, reject the line (reported in line order
	// with the rejections the database finds).
	field, reason string
}

func applyLetterFile(ctx context.Context, st *incident.Store, r io.Reader, file string, report func(incident.Problem), ev letterEvent) (LetterResult, error) {
	res := LetterResult{File: file}
	if report == nil {
		report = func(incident.Problem) {}
	}
	report1 := func(line int, field, reason string) {
		res.Rejected++
		report(incident.Problem{File: file, Line: line, Field: field, Reason: reason})
	}
	var batch []letterLine
	bad := func(line int, field, reason string) {
		batch = append(batch, letterLine{line: line, field: field, reason: reason})
	}
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	seen := map[int64]int{}
	now := st.Now().UTC()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.InTx(ctx, func(tx *sql.Tx) error { return applyLetterLines(ctx, tx, batch, ev, now, report1, &res) })
		batch = batch[:0]
		return err
	}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad(pe.Line, "csv", pe.Err.Error())
				line = pe.Line
				continue
			}
			return res, fmt.Errorf("%s: %w", file, err)
		}
		if line == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "letter_id") {
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) < 2 || len(rec) > 3 {
			bad(line, "line", fmt.Sprintf("want letter_id,%s[,%s], got %d fields", ev.field, ev.extra, len(rec)))
			continue
		}
		id, ok := parseLetterID(rec[0])
		if !ok {
			bad(line, "letter_id", fmt.Sprintf("%q is not a letter id", rec[0]))
			continue
		}
		at, err := parseMailDate(rec[1])
		if err != nil {
			bad(line, ev.field, err.Error())
			continue
		}
		if at.After(now) {
			bad(line, ev.field, fmt.Sprintf("%s is in the future", strings.TrimSpace(rec[1])))
			continue
		}
		if first, dup := seen[id]; dup {
			bad(line, "letter_id", fmt.Sprintf("%s is also on line %d", LetterID(id), first))
			continue
		}
		seen[id] = line
		l := letterLine{line: line, id: id, at: at}
		if len(rec) == 3 {
			l.extra = strings.TrimSpace(rec[2])
		}
		batch = append(batch, l)
		if len(batch) >= letterFileBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "letters."+string(ev.kind), "file:"+filepath.Base(file), res)
	})
	return res, err
}

// parseMailDate reads YYYY-MM-DD or an RFC 3339 time.
func parseMailDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(incident.DateLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD or an RFC 3339 time", s)
}

// applyLetterLines moves the letters of one batch of lines, with their
// ledger entries, in tx.
func applyLetterLines(ctx context.Context, tx *sql.Tx, lines []letterLine, ev letterEvent, now time.Time,
	bad func(line int, field, reason string), res *LetterResult) error {
	find, err := tx.PrepareContext(ctx, `SELECT n.incident_id, n.controller_id, n.account_id, n.state, n.batch,
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
	ts := now.Format(time.RFC3339Nano)
	entries := make([]ledger.Entry, 0, len(lines))
	for _, l := range lines {
		if l.reason != "" {
			bad(l.line, l.field, l.reason)
			continue
		}
		var incID int64
		var controller, account, state, batch, jurisdiction, deadline string
		err := find.QueryRowContext(ctx, l.id).Scan(&incID, &controller, &account, &state, &batch, &jurisdiction, &deadline)
		if errors.Is(err, sql.ErrNoRows) {
			bad(l.line, "letter_id", fmt.Sprintf("unknown letter %s", LetterID(l.id)))
			continue
		}
		if err != nil {
			return fmt.Errorf("letters: %w", err)
		}
		if !ev.from[state] {
			bad(l.line, "letter_id", letterStateReason(LetterID(l.id), state))
			continue
		}
		at := l.at.Format(time.RFC3339)
		if _, err := upd.ExecContext(ctx, ev.state, ev.state, at, ev.state, l.extra, ev.state, l.extra, ts, l.id, state); err != nil {
			return fmt.Errorf("letters: %s: %w", LetterID(l.id), err)
		}
		detail := map[string]string{ev.field: at, "batch": batch, "jurisdiction": jurisdiction, "deadline": deadline}
		if l.extra != "" {
			detail[ev.extra] = l.extra
		}
		raw, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		entries = append(entries, ledger.Entry{Controller: controller, At: now, Kind: ev.kind, Incident: incID,
			Account: account, Notice: l.id, Channel: ChannelLetter, Detail: raw})
	}
	if err := ledger.Append(ctx, tx, entries...); err != nil {
		return fmt.Errorf("letters: %w", err)
	}
	res.Accepted += len(entries)
	return nil
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
