package incident

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// ImportOptions configures one import.
type ImportOptions struct {
	// File names the input in problem lines.
	File   string
	Format Format
	// Strict imports nothing if any row is rejected.
	Strict bool
	// Report receives every rejection and warning as it is found.
	Report func(Problem)
	// BatchSize is the number of rows per transaction (default 10,000).
	BatchSize int
}

// ImportResult counts what an import did.
type ImportResult struct {
	File     string `json:"file"`
	Inserted int64  `json:"inserted"`
	Updated  int64  `json:"updated"`
	Rejected int64  `json:"rejected"`
	Warnings int64  `json:"warnings"`
	// RolledBack is set when --strict discarded the import.
	RolledBack bool `json:"rolled_back,omitempty"`
}

func (r ImportResult) String() string {
	s := fmt.Sprintf("%s: %d inserted, %d updated, %d rejected, %d warnings", r.File, r.Inserted, r.Updated, r.Rejected, r.Warnings)
	if r.RolledBack {
		s += " (strict: nothing imported)"
	}
	return s
}

var (
	accountSchema = schema{
		cols: []string{"id", "username", "name", "email", "locale", "country", "region",
			"postal_line1", "postal_line2", "city", "postal_code", "e_consent", "status"},
		aliases: map[string]string{"account_id": "id", "user_id": "id", "postal_code_zip": "postal_code", "zip": "postal_code", "state": "region"},
	}
	courseSchema = schema{
		cols:    []string{"course_id", "member_id", "title"},
		aliases: map[string]string{"id": "course_id", "member": "member_id", "controller_id": "member_id"},
	}
	enrollmentSchema = schema{
		cols:    []string{"account_id", "course_id", "email"},
		aliases: map[string]string{"user_id": "account_id"},
	}
)

const (
	aID = iota
	aUsername
	aName
	aEmail
	aLocale
	aCountry
	aRegion
	aLine1
	aLine2
	aCity
	aPostalCode
	aEConsent
	aStatus
)

var localeRe = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)

// importer drives one import: it reads records, hands each to row, and
// commits every BatchSize rows (or once, at the end, in strict mode).
type importer struct {
	s      *Store
	opt    ImportOptions
	res    ImportResult
	run    string
	tx     *sql.Tx
	inTx   int
	stmts  []string
	prep   []*sql.Stmt
	report func(Problem)
}

func (s *Store) newImporter(opt ImportOptions, stmts ...string) *importer {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 10000
	}
	if opt.Report == nil {
		opt.Report = func(Problem) {}
	}
	if opt.File == "" {
		opt.File = "-"
	}
	var b [8]byte
	rand.Read(b[:])
	im := &importer{s: s, opt: opt, run: hex.EncodeToString(b[:]), stmts: stmts}
	im.res.File = opt.File
	im.report = func(p Problem) {
		if p.Warning {
			im.res.Warnings++
		} else {
			im.res.Rejected++
		}
		opt.Report(p)
	}
	return im
}

func (im *importer) begin(ctx context.Context) error {
	if im.tx != nil {
		return nil
	}
	tx, err := im.s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("import %s: begin: %w", im.opt.File, err)
	}
	im.tx, im.prep = tx, im.prep[:0]
	for _, q := range im.stmts {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tx.Rollback()
			im.tx = nil
			return fmt.Errorf("import %s: prepare: %w", im.opt.File, err)
		}
		im.prep = append(im.prep, st)
	}
	return nil
}

func (im *importer) commit(ctx context.Context, final bool) error {
	if im.tx == nil {
		return nil
	}
	if final {
		if err := im.s.audit(ctx, im.tx, "import", im.opt.File, im.res); err != nil {
			return err
		}
	}
	for _, st := range im.prep {
		st.Close()
	}
	err := im.tx.Commit()
	im.tx, im.inTx = nil, 0
	if err != nil {
		return fmt.Errorf("import %s: commit: %w", im.opt.File, err)
	}
	return nil
}

func (im *importer) rollback() {
	if im.tx != nil {
		im.tx.Rollback()
		im.tx = nil
	}
}

