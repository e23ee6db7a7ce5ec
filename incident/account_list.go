package incident

import (
	"context"
	"fmt"
	"strings"
)

// AccountFilter narrows FindAccounts.
type AccountFilter struct {
	// Controller limits the list to the accounts of its copy: every account
	// for the operator, the learners enrolled in its courses for a Member.
	Controller string
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
	// Region is a subdivision code as accounts store it ("CA"; "US-CA"
	// is read as country US, region CA).
	Region string
	// After lists only the accounts whose id sorts after it: the next page
	// after a list that ended with that id (keyset paging, no offset).
	After string
	// Limit caps the accounts listed; 0 lists all.
	Limit int
}

// FindAccounts streams the accounts the filter selects, in id order, to
// fn; the Account is reused between calls. A member actor sees only its
// own controller's copy. It never holds more than one account in memory.
func (s *Store) FindAccounts(ctx context.Context, f AccountFilter, fn func(*Account) error) error {
	where, args, err := s.accountWhere(ctx, &f)
	if err != nil {
		return err
	}
	q := `SELECT a.id, a.username, a.name, a.email, a.email_usable, a.locale, a.country, a.region,
		a.postal_line1, a.postal_line2, a.city, a.postal_code, a.e_consent, a.status FROM accounts a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("find accounts: %w", err)
	}
	defer rows.Close()
	var a Account
	for rows.Next() {
		var usable, consent int
		var status string
		if err := rows.Scan(&a.ID, &a.Username, &a.Name, &a.Email, &usable, &a.Locale, &a.Country, &a.Region,
			&a.PostalLine1, &a.PostalLine2, &a.City, &a.PostalCode, &consent, &status); err != nil {
			return fmt.Errorf("find accounts: %w", err)
		}
		a.EmailUsable, a.EConsent, a.Status = usable == 1, consent == 1, AccountStatus(status)
		if err := fn(&a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find accounts: %w", err)
	}
	return nil
}

// accountWhere checks the actor may read the filter's accounts and returns
// the WHERE terms (on accounts aliased a) and arguments selecting them.
func (s *Store) accountWhere(ctx context.Context, f *AccountFilter) ([]string, []any, error) {
	actor := ActorFrom(ctx)
	if err := actor.Can(ActRead, f.Controller); err != nil {
		return nil, nil, err
	}
	if actor.Role == RoleMember {
		f.Controller = actor.Controller
	}
	var where []string
	var args []any
	if f.Controller != "" {
		c, err := findController(ctx, s.db, f.Controller)
		if err != nil {
			return nil, nil, err
		}
		if c.Member {
			where = append(where, `EXISTS (SELECT 1 FROM enrollments e JOIN courses c ON c.id = e.course_id
				WHERE e.account_id = a.id AND c.member_id = ?)`)
			args = append(args, c.ID)
		}
	}
	country, region := strings.ToUpper(strings.TrimSpace(f.Country)), strings.ToUpper(strings.TrimSpace(f.Region))
	if c, r, ok := strings.Cut(region, "-"); ok {
		if country != "" && country != c {
			return nil, nil, fmt.Errorf("%w: region %s is not in country %s", ErrInvalid, f.Region, country)
		}
		country, region = c, r
	}
	if country != "" {
		where, args = append(where, "a.country = ?"), append(args, country)
	}
	if region != "" {
		where, args = append(where, "a.region = ?"), append(args, region)
	}
	if f.After != "" {
		where, args = append(where, "a.id > ?"), append(args, f.After)
	}
	return where, args, nil
}

// CountAccounts counts the accounts the filter selects (Limit and After
// aside), as FindAccounts would list them.
func (s *Store) CountAccounts(ctx context.Context, f AccountFilter) (int64, error) {
	f.After = ""
	where, args, err := s.accountWhere(ctx, &f)
	if err != nil {
		return 0, err
	}
	q := `SELECT count(*) FROM accounts a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}
