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
	if _, err := a.seedServeDemo(ctx, filepath.Join(c.dir, "demo2")); err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Errorf("second seed: %v", err)
	}
	if n, _ := a.store.FindIncidents(ctx, incident.IncidentFilter{}); len(n) != len(incs) {
		t.Errorf("the refused seed changed the incidents: %d, was %d", len(n), len(incs))
	}
}
