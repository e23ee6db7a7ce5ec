package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// TestServeDemo_Seed: serve --demo's seed gives an empty database the demo
// platform: four controllers, incidents in four states, one user per role
// (and a second member) who can log in with the password printed; a
// database that holds data is refused, unchanged.
func TestServeDemo_Seed(t *testing.T) {
	c := newCLI(t)
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, io.Discard, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	defer a.close()
	ctx := context.Background()
	ctx = incident.WithActor(ctx, incident.Actor{Name: "test", Role: incident.RoleCLI})
	if _, err := a.open(ctx, dbCreate); err != nil {
		t.Fatal(err)
	}
	users, err := a.seedServeDemo(ctx, filepath.Join(c.dir, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	incs, err := a.store.FindIncidents(ctx, incident.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	for _, inc := range incs {
		s := string(inc.Status)
		if inc.Hold != nil {
			s += "+hold"
		}
		states[s] = true
	}
	for _, want := range []string{"notifying", "planned+hold", "scoped", "open"} {
		if !states[want] {
			t.Errorf("no incident %s among %v", want, states)
		}
	}
	roles := map[string]bool{}
	for _, u := range users {
		roles[u.role] = true
		got, err := a.store.CheckLogin(ctx, u.name, u.password)
		if err != nil || string(got.Role) != u.role || got.Controller != u.controller {
			t.Errorf("log in as %s: %+v, %v", u.name, got, err)
		}
	}
	if len(roles) != 3 {
		t.Errorf("roles %v, want security, legal and member", roles)
	}
	var printed bytes.Buffer
	printDemoUsers(&printed, "http://127.0.0.1:8080", users)
	for _, u := range users {
		if !strings.Contains(printed.String(), u.name) || !strings.Contains(printed.String(), u.password) {
			t.Errorf("%s or its password not printed", u.name)
		}
	}
	if !strings.Contains(printed.String(), "http://127.0.0.1:8080/admin/") {
		t.Errorf("no admin URL printed:\n%s", printed.String())
	}
	// Run again on its own database, serve --demo serves what is there and
	// gives the demo users new passwords, since the old ones were shown
	// only once; the old ones stop working.
	again, err := a.seedServeDemo(ctx, filepath.Join(c.dir, "demo2"))
	if err != nil {
		t.Fatalf("second serve --demo: %v", err)
	}
	if n, _ := a.store.FindIncidents(ctx, incident.IncidentFilter{}); len(n) != len(incs) {
		t.Errorf("the second serve --demo changed the incidents: %d, was %d", len(n), len(incs))
	}
	for i, u := range again {
		if u.password == users[i].password {
			t.Errorf("%s kept its password", u.name)
		}
		if _, err := a.store.CheckLogin(ctx, u.name, u.password); err != nil {
			t.Errorf("log in as %s with the new password: %v", u.name, err)
		}
		if _, err := a.store.CheckLogin(ctx, u.name, users[i].password); err == nil {
			t.Errorf("%s still logs in with the old password", u.name)
		}
	}
	// A database that is not the demo's is refused and left as it is.
	if _, err := a.store.DisableUser(ctx, "counsel"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.seedServeDemo(ctx, filepath.Join(c.dir, "demo3")); err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Errorf("serve --demo on a database that is not the demo's: %v", err)
	}
	if _, err := a.store.CheckLogin(ctx, "security-lead", again[0].password); err != nil {
		t.Errorf("the refused seed changed a password: %v", err)
	}
}

// TestCLI_UsersPassword: users password sets a new admin UI password (read
// from stdin or made up and printed once), ends the user's sessions, is
// audited without the password, and refuses a short one.
func TestCLI_UsersPassword(t *testing.T) {
	c := newCLI(t)
	c.seed()
	if _, errOut, code := c.runIn("first-password-long\n", "users", "add", "--name", "ann", "--role", "legal", "--password-stdin"); code != 0 {
		t.Fatalf("users add: %s", errOut)
	}
	out := c.ok("users", "password", "ann")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	made := lines[len(lines)-1]
	if !strings.Contains(out, "shown this once") || len(made) != 20 {
		t.Fatalf("users password: %q", out)
	}
	if _, errOut, code := c.runIn("short\n", "users", "password", "ann", "--password-stdin"); code == 0 || !strings.Contains(errOut, "at least 12 characters") {
		t.Errorf("short password: exit %d, %s", code, errOut)
	}
	if _, errOut, code := c.runIn("second-password-long\n", "users", "password", "ann", "--password-stdin"); code != 0 {
		t.Fatalf("users password --password-stdin: %s", errOut)
	}
	audit := c.ok("audit", "list")
	if !strings.Contains(audit, "user.password") || strings.Contains(audit, made) || strings.Contains(audit, "second-password-long") {
		t.Errorf("audit:\n%s", audit)
	}
}
