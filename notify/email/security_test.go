package email_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestParseURL_ErrorsHideUserinfo: a password with an unescaped '/', '#'
// or '?' makes net/url cut the URL in the wrong place; whatever goes
// wrong, the error names neither the password (nor a piece of it) nor the
// user.
func TestParseURL_ErrorsHideUserinfo(t *testing.T) {
	tests := []struct {
		name, url string
		secrets   []string
	}{
		{"SlashHashQuery", "smtp://alice:p/a#s?s@relay.example.org:587", []string{"alice", "p/a", "a#s", "s?s"}},
		{"Query", "smtp://alice:pa?ss@relay.example.org", []string{"alice", "pa?", "?ss"}},
		{"Hash", "smtp://alice:pa#ss@relay.example.org", []string{"alice", "pa#", "#ss"}},
		{"Slash", "smtp://alice:pa/ss@relay.example.org:2525?tls=none", []string{"alice", "pa/", "/ss"}},
		{"SlashInUser", "smtp://al/ice:secret@relay.example.org", []string{"al/ice", "ice", "secret"}},
		{"BadPortAfterUser", "smtp://alice:secret@relay.example.org:99999", []string{"alice", "secret"}},
		{"BadQueryAfterUser", "smtp://alice:secret@relay.example.org?tls=ssl", []string{"alice", "secret"}},
		{"BadEscape", "smtp://alice:se%zzcret@relay.example.org", []string{"alice", "se%zz", "cret"}},
		{"NoScheme", "alice:secret@relay.example.org", []string{"alice", "secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := email.ParseURL(tt.url)
			if err == nil {
				t.Fatalf("ParseURL(%q): no error", tt.url)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("ParseURL error %q contains %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), "relay.example.org") {
				t.Errorf("ParseURL error %q does not name the relay", err)
			}
		})
	}

	t.Run("EscapedIsFine", func(t *testing.T) {
		cfg, err := email.ParseURL("smtp://alice:p%2Fa%23s%3Fs@relay.example.org")
		if err != nil || cfg.Password != "p/a#s?s" || cfg.Username != "alice" {
			t.Fatalf("ParseURL = %q, %q, %v; want alice, p/a#s?s", cfg.Username, cfg.Password, err)
		}
	})
}

// TestSMTP_ErrorsHideUserinfo: errors from Open end up in ledger entries
// ("connect: " + err), so they must not name the relay's user or password.
func TestSMTP_ErrorsHideUserinfo(t *testing.T) {
	const user, pass = "relay-user", "relay-pass-123"
	t.Run("Refused", func(t *testing.T) {
		closed := smtptest.Start(t)
		cfg := mustConfig(t, closed, 2*time.Second)
		closed.Close()
		cfg.Username, cfg.Password = user, pass
		_, err := email.NewSMTP(cfg).Open(context.Background())
		if err == nil {
			t.Fatal("Open to a closed port succeeded")
		}
		assertNoUserinfo(t, err.Error(), user, pass)
		if !strings.Contains(err.Error(), closed.Addr()) {
			t.Errorf("error %q does not name the relay %s", err, closed.Addr())
		}
	})
	t.Run("AuthFailed", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth(user, "the-right-one"))
		cfg := mustConfig(t, srv, 2*time.Second)
		cfg.Username, cfg.Password = user, pass
		_, err := email.NewSMTP(cfg).Open(context.Background())
		if err == nil {
			t.Fatal("Open with a wrong password succeeded")
		}
		assertNoUserinfo(t, err.Error(), user, pass)
	})
	t.Run("ReopenFailed", func(t *testing.T) {
		// A reused connection the relay closed is reopened within Send; if
		// that fails, the Result's Reply carries the error.
		srv := smtptest.Start(t, smtptest.WithAuth(user, pass), smtptest.WithIdleTimeout(100*time.Millisecond))
		cfg := mustConfig(t, srv, 2*time.Second)
		cfg.Username, cfg.Password = user, pass
		conn := mustOpen(t, email.NewSMTP(cfg))
		if r := conn.Send(context.Background(), newMessage(1, "a@example.net")); r.Outcome != notify.Delivered {
			t.Fatalf("Send = %+v", r)
		}
		srv.Close()
		time.Sleep(300 * time.Millisecond)
		r := conn.Send(context.Background(), newMessage(2, "a@example.net"))
		if r.Outcome == notify.Delivered {
			t.Fatalf("Send to a stopped relay = %+v", r)
		}
		assertNoUserinfo(t, r.Reply, user, pass)
	})
}

func assertNoUserinfo(t *testing.T, s, user, pass string) {
	t.Helper()
	for _, secret := range []string{user, pass} {
		if strings.Contains(s, secret) {
			t.Errorf("%q contains %q", s, secret)
		}
	}
}

