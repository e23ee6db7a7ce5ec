package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// session is one app run whose database stays open until the test ends,
// so that the -wal and -shm files can be seen (SQLite removes them when
// the last connection closes).
type session struct {
	a              *app
	stdout, stderr bytes.Buffer
}

func openSession(t *testing.T, env map[string]string, args ...string) *session {
	t.Helper()
	s := &session{}
	s.a = newApp(strings.NewReader(""), &s.stdout, &s.stderr, func(k string) string { return env[k] })
	s.a.now = func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	t.Cleanup(s.a.close)
	if err := s.a.run(context.Background(), args); err != nil {
		t.Fatalf("breachnotice %s: %v\n%s", strings.Join(args, " "), err, s.stderr.String())
	}
	return s
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

// TestFileModes: the database, its -wal and -shm files and the secret
// file hold personal data or keys: 0600, whatever the umask lets through.
func TestFileModes(t *testing.T) {
	sqliteOnly(t, "no database file, -wal, -shm or secret file to check")
	dir := t.TempDir()
	db := filepath.Join(dir, "bn.db")
	s := openSession(t, map[string]string{"BREACHNOTICE_DB": db},
		"controllers", "add", "--id", "op", "--name", "Operator", "--from", "notice@example.org")
	for _, p := range []string{db, db + "-wal", db + "-shm", db + ".secret"} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), m)
		}
	}
	if strings.Contains(s.stderr.String(), "warning") {
		t.Errorf("stderr %q warns about a database it created", s.stderr.String())
	}

	t.Run("SharedDatabaseKeptAndWarned", func(t *testing.T) {
		// A database someone made group-readable keeps its mode (they may
		// share it on purpose), with a warning on every run.
		db := filepath.Join(t.TempDir(), "shared.db")
		if err := os.WriteFile(db, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(db, 0o640); err != nil {
			t.Fatal(err)
		}
		s := openSession(t, map[string]string{"BREACHNOTICE_DB": db, "BREACHNOTICE_SECRET": "test-secret-0123456789abcdef"},
			"controllers", "list")
		if m := mode(t, db); m != 0o640 {
			t.Errorf("mode %v, want the user's -rw-r-----", m)
		}
		if got := s.stderr.String(); !strings.Contains(got, "warning: "+db+" (mode 0640)") || !strings.Contains(got, "personal data") {
			t.Errorf("stderr = %q, want a warning naming %s and its mode", got, db)
		}
	})
}

