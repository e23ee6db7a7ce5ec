package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Journal records domain events in the caller's transaction, so an event
// and the state change it describes commit together. The command wires it
// to the per-controller delivery ledger; it is declared here, by its
// consumer, so that this package imports nothing of the project.
type Journal interface {
	Record(ctx context.Context, tx *sql.Tx, ev Event) error
}

// EventKind names what happened: the one vocabulary of the journal (the
// delivery ledger's entry kinds), for the store's own events and for the
// deliveries notify records. It is defined here because incident is the
// package every other one may import.
type EventKind string

// Event kinds.
const (
	EventControllerCreated EventKind = "controller_created"
	EventIncidentOpened    EventKind = "incident_opened"
	EventScopeSet          EventKind = "scope_set"
	EventPlanMade          EventKind = "plan_made"
	EventHoldSet           EventKind = "hold_set"
	EventHoldReleased      EventKind = "hold_released"
	EventIncidentClosed    EventKind = "incident_closed"
	EventCheckpoint        EventKind = "checkpoint"
	EventEmailSent         EventKind = "email_sent"
	EventEmailDeferred     EventKind = "email_deferred"
	EventEmailFailed       EventKind = "email_failed"
	// EventEmailRetried puts an email that failed for good back in the
	// queue (incident send --retry-failed).
	EventEmailRetried      EventKind = "email_retried"
	EventLetterQueued      EventKind = "letter_queued"
	EventLetterUnprintable EventKind = "letter_unprintable"
	EventLetterExported    EventKind = "letter_exported"
	EventLetterMailed      EventKind = "letter_mailed"
	EventLetterReturned    EventKind = "letter_returned"
	EventBannerPublished   EventKind = "banner_published"
	// EventBannerUpdated records a change to a published banner's content
	// or end date (notify/banner).
	EventBannerUpdated   EventKind = "banner_updated"
	EventBannerWithdrawn EventKind = "banner_withdrawn"
	// EventNoticeUnreachable records a person owed notice whom no direct
	// channel can reach (retired, no usable contact data): they count
	// towards substitute notice.
	EventNoticeUnreachable EventKind = "notice_unreachable"
	// EventDeadlineAlert records an alert the scheduler's deadline watch
	// raised: a deadline within the warning window, a day away, or missed
	// with work outstanding (notify/watch.go).
	EventDeadlineAlert EventKind = "deadline_alert"
	// EventRegulatorNotified records a notice to a regulator or the credit
	// bureaus marked sent (regulators sent).
	EventRegulatorNotified EventKind = "regulator_notified"
	// EventRegulatorFirstWaived records a send started before the
	// regulator notice a law wants first (incident send
	// --regulator-first=false).
	EventRegulatorFirstWaived EventKind = "regulator_first_waived"
	// EventEmailBounced records a permanent bounce (5.x.x) of an email
	// notice the relay had accepted (bounces import): the notice failed
	// after all.
	EventEmailBounced EventKind = "email_bounced"
	// EventOfferAssigned records an identity-theft-protection enrolment
	// code given to a person (offers import), with the code's SHA-256.
	EventOfferAssigned EventKind = "offer_assigned"
)

// EventKinds lists every event kind, in the order above.
func EventKinds() []EventKind {
	return []EventKind{
		EventControllerCreated, EventIncidentOpened, EventScopeSet, EventPlanMade,
		EventHoldSet, EventHoldReleased, EventIncidentClosed, EventCheckpoint,
		EventEmailSent, EventEmailDeferred, EventEmailFailed, EventEmailRetried, EventLetterQueued,
		EventLetterUnprintable, EventLetterExported, EventLetterMailed, EventLetterReturned,
		EventBannerPublished, EventBannerUpdated, EventBannerWithdrawn, EventNoticeUnreachable,
		EventDeadlineAlert, EventRegulatorNotified, EventRegulatorFirstWaived, EventEmailBounced,
		EventOfferAssigned,
	}
}

// Valid reports whether k is a known kind.
func (k EventKind) Valid() bool {
	for _, x := range EventKinds() {
		if x == k {
			return true
		}
	}
	return false
}

// Event is something that happened to a controller's copy or incident.
type Event struct {
	Controller string
	Kind       EventKind
	Incident   int64
	At         time.Time
	Detail     map[string]any
}

// Actor is who performs an action: a logged-in user, or the command line.
type Actor struct {
	Name string `json:"name"`
	// Role is security, legal, member or cli.
	Role Role `json:"role"`
	// Controller scopes a member actor to its own controller.
	Controller string `json:"controller,omitempty"`
}

type actorKey struct{}

// WithActor returns a context carrying the actor, read by the store for
// authorization and the audit log.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor, or the command-line actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "cli", Role: RoleCLI}
}

// Store keeps the domain in SQLite. Exported methods each run in one
// transaction; helpers take a *sql.Tx and compose.
type Store struct {
	db *sql.DB
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Journal, when set, records events in the same transaction.
	Journal Journal
	// pg: the database is PostgreSQL (IsPostgres), where the few
	// statements the dialects spell differently take their PostgreSQL
	// form.
	pg bool
}

// NewStore returns a store over an opened, migrated database.
func NewStore(db *sql.DB) *Store {
	return &Store{db: db, Now: time.Now, pg: IsPostgres(db)}
}

// DB returns the underlying database, for packages that compose with the
// store's tables in their own transactions.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) now() time.Time { return s.Now().UTC() }

// inTx runs fn in one transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Tx is one store transaction and its time: every timestamp the
// transaction writes (its rows, its ledger entries, its audit row) is Now,
// so that they agree. benbjohnson/wtf's sqlite.Tx carries its now the same
// way.
type Tx struct {
	*sql.Tx
	Now time.Time
}

// InTxAt runs fn in one transaction, like InTx, at the time now (in UTC).
// An operation reads its clock once and gives that time to each of its
// transactions, including work it does before a transaction begins (a
// letter batch is rendered with its date, then recorded).
func (s *Store) InTxAt(ctx context.Context, now time.Time, fn func(tx *Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return fn(&Tx{Tx: tx, Now: now.UTC()}) })
}

// Audit records an action by the context's actor at the transaction's
// time. Detail must not hold personal data.
func (tx *Tx) Audit(ctx context.Context, action, object string, detail any) error {
	return auditAt(ctx, tx.Tx, tx.Now, action, object, detail)
}

// audit records a state-changing action by the context's actor. Detail must
// not hold personal data.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, action, object string, detail any) error {
	return auditAt(ctx, tx, s.now(), action, object, detail)
}

func auditAt(ctx context.Context, tx *sql.Tx, at time.Time, action, object string, detail any) error {
	a := ActorFrom(ctx)
	d := ""
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		d = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit(at, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)`,
		at.Format(time.RFC3339Nano), string(a.Role)+":"+a.Name, action, object, d)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// record passes an event to the journal, if any.
func (s *Store) record(ctx context.Context, tx *sql.Tx, ev Event) error {
	if s.Journal == nil {
		return nil
	}
	ev.At = s.now()
	if err := s.Journal.Record(ctx, tx, ev); err != nil {
		return fmt.Errorf("journal %s: %w", ev.Kind, err)
	}
	return nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Object string    `json:"object"`
	Detail string    `json:"detail,omitempty"`
}

// FindAudit returns the latest audit entries, newest first.
func (s *Store) FindAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if err := Authorize(ctx, ActAudit, ""); err != nil {
		return nil, fmt.Errorf("find audit: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, action, object, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("find audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Object, &e.Detail); err != nil {
			return nil, fmt.Errorf("find audit: %w", err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
