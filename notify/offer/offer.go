// Package offer assigns identity-theft-protection enrolment codes to the
// people of an incident whose notice offers protection (offers import), and
// writes the assignments the provider needs (offers export).
//
// A code is given to at most one person and a person holds at most one
// code (table offer_codes); each assignment is recorded in the
// controller's ledger as offer_assigned with the code's SHA-256, in the
// transaction that makes it. The notice of that person prints the code
// (notify.WithOffer).
package offer

import (
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
	"unicode"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// batchRows is how many rows one INSERT or UPDATE statement writes.
const batchRows = 500

// ledgerBatch is how many ledger entries one ledger.Append call writes.
const ledgerBatch = 10000

// Code is one row of an import file.
type Code struct {
	Code, Provider, Expires string
	Line                    int
}

// ImportResult says what an import did.
type ImportResult struct {
	Read     int `json:"read"`     // codes in the file
	Known    int `json:"known"`    // of them, already imported for this incident
	New      int `json:"new"`      // of them, stored now
	Owed     int `json:"owed"`     // people owed an offer who had no code before
	Assigned int `json:"assigned"` // codes given now (= Owed)
	Spare    int `json:"spare"`    // codes of the incident left unassigned
}

// ErrTooFew is returned when the codes at hand cannot cover everyone owed
// an offer: nothing is assigned.
var ErrTooFew = errors.New("too few codes")

// maxCode bounds a code's length.
const maxCode = 128

// ReadCodes parses a codes file: a header line naming code and optionally
// provider and expires (in that order), then one code per line. Every
// error names the file, line and field; a code given twice is refused.
func ReadCodes(name string, r io.Reader) ([]Code, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s line 1: empty file, want a header line code[,provider,expires]", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	want := []string{"code", "provider", "expires"}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if len(header) == 0 || len(header) > len(want) {
		return nil, fmt.Errorf("%s line 1: header %q, want code[,provider,expires]", name, strings.Join(header, ","))
	}
	for i, h := range header {
		if strings.TrimSpace(h) != want[i] {
			return nil, fmt.Errorf("%s line 1 field %d: header %q, want %q (code[,provider,expires])", name, i+1, h, want[i])
		}
	}
	cr.FieldsPerRecord = len(header)
	seen := map[string]int{}
	var out []Code
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s line %d: %w", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		c := Code{Code: strings.TrimSpace(rec[0]), Line: line}
		fail := func(field string, format string, args ...any) error {
			return fmt.Errorf("%s line %d field %s: %s", name, line, field, fmt.Sprintf(format, args...))
		}
		if c.Code == "" {
			return nil, fail("code", "empty")
		}
		if len(c.Code) > maxCode {
			return nil, fail("code", "%d characters, at most %d", len(c.Code), maxCode)
		}
		for _, r := range c.Code {
			if r > unicode.MaxASCII || !unicode.IsPrint(r) || unicode.IsSpace(r) {
				return nil, fail("code", "%q: printable ASCII without spaces only", c.Code)
			}
		}
		if first, dup := seen[c.Code]; dup {
			return nil, fail("code", "duplicate of line %d", first)
		}
		seen[c.Code] = line
		if len(rec) > 1 {
			c.Provider = strings.Join(strings.Fields(rec[1]), " ")
			if len(c.Provider) > 200 {
				return nil, fail("provider", "%d characters, at most 200", len(c.Provider))
			}
		}
		if len(rec) > 2 {
			if e := strings.TrimSpace(rec[2]); e != "" {
				d, err := incident.ParseDate(e)
				if err != nil {
					return nil, fail("expires", "%q: want YYYY-MM-DD", e)
				}
				c.Expires = d.Format(incident.DateLayout)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// owedJurisdictions returns the jurisdictions of the incident's plan whose
// notices offer protection.
func owedJurisdictions(ctx context.Context, q incident.Querier, inc *incident.Incident) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT jurisdiction FROM plan_variants WHERE incident_id = ? AND notify <> 0`, inc.ID)
	if err != nil {
		return nil, fmt.Errorf("plan of incident %d: %w", inc.ID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, err
		}
		if law.ProtectionMonths(j, inc) > 0 {
			out = append(out, j)
		}
	}
	return out, rows.Err()
}

func jsonList[T any](v []T) string {
	b, _ := json.Marshal(v)
	if v == nil {
		return "[]"
	}
	return string(b)
}

// owedPeople returns, in account-id order, the people of the incident owed
// a protection offer under its plan who hold no code yet. in is the
// store's subquery of a JSON array's text values (incident.Store.JSONValues).
func owedPeople(ctx context.Context, tx *sql.Tx, in string, inc *incident.Incident, juris []string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT f.account_id FROM `+incident.AffectedRows+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND v.notify <> 0 AND v.jurisdiction IN (`+in+`)
			AND NOT EXISTS (SELECT 1 FROM offer_codes o WHERE o.incident_id = f.incident_id AND o.account_id = f.account_id)
		ORDER BY f.account_id`, inc.ID, jsonList(juris))
	if err != nil {
		return nil, fmt.Errorf("people owed an offer in incident %d: %w", inc.ID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

type assignDetail struct {
	CodeSHA256 string `json:"code_sha256"`
	Provider   string `json:"provider,omitempty"`
	Expires    string `json:"expires,omitempty"`
}

// Import stores the codes of file name for an incident and gives one to
// each person owed a protection offer who has none, in one transaction
// with each assignment's offer_assigned ledger entry and the audit row. A
// code already imported for the incident is not stored again; one imported
// for another incident is refused. Too few codes for the people waiting
// (ErrTooFew) assigns nothing and stores nothing.
func Import(ctx context.Context, st *incident.Store, incidentID int64, name string, codes []Code, now time.Time) (ImportResult, error) {
	res := ImportResult{Read: len(codes)}
	inc, err := st.FindIncidentByID(ctx, incidentID)
	if err != nil {
		return res, err
	}
	if err := incident.Authorize(ctx, incident.ActSend, inc.ControllerID); err != nil {
		return res, err
	}
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		res = ImportResult{Read: len(codes)}
		// Two imports of one incident at once (two processes on
		// PostgreSQL) would both give the same free codes to the same
		// people: the second waits here for the first to commit, then
		// sees what it assigned.
		if err := st.LockIncident(ctx, tx.Tx, inc.ID); err != nil {
			return fmt.Errorf("offer codes: %w", err)
		}
		juris, err := owedJurisdictions(ctx, tx, inc)
		if err != nil {
			return err
		}
		if len(juris) == 0 {
			return fmt.Errorf("incident %d: no one is owed a protection offer under its plan (incident plan %d first, or no jurisdiction's law owes one for its elements)", inc.ID, inc.ID)
		}
		// Codes already stored: this incident's are known, another's refused.
		all := make([]string, len(codes))
		for i, c := range codes {
			all[i] = c.Code
		}
		known := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT code, incident_id FROM offer_codes WHERE code IN (`+st.JSONValues("TEXT")+`)`, jsonList(all))
		if err != nil {
			return fmt.Errorf("offer codes: %w", err)
		}
		other := map[string]int64{}
		for rows.Next() {
			var c string
			var id int64
			if err := rows.Scan(&c, &id); err != nil {
				rows.Close()
				return err
			}
			if id == inc.ID {
				known[c] = true
			} else {
				other[c] = id
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var fresh []Code
		for _, c := range codes {
			if id, ok := other[c.Code]; ok {
				return fmt.Errorf("%s line %d field code: already imported for incident %d: a code is given to one person only", name, c.Line, id)
			}
			if known[c.Code] {
				res.Known++
				continue
			}
			fresh = append(fresh, c)
		}
		res.New = len(fresh)

		people, err := owedPeople(ctx, tx.Tx, st.JSONValues("TEXT"), inc, juris)
		if err != nil {
			return err
		}
		res.Owed = len(people)
		// The pool: codes stored before and still free, in import order, then
		// this file's new ones.
		type free struct {
			code, provider, expires string
		}
		var pool []free
		rows, err = tx.QueryContext(ctx, `SELECT code, provider, expires FROM offer_codes WHERE incident_id = ? AND account_id IS NULL ORDER BY seq`, inc.ID)
		if err != nil {
			return fmt.Errorf("offer codes: %w", err)
		}
		for rows.Next() {
			var f free
			if err := rows.Scan(&f.code, &f.provider, &f.expires); err != nil {
				rows.Close()
				return err
			}
			pool = append(pool, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		stored := len(pool)
		for _, c := range fresh {
			pool = append(pool, free{c.Code, c.Provider, c.Expires})
		}
		if len(pool) < len(people) {
			return fmt.Errorf("%w: %d people owed a protection offer have no code, and %s brings %d new (%d already imported and free): nothing was assigned",
				ErrTooFew, len(people), name, len(fresh), stored)
		}
		ts := tx.Now.Format(time.RFC3339Nano)

		// Free codes stored before: assign in batches, each a JSON array
		// of [code, account] pairs.
		assign := `UPDATE offer_codes SET account_id = json_extract(p.value, '$[1]'), assigned_at = ?1
			FROM json_each(?2) p WHERE offer_codes.code = json_extract(p.value, '$[0]') AND offer_codes.account_id IS NULL`
		if st.Postgres() {
			assign = `UPDATE offer_codes SET account_id = p.value->>1, assigned_at = ?1
				FROM json_array_elements(CAST(?2 AS json)) AS p(value) WHERE offer_codes.code = p.value->>0 AND offer_codes.account_id IS NULL`
		}
		for lo := 0; lo < min(stored, len(people)); lo += batchRows {
			hi := min(lo+batchRows, stored, len(people))
			pairs := make([][2]string, 0, hi-lo)
			for i := lo; i < hi; i++ {
				pairs = append(pairs, [2]string{pool[i].code, people[i]})
			}
			r, err := tx.ExecContext(ctx, assign, ts, jsonList(pairs))
			if err != nil {
				return fmt.Errorf("assign offer codes: %w", err)
			}
			if n, err := r.RowsAffected(); err != nil || n != int64(len(pairs)) {
				return fmt.Errorf("%w: assign offer codes: %d codes to give but %d still free (another import ran?)", incident.ErrConflict, len(pairs), n)
			}
		}
		// New codes: insert in batches, assigned while people remain.
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM offer_codes`).Scan(&seq); err != nil {
			return fmt.Errorf("offer codes: %w", err)
		}
		for lo := stored; lo < len(pool); lo += batchRows {
			hi := min(lo+batchRows, len(pool))
			var sb strings.Builder
			sb.WriteString(`INSERT INTO offer_codes(code, incident_id, provider, expires, account_id, assigned_at, imported_at, seq) VALUES `)
			args := make([]any, 0, 8*(hi-lo))
			for i := lo; i < hi; i++ {
				if i > lo {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
				var acct any
				at := ""
				if i < len(people) {
					acct, at = people[i], ts
				}
				seq++
				args = append(args, pool[i].code, inc.ID, pool[i].provider, pool[i].expires, acct, at, ts, seq)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("store offer codes: %w", err)
			}
		}
		// The ledger: one offer_assigned per person, batched.
		entries := make([]ledger.Entry, 0, min(len(people), ledgerBatch))
		for i, p := range people {
			sum := sha256.Sum256([]byte(pool[i].code))
			raw, err := json.Marshal(assignDetail{CodeSHA256: hex.EncodeToString(sum[:]), Provider: pool[i].provider, Expires: pool[i].expires})
			if err != nil {
				return err
			}
			entries = append(entries, ledger.Entry{Controller: inc.ControllerID, At: tx.Now, Kind: ledger.KindOfferAssigned,
				Incident: inc.ID, Account: p, Detail: raw})
			if len(entries) == ledgerBatch || i == len(people)-1 {
				if err := ledger.Append(ctx, tx.Tx, entries...); err != nil {
					return fmt.Errorf("ledger: %w", err)
				}
				entries = entries[:0]
			}
		}
		res.Assigned = len(people)
		res.Spare = len(pool) - len(people)
		return tx.Audit(ctx, "offers.import", "incident "+strconv.FormatInt(inc.ID, 10), map[string]any{
			"file": filepath.Base(name), "read": res.Read, "known": res.Known, "new": res.New, "assigned": res.Assigned, "spare": res.Spare})
	})
	return res, err
}

// ExportHeader is the header of the file Export writes.
var ExportHeader = []string{"code", "account_id", "name", "email", "assigned_at"}

// Export writes the incident's assigned codes (code, account id, name,
// email, assigned_at, in assignment order) to path with mode 0600, through
// a temporary file renamed into place, and audits it. It returns how many
// rows it wrote.
func Export(ctx context.Context, st *incident.Store, incidentID int64, path string, now time.Time) (int, error) {
	inc, err := st.FindIncidentByID(ctx, incidentID)
	if err != nil {
		return 0, err
	}
	if err := incident.Authorize(ctx, incident.ActSend, inc.ControllerID); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	n, err := writeExport(ctx, st, inc.ID, tmp)
	if err != nil {
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		return tx.Audit(ctx, "offers.export", "incident "+strconv.FormatInt(inc.ID, 10), map[string]any{"file": filepath.Base(path), "rows": n})
	})
	return n, err
}

func writeExport(ctx context.Context, st *incident.Store, incidentID int64, w io.Writer) (int, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT o.code, o.account_id, p.name, p.notice_address, o.assigned_at
		FROM offer_codes o JOIN `+incident.AffectedPeople+` p ON p.incident_id = o.incident_id AND p.account_id = o.account_id
		WHERE o.incident_id = ? AND o.account_id IS NOT NULL ORDER BY o.assigned_at, o.seq`, incidentID)
	if err != nil {
		return 0, fmt.Errorf("export offers: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	cw.Write(ExportHeader)
	n := 0
	rec := make([]string, 5)
	for rows.Next() {
		if err := rows.Scan(&rec[0], &rec[1], &rec[2], &rec[3], &rec[4]); err != nil {
			return n, fmt.Errorf("export offers: %w", err)
		}
		for i := range rec {
			rec[i] = incident.SpreadsheetSafe(rec[i])
		}
		cw.Write(rec)
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export offers: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("export offers: %w", err)
	}
	return n, nil
}