// TestSecretFile_Exclusive: the secret is written through a new temporary
// file of a random name, never through a file or symbolic link planted at
// the old fixed name DBFILE.secret.tmp.
func TestSecretFile_Exclusive(t *testing.T) {
	sqliteOnly(t, "no secret file sits next to a database URL")
	dir := t.TempDir()
	db := filepath.Join(dir, "bn.db")
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, db+".secret.tmp"); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, map[string]string{"BREACHNOTICE_DB": db}, "controllers", "add", "--id", "op", "--name", "Operator", "--from", "notice@example.org")
	if !strings.Contains(s.stderr.String(), "created "+db+".secret") {
		t.Errorf("stderr = %q, want the secret file's creation reported", s.stderr.String())
	}

	if b, err := os.ReadFile(target); err != nil || string(b) != "keep me\n" {
		t.Errorf("symlink target now holds %q (%v), want it untouched", b, err)
	}
	if m := mode(t, db+".secret"); m != 0o600 {
		t.Errorf("secret file mode %v, want -rw------- (a regular file, not a link)", m)
	}
	if m := mode(t, db+".secret.tmp"); m&os.ModeSymlink == 0 {
		t.Errorf("planted link replaced: mode %v", m)
	}
	b, err := os.ReadFile(db + ".secret")
	if err != nil || len(strings.TrimSpace(string(b))) != 64 {
		t.Errorf("secret file holds %q (%v), want 64 hex digits", b, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".bn.db.secret") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// The next run reads the same secret.
	openSession(t, map[string]string{"BREACHNOTICE_DB": db}, "controllers", "list")
	if again, _ := os.ReadFile(db + ".secret"); !bytes.Equal(again, b) {
		t.Error("secret file changed on the second run")
	}

	t.Run("ErrExistNotReplaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s")
		if err := os.WriteFile(path, []byte("first"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := createFileExclusive(path, []byte("second")); !errors.Is(err, os.ErrExist) {
			t.Errorf("createFileExclusive over an existing file = %v, want ErrExist", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "first" {
			t.Errorf("existing file now holds %q", b)
		}
	})
}

// TestAuditActor: the audit log names the OS user by uid, never $USER.
func TestAuditActor(t *testing.T) {
	env := map[string]string{"BREACHNOTICE_DB": newCLI(t).env["BREACHNOTICE_DB"], "USER": "mallory",
		"BREACHNOTICE_SECRET": "test-secret-0123456789abcdef"}
	s := openSession(t, env, "controllers", "add", "--id", "op", "--name", "Operator", "--from", "notice@example.org")
	entries, err := s.a.store.FindAudit(context.Background(), 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit = %+v, %v; want one entry", entries, err)
	}
	uid := strconv.Itoa(os.Getuid())
	want := "cli:uid " + uid
	if u, err := user.LookupId(uid); err == nil {
		want = "cli:" + u.Username + " (uid " + uid + ")"
	}
	if got := entries[0].Actor; got != want {
		t.Errorf("actor = %q, want %q", got, want)
	}

	t.Run("Names", func(t *testing.T) {
		alice := func(string) (*user.User, error) { return &user.User{Uid: "1000", Username: "alice"}, nil }
		unknown := func(id string) (*user.User, error) { return nil, user.UnknownUserIdError(4242) }
		current := func() (*user.User, error) { return &user.User{Username: `HOST\alice`}, nil }
		for _, tc := range []struct {
			uid    int
			lookup func(string) (*user.User, error)
			want   string
		}{
			{1000, alice, "alice (uid 1000)"},
			{4242, unknown, "uid 4242"},
			{-1, unknown, `HOST\alice`},
		} {
			if got := osActor(tc.uid, tc.lookup, current); got != tc.want {
				t.Errorf("osActor(%d) = %q, want %q", tc.uid, got, tc.want)
			}
		}
	})
}

// TestControllers_IDNFrom: a sender address with an internationalised
// domain is stored in A-labels; an invalid one is refused, saying why.
func TestControllers_IDNFrom(t *testing.T) {
	c := newCLI(t)
	_, errOut, code := c.run("controllers", "add", "--id", "op", "--name", "Bücher GmbH", "--from", "notice@bücher.example")
	if code != 0 {
		t.Fatalf("controllers add: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "stored as notice@xn--bcher-kva.example") {
		t.Errorf("stderr = %q, want a note of the stored form", errOut)
	}
	from := func() string {
		var cs []incident.Controller
		if err := json.Unmarshal([]byte(c.ok("controllers", "list", "--json")), &cs); err != nil || len(cs) != 1 {
			t.Fatalf("controllers list: %v %+v", err, cs)
		}
		return cs[0].From
	}
	if got := from(); got != "notice@xn--bcher-kva.example" {
		t.Errorf("stored from = %q, want notice@xn--bcher-kva.example", got)
	}

	c.ok("controllers", "update", "op", "--from", "dpo@STRASSE.example")
	if got := from(); got != "dpo@strasse.example" {
		t.Errorf("after update: from = %q, want dpo@strasse.example", got)
	}
	c.ok("controllers", "update", "op", "--from", "dpo@straße.example")
	if got := from(); got != "dpo@xn--strae-oqa.example" {
		t.Errorf("after update: from = %q, want dpo@xn--strae-oqa.example", got)
	}

	for _, bad := range []string{"notice@xn--zz.example", "notice@bücher-.example"} {
		_, errOut, code := c.run("controllers", "update", "op", "--from", bad)
		if code != 1 || !strings.Contains(errOut, "sender address") {
			t.Errorf("update --from %s: exit %d, stderr %q; want 1 and a sender address error", bad, code, errOut)
		}
	}
	if got := from(); got != "dpo@xn--strae-oqa.example" {
		t.Errorf("after refused updates: from = %q", got)
	}
}
