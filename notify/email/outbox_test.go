package email_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
)

func TestOutbox_Send(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox") // Open creates it
	conn := mustOpen(t, email.NewOutbox(dir))

	m := newMessage(42, "person@example.net")
	r := conn.Send(context.Background(), m)
	path := filepath.Join(dir, "42.eml")
	if r.Outcome != notify.Delivered || r.Code != 250 || r.Broken || r.Reply != "written to outbox "+path {
		t.Fatalf("Send = %+v, want delivered 250 written to outbox %s", r, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, data)
	if got := p.header.Get("Message-Id"); got != m.MessageID {
		t.Errorf("Message-Id = %q, want %q", got, m.MessageID)
	}
	if p.subj != m.Subject || p.to.Name != m.ToName || p.from.Name != m.FromName {
		t.Errorf("headers = %q, %q, %q; want %q, %q, %q", p.subj, p.to.Name, p.from.Name, m.Subject, m.ToName, m.FromName)
	}
	if len(p.parts) != 2 || p.parts[0].contentType != "text/plain" || p.parts[1].contentType != "text/html" {
		t.Errorf("parts = %+v, want text/plain then text/html", p.parts)
	}

	t.Run("Overwrite", func(t *testing.T) {
		m2 := *m
		m2.Subject = "Second version"
		if r := conn.Send(context.Background(), &m2); r.Outcome != notify.Delivered {
			t.Fatalf("Send = %+v", r)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if p := parseMessage(t, data); p.subj != "Second version" || p.header.Get("Message-Id") != m.MessageID {
			t.Errorf("rewritten file has Subject %q, Message-Id %q", p.subj, p.header.Get("Message-Id"))
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "42.eml" {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("outbox holds %v, want only 42.eml (no temporary files left)", names)
		}
	})

	t.Run("ErrInvalidMessage", func(t *testing.T) {
		bad := newMessage(43, "person@example.net")
		bad.MessageID = "no-brackets-no-domain"
		if r := conn.Send(context.Background(), bad); r.Outcome != notify.Permanent {
			t.Errorf("Send = %+v, want permanent", r)
		}
		if _, err := os.Stat(filepath.Join(dir, "43.eml")); !os.IsNotExist(err) {
			t.Errorf("43.eml exists after a refused message (stat: %v)", err)
		}
	})

	t.Run("ErrUnwritable", func(t *testing.T) {
		// A path under a regular file fails even for root.
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := email.NewOutbox(filepath.Join(file, "outbox")).Open(context.Background()); err == nil ||
			!strings.Contains(err.Error(), "outbox") {
			t.Errorf("Open under a regular file = %v, want an outbox error", err)
		}
	})
}
