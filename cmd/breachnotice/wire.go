package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/breachnotice/breachnotice/notify/ledger"
)

// wire connects the store to the delivery ledger once the database is
// open: every event the store records lands in its controller's log, in the
// same transaction.
func (a *app) wire(ctx context.Context) error {
	secret, err := a.secret()
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
// use with 32 random bytes and mode 0600.
func (a *app) secret() ([]byte, error) {
	if s := a.getenv("BREACHNOTICE_SECRET"); s != "" {
		if len(s) < ledger.MinSecretLen {
			return nil, fmt.Errorf("BREACHNOTICE_SECRET must be at least %d bytes", ledger.MinSecretLen)
		}
		return []byte(s), nil
	}
	path := a.getenv("BREACHNOTICE_SECRET_FILE")
	create := false
	if path == "" {
		path, create = a.dbPath+".secret", true
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		var k [32]byte
		rand.Read(k[:])
		b = []byte(hex.EncodeToString(k[:]) + "\n")
		if err := writeFileAtomic(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("create secret file: %w", err)
		}
		fmt.Fprintf(a.stderr, "breachnotice: created %s, the key that seals the ledger signing keys; keep it apart from database backups\n", path)
	} else if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < ledger.MinSecretLen {
		return nil, fmt.Errorf("secret file %s: must hold at least %d bytes", path, ledger.MinSecretLen)
	}
	return []byte(s), nil
}

// writeFileAtomic writes to a temporary file in the same directory and
// renames it into place, so a crash never leaves half a file.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
