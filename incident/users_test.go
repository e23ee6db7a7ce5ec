package incident_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

func TestStore_CreateUser(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	tests := []struct {
		name    string
		n       incident.NewUser
		wantErr error
		want    string
	}{
		{"Security", incident.NewUser{Name: "sam", Role: incident.RoleSecurity, Password: "correct horse battery"}, nil, ""},
		{"MemberWithController", incident.NewUser{Name: "mia", Role: incident.RoleMember, Controller: "m1"}, nil, ""},
		{"ErrMemberWithoutController", incident.NewUser{Name: "max", Role: incident.RoleMember}, incident.ErrInvalid, "must name its controller"},
		{"ErrLegalWithController", incident.NewUser{Name: "lou", Role: incident.RoleLegal, Controller: "m1"}, incident.ErrInvalid, "only a member"},
		{"ErrUnknownRole", incident.NewUser{Name: "ann", Role: "admin"}, incident.ErrInvalid, "want security, legal or member"},
		{"ErrCLIRole", incident.NewUser{Name: "ann", Role: incident.RoleCLI}, incident.ErrInvalid, "want security"},
		{"ErrUnknownController", incident.NewUser{Name: "ann", Role: incident.RoleMember, Controller: "nope"}, incident.ErrNotFound, "no controller"},
		{"ErrShortPassword", incident.NewUser{Name: "ann", Role: incident.RoleLegal, Password: "short"}, incident.ErrInvalid, "at least 12"},
		{"ErrDuplicate", incident.NewUser{Name: "sam", Role: incident.RoleLegal}, incident.ErrConflict, "exists"},
		{"ErrNumericName", incident.NewUser{Name: "42", Role: incident.RoleLegal}, incident.ErrInvalid, "number"},
		{"ErrControlCharacters", incident.NewUser{Name: "a\x1b[31m", Role: incident.RoleLegal}, incident.ErrInvalid, "one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, token, err := st.CreateUser(ctx, tt.n)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(token) != 3+43 || !strings.HasPrefix(token, "bn_") {
				t.Errorf("token %q: want bn_ and 256 bits in base64url", token)
			}
			got, err := st.UserByToken(ctx, token)
			if err != nil || got.ID != u.ID || got.Role != tt.n.Role || got.Controller != tt.n.Controller {
				t.Errorf("UserByToken = %+v, %v", got, err)
			}
		})
	}

	// Only security (and the command line) manage users; the refusal is
	// ErrForbidden whatever the role.
	for _, a := range []incident.Actor{{Name: "l", Role: incident.RoleLegal}, {Name: "m", Role: incident.RoleMember, Controller: "m1"}} {
		actx := incident.WithActor(ctx, a)
		if _, _, err := st.CreateUser(actx, incident.NewUser{Name: "x", Role: incident.RoleLegal}); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("%s adds a user: %v", a.Role, err)
		}
		if _, err := st.FindUsers(actx); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("%s lists users: %v", a.Role, err)
		}
	}
}

func TestStore_UserSecrets(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	seed(t, st)
	const pw = "correct horse battery"
	u, token, err := st.CreateUser(ctx, incident.NewUser{Name: "sam", Role: incident.RoleSecurity, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Login", func(t *testing.T) {
		if got, err := st.CheckLogin(ctx, "sam", pw); err != nil || got.ID != u.ID {
			t.Fatalf("CheckLogin = %+v, %v", got, err)
		}
		for _, bad := range [][2]string{{"sam", pw + "x"}, {"nobody", pw}, {"sam", ""}, {"sam", strings.Repeat("a", 2000)}} {
			if _, err := st.CheckLogin(ctx, bad[0], bad[1]); !errors.Is(err, incident.ErrNotFound) {
				t.Errorf("CheckLogin(%q, …) = %v, want not found", bad[0], err)
			}
		}
	})
	t.Run("NewTokenRevokesOld", func(t *testing.T) {
		_, token2, err := st.NewToken(ctx, "sam")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UserByToken(ctx, token); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("old token still works: %v", err)
		}
		if got, err := st.UserByToken(ctx, token2); err != nil || got.ID != u.ID {
			t.Errorf("new token: %+v, %v", got, err)
		}
		token = token2
	})
	t.Run("SessionExpiry", func(t *testing.T) {
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		lim := incident.SessionLimits{Idle: 30 * time.Minute, Absolute: 8 * time.Hour}
		sid, err := st.CreateSession(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 19; i++ { // active every 25 minutes: idle never trips
			now = now.Add(25 * time.Minute)
			if _, err := st.SessionUser(ctx, sid, lim); err != nil {
				t.Fatalf("after %d min: %v", 25*(i+1), err)
			}
		}
		now = now.Add(10 * time.Minute) // 8h05m after login: absolute limit
		if _, err := st.SessionUser(ctx, sid, lim); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("past the absolute limit: %v", err)
		}
		sid, _ = st.CreateSession(ctx, u)
		now = now.Add(31 * time.Minute)
		if _, err := st.SessionUser(ctx, sid, lim); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("past the idle limit: %v", err)
		}
		sid, _ = st.CreateSession(ctx, u)
		if err := st.DeleteSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionUser(ctx, sid, lim); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("after logout: %v", err)
		}
		st.Now = time.Now
	})
	t.Run("DisableEndsEverything", func(t *testing.T) {
		lim := incident.SessionLimits{Idle: time.Hour, Absolute: time.Hour}
		sid, _ := st.CreateSession(ctx, u)
		if _, err := st.DisableUser(ctx, "sam"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UserByToken(ctx, token); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("token of a disabled user: %v", err)
		}
		if _, err := st.CheckLogin(ctx, "sam", pw); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("login of a disabled user: %v", err)
		}
		if _, err := st.SessionUser(ctx, sid, lim); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("session of a disabled user: %v", err)
		}
		if _, _, err := st.NewToken(ctx, "sam"); !errors.Is(err, incident.ErrConflict) {
			t.Errorf("token for a disabled user: %v", err)
		}
	})
	t.Run("NoSecretStored", func(t *testing.T) {
		// Neither the password nor a token appears anywhere in the
		// database: the users and audit tables hold hashes and names.
		db := st.DB()
		hex := "hex(token_hash)"
		if st.Postgres() {
			hex = "encode(token_hash, 'hex')"
		}
		for _, q := range []string{`SELECT name || role || password_hash || coalesce(` + hex + `, '') FROM users`,
			`SELECT actor || action || object || detail FROM audit`} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s sql.NullString
				rows.Scan(&s)
				if strings.Contains(s.String, pw) || strings.Contains(s.String, token) || strings.Contains(s.String, "bn_") {
					t.Errorf("secret stored: %q", s.String)
				}
			}
			rows.Close()
		}
		var actions []string
		rows, _ := db.Query(`SELECT action FROM audit WHERE action LIKE 'user.%' ORDER BY id`)
		for rows.Next() {
			var a string
			rows.Scan(&a)
			actions = append(actions, a)
		}
		rows.Close()
		if got := strings.Join(actions, ","); !strings.HasPrefix(got, "user.add,user.token,user.login") || !strings.Contains(got, "user.logout") || !strings.HasSuffix(got, "user.disable") {
			t.Errorf("audited user actions: %s", got)
		}
	})
}

func TestPassword_Hash(t *testing.T) {
	h := incident.HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want argon2id with the README's parameters", h)
	}
	if h == incident.HashPassword("correct horse battery") {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA", strings.Replace(h, "m=19456", "m=0", 1), h[:len(h)-4]} {
		if incident.CheckPassword(bad, "correct horse battery") {
			t.Errorf("CheckPassword accepted %q", bad)
		}
	}
}
