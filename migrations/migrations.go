// Package migrations holds breachnotice's numbered SQL migrations (goose), one set
// per dialect in sqlite/ and postgres/, embedded
// in the binary, and opens the database (a SQLite file or a PostgreSQL URL)
// with them applied.
//
// Every command opens the database through Open, so a fresh file is created
// and an old one brought up to date before anything reads it.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed sqlite/*.sql
var files embed.FS

// DSN returns the modernc data source name for path. The pragmas apply to
// every pooled connection: busy_timeout first (so the others wait for a lock
// rather than fail), then WAL so readers never block the writer, foreign keys
// on (SQLite leaves them off), synchronous NORMAL (durable at each WAL
// checkpoint, one fsync per commit saved). _txlock=immediate takes the write
// lock at BEGIN, so a transaction never fails upgrading a read lock: this is
// what lets the CLI and a running server share one file. cache_size is per
// connection and lives outside the Go heap (modernc allocates it with mmap),
// so it counts in the resident set, not in heap profiles: 16 MB each. A
// whole 1M-learner incident (import, scope, plan, 702k emails sent, export)
// opens two or three connections (BenchmarkWholeIncident), so ~35 MB of its
// 81 MB peak; at 4 MB import took the same 43 s and the peak fell to 54 MB,
// but sending was up to 10% slower, within noise, so the size stays.
func DSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-16384)&_txlock=immediate"
}

// Open opens (creating if needed) the database at path and applies every
// pending migration. A postgres:// or postgresql:// URL opens PostgreSQL
// instead (OpenPostgres).
//
// The database holds personal data, so a new file is created here with
// mode 0600 before SQLite opens it: SQLite gives the -wal and -shm files
// it creates next to it the database file's mode, so they are 0600 too.
// (SQLite itself would create the file 0644.) An existing file keeps its
// mode: whoever made it shared meant to; SharedFiles lets the caller warn.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if IsPostgresURL(path) {
		return OpenPostgres(ctx, path)
	}
	if err := create(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Up to 8 connections, each with its own page cache (see DSN): at most
	// 128 MB if all were busy at once; the dispatcher and the store keep two
	// or three open.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := Up(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// create makes an empty file at path with mode 0600 unless one exists
// (SQLite takes an empty file for an empty database).
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// SharedFiles lists the database at path and its -wal and -shm files,
// those that exist, whose mode lets group or others in, with the mode. A
// caller warns about them: they hold personal data.
func SharedFiles(path string) (shared []string, err error) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if st.Mode().Perm()&0o077 != 0 {
			shared = append(shared, fmt.Sprintf("%s (mode %04o)", p, st.Mode().Perm()))
		}
	}
	return shared, nil
}

// provider is goose over the migrations of db's dialect: those in
// sqlite/ or postgres/ (same numbers, one twin per version). Call done when finished with it.
// Numbers are handed out to work landing in parallel, so a migration can
// land after a higher one that a database has already applied: it is
// applied then (out of order), rather than refusing to open the database.
func provider(db *sql.DB) (p *goose.Provider, done func(), err error) {
	if IsPostgres(db) {
		sub, err := fs.Sub(postgresFiles, "postgres")
		if err != nil {
			return nil, nil, err
		}
		plain := plainDB(db)
		p, err := goose.NewProvider(goose.DialectPostgres, plain, sub, goose.WithAllowOutofOrder(true))
		if err != nil {
			plain.Close()
			return nil, nil, err
		}
		return p, func() { plain.Close() }, nil
	}
	sub, err := fs.Sub(files, "sqlite")
	if err != nil {
		return nil, nil, err
	}
	p, err = goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithAllowOutofOrder(true))
	return p, func() {}, err
}

// Up applies every pending migration.
func Up(ctx context.Context, db *sql.DB) error {
	p, done, err := provider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer done()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up: %w", err)
	}
	return nil
}

// DownTo rolls migrations back to version (0 undoes them all).
func DownTo(ctx context.Context, db *sql.DB, version int64) error {
	p, done, err := provider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer done()
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrations: down to %d: %w", version, err)
	}
	return nil
}

// Version returns the current schema version.
func Version(ctx context.Context, db *sql.DB) (int64, error) {
	p, done, err := provider(db)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	defer done()
	return p.GetDBVersion(ctx)
}
