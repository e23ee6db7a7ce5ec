package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL an account import copies each chunk's rows into a staging
// table with COPY (pgx's CopyFrom), then runs the same two statements as
// on SQLite, the insert of new ids and the upsert of the others, reading
// the staging table instead of a bound JSONB array. Validation, error
// lines and counts are the SQLite path's: only the transport of the rows
// differs.

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

// stagingColumns are the staging table's columns: the first twelve of
// accountCols, in appendAccountJSONB's order.
var stagingColumns = []string{"id", "username", "name", "email", "locale", "country", "region",
	"postal_line1", "postal_line2", "city", "postal_code", "reach"}

// accountStagingSQL reads the staged rows as accountSelectSQL reads the
// JSONB array.
func accountStagingSQL(run string) string {
	return "INSERT INTO accounts" + accountCols + " SELECT " + strings.Join(stagingColumns, ", ") +
		", '" + run + "' FROM import_accounts WHERE true"
}

// execPostgres is exec on PostgreSQL: the insert stages the rows (the
// upsert that may follow reads the same ones).
func (c *accountChunk) execPostgres(ctx context.Context, tx *sql.Tx, upsert bool, rows []byte) (int, error) {
	im := c.im
	if !upsert {
		if err := c.stage(ctx, tx, rows); err != nil {
			return 0, fmt.Errorf("import %s lines %d-%d: %w", im.opt.File, c.lines[0], c.lines[len(c.lines)-1], err)
		}
	}
	q := accountStagingSQL(im.run) + " ON CONFLICT(id) DO NOTHING"
	if upsert {
		q = accountStagingSQL(im.run) + accountOnConflict(c.has)
	}
	res, err := tx.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("import %s lines %d-%d: %w", im.opt.File, c.lines[0], c.lines[len(c.lines)-1], err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", im.opt.File, err)
	}
	return int(n), nil
}

// stage empties the staging table (a temporary table, made on first use
// in the session) and copies the chunk's rows into it.
func (c *accountChunk) stage(ctx context.Context, tx *sql.Tx, rows []byte) error {
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_accounts (
		id TEXT, username TEXT, name TEXT, email TEXT, locale TEXT, country TEXT, region TEXT,
		postal_line1 TEXT, postal_line2 TEXT, city TEXT, postal_code TEXT, reach BIGINT)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `TRUNCATE import_accounts`); err != nil {
		return err
	}
	vals, err := decodeAccountRows(rows)
	if err != nil {
		return err
	}
	return c.im.conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ PgxConn() *pgx.Conn })
		if !ok {
			return errors.New("not a PostgreSQL connection")
		}
		_, err := pc.PgxConn().CopyFrom(ctx, pgx.Identifier{"import_accounts"}, stagingColumns, pgx.CopyFromRows(vals))
		return err
	})
}

// decodeAccountRows reads back the JSONB array of rows that
// appendAccountJSONB wrote: per row eleven texts and the reach integer.
func decodeAccountRows(b []byte) ([][]any, error) {
	typ, body, _, err := jsonbElement(b)
	if err != nil || typ != jsonbArray {
		return nil, fmt.Errorf("staging: bad rows (%v)", err)
	}
	var out [][]any
	for len(body) > 0 {
		typ, row, rest, err := jsonbElement(body)
		if err != nil || typ != jsonbArray {
			return nil, fmt.Errorf("staging: bad row (%v)", err)
		}
		body = rest
		vals := make([]any, 0, len(stagingColumns))
		for len(row) > 0 {
			typ, v, rest, err := jsonbElement(row)
			if err != nil {
				return nil, fmt.Errorf("staging: bad value: %w", err)
			}
			row = rest
			switch typ {
			case jsonbTextRaw:
				vals = append(vals, string(v))
			case jsonbInt:
				var n int64
				for _, d := range v {
					n = n*10 + int64(d-'0')
				}
				vals = append(vals, n)
			default:
				return nil, fmt.Errorf("staging: value type %d", typ)
			}
		}
		if len(vals) != len(stagingColumns) {
			return nil, fmt.Errorf("staging: row of %d values", len(vals))
		}
		out = append(out, vals)
	}
	return out, nil
}

// jsonbElement splits the element at the start of b into its type, its
// payload and what follows it (appendJSONBHeader's encoding).
func jsonbElement(b []byte) (typ byte, payload, rest []byte, err error) {
	if len(b) == 0 {
		return 0, nil, nil, errors.New("empty")
	}
	typ, code := b[0]&0x0f, int(b[0]>>4)
	n, h := code, 1
	switch code {
	case 12:
		h = 2
	case 13:
		h = 3
	case 14:
		h = 5
	}
	if len(b) < h {
		return 0, nil, nil, errors.New("short header")
	}
	if code >= 12 {
		n = 0
		for _, x := range b[1:h] {
			n = n<<8 | int(x)
		}
	}
	if len(b) < h+n {
		return 0, nil, nil, errors.New("short payload")
	}
	return typ, b[h : h+n], b[h+n:], nil
}
