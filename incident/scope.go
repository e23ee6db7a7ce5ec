package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ScopeRule says which accounts of the incident's copy are affected.
// Exactly one of All, Courses or Accounts is set.
type ScopeRule struct {
	All     bool
	Courses []string
	// Accounts streams account ids, one per line (or a CSV whose first
	// column is the id, with an optional id/account_id header).
	Accounts     io.Reader
	AccountsFile string
}

func (r ScopeRule) String() string {
	switch {
	case r.All:
		return "all"
	case len(r.Courses) > 0:
		return "courses:" + strings.Join(r.Courses, ",")
	case r.Accounts != nil:
		return "accounts-file:" + r.AccountsFile
	}
	return ""
}

// ScopeResult reports a resolved scope.
type ScopeResult struct {
	Incident int64  `json:"incident"`
	Rule     string `json:"rule"`
	Affected int64  `json:"affected"`
	// NotInCopy counts ids of an accounts file that the copy does not hold.
	NotInCopy int64 `json:"not_in_copy"`
	// For an accounts file, every line is accounted for:
	//
	//	Lines = Skipped + Continued + Affected + NotInCopy + Repeated
	//
	// Skipped counts the header and blank lines, Continued the lines
	// inside a quoted field, Repeated the ids given again (counted once,
	// without a warning). A file with a
	// line that cannot be read changes nothing.
	Lines     int64 `json:"lines,omitempty"`
	Skipped   int64 `json:"skipped,omitempty"`
	Continued int64 `json:"continued,omitempty"`
	Repeated  int64 `json:"repeated,omitempty"`
}

// Reach flags: what the law engine's decision for a person depends on
// besides residence, computed when the scope is resolved and stored with
// each affected row.
const (
	ReachConsent     = 1 << iota // consented to electronic notice
	ReachRetired                 // a retired account
	ReachEmail                   // a usable notice address
	ReachPostal                  // a complete postal address
	ReachSameAddress             // the notice goes to the account's own address
	// ReachCombinations is the number of distinct flag sets.
	ReachCombinations = 1 << iota
)

// Reach computes the flags of an affected person, as scoping stores them.
func (a *Affected) Reach() int {
	r := 0
	if a.EConsent {
		r |= ReachConsent
	}
	if a.Status == AccountRetired {
		r |= ReachRetired
	}
	if a.NoticeEmailUsable && a.NoticeEmail != "" {
		r |= ReachEmail
	}
	if a.PostalComplete() {
		r |= ReachPostal
	}
	if strings.EqualFold(a.NoticeEmail, a.Email) {
		r |= ReachSameAddress
	}
	return r
}

// reachSQL computes the Reach flags of account x whose notice goes to the
// address ne (” for the account's own) with usability neu; POSTAL is
// PostalCompleteSQL("x"). Each condition gives its flag, written from the
// constants above, or 0 (a CASE rather than SQLite's condition times flag,
// which PostgreSQL's booleans refuse).
var reachSQL = flagIf("x.e_consent <> 0", ReachConsent) +
	"\n\t\t| " + flagIf("x.status = 'retired'", ReachRetired) +
	"\n\t\t| " + flagIf("NEU <> 0 AND (NE <> '' OR x.email <> '')", ReachEmail) +
	"\n\t\t| " + flagIf("POSTAL", ReachPostal) +
	"\n\t\t| " + flagIf("NE = ''", ReachSameAddress)

// flagIf is the SQL integer flag when cond holds, else 0.
func flagIf(cond string, flag int) string {
	return "(CASE WHEN " + cond + " THEN " + flagSQL(flag) + " ELSE 0 END)"
}

// flagSQL writes a Reach flag as an SQL integer literal.
func flagSQL(flag int) string { return strconv.Itoa(flag) }

