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
	"sort"
	"strconv"
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
//
// Every physical line of the file is accounted for: it is the header or
// blank (Skipped), continues a row begun on an earlier line because a
// quoted field holds a line break (Continued), or starts a row that was
// inserted, updated or rejected, so that
//
//	Lines = Skipped + Continued + Inserted + Updated + Rejected
//
// (Unaccounted returns the difference, zero after every import that
// finished). Warnings count problems, not lines: a row with a warning was
// inserted or updated.
type ImportResult struct {
	File     string `json:"file"`
	Inserted int64  `json:"inserted"`
	Updated  int64  `json:"updated"`
	Rejected int64  `json:"rejected"`
	Warnings int64  `json:"warnings"`
	// Lines is the number of physical lines read.
	Lines     int64 `json:"lines"`
	Skipped   int64 `json:"skipped"`
	Continued int64 `json:"continued,omitempty"`
	// RolledBack is set when --strict discarded the import.
	RolledBack bool `json:"rolled_back,omitempty"`
}

// Unaccounted is the number of lines read that are neither skipped nor
// part of an inserted, updated or rejected row: zero when the import ran
// to its end.
func (r ImportResult) Unaccounted() int64 {
	return r.Lines - r.Skipped - r.Continued - r.Inserted - r.Updated - r.Rejected
}

func (r ImportResult) String() string {
	s := fmt.Sprintf("%s: %d inserted, %d updated, %d rejected, %d warnings; %d lines read, %d header or blank",
		escapeControls(r.File), r.Inserted, r.Updated, r.Rejected, r.Warnings, r.Lines, r.Skipped)
	if r.Continued > 0 {
		s += fmt.Sprintf(", %d inside quoted fields", r.Continued)
	}
	if r.RolledBack {
		s += " (strict: nothing imported)"
	}
	return s
}

