package incident_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

func ptr(s string) *string { return &s }

func TestStore_UpdateIncident(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	inc := openIncident(t, st, "op")
	if inc.Protection != nil {
		t.Fatalf("new incident has protection %+v", inc.Protection)
	}
	tests := []struct {
		name    string
		u       incident.IncidentUpdate
		want    *incident.Protection
		wantErr error
	}{
		{"SetAll", incident.IncidentUpdate{ProtectionProvider: ptr(" IdentityGuard\tExample "), ProtectionURL: ptr("https://enroll.example.com/ol"),
			ProtectionPhone: ptr("1-800-555-0199")},
			&incident.Protection{Provider: "IdentityGuard Example", URL: "https://enroll.example.com/ol", Phone: "1-800-555-0199"}, nil},
		{"PhoneOnlyKeepsTheRest", incident.IncidentUpdate{ProtectionPhone: ptr("+1 800 555 0100")},
			&incident.Protection{Provider: "IdentityGuard Example", URL: "https://enroll.example.com/ol", Phone: "+1 800 555 0100"}, nil},
		{"ErrURLNotHTTP", incident.IncidentUpdate{ProtectionURL: ptr("javascript:alert(1)")}, nil, incident.ErrInvalid},
		{"ErrURLRelative", incident.IncidentUpdate{ProtectionURL: ptr("enroll.example.com")}, nil, incident.ErrInvalid},
		{"ErrPhoneNoDigits", incident.IncidentUpdate{ProtectionPhone: ptr("call us")}, nil, incident.ErrInvalid},
		{"ClearAll", incident.IncidentUpdate{ProtectionProvider: ptr(""), ProtectionURL: ptr(""), ProtectionPhone: ptr("")}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.UpdateIncident(ctx, inc.ID, tc.u)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Protection == nil) != (tc.want == nil) || got.Protection != nil && *got.Protection != *tc.want {
				t.Errorf("protection = %+v, want %+v", got.Protection, tc.want)
			}
			again, _ := st.FindIncidentByID(ctx, inc.ID)
			if (again.Protection == nil) != (tc.want == nil) || again.Protection != nil && *again.Protection != *tc.want {
				t.Errorf("stored protection = %+v, want %+v", again.Protection, tc.want)
			}
		})
	}
	audit, _ := st.FindAudit(ctx, 10)
	if audit[0].Action != "incident.update" || !strings.Contains(audit[0].Detail, `"protection_provider":""`) ||
		audit[2].Action != "incident.update" || audit[2].Detail != `{"protection_phone":"1-800-555-0199","protection_provider":"IdentityGuard Example","protection_url":"https://enroll.example.com/ol"}` {
		t.Errorf("audit = %+v", audit[:3])
	}
	if _, err := st.UpdateIncident(incident.WithActor(ctx, incident.Actor{Name: "l", Role: "legal"}), inc.ID,
		incident.IncidentUpdate{ProtectionPhone: ptr("1")}); !errors.Is(err, incident.ErrForbidden) {
		t.Errorf("legal updated an incident: %v", err)
	}
	if _, err := st.CloseIncident(ctx, inc.ID, incident.CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateIncident(ctx, inc.ID, incident.IncidentUpdate{ProtectionPhone: ptr("1")}); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("updated a closed incident: %v", err)
	}
}

// events records journal events: the seam the command wires to the ledger.
type events []incident.Event

func (e *events) Record(_ context.Context, _ *sql.Tx, ev incident.Event) error {
	*e = append(*e, ev)
	return nil
}

func TestStore_CloseIncident(t *testing.T) {
	ctx := context.Background()
	work := []string{"3 people owed notice not yet notified", "deadline overdue: US-CA individuals due 2026-11-20"}
	tests := []struct {
		name       string
		opt        incident.CloseOptions
		wantErr    error
		wantDetail string // audit detail
	}{
		{"NothingOutstanding", incident.CloseOptions{}, nil, ""},
		{"ErrOutstanding", incident.CloseOptions{Outstanding: work}, incident.ErrConflict, ""},
		{"ErrForceWithoutReason", incident.CloseOptions{Outstanding: work, Force: true, Reason: " \n"}, incident.ErrInvalid, ""},
		{"Forced", incident.CloseOptions{Outstanding: work, Force: true, Reason: "filed with the AG\non 2026-11-25"},
			nil, `{"forced":true,"outstanding":["3 people owed notice not yet notified","deadline overdue: US-CA individuals due 2026-11-20"],"reason":"filed with the AG on 2026-11-25"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.Open(t)
			var ev events
			st.Journal = &ev
			seed(t, st)
			inc := openIncident(t, st, "op")
			got, err := st.CloseIncident(ctx, inc.ID, tc.opt)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if again, _ := st.FindIncidentByID(ctx, inc.ID); again.Status != incident.StatusOpen {
					t.Errorf("refused close left status %s", again.Status)
				}
				return
			}
			if err != nil || got.Status != incident.StatusClosed {
				t.Fatalf("close: %+v %v", got, err)
			}
			audit, _ := st.FindAudit(ctx, 1)
			if audit[0].Action != "incident.close" || audit[0].Detail != tc.wantDetail {
				t.Errorf("audit %s %s, want detail %s", audit[0].Action, audit[0].Detail, tc.wantDetail)
			}
			last := ev[len(ev)-1]
			b, _ := json.Marshal(last.Detail)
			if last.Kind != incident.EventIncidentClosed || tc.wantDetail != "" && string(b) != tc.wantDetail {
				t.Errorf("journal %s %s, want detail %s", last.Kind, b, tc.wantDetail)
			}
			if _, err := st.CloseIncident(ctx, inc.ID, incident.CloseOptions{}); !errors.Is(err, incident.ErrConflict) {
				t.Errorf("closed twice: %v", err)
			}
		})
	}
}