// copyQuery returns a SELECT of the affected rows' columns (incident_id
// as the first parameter, account_id, notice_email, country, region, reach) for the accounts of the
// controller's copy, optionally narrowed to courses. The operator's copy
// holds every account; a Member's copy the accounts enrolled in its
// courses, whose notice goes to the enrollment's own address when it has a
// usable one. accountFilter, when set, is an extra condition on the
// account id.
func copyQuery(c *Controller, courses []string, accountFilter string) (string, []any) {
	if !c.Member && len(courses) == 0 {
		// The operator's copy: the notice goes to the account's own
		// address, whose reach the import stored with the account.
		q := `SELECT CAST(? AS BIGINT), x.id, '', x.country, x.region, x.reach FROM accounts x`
		if accountFilter != "" {
			q += " WHERE x.id " + accountFilter
		}
		return q, nil
	}
	src := `SELECT a.*, COALESCE(MAX(CASE WHEN e.email_usable = 1 THEN e.email END), '') AS enrolled
		FROM enrollments e JOIN courses c ON c.id = e.course_id JOIN accounts a ON a.id = e.account_id WHERE 1=1`
	var args []any
	if c.Member {
		src += ` AND c.member_id = ?`
		args = append(args, c.ID)
	}
	if len(courses) > 0 {
		src += ` AND e.course_id IN (?` + strings.Repeat(",?", len(courses)-1) + `)`
		for _, cid := range courses {
			args = append(args, cid)
		}
	}
	if accountFilter != "" {
		src += " AND e.account_id " + accountFilter
	}
	src += ` GROUP BY a.id`
	// ne: the enrollment's usable address when it differs from the
	// account's own, else ''.
	ne := `(CASE WHEN x.enrolled <> '' AND lower(x.enrolled) <> lower(x.email) THEN x.enrolled ELSE '' END)`
	neu := `(CASE WHEN x.enrolled <> '' THEN 1 ELSE x.email_usable END)`
	return `SELECT CAST(? AS BIGINT), x.id, ` + ne + `, x.country, x.region, ` +
		strings.NewReplacer("NEU", neu, "NE", ne, "POSTAL", PostalCompleteSQL("x")).Replace(reachSQL) + ` FROM (` + src + `) x`, args
}

const affectedInsert = `INSERT INTO affected(incident_id, account_id, notice_email, country, region, reach) `

// ScopeIncident resolves the incident's affected set inside its copy and
// replaces any earlier set, in one transaction, with set-based SQL. Ids of
// an accounts file that the copy does not hold are reported, never silently
// dropped.
func (s *Store) ScopeIncident(ctx context.Context, id int64, rule ScopeRule, report func(Problem)) (ScopeResult, error) {
	res := ScopeResult{Incident: id, Rule: rule.String()}
	n := 0
	if rule.All {
		n++
	}
	if len(rule.Courses) > 0 {
		n++
	}
	if rule.Accounts != nil {
		n++
	}
	if n != 1 {
		return res, fmt.Errorf("%w: give exactly one of --all, --course or --accounts-file", ErrInvalid)
	}
	if report == nil {
		report = func(Problem) {}
	}
	_, err := s.mutateIncident(ctx, id, func(tx *sql.Tx, inc *Incident) error {
		if !inc.Status.CanMove(StatusScoped) {
			return fmt.Errorf("%w: incident %d is %s: its scope can no longer change", ErrConflict, id, inc.Status)
		}
		c, err := findController(ctx, tx, inc.ControllerID)
		if err != nil {
			return err
		}
		for _, cid := range rule.Courses {
			var member string
			err := tx.QueryRowContext(ctx, `SELECT member_id FROM courses WHERE id=?`, cid).Scan(&member)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: --course %s: no such course", ErrInvalid, cid)
			}
			if err != nil {
				return fmt.Errorf("scope incident %d: %w", id, err)
			}
			if c.Member && member != c.ID {
				return fmt.Errorf("%w: --course %s belongs to controller %s, not to %s whose copy was breached", ErrInvalid, cid, member, c.ID)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM affected WHERE incident_id=?`, id); err != nil {
			return fmt.Errorf("scope incident %d: clear: %w", id, err)
		}
		if rule.Accounts != nil {
			if err := s.scopeFromFile(ctx, tx, id, c, rule, report, &res); err != nil {
				return err
			}
		} else {
			sel, args := copyQuery(c, rule.Courses, "")
			r, err := tx.ExecContext(ctx, affectedInsert+sel, append([]any{id}, args...)...)
			if err != nil {
				return fmt.Errorf("scope incident %d: %w", id, err)
			}
			if res.Affected, err = r.RowsAffected(); err != nil {
				return fmt.Errorf("scope incident %d: %w", id, err)
			}
		}
		if _, err := s.SetStatus(ctx, tx, id, StatusScoped); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET scope=? WHERE id=?`, res.Rule, id); err != nil {
			return fmt.Errorf("scope incident %d: %w", id, err)
		}
		if err := s.audit(ctx, tx, "incident.scope", fmt.Sprintf("incident:%d", id), res); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: inc.ControllerID, Kind: EventScopeSet, Incident: id,
			Detail: map[string]any{"rule": res.Rule, "affected": res.Affected, "not_in_copy": res.NotInCopy}})
	})
	return res, err
}

