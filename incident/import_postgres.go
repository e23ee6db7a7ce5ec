package incident

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// On PostgreSQL an account import sends each chunk's rows with COPY in
// its text format, encoded by the reader goroutine as it validates them
// (appendAccountCopy): the writer only concatenates them. (Measured with
// psql, the binary format costs the server about 5% more CPU for these
// rows.) A chunk is as large as a transaction (BatchSize rows, at most
// pgChunkMax), so a commit costs one COPY and a handful of round trips,
// not one per thousand rows.
//
// While no chunk has met an account the store holds, the rows are copied
// straight into accounts: on a first import every id is new, and a
// staging table would write each row twice. A COPY that meets a stored id
// fails on the primary key; the chunk is rolled back to its savepoint and
// written the general way, which every later chunk takes too until one
// turns out to hold only new accounts: COPY into a temporary staging
// table, then the update of the accounts the store holds (what SQLite's
// upsert does to them) and the insert of the new ids. Validation, error
// lines, counts and commit points are the SQLite path's: only the
// transport of the rows differs.

// pgChunkMax caps the rows of one chunk on PostgreSQL whatever BatchSize
// is, to bound the memory of a chunk and of the rows read ahead of it.
const pgChunkMax = 20_000

// appendAccountCopy appends a's row in COPY's text format, the columns
// of accountCols: the eleven texts, the reach flags and the import's run
// id, separated by tabs and ended by a newline.
func appendAccountCopy(b []byte, a *Account, reach int, run string) []byte {
	for _, v := range [...]string{a.ID, a.Username, a.Name, a.Email, a.Locale, a.Country,
		a.Region, a.PostalLine1, a.PostalLine2, a.City, a.PostalCode} {
		b = appendCopyText(b, v)
		b = append(b, '\t')
	}
	b = strconv.AppendInt(b, int64(reach), 10)
	b = append(b, '\t')
	b = appendCopyText(b, run)
	return append(b, '\n')
}

// appendCopyText appends v as a value of COPY's text format: a backslash,
// tab, newline or carriage return escaped with a backslash, every other
// byte as it is. (An empty value is the empty string: NULL would be \N.)
func appendCopyText(b []byte, v string) []byte {
	from := 0
	for i := 0; i < len(v); i++ {
		var esc byte
		switch v[i] {
		case '\\':
			esc = '\\'
		case '\t':
			esc = 't'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		default:
			continue
		}
		b = append(append(b, v[from:i]...), '\\', esc)
		from = i + 1
	}
	return append(b, v[from:]...)
}

// beginTx begins the importer's transaction; on PostgreSQL on a
// connection of its own, kept in im.conn, so COPY can run on it.
func (im *importer) beginTx(ctx context.Context) (*sql.Tx, error) {
	if !im.s.pg {
		return im.s.db.BeginTx(ctx, nil)
	}
	conn, err := im.s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	im.conn = conn
	return tx, nil
}

// release returns the transaction's connection to the pool.
func (im *importer) release() {
	if im.conn != nil {
		im.conn.Close()
		im.conn = nil
	}
}

// accountStagingSQL reads the staged rows as accountSelectSQL reads the
// JSONB array.
const accountStagingSQL = "INSERT INTO accounts" + accountCols + ` SELECT id, username, name, email, locale,
	country, region, postal_line1, postal_line2, city, postal_code, reach, import_run FROM import_accounts WHERE true`

// writePostgres writes the chunk inside the savepoint chunk: straight
// into accounts while no chunk met a stored id, else through the staging
// table. It returns how many rows were inserted and updated.
func (c *accountChunk) writePostgres(ctx context.Context, tx *sql.Tx) (inserted, updated int, err error) {
	if len(c.ids) == 0 {
		return 0, 0, nil
	}
	im := c.im
	fail := func(err error) (int, int, error) {
		return 0, 0, fmt.Errorf("import %s lines %d-%d: %w", im.opt.File, c.lines[0], c.lines[len(c.lines)-1], err)
	}
	if !c.staged {
		n, err := c.copyRows(ctx, "COPY accounts"+accountCols+" FROM STDIN")
		if err == nil {
			return n, 0, nil
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" || pe.TableName != "accounts" {
			return fail(err)
		}
		// An id the store holds (or this import wrote): the general way.
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO chunk"); err != nil {
			return fail(err)
		}
		c.staged = true
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_accounts (
		id TEXT, username TEXT, name TEXT, email TEXT, locale TEXT, country TEXT, region TEXT,
		postal_line1 TEXT, postal_line2 TEXT, city TEXT, postal_code TEXT, reach BIGINT, import_run TEXT)`); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `TRUNCATE import_accounts`); err != nil {
		return fail(err)
	}
	if _, err := c.copyRows(ctx, "COPY import_accounts"+accountCols+" FROM STDIN"); err != nil {
		return fail(err)
	}
	// The update joins the staging table to accounts by id, one index
	// lookup a staged row; a merge or hash join would read all of
	// accounts for every chunk (what the planner picks once the staging
	// table has statistics), so both are off for this transaction.
	if _, err := tx.ExecContext(ctx, `SELECT set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true)`); err != nil {
		return fail(err)
	}
	if updated, err = c.execCount(ctx, tx, accountStagedUpdateSQL(c.has)); err != nil {
		return fail(err)
	}
	if updated == len(c.ids) {
		return 0, updated, nil
	}
	if inserted, err = c.execCount(ctx, tx, accountStagingSQL+" ON CONFLICT(id) DO NOTHING"); err != nil {
		return fail(err)
	}
	if inserted == len(c.ids) {
		// Only new accounts: try the next chunk straight again.
		c.staged = false
	}
	return inserted, updated, nil
}

// accountStagedUpdateSQL updates, from the staging table, the accounts
// the store holds, in the columns the file holds (has), as the upsert
// on SQLite does (accountOnConflict): an account this import already
// wrote is left alone. The insert of the new ids follows it. An UPDATE
// ... FROM takes a third of the time of INSERT ... ON CONFLICT DO UPDATE
// for the same rows (measured: 20 against 69 ms for 10,000 rows of a
// million), which locks each conflicting row before updating it.
func accountStagedUpdateSQL(has uint64) string {
	return "UPDATE accounts SET " + accountUpdateSet(has) +
		" FROM import_accounts AS excluded WHERE accounts.id = excluded.id AND accounts.import_run <> excluded.import_run"
}

// copyRows sends the chunk's rows with the COPY statement q and returns
// the count of rows copied.
func (c *accountChunk) copyRows(ctx context.Context, q string) (int, error) {
	body := c.body[c.room:]
	var n int64
	err := c.im.conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ PgxConn() *pgx.Conn })
		if !ok {
			return errors.New("not a PostgreSQL connection")
		}
		tag, err := pc.PgxConn().PgConn().CopyFrom(ctx, bytes.NewReader(body), q)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// execCount runs q in tx and returns the count of rows it wrote.
func (c *accountChunk) execCount(ctx context.Context, tx *sql.Tx, q string) (int, error) {
	res, err := tx.ExecContext(ctx, q)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
