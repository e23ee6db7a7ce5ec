package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runIn runs one command with stdin.
func (c *cli) runIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	err := a.run(context.Background(), args)
	a.close()
	code := exitCode(&stderr, err)
	return stdout.String(), stderr.String(), code
}

func TestCLI_Users(t *testing.T) {
	c := newCLI(t)
	c.seed()
	const pw = "correct horse battery staple"
	out, errOut, code := c.runIn(pw+"\n", "users", "add", "--name", "sam", "--role", "security", "--password-stdin", "--json")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, errOut)
	}
	var added struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password bool   `json:"password"`
		Token    string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.Name != "sam" || added.Role != "security" || !added.Password || !strings.HasPrefix(added.Token, "bn_") {
		t.Fatalf("users add --json: %v %+v", err, added)
	}
	out = c.ok("users", "add", "--name", "nora", "--role", "member", "--controller", "nb")
	if !strings.Contains(out, "user 2 (nora, member of nb) added") || !strings.Contains(out, "\nbn_") {
		t.Errorf("users add: %q", out)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"ErrMemberWithoutController", "", []string{"users", "add", "--name", "x", "--role", "member"}, 1, "a member user must name its controller"},
		{"ErrBadRole", "", []string{"users", "add", "--name", "x", "--role", "root"}, 2, `role "root": want security, legal or member`},
		{"ErrShortPassword", "short\n", []string{"users", "add", "--name", "x", "--role", "legal", "--password-stdin"}, 1, "at least 12 characters"},
		{"ErrNoPassword", "", []string{"users", "add", "--name", "x", "--role", "legal", "--password-stdin"}, 1, "no password on stdin"},
		{"ErrMissingFlags", "", []string{"users", "add", "--name", "x"}, 2, "--name and --role are required"},
		{"ErrUnknownUser", "", []string{"users", "disable", "nobody"}, 1, `no user "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := c.runIn(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
	out = c.ok("users", "token", "sam", "--json")
	var again struct{ Token string }
	json.Unmarshal([]byte(out), &again)
	if again.Token == "" || again.Token == added.Token {
		t.Errorf("users token: %q", out)
	}
	c.ok("users", "disable", "2")
	list := c.ok("users", "list")
	for _, want := range []string{"sam", "security", "nora", "member", "nb", "2026-11-28 12:00:00"} {
		if !strings.Contains(list, want) {
			t.Errorf("users list lacks %q:\n%s", want, list)
		}
	}
	audit := c.ok("audit", "--json", "--limit", "100")
	for _, secret := range []string{pw, added.Token, again.Token} {
		if strings.Contains(list, secret) || strings.Contains(audit, secret) {
			t.Errorf("a secret is in users list or the audit log")
		}
	}
	for _, action := range []string{"user.add", "user.token", "user.disable"} {
		if !strings.Contains(audit, `"action": "`+action+`"`) {
			t.Errorf("audit lacks %s", action)
		}
	}
}