// maxScopeID caps an id of an accounts file, as the accounts import caps
// account ids.
const maxScopeID = 200

// readIDList reads an accounts file: one id per line, or a CSV whose first
// column is the id, with an optional id/account_id header. Quotes are
// parsed strictly (a bad line is rejected alone, never swallows the lines
// after it); add receives each id with its line. A line that cannot be
// read is reported, and counted in rejected.
func readIDList(r io.Reader, file string, add func(id string, line int) error, report func(Problem)) (c lineCounts, rejected int64, err error) {
	sc := newCSVScanner(r)
	first := true
	for {
		fields, reason, err := sc.next(-1)
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, rejected, fmt.Errorf("%s: %w", file, err)
		}
		bad := func(reason string) {
			rejected++
			report(Problem{File: file, Line: sc.line, Field: "row", Reason: reason})
		}
		if reason != "" {
			first = false
			bad(reason)
			continue
		}
		v := strings.TrimSpace(fields[0])
		if first {
			first = false
			if l := strings.ToLower(v); l == "id" || l == "account_id" {
				c.skipped += int64(sc.span)
				sc.continued -= int64(sc.span - 1)
				continue
			}
		}
		switch {
		case v == "":
			bad("no id in the first column")
		case !utf8.ValidString(v):
			bad("invalid UTF-8")
		case len(v) > maxScopeID:
			bad(fmt.Sprintf("id %d bytes long: ids hold at most %d", len(v), maxScopeID))
		default:
			if err := add(v, sc.line); err != nil {
				return c, rejected, err
			}
		}
	}
	c.lines, c.skipped, c.continued = int64(sc.lr.n), c.skipped+sc.blank, sc.continued
	return c, rejected, nil
}