// drive reads every record of src and calls row for it inside a
// transaction. row returns whether the record was inserted (true) or
// updated (false), or a rejection.
func (im *importer) drive(ctx context.Context, src recordReader, row func(*record) (inserted bool, rej *Problem, err error)) (ImportResult, error) {
	defer im.rollback()
	for {
		rec, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return im.res, err
		}
		if err := ctx.Err(); err != nil {
			return im.res, err
		}
		if rec.bad != nil {
			im.report(*rec.bad)
			continue
		}
		if err := im.begin(ctx); err != nil {
			return im.res, err
		}
		inserted, rej, err := row(rec)
		if err != nil {
			return im.res, fmt.Errorf("import %s line %d: %w", im.opt.File, rec.line, err)
		}
		if rej != nil {
			im.report(*rej)
			continue
		}
		if inserted {
			im.res.Inserted++
		} else {
			im.res.Updated++
		}
		im.inTx++
		if !im.opt.Strict && im.inTx >= im.opt.BatchSize {
			if err := im.commit(ctx, false); err != nil {
				return im.res, err
			}
		}
	}
	if im.opt.Strict && im.res.Rejected > 0 {
		im.rollback()
		im.res.RolledBack = true
		return im.res, nil
	}
	if err := im.begin(ctx); err != nil {
		return im.res, err
	}
	return im.res, im.commit(ctx, true)
}

// upsertReturning runs an upsert whose RETURNING gives the row's rev: 0 for
// an insert, more for an update; no row means the same key was already
// written by this import (a duplicate within the file).
func upsertReturning(ctx context.Context, st *sql.Stmt, args ...any) (inserted, dup bool, err error) {
	var rev int64
	err = st.QueryRowContext(ctx, args...).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return false, true, nil
	}
	if err != nil {
		return false, false, err
	}
	return rev == 0, false, nil
}

const accountUpsert = `INSERT INTO accounts(id, username, name, email, email_usable, locale, country, region,
	postal_line1, postal_line2, city, postal_code, e_consent, status, rev, import_run)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)
ON CONFLICT(id) DO UPDATE SET username=excluded.username, name=excluded.name, email=excluded.email,
	email_usable=excluded.email_usable, locale=excluded.locale, country=excluded.country, region=excluded.region,
	postal_line1=excluded.postal_line1, postal_line2=excluded.postal_line2, city=excluded.city,
	postal_code=excluded.postal_code, e_consent=excluded.e_consent, status=excluded.status,
	rev=accounts.rev+1, import_run=excluded.import_run
WHERE accounts.import_run <> excluded.import_run
RETURNING rev`

// ImportAccounts streams accounts from r (CSV with a header row, or JSON
// lines) into the store, updating accounts by id.
//
// A row that cannot be identified or holds an unparseable value is rejected
// and reported; every other row is imported. A row whose email is unusable is
// kept with the email flagged, and a warning reported: that person may still
// be owed a letter.
func (s *Store) ImportAccounts(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if a := ActorFrom(ctx); a.Role == "member" {
		return ImportResult{}, fmt.Errorf("import accounts: %w", ErrForbidden)
	}
	im := s.newImporter(opt, accountUpsert)
	src, err := newRecordReader(im.opt.File, opt.Format, r, accountSchema, im.report)
	if err != nil {
		return im.res, err
	}
	var a Account
	return im.drive(ctx, src, func(rec *record) (bool, *Problem, error) {
		if rej := im.parseAccount(rec, &a); rej != nil {
			return false, rej, nil
		}
		inserted, dup, err := upsertReturning(ctx, im.prep[0], a.ID, a.Username, a.Name, a.Email, boolInt(a.EmailUsable),
			a.Locale, a.Country, a.Region, a.PostalLine1, a.PostalLine2, a.City, a.PostalCode, boolInt(a.EConsent),
			string(a.Status), im.run)
		if err != nil {
			return false, nil, err
		}
		if dup {
			return false, &Problem{File: im.opt.File, Line: rec.line, Field: "id", Reason: fmt.Sprintf("id %q repeated in the file (the first row was kept)", a.ID)}, nil
		}
		return inserted, nil, nil
	})
}

