package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// FindCourses lists a Member's own courses, and a member actor of another
// controller learns nothing of them.
func TestStore_FindCourses(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	ctx := context.Background()
	cases := []struct {
		name       string
		actor      incident.Actor
		controller string
		want       []string
		err        error
	}{
		{"security sees m1's", incident.Actor{Name: "s", Role: incident.RoleSecurity}, "m1", []string{"c1", "c1b"}, nil},
		{"m1 sees its own", incident.Actor{Name: "m", Role: incident.RoleMember, Controller: "m1"}, "m1", []string{"c1", "c1b"}, nil},
		{"m2 asks for m1's", incident.Actor{Name: "m", Role: incident.RoleMember, Controller: "m2"}, "m1", nil, incident.ErrNotFound},
		{"the operator has none", incident.Actor{Name: "s", Role: incident.RoleSecurity}, "op", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.FindCourses(incident.WithActor(ctx, c.actor), c.controller, 500)
			if c.err != nil {
				if !errors.Is(err, c.err) || got != nil {
					t.Fatalf("FindCourses = %v, %v; want %v", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, co := range got {
				if co.MemberID != c.controller {
					t.Errorf("course %s belongs to %s", co.ID, co.MemberID)
				}
				ids = append(ids, co.ID)
			}
			if len(ids) != len(c.want) || len(ids) > 0 && (ids[0] != c.want[0] || ids[len(ids)-1] != c.want[len(c.want)-1]) {
				t.Errorf("courses %v, want %v", ids, c.want)
			}
		})
	}
}
