package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// NewIncident is what opening an incident takes.
type NewIncident struct {
	ControllerID string
	Title        string
	Description  string
	Discovered   Date
	// DiscoveredAt is the discovery's time with its zone, if given; its
	// date in that zone must be Discovered.
	DiscoveredAt time.Time
	// Cause is how the breach came about; "" is CauseUnknown.
	Cause        Cause
	OccurredFrom Date
	OccurredTo   Date
	Elements     []Element
	Encrypted    bool
	// Protection is the identity-theft-protection offer, if already
	// arranged; UpdateIncident sets or changes it later.
	Protection Protection
}

func (s *Store) today() Date {
	y, m, d := s.Now().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

func (n *NewIncident) validate(today Date) error {
	if strings.TrimSpace(n.Title) == "" {
		return fmt.Errorf("%w: --title is required", ErrInvalid)
	}
	if n.Title != CleanText(n.Title) || len(n.Title) > 200 {
		return fmt.Errorf("%w: title: control characters or longer than 200 bytes", ErrInvalid)
	}
	if !utf8.ValidString(n.Description) || len(n.Description) > 64<<10 {
		return fmt.Errorf("%w: description: not UTF-8 text or longer than 64 KiB", ErrInvalid)
	}
	if n.Discovered.IsZero() {
		return fmt.Errorf("%w: --discovered is required", ErrInvalid)
	}
	if n.Discovered.After(today.Time) {
		return fmt.Errorf("%w: discovered date %s is in the future (today is %s)", ErrInvalid, n.Discovered, today)
	}
	if !n.DiscoveredAt.IsZero() {
		y, m, d := n.DiscoveredAt.Date()
		if (Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}) != n.Discovered {
			return fmt.Errorf("%w: discovery time %s is not on the discovery date %s", ErrInvalid, n.DiscoveredAt.Format(time.RFC3339), n.Discovered)
		}
	}
	if n.Cause == "" {
		n.Cause = CauseUnknown
	}
	if _, err := ParseCause(string(n.Cause)); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		d    Date
	}{{"occurred-from", n.OccurredFrom}, {"occurred-to", n.OccurredTo}} {
		if !d.d.IsZero() && d.d.After(today.Time) {
			return fmt.Errorf("%w: %s date %s is in the future", ErrInvalid, d.name, d.d)
		}
	}
	if !n.OccurredFrom.IsZero() && !n.OccurredTo.IsZero() && n.OccurredTo.Before(n.OccurredFrom.Time) {
		return fmt.Errorf("%w: occurred-to %s is before occurred-from %s", ErrInvalid, n.OccurredTo, n.OccurredFrom)
	}
	if !n.OccurredFrom.IsZero() && n.OccurredFrom.After(n.Discovered.Time) {
		return fmt.Errorf("%w: occurred-from %s is after the discovery date %s", ErrInvalid, n.OccurredFrom, n.Discovered)
	}
	if len(n.Elements) == 0 {
		return fmt.Errorf("%w: --elements is required", ErrInvalid)
	}
	for _, e := range n.Elements {
		if !e.Valid() {
			return fmt.Errorf("%w: unknown data element %q", ErrInvalid, e)
		}
	}
	return n.Protection.normalize()
}

// MaxProtectionMonths bounds an offer's months: ten years, far past any
// law's minimum (24 months, Connecticut), so a typo is caught.
const MaxProtectionMonths = 120

// normalize cleans the offer's text and checks it: a provider name and a
// phone number print on one line, the enrolment page is an absolute http or
// https URL.
func (p *Protection) normalize() error {
	p.Provider, p.URL, p.Phone = CleanText(p.Provider), CleanText(p.URL), CleanText(p.Phone)
	if len(p.Provider) > 200 {
		return fmt.Errorf("%w: protection provider: longer than 200 bytes", ErrInvalid)
	}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.URL) > 500 || strings.ContainsAny(p.URL, " <>\"") {
			return fmt.Errorf("%w: protection URL %q: want an absolute https:// (or http://) URL", ErrInvalid, p.URL)
		}
	}
	if p.Phone != "" && (len(p.Phone) > 40 || !strings.ContainsAny(p.Phone, "0123456789")) {
		return fmt.Errorf("%w: protection phone %q: want a phone number (at most 40 bytes)", ErrInvalid, p.Phone)
	}
	if p.Months < 0 || p.Months > MaxProtectionMonths {
		return fmt.Errorf("%w: protection months %d: want 1 to %d (0: the months the law owes)", ErrInvalid, p.Months, MaxProtectionMonths)
	}
	return nil
}

