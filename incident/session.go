package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sessionPrefix marks session ids (the admin UI's cookie value).
const sessionPrefix = "bns_"

// SessionLimits are how long a session lives: Idle since its last request,
// Absolute since the login.
type SessionLimits struct {
	Idle, Absolute time.Duration
}

// CreateSession logs user u in: it returns a new session id (256 random
// bits, of which only the hash is kept) and audits the login as u.
func (s *Store) CreateSession(ctx context.Context, u *User) (string, error) {
	sid := newSecret(sessionPrefix)
	ctx = WithActor(ctx, u.Actor())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now().Format(time.RFC3339Nano)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions(id_hash, user_id, created_at, seen_at) VALUES (?,?,?,?)`,
			secretHash(sid), u.ID, now, now); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		return s.audit(ctx, tx, "user.login", "user:"+strconv.FormatInt(u.ID, 10), nil)
	})
	if err != nil {
		return "", err
	}
	return sid, nil
}

// seenEvery is how stale a session's last-seen time may get before a
// request writes it again: a page view is not a write each time.
const seenEvery = time.Minute

// SessionUser returns the enabled user of a live session, or ErrNotFound.
// A session past its idle or absolute limit is deleted.
func (s *Store) SessionUser(ctx context.Context, sid string, lim SessionLimits) (*User, error) {
	if !strings.HasPrefix(sid, sessionPrefix) || len(sid) > 100 {
		return nil, fmt.Errorf("%w: no session", ErrNotFound)
	}
	h := secretHash(sid)
	var created, seen string
	var uid int64
	err := s.db.QueryRowContext(ctx, `SELECT s.user_id, s.created_at, s.seen_at FROM sessions s
		JOIN users u ON u.id = s.user_id AND u.disabled_at = '' WHERE s.id_hash = ?`, h).Scan(&uid, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no session", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	now := s.now()
	c, _ := time.Parse(time.RFC3339Nano, created)
	last, _ := time.Parse(time.RFC3339Nano, seen)
	if now.Sub(c) > lim.Absolute || now.Sub(last) > lim.Idle {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		return nil, fmt.Errorf("%w: session expired", ErrNotFound)
	}
	if now.Sub(last) > seenEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE id_hash = ?`, now.Format(time.RFC3339Nano), h); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return findUser(ctx, s.db, uid)
}

// DeleteSession logs a session out, audited as its user; an unknown
// session is no error.
func (s *Store) DeleteSession(ctx context.Context, sid string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var uid int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id_hash = ?`, secretHash(sid)).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, secretHash(sid)); err != nil {
			return fmt.Errorf("logout: %w", err)
		}
		u, err := findUser(ctx, tx, uid)
		if err != nil {
			return err
		}
		return s.audit(WithActor(ctx, u.Actor()), tx, "user.logout", "user:"+strconv.FormatInt(uid, 10), nil)
	})
}
