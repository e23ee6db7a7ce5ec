package incident_test

import (
	"errors"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// TestActor_Can is the permission matrix: every role against every action,
// on its own controller's data ("m1" for the member), another's ("op") and
// none ("").
func TestActor_Can(t *testing.T) {
	security := incident.Actor{Name: "s", Role: incident.RoleSecurity}
	legal := incident.Actor{Name: "l", Role: incident.RoleLegal}
	member := incident.Actor{Name: "m", Role: incident.RoleMember, Controller: "m1"}
	cli := incident.Actor{Name: "cli", Role: incident.RoleCLI}
	unscoped := incident.Actor{Name: "u", Role: incident.RoleMember}
	nobody := incident.Actor{Name: "x"}
	// allowed lists, per role, the actions it may do on data it can see.
	allowed := map[string][]incident.Action{
		"security": incident.Actions,
		"cli":      incident.Actions,
		"legal":    {incident.ActRead, incident.ActLedgerRead, incident.ActLedgerSign, incident.ActAudit},
		"member":   {incident.ActRead, incident.ActLedgerRead},
	}
	actors := map[string]incident.Actor{"security": security, "legal": legal, "member": member, "cli": cli}
	has := func(as []incident.Action, a incident.Action) bool {
		for _, x := range as {
			if x == a {
				return true
			}
		}
		return false
	}
	for name, actor := range actors {
		for _, act := range incident.Actions {
			for _, controller := range []string{"", "m1", "op"} {
				err := actor.Can(act, controller)
				var want error
				switch {
				case name == "member" && controller == "op":
					want = incident.ErrNotFound
				case !has(allowed[name], act):
					want = incident.ErrForbidden
				}
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Errorf("%s.Can(%s, %q) = %v, want %v", name, act, controller, err, want)
				}
			}
		}
	}
	// A member whose controller is unknown, and an actor without a role,
	// may do nothing at all: the zero actor is refused, not trusted.
	for _, act := range incident.Actions {
		if err := unscoped.Can(act, ""); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("unscoped member Can(%s) = %v, want forbidden", act, err)
		}
		if err := nobody.Can(act, "m1"); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("role-less actor Can(%s) = %v, want forbidden", act, err)
		}
	}
	if member.CanSee("op") || !member.CanSee("m1") || !legal.CanSee("op") || nobody.CanSee("op") {
		t.Error("CanSee disagrees with Can(ActRead)")
	}
}

// TestRole_Valid: only the three user roles can be given to a user.
func TestRole_Valid(t *testing.T) {
	for _, tt := range []struct {
		r    incident.Role
		want bool
	}{{"security", true}, {"legal", true}, {"member", true}, {"cli", false}, {"", false}, {"admin", false}} {
		if got := tt.r.Valid(); got != tt.want {
			t.Errorf("Role(%q).Valid() = %v", tt.r, got)
		}
	}
}