// parseAccount validates one record into a. It returns the rejection, if
// any, and reports warnings itself.
func (im *importer) parseAccount(rec *record, a *Account) *Problem {
	v := rec.vals
	rej := func(field, reason string) *Problem {
		return &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}
	}
	warn := func(field, reason string) {
		im.report(Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason, Warning: true})
	}
	a.ID = strings.TrimSpace(v[aID])
	if a.ID == "" {
		return rej("id", "missing: a row without an id cannot be identified")
	}
	if CleanText(a.ID) != a.ID || len(a.ID) > 200 {
		return rej("id", "holds control characters or is longer than 200 bytes")
	}
	a.Username = CleanText(v[aUsername])
	a.Name = CleanText(v[aName])
	a.Country = strings.ToUpper(strings.TrimSpace(v[aCountry]))
	if a.Country != "" && !ValidCountry(a.Country) {
		return rej("country", fmt.Sprintf("unknown country code %q (ISO 3166-1 alpha-2 expected)", v[aCountry]))
	}
	a.Region = NormalizeRegion(a.Country, CleanText(v[aRegion]))
	if a.Country == "US" && a.Region != "" && !ValidUSRegion(a.Region) {
		warn("region", fmt.Sprintf("unknown US state or territory %q: kept, residence will be reviewed", v[aRegion]))
	}
	var err error
	if a.EConsent, err = ParseBool(v[aEConsent]); err != nil {
		return rej("e_consent", err.Error())
	}
	switch st := strings.ToLower(strings.TrimSpace(v[aStatus])); st {
	case "", "active":
		a.Status = AccountActive
	case "retired":
		a.Status = AccountRetired
	default:
		return rej("status", fmt.Sprintf("unknown status %q (active or retired)", v[aStatus]))
	}
	a.Locale = strings.TrimSpace(v[aLocale])
	if a.Locale != "" && !localeRe.MatchString(a.Locale) {
		warn("locale", fmt.Sprintf("%q is not a language tag: kept empty, notices use the default language", CleanText(a.Locale)))
		a.Locale = ""
	}
	a.Locale = strings.ReplaceAll(a.Locale, "_", "-")
	a.PostalLine1 = CleanText(v[aLine1])
	a.PostalLine2 = CleanText(v[aLine2])
	a.City = CleanText(v[aCity])
	a.PostalCode = CleanText(v[aPostalCode])
	a.Email, a.EmailUsable = strings.TrimSpace(v[aEmail]), false
	if a.Email != "" {
		if e, err := CheckEmail(a.Email); err != nil {
			a.Email = CleanText(a.Email)
			warn("email", "unusable ("+err.Error()+"): account kept, email flagged; a letter may be owed instead")
		} else {
			a.Email, a.EmailUsable = e, true
		}
	}
	return nil
}

