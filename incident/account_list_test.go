package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

func TestStore_FindAccounts(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	member := incident.WithActor(ctx, incident.Actor{Name: "staff", Role: "member", Controller: "m2"})
	tests := []struct {
		name    string
		ctx     context.Context
		f       incident.AccountFilter
		want    string
		wantErr error
	}{
		{"All", ctx, incident.AccountFilter{}, "a1 a2 a3 a4 a5", nil},
		{"Operator", ctx, incident.AccountFilter{Controller: "op"}, "a1 a2 a3 a4 a5", nil},
		{"MemberEnrolledOnly", ctx, incident.AccountFilter{Controller: "m1"}, "a1 a2 a5", nil},
		{"MemberAndCountry", ctx, incident.AccountFilter{Controller: "m1", Country: "us"}, "a1 a2 a5", nil},
		{"Country", ctx, incident.AccountFilter{Country: "DE"}, "a3", nil},
		{"Limit", ctx, incident.AccountFilter{Limit: 2}, "a1 a2", nil},
		{"After", ctx, incident.AccountFilter{After: "a2", Limit: 2}, "a3 a4", nil},
		{"AfterLast", ctx, incident.AccountFilter{After: "a5"}, "", nil},
		{"Region", ctx, incident.AccountFilter{Region: "ny"}, "a5", nil},
		{"RegionWithCountry", ctx, incident.AccountFilter{Region: "US-NY"}, "a5", nil},
		{"RegionOtherCountry", ctx, incident.AccountFilter{Region: "DE-NY"}, "", nil},
		{"ErrRegionNotInCountry", ctx, incident.AccountFilter{Country: "DE", Region: "US-NY"}, "", incident.ErrInvalid},
		{"MemberActorSeesOwnCopy", member, incident.AccountFilter{}, "a3", nil},
		{"ErrMemberActorOtherCopy", member, incident.AccountFilter{Controller: "m1"}, "", incident.ErrNotFound},
		{"ErrUnknownController", ctx, incident.AccountFilter{Controller: "nope"}, "", incident.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			err := st.FindAccounts(tc.ctx, tc.f, func(a *incident.Account) error {
				ids = append(ids, a.ID)
				return nil
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids, " "); got != tc.want {
				t.Errorf("accounts %q, want %q", got, tc.want)
			}
		})
	}
	// CountAccounts counts what FindAccounts lists, limit and paging aside.
	for _, tc := range []struct {
		f    incident.AccountFilter
		want int64
	}{
		{incident.AccountFilter{}, 5},
		{incident.AccountFilter{Controller: "m1", Limit: 1, After: "a1"}, 3},
		{incident.AccountFilter{Country: "US"}, 3},
	} {
		if n, err := st.CountAccounts(ctx, tc.f); err != nil || n != tc.want {
			t.Errorf("CountAccounts(%+v) = %d, %v; want %d", tc.f, n, err, tc.want)
		}
	}
	if _, err := st.CountAccounts(member, incident.AccountFilter{Controller: "m1"}); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("member counting another copy: %v", err)
	}
	// The callback's error stops the stream and comes back.
	stop := errors.New("stop")
	n := 0
	if err := st.FindAccounts(ctx, incident.AccountFilter{}, func(*incident.Account) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("stopped stream: err %v after %d accounts", err, n)
	}
	var a5 incident.Account
	st.FindAccounts(ctx, incident.AccountFilter{Country: "US", Limit: 10}, func(a *incident.Account) error {
		if a.ID == "a5" {
			a5 = *a
		}
		return nil
	})
	if a5.Name != "A Five" || a5.EmailUsable || a5.Region != "NY" || a5.Status != incident.AccountActive {
		t.Errorf("a5 = %+v", a5)
	}
}
