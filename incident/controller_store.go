package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

var controllerIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks a controller before it is stored.
func (c *Controller) Validate() error {
	if !controllerIDRe.MatchString(c.ID) {
		return fmt.Errorf("%w: controller id %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", ErrInvalid, c.ID)
	}
	if strings.TrimSpace(c.Name) == "" {
		return fmt.Errorf("%w: controller %s: name is required", ErrInvalid, c.ID)
	}
	if c.Name != CleanText(c.Name) {
		return fmt.Errorf("%w: controller %s: name holds control characters", ErrInvalid, c.ID)
	}
	if _, err := CheckEmail(c.From); err != nil {
		return fmt.Errorf("%w: controller %s: sender address: %v", ErrInvalid, c.ID, err)
	}
	if c.Contact.Email != "" {
		if _, err := CheckEmail(c.Contact.Email); err != nil {
			return fmt.Errorf("%w: controller %s: contact email: %v", ErrInvalid, c.ID, err)
		}
	}
	if c.PolicyDays < 1 || c.PolicyDays > 365 {
		return fmt.Errorf("%w: controller %s: policy days %d: must be 1 to 365", ErrInvalid, c.ID, c.PolicyDays)
	}
	return nil
}

// SenderAddress checks a controller's sender address and returns the form
// that is stored and sent: the domain lower-case and in A-labels
// ("notice@bücher.example" → "notice@xn--bcher-kva.example"), which every
// relay and the notices' Message-IDs (built on that domain) can carry. A
// UTF-8 local part is kept: it can only go to a relay with SMTPUTF8.
func SenderAddress(s string) (string, error) {
	addr, err := CheckEmail(s)
	if err != nil {
		return "", err
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	if !strings.ContainsFunc(domain, func(r rune) bool { return r >= utf8.RuneSelf }) && !strings.Contains(domain, "xn--") {
		return addr, nil // CheckEmail has checked it; IDNA rules need not apply
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("domain %s is not a valid internationalised domain name: %v", domain, err)
	}
	if ascii == domain {
		return addr, nil
	}
	return CheckEmail(local + "@" + ascii)
}

// normalizeFrom replaces c.From by its stored form.
func (c *Controller) normalizeFrom() error {
	from, err := SenderAddress(c.From)
	if err != nil {
		return fmt.Errorf("%w: controller %s: sender address %q: %v", ErrInvalid, c.ID, c.From, err)
	}
	c.From = from
	return nil
}

// CreateController stores a new controller and records its creation (the
// journal creates its signing key in the same transaction).
func (s *Store) CreateController(ctx context.Context, c *Controller) error {
	if err := Authorize(ctx, ActControllers, ""); err != nil {
		return fmt.Errorf("create controller: %w", err)
	}
	if c.PolicyDays == 0 {
		c.PolicyDays = DefaultPolicyDays
	}
	if err := c.normalizeFrom(); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	c.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO controllers(id, name, member, from_email, postal_address, phone, web,
			contact_email, dpo, policy_days, terms_e_consent, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.ID, c.Name, boolInt(c.Member), c.From, c.Contact.PostalAddress, c.Contact.Phone, c.Contact.Web,
			c.Contact.Email, c.Contact.DPO, c.PolicyDays, boolInt(c.TermsEConsent), c.CreatedAt.Format(time.RFC3339Nano))
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("create controller: %w: controller %q already exists", ErrConflict, c.ID)
			}
			return fmt.Errorf("create controller %s: %w", c.ID, err)
		}
		if err := s.audit(ctx, tx, "controller.create", "controller:"+c.ID, map[string]any{"member": c.Member}); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: c.ID, Kind: EventControllerCreated,
			Detail: map[string]any{"name": c.Name, "kind": c.Kind()}})
	})
}

// ControllerUpdate holds the fields to change; nil leaves one as it is.
type ControllerUpdate struct {
	Name          *string
	From          *string
	PostalAddress *string
	Phone         *string
	Web           *string
	ContactEmail  *string
	DPO           *string
	PolicyDays    *int
	TermsEConsent *bool
}