// ImportCourses streams courses (course_id,member_id,title); member_id must
// name a Member controller.
func (s *Store) ImportCourses(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if a := ActorFrom(ctx); a.Role == "member" {
		return ImportResult{}, fmt.Errorf("import courses: %w", ErrForbidden)
	}
	im := s.newImporter(opt,
		`SELECT EXISTS(SELECT 1 FROM courses WHERE id=?)`,
		`INSERT INTO courses(id, member_id, title, import_run) VALUES (?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET member_id=excluded.member_id, title=excluded.title, import_run=excluded.import_run
		WHERE courses.import_run <> excluded.import_run RETURNING 0`,
		`SELECT member FROM controllers WHERE id=?`)
	src, err := newRecordReader(im.opt.File, opt.Format, r, courseSchema, im.report)
	if err != nil {
		return im.res, err
	}
	return im.drive(ctx, src, func(rec *record) (bool, *Problem, error) {
		rej := func(field, reason string) (bool, *Problem, error) {
			return false, &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}, nil
		}
		id, member, title := strings.TrimSpace(rec.vals[0]), strings.TrimSpace(rec.vals[1]), CleanText(rec.vals[2])
		if id == "" {
			return rej("course_id", "missing")
		}
		var isMember sql.NullInt64
		if err := im.prep[2].QueryRowContext(ctx, member).Scan(&isMember); errors.Is(err, sql.ErrNoRows) {
			return rej("member_id", fmt.Sprintf("no controller %q (add it with controllers add --member)", member))
		} else if err != nil {
			return false, nil, err
		}
		if isMember.Int64 != 1 {
			return rej("member_id", fmt.Sprintf("controller %q is the operator, not a Member", member))
		}
		var exists bool
		if err := im.prep[0].QueryRowContext(ctx, id).Scan(&exists); err != nil {
			return false, nil, err
		}
		var zero int
		err := im.prep[1].QueryRowContext(ctx, id, member, title, im.run).Scan(&zero)
		if errors.Is(err, sql.ErrNoRows) {
			return rej("course_id", fmt.Sprintf("course %q repeated in the file (the first row was kept)", id))
		}
		if err != nil {
			return false, nil, err
		}
		return !exists, nil, nil
	})
}

// ImportEnrollments streams enrollments (account_id,course_id[,email]).
// The optional email is the address tied to that enrollment: a Member's
// notices go there.
func (s *Store) ImportEnrollments(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if a := ActorFrom(ctx); a.Role == "member" {
		return ImportResult{}, fmt.Errorf("import enrollments: %w", ErrForbidden)
	}
	im := s.newImporter(opt,
		`SELECT EXISTS(SELECT 1 FROM accounts WHERE id=?), EXISTS(SELECT 1 FROM courses WHERE id=?),
			EXISTS(SELECT 1 FROM enrollments WHERE account_id=? AND course_id=?)`,
		`INSERT INTO enrollments(account_id, course_id, email, email_usable, import_run) VALUES (?,?,?,?,?)
		ON CONFLICT(account_id, course_id) DO UPDATE SET email=excluded.email, email_usable=excluded.email_usable,
			import_run=excluded.import_run
		WHERE enrollments.import_run <> excluded.import_run RETURNING 0`)
	src, err := newRecordReader(im.opt.File, opt.Format, r, enrollmentSchema, im.report)
	if err != nil {
		return im.res, err
	}
	return im.drive(ctx, src, func(rec *record) (bool, *Problem, error) {
		rej := func(field, reason string) (bool, *Problem, error) {
			return false, &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}, nil
		}
		acct, course := strings.TrimSpace(rec.vals[0]), strings.TrimSpace(rec.vals[1])
		if acct == "" {
			return rej("account_id", "missing")
		}
		if course == "" {
			return rej("course_id", "missing")
		}
		var hasAcct, hasCourse, exists bool
		if err := im.prep[0].QueryRowContext(ctx, acct, course, acct, course).Scan(&hasAcct, &hasCourse, &exists); err != nil {
			return false, nil, err
		}
		if !hasAcct {
			return rej("account_id", fmt.Sprintf("no account %q (import accounts first)", acct))
		}
		if !hasCourse {
			return rej("course_id", fmt.Sprintf("no course %q (import courses first)", course))
		}
		email, usable := strings.TrimSpace(rec.vals[2]), false
		if email != "" {
			if e, err := CheckEmail(email); err != nil {
				email = CleanText(email)
				im.report(Problem{File: im.opt.File, Line: rec.line, Field: "email", Warning: true,
					Reason: "unusable (" + err.Error() + "): enrollment kept, the account's own email is used instead"})
			} else {
				email, usable = e, true
			}
		}
		var zero int
		err := im.prep[1].QueryRowContext(ctx, acct, course, email, boolInt(usable), im.run).Scan(&zero)
		if errors.Is(err, sql.ErrNoRows) {
			return rej("course_id", fmt.Sprintf("enrollment of %q in %q repeated in the file (the first row was kept)", acct, course))
		}
		if err != nil {
			return false, nil, err
		}
		return !exists, nil, nil
	})
}
