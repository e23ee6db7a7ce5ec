package incident

import (
	"context"
	"fmt"
)

// Role is what a user may do: the one vocabulary of authorization.
type Role string

// Roles. A member is scoped to one controller; the command line acts as
// the OS user who runs it, with every right.
const (
	// RoleSecurity runs incidents: opens, scopes, plans, sends, holds,
	// publishes banners, manages users.
	RoleSecurity Role = "security"
	// RoleLegal reads everything, signs and exports proof, reads the
	// audit log; it changes nothing else.
	RoleLegal Role = "legal"
	// RoleMember is a Member institution's staff: it reads its own
	// controller's incidents and ledger, nothing else.
	RoleMember Role = "member"
	// RoleCLI is the command line: every right.
	RoleCLI Role = "cli"
)

// UserRoles are the roles a user account can hold (the CLI's is not one).
var UserRoles = []Role{RoleSecurity, RoleLegal, RoleMember}

// Valid reports whether r is a role a user may hold.
func (r Role) Valid() bool {
	for _, x := range UserRoles {
		if x == r {
			return true
		}
	}
	return false
}

// Action is something an actor may be allowed to do.
type Action string

// Actions, each checked by the store (or the domain operation) that does
// it, through Actor.Can.
const (
	// ActRead: see controllers, incidents, plans, obligations, progress,
	// banners, letters and learners of a copy.
	ActRead Action = "read"
	// ActOpen: open an incident.
	ActOpen Action = "incident.open"
	// ActChange: scope, hold, release, update or close an incident.
	ActChange Action = "incident.change"
	// ActPlan: decide and store an incident's plan.
	ActPlan Action = "incident.plan"
	// ActSend: deliver an incident's notices.
	ActSend Action = "incident.send"
	// ActBanner: publish, update or withdraw a banner.
	ActBanner Action = "banner"
	// ActLetters: export mail-house batches, apply its confirmations.
	ActLetters Action = "letters"
	// ActImport: import accounts, courses, enrollments.
	ActImport Action = "import"
	// ActControllers: add or change controllers.
	ActControllers Action = "controllers"
	// ActLedgerRead: list, export and prove a controller's ledger.
	ActLedgerRead Action = "ledger.read"
	// ActLedgerSign: sign a checkpoint of a controller's ledger.
	ActLedgerSign Action = "ledger.sign"
	// ActAudit: read the audit log.
	ActAudit Action = "audit"
	// ActUsers: add, list, disable users and issue their tokens.
	ActUsers Action = "users"
)

// Actions lists every action, for tests and documentation.
var Actions = []Action{ActRead, ActOpen, ActChange, ActPlan, ActSend, ActBanner, ActLetters,
	ActImport, ActControllers, ActLedgerRead, ActLedgerSign, ActAudit, ActUsers}

// permissions is the matrix: which role may do which action (on the
// controllers it may see). The command line may do everything.
var permissions = map[Role]map[Action]bool{
	RoleSecurity: {ActRead: true, ActOpen: true, ActChange: true, ActPlan: true, ActSend: true, ActBanner: true,
		ActLetters: true, ActImport: true, ActControllers: true, ActLedgerRead: true, ActLedgerSign: true,
		ActAudit: true, ActUsers: true},
	RoleLegal:  {ActRead: true, ActLedgerRead: true, ActLedgerSign: true, ActAudit: true},
	RoleMember: {ActRead: true, ActLedgerRead: true},
}

// Can says whether the actor may do act on controller's data (controller
// "" for an action on no one controller's data, such as reading the audit
// log). It returns nil, or an error wrapping ErrNotFound when controller is
// another controller's than a member actor's own (so that a member cannot
// learn that it exists), or ErrForbidden when the role may not do act.
func (a Actor) Can(act Action, controller string) error {
	if a.Role == RoleCLI {
		return nil
	}
	if a.Role == RoleMember && controller != "" && controller != a.Controller {
		return fmt.Errorf("%w: no controller %q", ErrNotFound, controller)
	}
	if a.Role == RoleMember && a.Controller == "" {
		return fmt.Errorf("%w: member %s has no controller", ErrForbidden, a.Name)
	}
	if !permissions[a.Role][act] {
		return fmt.Errorf("%w: role %s may not %s", ErrForbidden, roleName(a.Role), act)
	}
	return nil
}

func roleName(r Role) string {
	if r == "" {
		return "(none)"
	}
	return string(r)
}

// CanSee reports whether the actor may see controller id's data: a member
// sees only its own controller.
func (a Actor) CanSee(controllerID string) bool {
	return a.Can(ActRead, controllerID) == nil
}

// Authorize checks that the context's actor may do act on controller's
// data (see Actor.Can).
func Authorize(ctx context.Context, act Action, controller string) error {
	return ActorFrom(ctx).Can(act, controller)
}

// FindIncidentFor returns the incident if the context's actor may do act
// on it: ErrNotFound when it does not exist or is another controller's
// than a member's own, ErrForbidden when the role may not do act.
func (s *Store) FindIncidentFor(ctx context.Context, id int64, act Action) (*Incident, error) {
	inc, err := s.FindIncidentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := Authorize(ctx, act, inc.ControllerID); err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return inc, nil
}
