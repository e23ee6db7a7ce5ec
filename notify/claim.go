package notify

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// claim leases up to n due notices to this run. Each branch of the
// candidate query walks an index and the LIMIT stops it early, so a claim
// costs the same with ten notices left or a million. A run never claims
// its own expired leases: their outcome is still on its way to the commit
// loop, and only another run may decide they were abandoned.
func (d *dispatcher) claim(ctx context.Context, n int) ([]*job, error) {
	now := d.opt.Now().UTC()
	ts := now.Format(timeLayout)
	var batch []*job
	err := d.st.InTx(ctx, func(tx *sql.Tx) error {
		batch = batch[:0]
		if err := expireDeadLeases(ctx, tx, d.inc.ID, ts); err != nil {
			return err
		}
		// A notice's content needs only the person's name and language
		// (NoticeFor): the claim reads nothing else of the account.
		rows, err := tx.QueryContext(ctx, d.claimSQL(), d.inc.ID, ts, n, d.opt.Owner, d.sendableArg)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		for rows.Next() {
			j := &job{}
			n := &j.n
			var variant int64
			var maybeDelivered int
			var updated string
			if err := rows.Scan(&n.ID, &n.Account, &n.Address, &n.Attempts, &j.prevState, &j.prevRetry, &variant, &maybeDelivered, &j.created,
				&updated, &j.af.Name, &j.af.Locale, &j.offer.Code, &j.offer.Provider, &j.offer.Expires); err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			// The claim stamps updated_at, and nothing else touches a
			// notice in flight (lease renewals change lease_until only):
			// a notice still sending was claimed then, and its message
			// dated then. Re-sent, it keeps that Date.
			j.date = now.Truncate(time.Second)
			if t, err := time.Parse(time.RFC3339Nano, updated); err == nil && j.prevState == StateSending {
				j.date = t.Truncate(time.Second)
			}
			j.af.ID = n.Account
			n.Incident, n.Controller, n.Channel = d.inc.ID, d.c.ID, ChannelEmail
			n.Attempts++
			// A re-send is a possible duplicate when the last run's lease
			// expired mid-send, or when an earlier attempt broke after the
			// end of the message went out (a retry, or --retry-failed).
			j.duplicate = j.prevState == StateSending || maybeDelivered != 0
			j.dec, j.variant = d.variants[variant], variant
			j.deadline, j.juris = j.dec.Deadline, j.dec.Jurisdiction
			batch = append(batch, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		args := []any{d.opt.Owner, now.Add(d.opt.Lease).Format(timeLayout), ts}
		for _, j := range batch {
			args = append(args, j.n.ID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE notices SET state='sending', lease_owner=?, lease_until=?, attempts=attempts+1,
			updated_at=? WHERE id IN (?`+strings.Repeat(",?", len(batch)-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// claimSQL selects the notices a claim takes (parameters: ?1 incident,
// ?2 now, ?3 how many, ?4 this run's owner, ?5 the sendable variants).
//
// On SQLite the claim's transaction holds the write lock, so no other run
// can pick the same rows before the UPDATE marks them. On PostgreSQL
// several workers claim at once: the candidates are locked with FOR
// UPDATE SKIP LOCKED, so a second worker passes over the rows a first one
// is claiming instead of waiting for them or taking them too, and, once
// the first commits, finds them 'sending' under a live lease (PostgreSQL
// re-checks a locked row's condition against its newest version).
func (d *dispatcher) claimSQL() string {
	sendable := strings.Replace(d.sendable, "?", "?5", 1)
	cols := `SELECT n.id, n.account_id, n.address, n.attempts, n.state, n.retry_at, n.variant, n.maybe_delivered,
				n.created_at, n.updated_at, a.name, a.locale, ` + OfferColumns("o")
	joins := `
			JOIN notices n ON n.id = c.id
			JOIN ` + incident.AccountNames + ` a ON a.id = n.account_id
			` + OfferJoin("o", "n")
	if d.st.Postgres() {
		return cols + `
			FROM (
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND (
					(state = 'deferred' AND retry_at <= ?2 AND ` + sendable + `)
					OR (state = 'sending' AND lease_until <= ?2 AND lease_owner <> ?4)
					OR (state = 'pending' AND ` + sendable + `))
				LIMIT ?3
				FOR UPDATE SKIP LOCKED
			) c` + joins
	}
	return cols + `
			FROM (
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'deferred' AND retry_at <= ?2
					AND ` + sendable + `
				UNION ALL
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'sending' AND lease_until <= ?2
					AND lease_owner <> ?4
				UNION ALL
				SELECT id FROM notices WHERE incident_id = ?1 AND channel = 'email' AND state = 'pending'
					AND ` + sendable + `
				LIMIT ?3
			) c` + joins
}

// renewLeases moves the end of every lease this run holds a Lease from now.
func (d *dispatcher) renewLeases(ctx context.Context) error {
	until := d.opt.Now().UTC().Add(d.opt.Lease).Format(timeLayout)
	return d.st.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notices SET lease_until = ?
			WHERE incident_id = ? AND channel = 'email' AND state = 'sending' AND lease_owner = ?`, until, d.inc.ID, d.opt.Owner)
		if err != nil {
			return fmt.Errorf("send incident %d: renew leases: %w", d.inc.ID, err)
		}
		return nil
	})
}

// expireDeadLeases ends, now, the leases of runs on this host whose process
// no longer exists (a crash, a kill -9): their notices are claimed again at
// once, flagged as possible duplicates, instead of after the lease runs
// out. A lease of another host, or of a live process, is left to expire.
func expireDeadLeases(ctx context.Context, tx *sql.Tx, id int64, now string) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT lease_owner FROM notices
		WHERE incident_id = ? AND channel = 'email' AND state = 'sending' AND lease_until > ?`, id, now)
	if err != nil {
		return fmt.Errorf("claim: leases: %w", err)
	}
	var dead []string
	host, _ := os.Hostname()
	for rows.Next() {
		var owner string
		if err := rows.Scan(&owner); err != nil {
			rows.Close()
			return fmt.Errorf("claim: leases: %w", err)
		}
		parts := strings.Split(owner, "/")
		if len(parts) != 3 || parts[0] != host {
			continue
		}
		if pid, err := strconv.Atoi(parts[1]); err == nil && pid != os.Getpid() && !processAlive(pid) {
			dead = append(dead, owner)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("claim: leases: %w", err)
	}
	for _, owner := range dead {
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET lease_until = ? WHERE incident_id = ? AND state = 'sending' AND lease_owner = ?`,
			now, id, owner); err != nil {
			return fmt.Errorf("claim: leases: %w", err)
		}
	}
	return nil
}

// release gives claimed but unsent notices back, as they were.
func (d *dispatcher) release(ctx context.Context, jobs []*job) error {
	return d.st.InTx(ctx, func(tx *sql.Tx) error { return releaseTx(ctx, tx, jobs, d.opt.Owner) })
}

func releaseTx(ctx context.Context, tx *sql.Tx, jobs []*job, owner string) error {
	for _, j := range jobs {
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET state=?, retry_at=?, attempts=attempts-1, lease_owner='', lease_until=''
			WHERE id=? AND lease_owner=?`, j.prevState, j.prevRetry, j.n.ID, owner); err != nil {
			return fmt.Errorf("release notice %d: %w", j.n.ID, err)
		}
	}
	return nil
}

// nextDue says when to look again for due email notices, and how many are
// not final.
func (d *dispatcher) nextDue(ctx context.Context) (time.Time, int, error) {
	var pending, unclaimed int
	var retry, lease sql.NullString
	err := d.st.DB().QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN state='pending' THEN 1 ELSE 0 END), 0),
			min(CASE WHEN state='deferred' THEN retry_at END), min(CASE WHEN state='sending' AND lease_owner <> ? THEN lease_until END)
		FROM notices WHERE incident_id=? AND channel='email' AND state IN ('pending','sending','deferred')
			AND (state = 'sending' OR `+d.sendable+`)`, d.opt.Owner, d.inc.ID, d.sendableArg).
		Scan(&pending, &unclaimed, &retry, &lease)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("send incident %d: %w", d.inc.ID, err)
	}
	now := d.opt.Now()
	next := now.Add(time.Hour)
	switch {
	case unclaimed > 0:
		// Sendable notices nobody has claimed, yet the claim found none:
		// on PostgreSQL another run's claim has them locked (SKIP LOCKED)
		// and is about to commit. Look again at once; they are then that
		// run's, under its lease, or free again.
		next = now.Add(50 * time.Millisecond)
	case lease.Valid:
		// Another run holds leases: it may finish them any moment (a run
		// joining one in progress), so look again within a second rather
		// than wait for them to expire.
		next = now.Add(time.Second)
	}
	for _, s := range []sql.NullString{retry, lease} {
		if t, err := time.Parse(timeLayout, s.String); s.Valid && err == nil && t.Before(next) {
			next = t
		}
	}
	return next, pending, nil
}