// scopeFromFile loads the ids of an accounts file into a temporary table in
// batches, then inserts those the copy holds and reports the others. A
// line that cannot be read fails the scope: a partial affected set would
// leave people without their notice.
func (s *Store) scopeFromFile(ctx context.Context, tx *sql.Tx, id int64, c *Controller, rule ScopeRule, report func(Problem), res *ScopeResult) error {
	// The temporary table is the session's (connection's) on both stores,
	// found by its bare name before any table of the main schema.
	create := `CREATE TEMP TABLE IF NOT EXISTS scope_ids(id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID`
	if s.pg {
		create = `CREATE TEMP TABLE IF NOT EXISTS scope_ids(id TEXT PRIMARY KEY, line BIGINT NOT NULL)`
	}
	for _, q := range []string{create, `DELETE FROM scope_ids`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("scope incident %d: %w", id, err)
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO scope_ids(id, line) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("scope incident %d: %w", id, err)
	}
	defer st.Close()
	counts, rejected, err := readIDList(rule.Accounts, rule.AccountsFile, func(v string, line int) error {
		r, err := st.ExecContext(ctx, v, line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", rule.AccountsFile, line, err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return fmt.Errorf("%s:%d: %w", rule.AccountsFile, line, err)
		} else if n == 0 {
			res.Repeated++ // harmless: counted once
		}
		return nil
	}, report)
	if err != nil {
		return err
	}
	if rejected > 0 {
		return fmt.Errorf("%w: %s: %d lines cannot be read (listed above): scope not changed", ErrInvalid, rule.AccountsFile, rejected)
	}
	res.Lines, res.Skipped, res.Continued = counts.lines, counts.skipped, counts.continued
	sel, args := copyQuery(c, nil, "IN (SELECT id FROM scope_ids)")
	r, err := tx.ExecContext(ctx, affectedInsert+sel, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("scope incident %d: %w", id, err)
	}
	if res.Affected, err = r.RowsAffected(); err != nil {
		return fmt.Errorf("scope incident %d: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.line FROM scope_ids s
		WHERE NOT EXISTS (SELECT 1 FROM affected a WHERE a.incident_id = ? AND a.account_id = s.id) ORDER BY s.line`, id)
	if err != nil {
		return fmt.Errorf("scope incident %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var aid string
		var line int
		if err := rows.Scan(&aid, &line); err != nil {
			return fmt.Errorf("scope incident %d: %w", id, err)
		}
		res.NotInCopy++
		report(Problem{File: rule.AccountsFile, Line: line, Field: "account_id",
			Reason: fmt.Sprintf("%s is not in the copy of %s: not added to the affected set", quoteValue(aid), c.ID), Warning: true})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, `DELETE FROM scope_ids`); err != nil {
		return err
	}
	return nil
}

// affectedColumns selects an Affected from accounts a joined to affected f,
// in the order ScanAffected reads them. The notice address is usable when
// the affected row's reach has ReachEmail.
var affectedColumns = `a.id, a.username, a.name, a.email, a.email_usable, a.locale, a.country,
		a.region, a.postal_line1, a.postal_line2, a.city, a.postal_code, a.e_consent, a.status,
		CASE WHEN f.notice_email <> '' THEN f.notice_email ELSE a.email END, (f.reach & ` + flagSQL(ReachEmail) + `) <> 0`

// ScanAffected reads one row selected with AffectedPeopleColumns (or,
// inside this package, affectedColumns).
func ScanAffected(r interface{ Scan(...any) error }, af *Affected) error {
	var eu, ec, neu int
	var status string
	if err := r.Scan(&af.ID, &af.Username, &af.Name, &af.Email, &eu, &af.Locale, &af.Country, &af.Region,
		&af.PostalLine1, &af.PostalLine2, &af.City, &af.PostalCode, &ec, &status, &af.NoticeEmail, &neu); err != nil {
		return err
	}
	af.EmailUsable, af.EConsent, af.NoticeEmailUsable = eu == 1, ec == 1, neu == 1
	af.Status = AccountStatus(status)
	return nil
}

// FindAffected returns one account of an incident's affected set.
func (s *Store) FindAffected(ctx context.Context, incidentID int64, accountID string) (*Affected, error) {
	if _, err := s.FindIncidentByID(ctx, incidentID); err != nil {
		return nil, err
	}
	var af Affected
	err := ScanAffected(s.db.QueryRowContext(ctx, `SELECT `+affectedColumns+`
		FROM affected f JOIN accounts a ON a.id = f.account_id WHERE f.incident_id = ? AND f.account_id = ?`, incidentID, accountID), &af)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: account %q is not affected by incident %d", ErrNotFound, accountID, incidentID)
	}
	if err != nil {
		return nil, fmt.Errorf("affected %s of incident %d: %w", accountID, incidentID, err)
	}
	return &af, nil
}

// ForEachAffected streams the incident's affected set in account-id order,
// one row at a time: a million accounts never sit in memory. The Affected
// value passed to fn is reused between calls.
func (s *Store) ForEachAffected(ctx context.Context, id int64, fn func(*Affected) error) error {
	if _, err := s.FindIncidentByID(ctx, id); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+affectedColumns+`
		FROM affected f JOIN accounts a ON a.id = f.account_id WHERE f.incident_id = ? ORDER BY f.account_id`, id)
	if err != nil {
		return fmt.Errorf("affected of incident %d: %w", id, err)
	}
	defer rows.Close()
	var af Affected
	for rows.Next() {
		if err := ScanAffected(rows, &af); err != nil {
			return fmt.Errorf("affected of incident %d: %w", id, err)
		}
		if err := fn(&af); err != nil {
			return err
		}
	}
	return rows.Err()
}