// UpdateController changes a controller's notice settings.
func (s *Store) UpdateController(ctx context.Context, id string, upd ControllerUpdate) (*Controller, error) {
	var out *Controller
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := findController(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := Authorize(ctx, ActControllers, c.ID); err != nil {
			return fmt.Errorf("update controller %s: %w", id, err)
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&c.Name, upd.Name)
		set(&c.From, upd.From)
		set(&c.Contact.PostalAddress, upd.PostalAddress)
		set(&c.Contact.Phone, upd.Phone)
		set(&c.Contact.Web, upd.Web)
		set(&c.Contact.Email, upd.ContactEmail)
		set(&c.Contact.DPO, upd.DPO)
		if upd.PolicyDays != nil {
			c.PolicyDays = *upd.PolicyDays
		}
		if upd.TermsEConsent != nil {
			c.TermsEConsent = *upd.TermsEConsent
		}
		if err := c.normalizeFrom(); err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE controllers SET name=?, from_email=?, postal_address=?, phone=?, web=?,
			contact_email=?, dpo=?, policy_days=?, terms_e_consent=? WHERE id=?`,
			c.Name, c.From, c.Contact.PostalAddress, c.Contact.Phone, c.Contact.Web, c.Contact.Email, c.Contact.DPO,
			c.PolicyDays, boolInt(c.TermsEConsent), c.ID)
		if err != nil {
			return fmt.Errorf("update controller %s: %w", id, err)
		}
		out = c
		return s.audit(ctx, tx, "controller.update", "controller:"+c.ID, nil)
	})
	return out, err
}

const controllerCols = `id, name, member, from_email, postal_address, phone, web, contact_email, dpo, policy_days, terms_e_consent, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanController(r scanner) (*Controller, error) {
	var c Controller
	var member, consent int
	var created string
	if err := r.Scan(&c.ID, &c.Name, &member, &c.From, &c.Contact.PostalAddress, &c.Contact.Phone, &c.Contact.Web,
		&c.Contact.Email, &c.Contact.DPO, &c.PolicyDays, &consent, &created); err != nil {
		return nil, err
	}
	c.Member, c.TermsEConsent = member == 1, consent == 1
	if strings.ContainsFunc(c.From, func(r rune) bool { return r >= utf8.RuneSelf }) {
		// Stored before sender domains were kept in A-labels: send with
		// the A-label form all the same.
		if from, err := SenderAddress(c.From); err == nil {
			c.From = from
		}
	}
	c.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return &c, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findController(ctx context.Context, q querier, id string) (*Controller, error) {
	c, err := scanController(q.QueryRowContext(ctx, `SELECT `+controllerCols+` FROM controllers WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no controller %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find controller %s: %w", id, err)
	}
	return c, nil
}

// FindControllerByID returns one controller the context's actor may see.
func (s *Store) FindControllerByID(ctx context.Context, id string) (*Controller, error) {
	if !ActorFrom(ctx).CanSee(id) {
		return nil, fmt.Errorf("%w: no controller %q", ErrNotFound, id)
	}
	return findController(ctx, s.db, id)
}

// FindControllers returns the controllers the context's actor may see,
// operator first, then Members by id.
func (s *Store) FindControllers(ctx context.Context) ([]*Controller, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+controllerCols+` FROM controllers ORDER BY member, id`)
	if err != nil {
		return nil, fmt.Errorf("find controllers: %w", err)
	}
	defer rows.Close()
	actor := ActorFrom(ctx)
	var out []*Controller
	for rows.Next() {
		c, err := scanController(rows)
		if err != nil {
			return nil, fmt.Errorf("find controllers: %w", err)
		}
		if actor.CanSee(c.ID) {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

func isUniqueViolation(err error) bool {
	// SQLite's message, PostgreSQL's SQLSTATE (unique_violation).
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "(SQLSTATE 23505)"))
}

// FindCourses returns up to limit courses of a Member controller the
// context's actor may see, in id order.
func (s *Store) FindCourses(ctx context.Context, controller string, limit int) ([]Course, error) {
	if err := Authorize(ctx, ActRead, controller); err != nil {
		return nil, fmt.Errorf("courses of %s: %w", controller, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, member_id, title FROM courses WHERE member_id = ? ORDER BY id LIMIT ?`, controller, limit)
	if err != nil {
		return nil, fmt.Errorf("courses of %s: %w", controller, err)
	}
	defer rows.Close()
	var out []Course
	for rows.Next() {
		var c Course
		if err := rows.Scan(&c.ID, &c.MemberID, &c.Title); err != nil {
			return nil, fmt.Errorf("courses of %s: %w", controller, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