// TestSMTP_IDNDomains: a domain in Unicode goes out in A-labels, in the
// envelope and in the headers, so a relay without SMTPUTF8 takes it.
func TestSMTP_IDNDomains(t *testing.T) {
	srv := smtptest.Start(t) // no SMTPUTF8: refuses a UTF-8 address with 553
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
	m := newMessage(1, "person@bücher.example")
	m.From = "dpo@straße.example"
	if r := conn.Send(context.Background(), m); r.Outcome != notify.Delivered {
		t.Fatalf("Send = %+v, want delivered", r)
	}
	rec := srv.Messages()[0]
	if len(rec.To) != 1 || rec.To[0] != "person@xn--bcher-kva.example" || rec.From != "dpo@xn--strae-oqa.example" {
		t.Errorf("envelope %s -> %v, want dpo@xn--strae-oqa.example -> person@xn--bcher-kva.example", rec.From, rec.To)
	}
	p := parseMessage(t, rec.Data)
	if p.to.Address != "person@xn--bcher-kva.example" || p.from.Address != "dpo@xn--strae-oqa.example" {
		t.Errorf("headers From %s To %s, want the A-label forms", p.from.Address, p.to.Address)
	}

	t.Run("ErrInvalidDomain", func(t *testing.T) {
		m := newMessage(2, "person@bü--cher-.example")
		r := conn.Send(context.Background(), m)
		if r.Outcome != notify.Permanent || r.Broken {
			t.Errorf("Send = %+v, want permanent", r)
		}
	})
}

// TestSMTP_UTF8LocalPart: a UTF-8 local part has no ASCII form. A relay
// without SMTPUTF8 is not asked (permanent, with the reason, so the
// dispatcher sends a letter); a relay with it gets the message.
func TestSMTP_UTF8LocalPart(t *testing.T) {
	const rcpt = "josé@bücher.example"
	t.Run("RelayWithoutSMTPUTF8", func(t *testing.T) {
		srv := smtptest.Start(t)
		conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
		r := conn.Send(context.Background(), newMessage(1, rcpt))
		if r.Outcome != notify.Permanent || r.Code != 0 || r.Broken {
			t.Fatalf("Send = %+v, want permanent, code 0, not broken", r)
		}
		const want = "not sent: the recipient address has a UTF-8 local part and the relay does not offer SMTPUTF8"
		if r.Reply != want {
			t.Errorf("Reply = %q, want %q", r.Reply, want)
		}
		if n := srv.Attempts("josé@xn--bcher-kva.example") + srv.Attempts(rcpt); n != 0 {
			t.Errorf("relay saw %d RCPT for the address, want 0", n)
		}
		// The session is untouched.
		if r := conn.Send(context.Background(), newMessage(2, "a@example.net")); r.Outcome != notify.Delivered {
			t.Errorf("next Send = %+v, want delivered", r)
		}

		m := newMessage(3, "a@example.net")
		m.From = "zoë@controller.example"
		if r := conn.Send(context.Background(), m); r.Outcome != notify.Permanent || !strings.Contains(r.Reply, "sender address has a UTF-8 local part") {
			t.Errorf("Send from a UTF-8 local part = %+v, want permanent naming the sender", r)
		}
	})
	t.Run("RelayWithSMTPUTF8", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithSMTPUTF8())
		conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
		m := newMessage(1, rcpt)
		if r := conn.Send(context.Background(), m); r.Outcome != notify.Delivered {
			t.Fatalf("Send = %+v, want delivered", r)
		}
		rec := srv.Messages()[0]
		if len(rec.To) != 1 || rec.To[0] != "josé@xn--bcher-kva.example" {
			t.Errorf("envelope recipients %v, want josé@xn--bcher-kva.example", rec.To)
		}
		if p := parseMessage(t, rec.Data); p.to.Address != "josé@xn--bcher-kva.example" || p.to.Name != m.ToName {
			t.Errorf("To = %q <%s>, want %q <josé@xn--bcher-kva.example>", p.to.Name, p.to.Address, m.ToName)
		}
	})
}

// TestOutbox_Private: the .eml files hold personal data: mode 0600, in a
// directory only the owner can enter; the recipient's domain is written in
// A-labels as the SMTP transport would send it.
func TestOutbox_Private(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	conn := mustOpen(t, email.NewOutbox(dir))
	if r := conn.Send(context.Background(), newMessage(7, "person@bücher.example")); r.Outcome != notify.Delivered {
		t.Fatalf("Send = %+v", r)
	}
	path := filepath.Join(dir, "7.eml")
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := parseMessage(t, data); p.to.Address != "person@xn--bcher-kva.example" {
		t.Errorf("To address %q, want person@xn--bcher-kva.example", p.to.Address)
	}
}