// CreateIncident opens an incident against one controller's copy.
func (s *Store) CreateIncident(ctx context.Context, n NewIncident) (*Incident, error) {
	if err := n.validate(s.today()); err != nil {
		return nil, err
	}
	if err := Authorize(ctx, ActOpen, n.ControllerID); err != nil {
		return nil, fmt.Errorf("open incident: %w", err)
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := findController(ctx, tx, n.ControllerID); err != nil {
			return err
		}
		now := s.now().Format(time.RFC3339Nano)
		err := tx.QueryRowContext(ctx, `INSERT INTO incidents(controller_id, title, description, discovered,
			occurred_from, occurred_to, elements, encrypted, status, created_at, updated_at,
			protection_provider, protection_url, protection_phone, discovered_at, cause, protection_months)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			n.ControllerID, n.Title, n.Description, n.Discovered.String(), n.OccurredFrom.String(), n.OccurredTo.String(),
			JoinElements(n.Elements), boolInt(n.Encrypted), string(StatusOpen), now, now,
			n.Protection.Provider, n.Protection.URL, n.Protection.Phone, formatInstant(n.DiscoveredAt), string(n.Cause), n.Protection.Months).Scan(&id)
		if err != nil {
			return fmt.Errorf("open incident: %w", err)
		}
		if err := s.audit(ctx, tx, "incident.open", fmt.Sprintf("incident:%d", id), map[string]any{"controller": n.ControllerID}); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: n.ControllerID, Kind: EventIncidentOpened, Incident: id,
			Detail: map[string]any{"title": n.Title, "discovered": n.Discovered.String(),
				"elements": JoinElements(n.Elements), "encrypted": n.Encrypted, "cause": string(n.Cause)}})
	})
	if err != nil {
		return nil, err
	}
	return s.FindIncidentByID(ctx, id)
}

const incidentCols = `i.id, i.controller_id, i.title, i.description, i.discovered, i.occurred_from, i.occurred_to,
	i.elements, i.encrypted, i.status, i.hold_reason, i.hold_since, i.scope, i.created_at, i.updated_at,
	(SELECT count(*) FROM affected a WHERE a.incident_id = i.id),
	i.protection_provider, i.protection_url, i.protection_phone, i.discovered_at, i.cause, i.protection_months`

func scanIncident(r scanner) (*Incident, error) {
	var inc Incident
	var disc, from, to, elems, status, holdReason, holdSince, created, updated, discAt, cause string
	var enc int
	var p Protection
	if err := r.Scan(&inc.ID, &inc.ControllerID, &inc.Title, &inc.Description, &disc, &from, &to, &elems, &enc,
		&status, &holdReason, &holdSince, &inc.Scope, &created, &updated, &inc.Affected,
		&p.Provider, &p.URL, &p.Phone, &discAt, &cause, &p.Months); err != nil {
		return nil, err
	}
	if !p.IsZero() {
		inc.Protection = &p
	}
	inc.Discovered, _ = ParseDate(disc)
	if discAt != "" {
		inc.DiscoveredAt, _ = time.Parse(time.RFC3339, discAt)
	}
	inc.Cause = Cause(cause)
	if from != "" {
		inc.OccurredFrom, _ = ParseDate(from)
	}
	if to != "" {
		inc.OccurredTo, _ = ParseDate(to)
	}
	for _, e := range strings.Split(elems, ",") {
		if e != "" {
			inc.Elements = append(inc.Elements, Element(e))
		}
	}
	inc.Encrypted = enc == 1
	inc.Status = Status(status)
	if holdReason != "" {
		since, _ := time.Parse(time.RFC3339Nano, holdSince)
		inc.Hold = &Hold{Reason: holdReason, Since: since}
	}
	inc.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	inc.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return &inc, nil
}

func findIncident(ctx context.Context, q querier, id int64) (*Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents i WHERE i.id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no incident %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find incident %d: %w", id, err)
	}
	if !ActorFrom(ctx).CanSee(inc.ControllerID) {
		return nil, fmt.Errorf("%w: no incident %d", ErrNotFound, id)
	}
	return inc, nil
}

// FindIncidentByID returns an incident the context's actor may see.
func (s *Store) FindIncidentByID(ctx context.Context, id int64) (*Incident, error) {
	return findIncident(ctx, s.db, id)
}

// IncidentFilter narrows FindIncidents.
type IncidentFilter struct {
	Controller string
	Status     Status
}

// FindIncidents returns the incidents the context's actor may see, newest
// first.
func (s *Store) FindIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, error) {
	if err := Authorize(ctx, ActRead, f.Controller); err != nil {
		return nil, fmt.Errorf("find incidents: %w", err)
	}
	var where []string
	var args []any
	if actor := ActorFrom(ctx); actor.Role == RoleMember {
		where, args = append(where, "i.controller_id = ?"), append(args, actor.Controller)
	}
	if f.Controller != "" {
		where, args = append(where, "i.controller_id = ?"), append(args, f.Controller)
	}
	if f.Status != "" {
		where, args = append(where, "i.status = ?"), append(args, string(f.Status))
	}
	q := `SELECT ` + incidentCols + ` FROM incidents i`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY i.id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("find incidents: %w", err)
	}
	defer rows.Close()
	var out []*Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("find incidents: %w", err)
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// SetStatus moves an incident to next inside the caller's transaction,
// refusing any move off the open → scoped → planned → notifying → closed
// path. Later stages (plan, send) call it with their own state change.
func (s *Store) SetStatus(ctx context.Context, tx *sql.Tx, id int64, next Status) (*Incident, error) {
	inc, err := findIncident(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !inc.Status.CanMove(next) {
		return nil, fmt.Errorf("%w: incident %d is %s and cannot move to %s (order: open → scoped → planned → notifying → closed)",
			ErrConflict, id, inc.Status, next)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET status=?, updated_at=? WHERE id=?`,
		string(next), s.now().Format(time.RFC3339Nano), id); err != nil {
		return nil, fmt.Errorf("incident %d: set status: %w", id, err)
	}
	inc.Status = next
	return inc, nil
}

// InTx runs fn in one store transaction; later stages use it to compose
// their own writes with SetStatus and the journal.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error { return s.inTx(ctx, fn) }

// Record passes an event to the journal inside the caller's transaction.
func (s *Store) Record(ctx context.Context, tx *sql.Tx, ev Event) error { return s.record(ctx, tx, ev) }

// Audit records an action inside the caller's transaction.
func (s *Store) Audit(ctx context.Context, tx *sql.Tx, action, object string, detail any) error {
	return s.audit(ctx, tx, action, object, detail)
}

func (s *Store) mutateIncident(ctx context.Context, id int64, fn func(tx *sql.Tx, inc *Incident) error) (*Incident, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inc, err := findIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := Authorize(ctx, ActChange, inc.ControllerID); err != nil {
			return fmt.Errorf("incident %d: %w", id, err)
		}
		return fn(tx, inc)
	})
	if err != nil {
		return nil, err
	}
	return s.FindIncidentByID(ctx, id)
}

