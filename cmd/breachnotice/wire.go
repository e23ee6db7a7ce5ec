package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// wire connects the store to the delivery ledger once the database is
// open: every event the store records lands in its controller's log, in the
// same transaction.
//
// It also warns, on every run, when the database or its -wal/-shm files
// are open to group or others: migrations.Open creates them 0600, so such
// a mode was set by someone, and it is left as it is.
//
// mode is the command's: only dbCreate may create a missing secret file.
func (a *app) wire(ctx context.Context, mode dbMode) error {
	if shared, err := migrations.SharedFiles(a.dbPath); err == nil && len(shared) > 0 {
		fmt.Fprintf(a.stderr, "breachnotice: warning: %s readable by group or others; the database holds personal data (chmod 600 to restrict it)\n",
			strings.Join(shared, ", "))
	}
	secret, err := a.secret(mode)
	if err != nil {
		return err
	}
	l, err := ledger.New(secret, a.now)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	a.ledger = l
	a.store.Journal = l
	return nil
}

// secret returns the key that seals the controllers' signing keys:
// BREACHNOTICE_SECRET, or the file BREACHNOTICE_SECRET_FILE names, or (the
// embedded default) DBFILE.secret next to the database, created on first
// use with 32 random bytes and mode 0600 by a command that may create the
// database (mode dbCreate). Any other command refuses a missing one: a new
// secret could not unseal the keys the database already holds.
func (a *app) secret(mode dbMode) ([]byte, error) {
	if s := a.getenv("BREACHNOTICE_SECRET"); s != "" {
		if len(s) < ledger.MinSecretLen {
			return nil, fmt.Errorf("BREACHNOTICE_SECRET must be at least %d bytes", ledger.MinSecretLen)
		}
		return []byte(s), nil
	}
	path := a.getenv("BREACHNOTICE_SECRET_FILE")
	create := false
	if path == "" && migrations.IsPostgresURL(a.dbPath) {
		// No file next to a PostgreSQL database: every worker, on any
		// machine, must be given the same secret.
		return nil, errors.New("a PostgreSQL database needs BREACHNOTICE_SECRET or BREACHNOTICE_SECRET_FILE (the same for every process using it)")
	}
	if path == "" {
		path, create = a.dbPath+".secret", true
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create && mode != dbCreate {
		return nil, fmt.Errorf("secret file %s does not exist (%s; restore it, or set BREACHNOTICE_SECRET_FILE)", path, mode.refusal())
	}
	if errors.Is(err, fs.ErrNotExist) && create {
		var k [32]byte
		rand.Read(k[:])
		b = []byte(hex.EncodeToString(k[:]) + "\n")
		switch err := createFileExclusive(path, b); {
		case errors.Is(err, fs.ErrExist):
			// Another process created it meanwhile: use theirs, or the
			// two would seal keys with different secrets.
			if b, err = os.ReadFile(path); err != nil {
				return nil, fmt.Errorf("secret file: %w", err)
			}
		case err != nil:
			return nil, fmt.Errorf("create secret file: %w", err)
		default:
			fmt.Fprintf(a.stderr, "breachnotice: created %s, the key that seals the ledger signing keys; keep it apart from database backups\n", path)
		}
	} else if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < ledger.MinSecretLen {
		return nil, fmt.Errorf("secret file %s: must hold at least %d bytes", path, ledger.MinSecretLen)
	}
	return []byte(s), nil
}

// createFileExclusive creates path holding b, mode 0600, whole or not at
// all, and never through a file or link someone planted: the bytes go to a
// new temporary file of a random name in the same directory (created with
// O_EXCL, so no existing file or symbolic link is followed), which is
// synced and then linked to path. The link fails with fs.ErrExist when
// path exists, so an existing file is never replaced; where the file
// system has no hard links, a rename takes its place.
func createFileExclusive(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		_ = os.Remove(tmp) // after the link, or on failure
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