// The column caps, in bytes of UTF-8 (spaces around a value not counted):
// a longer value rejects its row. They are far above real data and keep a
// runaway value out of letters and headers. Documented in README.md.
var (
	accountSchema = schema{
		kind: "accounts",
		cols: []string{"id", "username", "name", "email", "locale", "country", "region",
			"postal_line1", "postal_line2", "city", "postal_code", "e_consent", "status"},
		aliases: map[string]string{"account_id": "id", "user_id": "id", "postal_code_zip": "postal_code", "zip": "postal_code", "state": "region"},
		// The residence decides which law applies: a file without a
		// country column is the wrong file (an enrollments export, say).
		required: []int{aID, aCountry},
		max:      []int{200, 200, 300, 254, 35, 64, 100, 300, 300, 200, 30, 16, 16},
	}
	courseSchema = schema{
		kind:     "courses",
		cols:     []string{"course_id", "member_id", "title"},
		aliases:  map[string]string{"id": "course_id", "member": "member_id", "controller_id": "member_id"},
		required: []int{0, 1},
		max:      []int{200, 64, 300},
	}
	enrollmentSchema = schema{
		kind:     "enrollments",
		cols:     []string{"account_id", "course_id", "email"},
		aliases:  map[string]string{"user_id": "account_id"},
		required: []int{0, 1},
		max:      []int{200, 200, 254},
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
	// pending holds the problems of rows not yet written, emitted in line
	// order once they are (a duplicate is only known when its chunk is).
	pending []Problem
	// flush, when set, writes rows that row() buffered.
	flush func(ctx context.Context) error
	// src accounts for the lines of the file once it is read.
	src recordReader
	// conn holds the transaction's connection on PostgreSQL, where the
	// account rows are copied in with COPY (import_postgres.go).
	conn *sql.Conn
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
	im.report = func(p Problem) { im.pending = append(im.pending, p) }
	return im
}

// emit reports the pending problems in line order.
func (im *importer) emit() {
	sort.SliceStable(im.pending, func(i, j int) bool { return im.pending[i].Line < im.pending[j].Line })
	for _, p := range im.pending {
		if p.Warning {
			im.res.Warnings++
		} else {
			im.res.Rejected++
		}
		im.opt.Report(p)
	}
	im.pending = im.pending[:0]
}

// flushed writes buffered rows and emits their problems.
func (im *importer) flushed(ctx context.Context) error {
	if im.flush != nil && im.tx != nil {
		if err := im.flush(ctx); err != nil {
			return err
		}
	}
	im.emit()
	return nil
}

func (im *importer) begin(ctx context.Context) error {
	if im.tx != nil {
		return nil
	}
	tx, err := im.beginTx(ctx)
	if err != nil {
		return fmt.Errorf("import %s: begin: %w", im.opt.File, err)
	}
	im.tx, im.prep = tx, im.prep[:0]
	for _, q := range im.stmts {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tx.Rollback()
			im.tx = nil
			im.release()
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
	im.release()
	if err != nil {
		return fmt.Errorf("import %s: commit: %w", im.opt.File, err)
	}
	return nil
}

func (im *importer) rollback() {
	if im.tx != nil {
		im.tx.Rollback()
		im.tx = nil
		im.release()
	}
}

// rowOutcome is what row() did with a record.
type rowOutcome int

const (
	rowInserted rowOutcome = iota
	rowUpdated
	rowRejected
	// rowBuffered: the row waits in a chunk; flush counts it.
	rowBuffered
)

// drive reads every item from next (until io.EOF) and calls row for it
// inside a transaction, committing every BatchSize rows (once, at the end,
// in strict mode, and only if no row was rejected).
func drive[T any](ctx context.Context, im *importer, next func() (T, error), row func(T) (rowOutcome, *Problem, error)) (ImportResult, error) {
	defer im.rollback()
	// fail still reports the problems found before the error.
	fail := func(err error) (ImportResult, error) {
		im.emit()
		return im.res, err
	}
	for {
		it, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := im.begin(ctx); err != nil {
			return fail(err)
		}
		out, rej, err := row(it)
		if err != nil {
			return fail(fmt.Errorf("import %s: %w", im.opt.File, err))
		}
		switch out {
		case rowRejected:
			im.report(*rej)
			continue
		case rowInserted:
			im.res.Inserted++
		case rowUpdated:
			im.res.Updated++
		}
		if out != rowBuffered {
			im.emit()
		}
		im.inTx++
		if !im.opt.Strict && im.inTx >= im.opt.BatchSize {
			if err := im.flushed(ctx); err != nil {
				return fail(err)
			}
			if err := im.commit(ctx, false); err != nil {
				return fail(err)
			}
		}
	}
	if err := im.flushed(ctx); err != nil {
		return fail(err)
	}
	if im.src != nil {
		c := im.src.counts()
		im.res.Lines, im.res.Skipped, im.res.Continued = c.lines, c.skipped, c.continued
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

// driveRecords drives a per-row import straight from a record reader.
func driveRecords(ctx context.Context, im *importer, src recordReader, row func(*record) (rowOutcome, *Problem, error)) (ImportResult, error) {
	return drive(ctx, im, src.next, func(rec *record) (rowOutcome, *Problem, error) {
		if rec.bad != nil {
			return rowRejected, rec.bad, nil
		}
		out, rej, err := row(rec)
		if err != nil {
			err = fmt.Errorf("line %d: %w", rec.line, err)
		}
		return out, rej, err
	})
}

// ImportAccounts streams accounts from r (CSV with a header row, or JSON
// lines) into the store, updating accounts by id.
//
// A row that cannot be identified or holds an unparseable value is rejected
// and reported; every other row is imported. A row whose email is unusable is
// kept with the email flagged, and a warning reported: that person may still
// be owed a letter.
func (s *Store) ImportAccounts(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if err := Authorize(ctx, ActImport, ""); err != nil {
		return ImportResult{}, fmt.Errorf("import accounts: %w", err)
	}
	im := s.newImporter(opt)
	// Reading and validating run in their own goroutine, writing in this
	// one: on two cores the parse no longer waits for SQLite.
	var readerWarns []Problem
	src, err := newRecordReader(im.opt.File, opt.Format, r, accountSchema, func(p Problem) { readerWarns = append(readerWarns, p) })
	if err != nil {
		return im.res, err
	}
	im.src = src
	for _, p := range readerWarns {
		im.report(p)
	}
	readerWarns = nil
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Batches go to the writer full and come back empty, so the rows'
	// memory is reused. On PostgreSQL the reader may run a whole chunk
	// ahead, to validate the next chunk while the server writes one.
	ch := &accountChunk{im: im, seen: map[string]bool{}, size: accountChunkSize, room: jsonbRoom}
	depth := 4
	if s.pg {
		ch.size, ch.room = min(im.opt.BatchSize, pgChunkMax), 0
		depth = ch.size/accountBatchRows + 2
	}
	batches, free := make(chan []parsedAccount, depth), make(chan []parsedAccount, depth+2)
	var readErr error
	go func() {
		defer close(batches)
		newBatch := func() []parsedAccount {
			select {
			case b := <-free:
				return b[:0]
			default:
				return make([]parsedAccount, 0, accountBatchRows)
			}
		}
		batch := newBatch()
		send := func() bool {
			select {
			case batches <- batch:
				return true
			case <-pctx.Done():
				return false
			}
		}
		for {
			rec, err := src.next()
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				break
			}
			batch = batch[:len(batch)+1]
			it := &batch[len(batch)-1]
			it.line, it.has, it.rej, it.warns, it.row = rec.line, rec.has, nil, it.warns[:0], it.row[:0]
			if rec.bad != nil {
				it.rej = rec.bad
			} else {
				it.a = Account{}
				it.rej = im.parseAccount(rec, &it.a, func(p Problem) { it.warns = append(it.warns, p) })
				if it.rej == nil {
					own := Affected{Account: it.a, NoticeEmail: it.a.Email, NoticeEmailUsable: it.a.EmailUsable}
					if s.pg {
						it.row = appendAccountCopy(it.row, &it.a, own.Reach(), im.run)
					} else {
						it.row = appendAccountJSONB(it.row, &it.a, own.Reach())
					}
				}
			}
			it.warns = append(it.warns, readerWarns...)
			readerWarns = readerWarns[:0]
			if len(batch) == cap(batch) {
				if !send() {
					return
				}
				batch = newBatch()
			}
		}
		if len(batch) > 0 {
			send()
		}
	}()
	defer ch.close()
	im.flush = ch.flush
	var whole, cur []parsedAccount
	next := func() (*parsedAccount, error) {
		if len(cur) == 0 {
			if whole != nil {
				select {
				case free <- whole:
				default:
				}
			}
			b, ok := <-batches
			if !ok {
				if readErr != nil {
					return nil, readErr
				}
				return nil, io.EOF
			}
			whole, cur = b, b
		}
		it := &cur[0]
		cur = cur[1:]
		return it, nil
	}
	return drive(ctx, im, next, func(it *parsedAccount) (rowOutcome, *Problem, error) {
		for _, w := range it.warns {
			im.report(w)
		}
		if it.rej != nil {
			return rowRejected, it.rej, nil
		}
		if ch.seen[it.a.ID] {
			return rowRejected, dupProblem(im, it.line, it.a.ID), nil
		}
		if it.has != ch.has {
			// Another set of columns (a JSON line with other keys):
			// another statement.
			if err := ch.flush(ctx); err != nil {
				return 0, nil, err
			}
			ch.has = it.has
		}
		ch.add(it.a.ID, it.line, it.row)
		if len(ch.ids) >= ch.size {
			return rowBuffered, nil, ch.flush(ctx)
		}
		return rowBuffered, nil, nil
	})
}

// parsedAccount is one validated row on its way from the reader to the
// writer.
type parsedAccount struct {
	line  int
	has   uint64 // the columns of the row (record.has)
	a     Account
	rej   *Problem
	warns []Problem
	// row is the account as the writer hands it to the store: JSONB for
	// SQLite (appendAccountJSONB), a row of COPY's text format for
	// PostgreSQL (appendAccountCopy).
	row []byte
}

func outcome(existed bool) rowOutcome {
	if existed {
		return rowUpdated
	}
	return rowInserted
}

func dupProblem(im *importer, line int, id string) *Problem {
	return &Problem{File: im.opt.File, Line: line, Field: "id", Reason: fmt.Sprintf("id %q repeated in the file (the first row was kept)", id)}
}

// accountChunkSize rows are written by one statement on SQLite (on
// PostgreSQL a chunk is a transaction's rows, import_postgres.go).
const accountChunkSize = 1000

// accountBatchRows rows travel from the reader goroutine to the writer
// at a time.
const accountBatchRows = 256

// accountChunk buffers validated accounts and writes them a chunk at a
// time. The rows travel to SQLite as one JSONB array (SQLite's binary
// JSON) bound to one parameter, which the statements read with
// jsonb_each: binding twelve values a row costs the driver an allocation,
// a copy and a release for each, more than SQLite takes to read them out
// of JSONB, and the reader goroutine encodes each row, off the writer's
// core.
type accountChunk struct {
	im    *importer
	ids   []string
	lines []int
	// body holds the rows after room bytes left for a header (the JSONB
	// array's on SQLite; none on PostgreSQL); ends[i] is where row i ends
	// in it.
	body []byte
	ends []int
	room int
	// size is the number of rows flushed at a time.
	size int
	// staged: write through the staging table (PostgreSQL), since the
	// last chunk met accounts the store holds.
	staged bool
	// has is the set of columns of the chunk's rows: the upsert updates
	// only those.
	has uint64
	// seen holds the ids of this chunk, to catch a repeat within it; a
	// repeat of an earlier chunk is caught by the upsert's WHERE.
	seen map[string]bool
	// insert and upsert are prepared once per import (upsert: per set of
	// columns, upsertHas) on the database and used by each transaction on
	// its connection.
	insert, upsert *sql.Stmt
	upsertHas      uint64
}

// jsonbRoom is the largest JSONB header of the chunk's array.
const jsonbRoom = 5

func (c *accountChunk) add(id string, line int, row []byte) {
	if len(c.body) == 0 {
		c.body = append(c.body, make([]byte, c.room)...)
	}
	c.seen[id] = true
	c.ids = append(c.ids, id)
	c.lines = append(c.lines, line)
	c.body = append(c.body, row...)
	c.ends = append(c.ends, len(c.body))
}

func (c *accountChunk) reset() {
	c.ids, c.lines, c.body, c.ends = c.ids[:0], c.lines[:0], c.body[:0], c.ends[:0]
}

const accountCols = `(id, username, name, email, locale, country, region, postal_line1, postal_line2,
	city, postal_code, reach, import_run)`

// accountSelectSQL reads the rows of the bound JSONB array, each an array
// of the first twelve columns (appendAccountJSONB); run, the import's own
// hex id, is written into the statement. (WHERE true: an upsert's SELECT
// needs a WHERE.)
func accountSelectSQL(run string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO accounts" + accountCols + " SELECT ")
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "value->>'$[%d]', ", i)
	}
	b.WriteString("'" + run + "' FROM jsonb_each(?) WHERE true")
	return b.String()
}

// accountInsertSQL writes the rows whose id the store does not hold yet,
// every column (empty for those the file lacks); the others are left to the
// upsert.
func accountInsertSQL(run string) string {
	return accountSelectSQL(run) + " ON CONFLICT(id) DO NOTHING"
}

// accountUpsertSQL writes the rows, updating an existing account only in
// the columns the file holds (has): the others keep their stored values,
// and the reach flags are merged to match. A row this import already wrote
// is left alone.
func accountUpsertSQL(run string, has uint64) string {
	return accountSelectSQL(run) + accountOnConflict(has)
}

// accountColumns are the account columns an upsert may update, by schema
// column.
var accountColumns = []struct {
	idx  int
	name string
}{{aUsername, "username"}, {aName, "name"}, {aEmail, "email"}, {aLocale, "locale"}, {aCountry, "country"},
	{aRegion, "region"}, {aLine1, "postal_line1"}, {aLine2, "postal_line2"}, {aCity, "city"}, {aPostalCode, "postal_code"}}

func accountOnConflict(has uint64) string {
	return " ON CONFLICT(id) DO UPDATE SET " + accountUpdateSet(has) + "\n\tWHERE accounts.import_run <> excluded.import_run"
}

// accountUpdateSet is the SET list of an update of accounts from the
// rows named excluded: the columns the file holds (has), and the reach
// flags merged to match.
func accountUpdateSet(has uint64) string {
	in := func(idx int) bool { return has&(1<<idx) != 0 }
	var set []string
	for _, c := range accountColumns {
		if in(c.idx) {
			set = append(set, c.name+"=excluded."+c.name)
		}
	}
	// The reach flags: each from the row when the file holds the columns
	// it depends on, else from the stored account.
	from := func(bit int, cols ...int) string {
		for _, c := range cols {
			if !in(c) {
				return fmt.Sprintf("(accounts.reach & %d)", bit)
			}
		}
		return fmt.Sprintf("(excluded.reach & %d)", bit)
	}
	// The postal flag of a file holding some of the address columns: the
	// address as it will be stored, each column from the row when the file
	// holds it, else from the stored account.
	postal := from(ReachPostal, aLine1, aCity, aPostalCode, aCountry)
	if strings.HasPrefix(postal, "(accounts") {
		byName := map[string]int{"postal_line1": aLine1, "city": aCity, "postal_code": aPostalCode, "country": aCountry}
		postal = flagIf(postalCompleteSQL(func(name string) string {
			if in(byName[name]) {
				return "excluded." + name
			}
			return "accounts." + name
		}), ReachPostal)
	}
	reach := strings.Join([]string{from(ReachConsent, aEConsent), from(ReachRetired, aStatus), from(ReachEmail, aEmail),
		postal, fmt.Sprintf("(excluded.reach & %d)", ReachSameAddress)}, " | ")
	set = append(set, "reach="+reach, "import_run=excluded.import_run")
	return strings.Join(set, ", ")
}

// flush writes the buffered accounts: one insert of those the store
// lacks, then, unless every row was new, one upsert of the rest; the
// counts of rows each wrote are the inserted and updated counts. The
// upsert's WHERE skips a row this import already wrote (its id is repeated
// in the file); that is rare, so it is detected by the counts, and then
// the chunk is rolled back to its savepoint and written again without the
// repeats, which are reported.
//
// On PostgreSQL the chunk is written by writePostgres (COPY), with the same
// savepoint, counts and handling of repeated ids.
func (c *accountChunk) flush(ctx context.Context) error {
	if len(c.ids) == 0 {
		return nil
	}
	write := c.write
	if c.im.s.pg {
		write = c.writePostgres
	}
	im, tx := c.im, c.im.tx
	if _, err := tx.ExecContext(ctx, "SAVEPOINT chunk"); err != nil {
		return fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	ins, upd, err := write(ctx, tx)
	if err != nil {
		return err
	}
	if ins+upd < len(c.ids) {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO chunk"); err != nil {
			return fmt.Errorf("import %s: %w", im.opt.File, err)
		}
		if err := c.dropRepeats(ctx, tx); err != nil {
			return err
		}
		if ins, upd, err = write(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE chunk"); err != nil {
		return fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	im.res.Inserted += int64(ins)
	im.res.Updated += int64(upd)
	c.reset()
	clear(c.seen)
	return nil
}

// write inserts the chunk's new accounts and updates the others, returning
// how many rows each statement wrote.
func (c *accountChunk) write(ctx context.Context, tx *sql.Tx) (inserted, updated int, err error) {
	if len(c.ids) == 0 {
		return 0, 0, nil
	}
	// The array's header, right-aligned in the room left for it.
	var h [jsonbRoom]byte
	hdr := appendJSONBHeader(h[:0], jsonbArray, len(c.body)-jsonbRoom)
	start := jsonbRoom - len(hdr)
	copy(c.body[start:], hdr)
	rows := c.body[start:]
	if inserted, err = c.exec(ctx, tx, false, rows); err != nil || inserted == len(c.ids) {
		return inserted, 0, err
	}
	updated, err = c.exec(ctx, tx, true, rows)
	return inserted, updated, err
}

// JSONB element types (https://sqlite.org/jsonb.html).
const (
	jsonbInt     = 3
	jsonbTextRaw = 10 // text to be taken as it is: no escapes
	jsonbArray   = 11
)

// appendJSONBHeader appends the header of an element of type typ and
// payload size n.
func appendJSONBHeader(b []byte, typ byte, n int) []byte {
	switch {
	case n <= 11:
		return append(b, byte(n)<<4|typ)
	case n <= 0xff:
		return append(b, 0xc0|typ, byte(n))
	case n <= 0xffff:
		return append(b, 0xd0|typ, byte(n>>8), byte(n))
	}
	return append(b, 0xe0|typ, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// jsonbHeaderSize is the size of the header appendJSONBHeader writes for a
// payload of n bytes.
func jsonbHeaderSize(n int) int {
	switch {
	case n <= 11:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	}
	return 5
}

// appendAccountJSONB appends the row the statements read for a: the JSONB
// array of its first twelve columns, the texts as they are and the reach
// flags (which carry consent, status and email usability: the table reads
// them back as generated columns) as an integer.
func appendAccountJSONB(b []byte, a *Account, reach int) []byte {
	vals := [...]string{a.ID, a.Username, a.Name, a.Email, a.Locale, a.Country,
		a.Region, a.PostalLine1, a.PostalLine2, a.City, a.PostalCode}
	var num [20]byte
	r := strconv.AppendInt(num[:0], int64(reach), 10)
	n := 1 + len(r)
	for _, v := range vals {
		n += jsonbHeaderSize(len(v)) + len(v)
	}
	b = appendJSONBHeader(b, jsonbArray, n)
	for _, v := range vals {
		b = appendJSONBHeader(b, jsonbTextRaw, len(v))
		b = append(b, v...)
	}
	b = appendJSONBHeader(b, jsonbInt, len(r))
	return append(b, r...)
}

// exec runs the insert or the upsert of the chunk's rows, and returns the
// count of rows written.
func (c *accountChunk) exec(ctx context.Context, tx *sql.Tx, upsert bool, rows []byte) (int, error) {
	im := c.im
	st := &c.insert
	if upsert {
		st = &c.upsert
		if c.upsert != nil && c.upsertHas != c.has {
			c.upsert.Close()
			c.upsert = nil
		}
	}
	if *st == nil {
		q := accountInsertSQL(im.run)
		if upsert {
			q, c.upsertHas = accountUpsertSQL(im.run, c.has), c.has
		}
		var err error
		if *st, err = im.s.db.PrepareContext(ctx, q); err != nil {
			return 0, fmt.Errorf("import %s: prepare: %w", im.opt.File, err)
		}
	}
	res, err := tx.StmtContext(ctx, *st).ExecContext(ctx, rows)
	if err != nil {
		return 0, fmt.Errorf("import %s lines %d-%d: %w", im.opt.File, c.lines[0], c.lines[len(c.lines)-1], err)
	}
	written, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	return int(written), nil
}

// close releases the prepared statements.
func (c *accountChunk) close() {
	for _, st := range []*sql.Stmt{c.insert, c.upsert} {
		if st != nil {
			st.Close()
		}
	}
}

// dropRepeats removes from the chunk, and reports, the rows whose id this
// import already wrote in an earlier chunk.
func (c *accountChunk) dropRepeats(ctx context.Context, tx *sql.Tx) error {
	im := c.im
	args := []any{im.run}
	for _, id := range c.ids {
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM accounts WHERE import_run = ? AND id IN (?`+
		strings.Repeat(",?", len(c.ids)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	repeated := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("import %s: %w", im.opt.File, err)
		}
		repeated[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	keep, end := 0, c.room
	for i, id := range c.ids {
		start := c.room
		if i > 0 {
			start = c.ends[i-1]
		}
		if repeated[id] {
			im.report(*dupProblem(im, c.lines[i], id))
			continue
		}
		end += copy(c.body[end:], c.body[start:c.ends[i]])
		c.ids[keep], c.lines[keep], c.ends[keep] = id, c.lines[i], end
		keep++
	}
	c.ids, c.lines, c.ends, c.body = c.ids[:keep], c.lines[:keep], c.ends[:keep], c.body[:end]
	return nil
}

// parseAccount validates one record into a. It returns the rejection, if
// any, and passes warnings to report. It touches no importer state, so it
// runs on the reader goroutine.
func (im *importer) parseAccount(rec *record, a *Account, report func(Problem)) *Problem {
	v := rec.vals
	rej := func(field, reason string) *Problem {
		return &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}
	}
	warn := func(field, reason string) {
		report(Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason, Warning: true})
	}
	a.ID = strings.TrimSpace(v[aID])
	if a.ID == "" {
		return rej("id", "missing: a row without an id cannot be identified")
	}
	if cleanText(a.ID) != a.ID || len(a.ID) > 200 {
		return rej("id", "holds control characters or is longer than 200 bytes")
	}
	a.Username = cleanText(v[aUsername])
	a.Name = cleanText(v[aName])
	a.Country = strings.ToUpper(strings.TrimSpace(v[aCountry]))
	if a.Country != "" && !ValidCountry(a.Country) {
		return rej("country", fmt.Sprintf("unknown country code %s (ISO 3166-1 alpha-2 expected)", quoteValue(v[aCountry])))
	}
	a.Region = NormalizeRegion(a.Country, cleanText(v[aRegion]))
	if a.Country == "US" && a.Region != "" && !ValidUSRegion(a.Region) {
		warn("region", fmt.Sprintf("unknown US state or territory %s: kept, residence will be reviewed", quoteValue(v[aRegion])))
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
		return rej("status", fmt.Sprintf("unknown status %s (active or retired)", quoteValue(v[aStatus])))
	}
	a.Locale = strings.TrimSpace(v[aLocale])
	if a.Locale != "" && !localeRe.MatchString(a.Locale) {
		warn("locale", fmt.Sprintf("%s is not a language tag: kept empty, notices use the default language", quoteValue(a.Locale)))
		a.Locale = ""
	}
	a.Locale = strings.ReplaceAll(a.Locale, "_", "-")
	a.PostalLine1 = cleanText(v[aLine1])
	a.PostalLine2 = cleanText(v[aLine2])
	a.City = cleanText(v[aCity])
	a.PostalCode = cleanText(v[aPostalCode])
	// An address is stored with its domain in A-labels (SenderAddress); a
	// UTF-8 local part is kept, for the sender to route to a relay with
	// SMTPUTF8. An invalid IDN domain makes the address unusable.
	a.Email, a.EmailUsable = strings.TrimSpace(v[aEmail]), false
	if a.Email != "" {
		if e, err := SenderAddress(a.Email); err != nil {
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
	if err := Authorize(ctx, ActImport, ""); err != nil {
		return ImportResult{}, fmt.Errorf("import courses: %w", err)
	}
	im := s.newImporter(opt,
		`SELECT EXISTS(SELECT 1 FROM courses WHERE id=?)`,
		`INSERT INTO courses(id, member_id, title, import_run) VALUES (?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET member_id=excluded.member_id, title=excluded.title, import_run=excluded.import_run
		WHERE courses.import_run <> excluded.import_run RETURNING 0`,
		`SELECT member FROM controllers WHERE id=?`,
		// A file without a title column keeps the stored titles.
		`INSERT INTO courses(id, member_id, title, import_run) VALUES (?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET member_id=excluded.member_id, import_run=excluded.import_run
		WHERE courses.import_run <> excluded.import_run RETURNING 0`)
	src, err := newRecordReader(im.opt.File, opt.Format, r, courseSchema, im.report)
	if err != nil {
		return im.res, err
	}
	im.src = src
	return driveRecords(ctx, im, src, func(rec *record) (rowOutcome, *Problem, error) {
		rej := func(field, reason string) (rowOutcome, *Problem, error) {
			return rowRejected, &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}, nil
		}
		id, member, title := strings.TrimSpace(rec.vals[0]), strings.TrimSpace(rec.vals[1]), CleanText(rec.vals[2])
		if id == "" {
			return rej("course_id", "missing")
		}
		var isMember sql.NullInt64
		if err := im.prep[2].QueryRowContext(ctx, member).Scan(&isMember); errors.Is(err, sql.ErrNoRows) {
			return rej("member_id", fmt.Sprintf("no controller %q (add it with controllers add --member)", member))
		} else if err != nil {
			return 0, nil, err
		}
		if isMember.Int64 != 1 {
			return rej("member_id", fmt.Sprintf("controller %q is the operator, not a Member", member))
		}
		var exists bool
		if err := im.prep[0].QueryRowContext(ctx, id).Scan(&exists); err != nil {
			return 0, nil, err
		}
		upsert := im.prep[1]
		if rec.has&(1<<2) == 0 {
			upsert = im.prep[3]
		}
		var zero int
		err := upsert.QueryRowContext(ctx, id, member, title, im.run).Scan(&zero)
		if errors.Is(err, sql.ErrNoRows) {
			return rej("course_id", fmt.Sprintf("course %q repeated in the file (the first row was kept)", id))
		}
		if err != nil {
			return 0, nil, err
		}
		return outcome(exists), nil, nil
	})
}

// ImportEnrollments streams enrollments (account_id,course_id[,email]).
// The optional email is the address tied to that enrollment: a Member's
// notices go there.
func (s *Store) ImportEnrollments(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if err := Authorize(ctx, ActImport, ""); err != nil {
		return ImportResult{}, fmt.Errorf("import enrollments: %w", err)
	}
	im := s.newImporter(opt,
		`SELECT EXISTS(SELECT 1 FROM accounts WHERE id=?), EXISTS(SELECT 1 FROM courses WHERE id=?),
			EXISTS(SELECT 1 FROM enrollments WHERE account_id=? AND course_id=?)`,
		`INSERT INTO enrollments(account_id, course_id, email, email_usable, import_run) VALUES (?,?,?,?,?)
		ON CONFLICT(account_id, course_id) DO UPDATE SET email=excluded.email, email_usable=excluded.email_usable,
			import_run=excluded.import_run
		WHERE enrollments.import_run <> excluded.import_run RETURNING 0`,
		// A file without an email column keeps the stored addresses.
		`INSERT INTO enrollments(account_id, course_id, email, email_usable, import_run) VALUES (?,?,?,?,?)
		ON CONFLICT(account_id, course_id) DO UPDATE SET import_run=excluded.import_run
		WHERE enrollments.import_run <> excluded.import_run RETURNING 0`)
	src, err := newRecordReader(im.opt.File, opt.Format, r, enrollmentSchema, im.report)
	if err != nil {
		return im.res, err
	}
	im.src = src
	return driveRecords(ctx, im, src, func(rec *record) (rowOutcome, *Problem, error) {
		rej := func(field, reason string) (rowOutcome, *Problem, error) {
			return rowRejected, &Problem{File: im.opt.File, Line: rec.line, Field: field, Reason: reason}, nil
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
			return 0, nil, err
		}
		if !hasAcct {
			return rej("account_id", fmt.Sprintf("no account %q (import accounts first)", acct))
		}
		if !hasCourse {
			return rej("course_id", fmt.Sprintf("no course %q (import courses first)", course))
		}
		email, usable := strings.TrimSpace(rec.vals[2]), false
		if email != "" {
			if e, err := SenderAddress(email); err != nil {
				email = CleanText(email)
				im.report(Problem{File: im.opt.File, Line: rec.line, Field: "email", Warning: true,
					Reason: "unusable (" + err.Error() + "): enrollment kept, the account's own email is used instead"})
			} else {
				email, usable = e, true
			}
		}
		upsert := im.prep[1]
		if rec.has&(1<<2) == 0 {
			upsert = im.prep[2]
		}
		var zero int
		err := upsert.QueryRowContext(ctx, acct, course, email, boolInt(usable), im.run).Scan(&zero)
		if errors.Is(err, sql.ErrNoRows) {
			return rej("course_id", fmt.Sprintf("enrollment of %q in %q repeated in the file (the first row was kept)", acct, course))
		}
		if err != nil {
			return 0, nil, err
		}
		return outcome(exists), nil, nil
	})
}

// cleanText is CleanText with a shortcut for most values of a file:
// printable ASCII without a space at either end or two in a row, which
// CleanText returns as it is, found without decoding runes.
func cleanText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return CleanText(s)
		}
	}
	return s
}
