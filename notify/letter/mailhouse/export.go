package mailhouse

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/letter"
)

// LetterID is a letter's id as the mail house sees it: "L" and the notice id.
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

// auditExport is the audit action of a batch export. The batch itself is
// a row of letter_batches, whose created_at is the letters' date, so a
// re-export reproduces the same PDFs.
const auditExport = "letters.export"

// Export writes the incident's queued letters as a new mail-house
// batch to the zip file out: <letter_id>.pdf per letter and manifest.csv.
// With again set to a batch id, it writes that batch's letters again
// (the same batch id and the same bytes) and changes no state.
//
// The zip is written to a temporary file beside out, streaming one PDF at
// a time; then the letters move to exported with the batch id in one
// transaction; only after it commits is the file renamed to out (if the
// commit fails the temporary file is removed). With nothing to export, no
// file is written and the result counts no letters.
//
// The clock is read once: the letters' date is its day, and the
// transaction writes its time (updated_at, the letter_exported entries,
// the batch row whose day a re-export prints, the audit row).
func Export(ctx context.Context, st *incident.Store, incidentID int64, out string, again string) (ExportResult, error) {
	res := ExportResult{Incident: incidentID, Again: again != ""}
	inc, err := st.FindIncidentFor(ctx, incidentID, incident.ActLetters)
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
	now := st.Now().UTC()
	date := now
	var where []any
	if again != "" {
		var at string
		err := db.QueryRowContext(ctx, `SELECT created_at FROM letter_batches WHERE id = ?`, again).Scan(&at)
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
	zsum := sha256.New()
	// sums receives each letter's notice id and the SHA-256 of its PDF as
	// written into the zip, in notice order: the letter_exported entries
	// carry them, read back from this file rather than held in memory.
	sums, err := os.CreateTemp("", "breachnotice-letter-sums-*")
	if err != nil {
		return res, fmt.Errorf("export letters: %w", err)
	}
	defer os.Remove(sums.Name())
	defer sums.Close()
	ids, err := writeBatch(ctx, st, inc, c, io.MultiWriter(tmp, zsum), sums, where, date, &res)
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
		err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
			r, err := tx.ExecContext(ctx, `UPDATE notices SET state = 'exported', batch = ?, updated_at = ?
				WHERE incident_id = ? AND channel = 'letter' AND state = 'queued' AND id BETWEEN ? AND ?`,
				res.Batch, tx.Now.Format(time.RFC3339Nano), incidentID, ids.min, ids.max)
			if err != nil {
				return fmt.Errorf("export letters: %w", err)
			}
			if n, err := r.RowsAffected(); err != nil || n != int64(res.Letters) {
				return fmt.Errorf("%w: export letters: %d letters written but %d still queued (another export ran?)", incident.ErrConflict, res.Letters, n)
			}
			if err := recordExported(ctx, tx.Tx, inc, res.Batch, sums, tx.Now); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO letter_batches(id, controller_id, incident_id, created_at, file, sha256,
					letters, pages, open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				res.Batch, inc.ControllerID, incidentID, tx.Now.Format(time.RFC3339Nano), filepath.Base(out),
				hex.EncodeToString(zsum.Sum(nil)), res.Letters, res.Pages, res.Letters)
			if err != nil {
				return fmt.Errorf("export letters: batch %s: %w", res.Batch, err)
			}
			return tx.Audit(ctx, auditExport, "batch:"+res.Batch, map[string]any{"incident": incidentID, "letters": res.Letters, "pages": res.Pages})
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
// Each letter's notice id and the SHA-256 of its PDF go to sums as one
// fixed-size record (sumRecord).
func writeBatch(ctx context.Context, st *incident.Store, inc *incident.Incident, c *incident.Controller, w io.Writer,
	sums io.Writer, where []any, date time.Time, res *ExportResult) (idRange, error) {
	var ids idRange
	sw := bufio.NewWriterSize(sums, 1<<16)
	var srec [sumRecord]byte
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

	rows, err := st.DB().QueryContext(ctx, `SELECT n.id, `+incident.AffectedPeopleColumns("f")+`, v.jurisdiction, v.content_profile, `+notify.OfferColumns("o")+`
		FROM notices n
		JOIN `+incident.AffectedPeople+` f ON f.incident_id = n.incident_id AND f.account_id = n.account_id
		JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
		`+notify.OfferJoin("o", "n")+`
		WHERE n.incident_id = ? AND n.channel = 'letter' AND `+where[0].(string)+` ORDER BY n.id`,
		append([]any{inc.ID}, where[1:]...)...)
	if err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
	defer rows.Close()
	opt := letter.Options{Sender: c.Name, ReturnAddress: c.Contact.PostalAddress}
	sum := sha256.New()
	var af incident.Affected
	var offer notify.Offer
	for rows.Next() {
		var id int64
		var d law.Decision
		var eu, ec, neu int // flags the letter does not print
		var status string
		if err := rows.Scan(&id, &af.ID, &af.Username, &af.Name, &af.Email, &eu, &af.Locale, &af.Country, &af.Region,
			&af.PostalLine1, &af.PostalLine2, &af.City, &af.PostalCode, &ec, &status, &af.NoticeEmail, &neu,
			&d.Jurisdiction, &d.ContentProfile, &offer.Code, &offer.Provider, &offer.Expires); err != nil {
			return ids, fmt.Errorf("export letters: %w", err)
		}
		if ids.min == 0 {
			ids.min = id
		}
		ids.max = id
		n := notify.NoticeFor(inc, c, &af, d)
		n.NoticeDate = date
		notify.WithOffer(&n, offer)
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
		binary.BigEndian.PutUint64(srec[:8], uint64(id))
		sum.Sum(srec[8:8])
		if _, err := sw.Write(srec[:]); err != nil {
			return ids, fmt.Errorf("export letters: %w", err)
		}
		mw.Write(csvSafeRow([]string{opt.LetterID, af.ID, af.Name, af.PostalLine1, af.PostalLine2, af.City,
			af.Region, af.PostalCode, af.Country, strconv.Itoa(pages), hex.EncodeToString(srec[8:])}))
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
	if err := sw.Flush(); err != nil {
		return ids, fmt.Errorf("export letters: %w", err)
	}
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

// csvSafeRow applies incident.SpreadsheetSafe to every cell of a manifest row, so that no
// column (account ids come from the controller's import) is left out.
func csvSafeRow(row []string) []string {
	for i, c := range row {
		row[i] = incident.SpreadsheetSafe(c)
	}
	return row
}

// sumRecord is one letter's record in the sums file writeBatch writes:
// the notice id (8 bytes, big-endian) and the SHA-256 of its PDF.
const sumRecord = 8 + sha256.Size

// recordExported appends a letter_exported entry for every letter of the
// batch, in the transaction that marks them exported, a thousand at a
// time. Each entry's detail carries the batch and "sha256", the hex
// SHA-256 of the letter's PDF exactly as written into the batch (the
// sha256 column of manifest.csv), which is also kept on the notice
// (content_sha256) for the letter_mailed and letter_returned entries.
// sums holds the letters' ids and digests in notice order (writeBatch).
func recordExported(ctx context.Context, tx *sql.Tx, inc *incident.Incident, batch string, sums *os.File, at time.Time) error {
	if _, err := sums.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export letters: %w", err)
	}
	sr := bufio.NewReaderSize(sums, 1<<16)
	var srec [sumRecord]byte
	upd, err := tx.PrepareContext(ctx, `UPDATE notices SET content_sha256 = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("export letters: %w", err)
	}
	defer upd.Close()
	const chunk = 1000
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT id, account_id FROM notices WHERE incident_id = ? AND channel = 'letter' AND batch = ? AND id > ?
			ORDER BY id LIMIT ?`, inc.ID, batch, after, chunk)
		if err != nil {
			return fmt.Errorf("export letters: %w", err)
		}
		entries := make([]ledger.Entry, 0, chunk)
		for rows.Next() {
			e := ledger.Entry{Controller: inc.ControllerID, At: at, Kind: ledger.KindLetterExported, Incident: inc.ID,
				Channel: notify.ChannelLetter}
			if err := rows.Scan(&e.Notice, &e.Account); err != nil {
				rows.Close()
				return fmt.Errorf("export letters: %w", err)
			}
			entries = append(entries, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export letters: %w", err)
		}
		if len(entries) == 0 {
			if _, err := sr.ReadByte(); err != io.EOF {
				return fmt.Errorf("export letters: batch %s: more letters written than exported", batch)
			}
			return nil
		}
		for i := range entries {
			e := &entries[i]
			if _, err := io.ReadFull(sr, srec[:]); err != nil {
				return fmt.Errorf("export letters: batch %s: letter %s: digest: %w", batch, LetterID(e.Notice), err)
			}
			if id := int64(binary.BigEndian.Uint64(srec[:8])); id != e.Notice {
				return fmt.Errorf("export letters: batch %s: letter %s exported, %s written", batch, LetterID(e.Notice), LetterID(id))
			}
			sum := hex.EncodeToString(srec[8:])
			e.Detail, _ = json.Marshal(map[string]string{"batch": batch, "sha256": sum})
			if _, err := upd.ExecContext(ctx, sum, e.Notice); err != nil {
				return fmt.Errorf("export letters: %w", err)
			}
			after = e.Notice
		}
		if err := ledger.Append(ctx, tx, entries...); err != nil {
			return fmt.Errorf("export letters: %w", err)
		}
	}
}
