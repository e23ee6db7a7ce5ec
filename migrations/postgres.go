package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL twins of the SQLite migrations, version for version.
//
//go:embed postgres/*.sql
var postgresFiles embed.FS

// IsPostgresURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// IsPostgres reports whether db was opened on PostgreSQL by Open.
func IsPostgres(db *sql.DB) bool {
	d, ok := db.Driver().(interface{ Dialect() string })
	return ok && d.Dialect() == "postgres"
}

// RedactURL returns a PostgreSQL URL without its password, for messages.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://..."
	}
	return u.Redacted()
}

// OpenPostgres opens the PostgreSQL database at the URL through pgx's
// database/sql driver and applies every pending migration.
//
// The store's SQL is written once for both stores with SQLite's numbered
// parameters (?1, ?2, or bare ?): the connection rewrites them to
// PostgreSQL's $1, $2 as each statement is sent (rebind), and converts the
// values that SQLite keeps as integers (Go bools in, PostgreSQL booleans
// out) so that scans are the same on both. What the two dialects spell
// differently is split where the SQL is, on IsPostgres.
func OpenPostgres(ctx context.Context, dbURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", RedactURL(dbURL), err)
	}
	db := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*cfg), cfg: cfg})
	// More connections than SQLite's 8: several workers' claims and appends
	// run at once, and each holds a connection for its transaction.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", RedactURL(dbURL), err)
	}
	if err := Up(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", RedactURL(dbURL), err)
	}
	return db, nil
}

// WithPgx runs fn with the pgx connection under one of db's connections,
// for what database/sql cannot say (COPY). db must be PostgreSQL.
func WithPgx(ctx context.Context, db *sql.DB, fn func(*pgx.Conn) error) error {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return errors.New("not a PostgreSQL connection")
		}
		return fn(pc.PgxConn())
	})
}

// pgConnector wraps pgx's connector: its connections rebind parameters.
type pgConnector struct {
	inner driver.Connector
	cfg   *pgx.ConnConfig
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{inner: conn}, nil
}

func (c *pgConnector) Driver() driver.Driver { return &pgDriver{cfg: c.cfg} }

// pgDriver is what db.Driver() returns: it names the dialect (IsPostgres
// and packages that must not import this one ask it).
type pgDriver struct{ cfg *pgx.ConnConfig }

func (*pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("postgres: open through migrations.OpenPostgres")
}

// Dialect names the SQL this driver's connections speak.
func (*pgDriver) Dialect() string { return "postgres" }

// plainDB opens db's database again without the rebinding and value
// conversions, for goose: its version table has a real boolean column and
// its SQL is PostgreSQL's own.
func plainDB(db *sql.DB) *sql.DB {
	d := db.Driver().(*pgDriver)
	plain := stdlib.OpenDB(*d.cfg)
	plain.SetMaxOpenConns(1)
	return plain
}

// pgConn is one pgx connection that takes SQLite-style parameters.
type pgConn struct{ inner driver.Conn }

var (
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, Rebind(query))
	if err != nil {
		return nil, err
	}
	return &pgStmt{inner: st}, nil
}

func (c *pgConn) Close() error { return c.inner.Close() }

// PgxConn returns the pgx connection under c, for COPY (sql.Conn.Raw
// hands c to its function; incident asks for this method by interface).
func (c *pgConn) PgxConn() *pgx.Conn { return c.inner.(*stdlib.Conn).Conn() }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.inner.(driver.ExecerContext).ExecContext(ctx, Rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.inner.(driver.QueryerContext).QueryContext(ctx, Rebind(query), args)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: rows}, nil
}

func (c *pgConn) Ping(ctx context.Context) error { return c.inner.(driver.Pinger).Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error {
	return c.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (c *pgConn) IsValid() bool {
	v, ok := c.inner.(driver.Validator)
	return !ok || v.IsValid()
}

// CheckNamedValue passes values as SQLite's driver would store them: a
// bool as the integer 0 or 1 (the schema keeps flags as integers on both
// stores), a time.Time as modernc's text.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case bool:
		if v {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
	case time.Time:
		s, _, _ := strings.Cut(v.String(), " m=")
		nv.Value = s
	default:
		// A named bool type (type Flag bool) is a bool to SQLite too.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Bool {
			nv.Value = int64(0)
			if rv.Bool() {
				nv.Value = int64(1)
			}
		}
	}
	return nil
}

type pgStmt struct{ inner driver.Stmt }

func (s *pgStmt) Close() error  { return s.inner.Close() }
func (s *pgStmt) NumInput() int { return s.inner.NumInput() }

func (s *pgStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("postgres: Exec without context")
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("postgres: Query without context")
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.inner.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.inner.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: rows}, nil
}

// pgRows turns PostgreSQL booleans (comparisons in a select list) into
// SQLite's integers 0 and 1, so one Scan serves both stores.
type pgRows struct{ driver.Rows }

func (r *pgRows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		if b, ok := v.(bool); ok {
			if b {
				dest[i] = int64(1)
			} else {
				dest[i] = int64(0)
			}
		}
	}
	return nil
}

func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

var _ io.Closer = (*pgRows)(nil)

// Rebind rewrites SQLite's parameters in query to PostgreSQL's: ?NNN to
// $NNN, and a bare ? to the next number after the largest so far (SQLite's
// rule), leaving string literals, quoted identifiers and comments alone.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	max := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i - 1
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n := max + 1
			if j > i+1 {
				n, _ = strconv.Atoi(query[i+1 : j])
			}
			if n > max {
				max = n
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