// HoldIncident records a law-enforcement hold: sending waits, deadlines are
// still tracked.
func (s *Store) HoldIncident(ctx context.Context, id int64, reason string) (*Incident, error) {
	reason = CleanText(reason)
	if reason == "" {
		return nil, fmt.Errorf("%w: a hold needs --reason", ErrInvalid)
	}
	return s.mutateIncident(ctx, id, func(tx *sql.Tx, inc *Incident) error {
		if inc.Hold != nil {
			return fmt.Errorf("%w: incident %d is already on hold since %s", ErrConflict, id, inc.Hold.Since.Format(time.RFC3339))
		}
		if inc.Status == StatusClosed {
			return fmt.Errorf("%w: incident %d is closed", ErrConflict, id)
		}
		now := s.now().Format(time.RFC3339Nano)
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET hold_reason=?, hold_since=?, updated_at=? WHERE id=?`, reason, now, now, id); err != nil {
			return fmt.Errorf("hold incident %d: %w", id, err)
		}
		if err := s.audit(ctx, tx, "incident.hold", fmt.Sprintf("incident:%d", id), nil); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: inc.ControllerID, Kind: EventHoldSet, Incident: id, Detail: map[string]any{"reason": reason}})
	})
}

// ReleaseIncident lifts a law-enforcement hold.
func (s *Store) ReleaseIncident(ctx context.Context, id int64) (*Incident, error) {
	return s.mutateIncident(ctx, id, func(tx *sql.Tx, inc *Incident) error {
		if inc.Hold == nil {
			return fmt.Errorf("%w: incident %d is not on hold", ErrConflict, id)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET hold_reason='', hold_since='', updated_at=? WHERE id=?`, now.Format(time.RFC3339Nano), id); err != nil {
			return fmt.Errorf("release incident %d: %w", id, err)
		}
		if err := s.audit(ctx, tx, "incident.release", fmt.Sprintf("incident:%d", id), nil); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: inc.ControllerID, Kind: EventHoldReleased, Incident: id,
			Detail: map[string]any{"held_since": inc.Hold.Since.Format(time.RFC3339), "reason": inc.Hold.Reason}})
	})
}

// IncidentUpdate is a change to an incident; nil fields are left as they
// are, and an empty string clears one.
type IncidentUpdate struct {
	// Cause, when set, records how the breach came about (a plan made
	// before keeps the cause it was made with until re-planned).
	Cause              *Cause
	ProtectionProvider *string
	ProtectionURL      *string
	ProtectionPhone    *string
	// ProtectionMonths sets the offer's months (0: the law's).
	ProtectionMonths *int
}

