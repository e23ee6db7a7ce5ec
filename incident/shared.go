package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// This file is the seam between incident's tables (controllers, accounts,
// incidents, affected) and the packages that compose with them in their own
// transactions (notify and its channels). Those packages read and write
// their own tables (notices, plans, the ledger) and reach incident's only
// through what is here: helpers that take the caller's transaction (or any
// Querier) and, for set-based SQL that must stay one statement (INSERT ...
// SELECT over a million people), relations whose columns are documented
// below, so that only this package knows how its tables are laid out.
//
// The helpers do not authorize: the exported Store method that opens the
// transaction (or the caller's own, which found the incident with
// FindIncidentFor) has done so.

// Querier reads: a *sql.DB, a *sql.Tx or a *Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// AffectedRows is an SQL relation of every incident's affected set, one
// row per person, to use in a FROM or JOIN clause with an alias
// (`FROM `+incident.AffectedRows+` f`). Its columns:
//
//	incident_id, account_id  the person of the incident
//	country, region          their residence, as scoping stored it
//	reach                    their Reach flags
//
// SQLite flattens the subquery into the caller's query, so a join on it
// costs what a join on the table does.
const AffectedRows = `(SELECT incident_id, account_id, country, region, reach FROM affected)`

// AffectedPeople is AffectedRows joined to each person's account, for a
// set-based query that also needs who they are. Its columns are those of
// AffectedRows and:
//
//	name, locale           the account's
//	notice_address         the address a notice goes to (the enrollment's
//	                       own when the copy has one, else the account's)
//	postal_complete        1 when the postal address is complete
//	                       (Account.PostalComplete)
//
// and the columns AffectedPeopleColumns selects for ScanAffected.
var AffectedPeople = `(SELECT f.incident_id, f.account_id, f.country, f.region, f.reach,
		a.name, a.locale, CASE WHEN f.notice_email <> '' THEN f.notice_email ELSE a.email END AS notice_address,
		` + PostalCompleteSQL("a") + ` AS postal_complete,
		a.username, a.email, a.email_usable, a.country AS account_country, a.region AS account_region,
		a.postal_line1, a.postal_line2, a.city, a.postal_code, a.e_consent, a.status,
		(f.reach & ` + flagSQL(ReachEmail) + `) <> 0 AS notice_email_usable
	FROM affected f JOIN accounts a ON a.id = f.account_id)`

// AffectedPeopleColumns selects, from AffectedPeople aliased t, the
// columns ScanAffected reads, in its order.
func AffectedPeopleColumns(t string) string {
	cols := []string{"account_id", "username", "name", "email", "email_usable", "locale", "account_country",
		"account_region", "postal_line1", "postal_line2", "city", "postal_code", "e_consent", "status",
		"notice_address", "notice_email_usable"}
	for i, c := range cols {
		cols[i] = t + "." + c
	}
	return strings.Join(cols, ", ")
}

// AccountNames is an SQL relation of every account's id, name and locale
// (columns id, name, locale), to join on a notice's account.
const AccountNames = `(SELECT id, name, locale FROM accounts)`

// AffectedWindowEnd returns the n-th affected account id after "after" (in
// account-id order) of the incident, or a null string when fewer remain:
// the upper bound of a window of n people, for work done a window per
// transaction.
func AffectedWindowEnd(ctx context.Context, q Querier, incidentID int64, after string, n int) (sql.NullString, error) {
	var hi sql.NullString
	err := q.QueryRowContext(ctx, `SELECT account_id FROM affected WHERE incident_id = ? AND account_id > ?
			ORDER BY account_id LIMIT 1 OFFSET ?`, incidentID, after, n-1).Scan(&hi)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return hi, fmt.Errorf("affected of incident %d after %q: %w", incidentID, after, err)
	}
	return hi, nil
}

// ForEachAffectedPlace streams the residence and Reach flags of each
// person of the incident's affected set, in no particular order. country
// and region are valid only during the call (they are the driver's bytes:
// counting a million people allocates nothing per person).
func ForEachAffectedPlace(ctx context.Context, q Querier, incidentID int64, fn func(country, region []byte, reach int) error) error {
	rows, err := q.QueryContext(ctx, `SELECT country, region, reach FROM affected WHERE incident_id=?`, incidentID)
	if err != nil {
		return fmt.Errorf("affected of incident %d: %w", incidentID, err)
	}
	defer rows.Close()
	var country, region sql.RawBytes
	var reach int
	for rows.Next() {
		if err := rows.Scan(&country, &region, &reach); err != nil {
			return fmt.Errorf("affected of incident %d: %w", incidentID, err)
		}
		if err := fn(country, region, reach); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AccountPlace returns an account's locale, country and region.
func AccountPlace(ctx context.Context, q Querier, accountID string) (locale, country, region string, err error) {
	err = q.QueryRowContext(ctx, `SELECT locale, country, region FROM accounts WHERE id = ?`, accountID).
		Scan(&locale, &country, &region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", fmt.Errorf("%w: no account %q", ErrNotFound, accountID)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("account %s: %w", accountID, err)
	}
	return locale, country, region, nil
}

// ControllerExists reports whether the controller is stored.
func ControllerExists(ctx context.Context, q Querier, id string) (bool, error) {
	var ok bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM controllers WHERE id = ?)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("controller %s: %w", id, err)
	}
	return ok, nil
}

// ControllerOf returns the controller of an incident.
func ControllerOf(ctx context.Context, q Querier, incidentID int64) (string, error) {
	var c string
	err := q.QueryRowContext(ctx, `SELECT controller_id FROM incidents WHERE id = ?`, incidentID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no incident %d", ErrNotFound, incidentID)
	}
	if err != nil {
		return "", fmt.Errorf("incident %d: %w", incidentID, err)
	}
	return c, nil
}

// IDFilter narrows IncidentIDs.
type IDFilter struct {
	// Open keeps the incidents that are not closed.
	Open bool
	// Sending keeps the incidents that are notifying and not on hold.
	Sending bool
}

// IncidentIDs lists the ids of the incidents f keeps, in id order, for the
// scheduler's jobs, which look at every controller's incidents.
func IncidentIDs(ctx context.Context, q Querier, f IDFilter) ([]int64, error) {
	var where []string
	if f.Open {
		where = append(where, "status <> 'closed'")
	}
	if f.Sending {
		where = append(where, "status = 'notifying' AND hold_since = ''")
	}
	query := `SELECT id FROM incidents`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("incident ids: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("incident ids: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