// UpdateIncident changes an open (not closed) incident: today the
// identity-theft-protection offer its notices print. Notices already sent
// keep what they said; the audit row names the fields changed and their
// new values (a provider's details, never a person's).
func (s *Store) UpdateIncident(ctx context.Context, id int64, u IncidentUpdate) (*Incident, error) {
	return s.mutateIncident(ctx, id, func(tx *sql.Tx, inc *Incident) error {
		if inc.Status == StatusClosed {
			return fmt.Errorf("%w: incident %d is closed", ErrConflict, id)
		}
		var p Protection
		if inc.Protection != nil {
			p = *inc.Protection
		}
		old := p
		for _, f := range []struct{ v, dst *string }{{u.ProtectionProvider, &p.Provider}, {u.ProtectionURL, &p.URL},
			{u.ProtectionPhone, &p.Phone}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if u.ProtectionMonths != nil {
			p.Months = *u.ProtectionMonths
		}
		if err := p.normalize(); err != nil {
			return err
		}
		changed := map[string]any{}
		if p.Months != old.Months {
			changed["protection_months"] = p.Months
		}
		for _, f := range []struct {
			name     string
			old, new string
		}{{"protection_provider", old.Provider, p.Provider}, {"protection_url", old.URL, p.URL}, {"protection_phone", old.Phone, p.Phone}} {
			if f.old != f.new {
				changed[f.name] = f.new
			}
		}
		cause := inc.Cause
		if u.Cause != nil {
			c, err := ParseCause(string(*u.Cause))
			if err != nil {
				return err
			}
			if c != cause {
				changed["cause"] = string(c)
				cause = c
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET protection_provider=?, protection_url=?, protection_phone=?, protection_months=?, cause=?, updated_at=? WHERE id=?`,
			p.Provider, p.URL, p.Phone, p.Months, string(cause), s.now().Format(time.RFC3339Nano), id); err != nil {
			return fmt.Errorf("update incident %d: %w", id, err)
		}
		return s.audit(ctx, tx, "incident.update", fmt.Sprintf("incident:%d", id), changed)
	})
}

// CloseOptions say why an incident may close with work outstanding.
type CloseOptions struct {
	// Outstanding is the work still open as the caller found it
	// (notify.OutstandingWork): one line each, counts and jurisdictions,
	// no personal data. Closing with any refuses unless Force is set.
	Outstanding []string
	// Force closes despite Outstanding; Reason, then required, says why
	// ("regulator filings made outside breachnotice on 2026-12-01"). Both
	// go into the audit row and the incident_closed ledger entry, so the
	// reason must not name people.
	Force  bool
	Reason string
}

// OutstandingError is the refusal to close an incident with work
// outstanding; it matches ErrConflict.
type OutstandingError struct {
	Incident int64
	Work     []string
}

func (e *OutstandingError) Error() string {
	return fmt.Sprintf("incident %d has work outstanding (%s): close it anyway with --force --reason TEXT",
		e.Incident, strings.Join(e.Work, "; "))
}

func (e *OutstandingError) Unwrap() error { return ErrConflict }

// CloseIncident closes an incident from any status but closed. An incident
// that was never planned owed nothing yet (a false alarm, or one found
// out of scope) and closes as it is; one with work outstanding closes only
// when forced, with a reason.
func (s *Store) CloseIncident(ctx context.Context, id int64, opt CloseOptions) (*Incident, error) {
	opt.Reason = CleanText(opt.Reason)
	if opt.Force && opt.Reason == "" {
		return nil, fmt.Errorf("%w: closing by force needs a reason", ErrInvalid)
	}
	if len(opt.Reason) > 1000 {
		return nil, fmt.Errorf("%w: close reason: longer than 1000 bytes", ErrInvalid)
	}
	if len(opt.Outstanding) > 0 && !opt.Force {
		return nil, &OutstandingError{Incident: id, Work: opt.Outstanding}
	}
	return s.mutateIncident(ctx, id, func(tx *sql.Tx, inc *Incident) error {
		if _, err := s.SetStatus(ctx, tx, id, StatusClosed); err != nil {
			return err
		}
		var detail map[string]any
		var auditDetail any // nil, not a nil map: no detail at all
		if opt.Force || opt.Reason != "" {
			detail = map[string]any{"forced": opt.Force, "reason": opt.Reason}
			if len(opt.Outstanding) > 0 {
				detail["outstanding"] = opt.Outstanding
			}
			auditDetail = detail
		}
		if err := s.audit(ctx, tx, "incident.close", fmt.Sprintf("incident:%d", id), auditDetail); err != nil {
			return err
		}
		return s.record(ctx, tx, Event{Controller: inc.ControllerID, Kind: EventIncidentClosed, Incident: id, Detail: detail})
	})
}

// formatInstant writes a discovery time as RFC 3339 with its own zone
// offset, "" for none.
func formatInstant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
