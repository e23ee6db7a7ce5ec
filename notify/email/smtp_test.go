package email_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// newMessage returns a notice with non-ASCII names and subject.
func newMessage(id int64, to string) *notify.Message {
	return &notify.Message{
		NoticeID:  id,
		MessageID: fmt.Sprintf("<notice-%d.inc-7@notices.example.org>", id),
		From:      "dpo@controller.example",
		FromName:  "Zoë Müller, DPO",
		To:        to,
		ToName:    "José Muñoz",
		Subject:   "Aviso de violación de datos (señal é ñ)",
		Text:      "Hola José,\n\nhemos detectado un incidente. Número de aviso " + fmt.Sprint(id) + ".\n",
		HTML:      "<p>Hola José,</p><p>hemos detectado un incidente. Número de aviso " + fmt.Sprint(id) + ".</p>",
	}
}

// mustConfig parses the server's URL with a per-exchange timeout.
func mustConfig(t testing.TB, srv *smtptest.Server, timeout time.Duration) email.Config {
	t.Helper()
	cfg, err := email.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = timeout
	cfg.HELO = "sender.test"
	return cfg
}

// mustOpen opens a connection and closes it when the test ends.
func mustOpen(t testing.TB, tr notify.Transport) notify.Conn {
	t.Helper()
	conn, err := tr.Open(context.Background())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// parsed is a received message, decoded.
type parsed struct {
	header netmail.Header
	from   *netmail.Address
	to     *netmail.Address
	subj   string
	parts  []part // in order
}

type part struct {
	contentType string
	body        string
}

func parseMessage(t testing.TB, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	p := parsed{header: m.Header}
	if p.from, err = netmail.ParseAddress(m.Header.Get("From")); err != nil {
		t.Fatalf("From %q: %v", m.Header.Get("From"), err)
	}
	if p.to, err = netmail.ParseAddress(m.Header.Get("To")); err != nil {
		t.Fatalf("To %q: %v", m.Header.Get("To"), err)
	}
	if p.subj, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		pt, err := mr.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		var r io.Reader = pt
		if strings.EqualFold(pt.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, pt)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ct, cp, _ := mime.ParseMediaType(pt.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s charset = %q, want UTF-8", ct, cp["charset"])
		}
		p.parts = append(p.parts, part{ct, string(body)})
	}
	return p
}

func TestSMTP_Send(t *testing.T) {
	srv := smtptest.Start(t)
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	cfg := mustConfig(t, srv, 5*time.Second)
	cfg.Now = func() time.Time { return now }
	conn := mustOpen(t, email.NewSMTP(cfg))

	var sent []*notify.Message
	var sums []string
	for i := range 3 {
		m := newMessage(int64(100+i), fmt.Sprintf("person%d@example.net", i))
		r := conn.Send(context.Background(), m)
		if r.Outcome != notify.Delivered || r.Code != 250 || r.Broken {
			t.Fatalf("Send %d = %+v, want delivered 250", i, r)
		}
		if r.Reply == "" {
			t.Errorf("Send %d: empty reply", i)
		}
		sent = append(sent, m)
		sums = append(sums, r.SHA256)
	}

	if got := srv.Connections(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("server stored %d messages, want 3", len(got))
	}
	for i, rec := range got {
		want := sent[i]
		// Result.SHA256 is the hash of the bytes the relay received.
		if sum := sha256.Sum256(rec.Data); sums[i] != hex.EncodeToString(sum[:]) {
			t.Errorf("message %d: SHA256 = %s, the relay received bytes hashing to %x", i, sums[i], sum)
		}
		if rec.MessageID != want.MessageID {
			t.Errorf("message %d: Message-Id = %q, want %q", i, rec.MessageID, want.MessageID)
		}
		if rec.From != want.From || len(rec.To) != 1 || rec.To[0] != want.To {
			t.Errorf("message %d: envelope %s -> %v, want %s -> %s", i, rec.From, rec.To, want.From, want.To)
		}
		p := parseMessage(t, rec.Data)
		if p.from.Name != want.FromName || p.from.Address != want.From {
			t.Errorf("message %d: From = %q <%s>, want %q <%s>", i, p.from.Name, p.from.Address, want.FromName, want.From)
		}
		if p.to.Name != want.ToName || p.to.Address != want.To {
			t.Errorf("message %d: To = %q <%s>, want %q <%s>", i, p.to.Name, p.to.Address, want.ToName, want.To)
		}
		if p.subj != want.Subject {
			t.Errorf("message %d: Subject = %q, want %q", i, p.subj, want.Subject)
		}
		raw := p.header.Get("Subject")
		if !strings.HasPrefix(raw, "=?UTF-8?") && !strings.HasPrefix(raw, "=?utf-8?") {
			t.Errorf("message %d: raw Subject %q is not an RFC 2047 encoded word", i, raw)
		}
		if d, err := p.header.Date(); err != nil || !d.Equal(now) {
			t.Errorf("message %d: Date = %v (%v), want %v", i, d, err, now)
		}
		if len(p.parts) != 2 || p.parts[0].contentType != "text/plain" || p.parts[1].contentType != "text/html" {
			t.Fatalf("message %d: parts = %+v, want text/plain then text/html", i, p.parts)
		}
		if strings.TrimRight(p.parts[0].body, "\r\n") != strings.TrimRight(want.Text, "\n") &&
			strings.ReplaceAll(p.parts[0].body, "\r\n", "\n") != want.Text {
			t.Errorf("message %d: text part = %q, want %q", i, p.parts[0].body, want.Text)
		}
		if strings.TrimRight(p.parts[1].body, "\r\n") != want.HTML {
			t.Errorf("message %d: html part = %q, want %q", i, p.parts[1].body, want.HTML)
		}
		if bytes.Contains(rec.Data, []byte("é")) {
			t.Errorf("message %d: raw 8-bit text in the data; want it encoded", i)
		}
	}
}

func TestSMTP_HeaderInjection(t *testing.T) {
	srv := smtptest.Start(t)
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))

	m := newMessage(1, "victim@example.net")
	m.Subject = "Your data\r\nBcc: x@evil.example"
	m.FromName = "DPO\r\nBcc: x@evil.example"
	m.ToName = "Victim\nBcc: x@evil.example\r\n\r\nforged body"
	if r := conn.Send(context.Background(), m); r.Outcome != notify.Delivered {
		t.Fatalf("Send = %+v, want delivered", r)
	}
	rec := srv.Messages()[0]
	p := parseMessage(t, rec.Data)
	if v := p.header.Get("Bcc"); v != "" {
		t.Errorf("injected Bcc header %q", v)
	}
	for line := range strings.SplitSeq(string(rec.Data), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Errorf("data has a Bcc line %q", line)
		}
	}
	if len(rec.To) != 1 || rec.To[0] != "victim@example.net" {
		t.Errorf("envelope recipients = %v, want only victim@example.net", rec.To)
	}
	if p.subj != "Your data Bcc: x@evil.example" {
		t.Errorf("Subject = %q, want CR/LF turned into a space", p.subj)
	}
}

func TestSMTP_InvalidMessage(t *testing.T) {
	srv := smtptest.Start(t)
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))

	tests := []struct {
		name string
		edit func(*notify.Message)
	}{
		{"ErrMessageIDEmpty", func(m *notify.Message) { m.MessageID = "" }},
		{"ErrMessageIDCRLF", func(m *notify.Message) { m.MessageID = "<a@b>\r\nBcc: x@evil" }},
		{"ErrMessageIDNoDomain", func(m *notify.Message) { m.MessageID = "<notice-1>" }},
		{"ErrToCRLF", func(m *notify.Message) { m.To = "a@example.net\r\nBcc: x@evil" }},
		{"ErrToWithName", func(m *notify.Message) { m.To = "Eve <a@example.net>" }},
		{"ErrFromEmpty", func(m *notify.Message) { m.From = "" }},
		{"ErrNoBody", func(m *notify.Message) { m.Text, m.HTML = "", "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMessage(1, "a@example.net")
			tt.edit(m)
			r := conn.Send(context.Background(), m)
			if r.Outcome != notify.Permanent || r.Code != 0 || r.Broken {
				t.Errorf("Send = %+v, want permanent, code 0, not broken", r)
			}
		})
	}
	// The connection is untouched and still delivers.
	if r := conn.Send(context.Background(), newMessage(2, "a@example.net")); r.Outcome != notify.Delivered {
		t.Fatalf("Send after invalid messages = %+v, want delivered", r)
	}
	if n := srv.Count(); n != 1 {
		t.Errorf("server accepted %d messages, want 1", n)
	}
}

func TestSMTP_Outcomes(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name      string
		behaviour smtptest.Behaviour
		outcome   notify.Outcome
		code      int
		broken    bool
		reply     string
	}{
		{"Reply451AtRcpt", smtptest.Reply451, notify.Temporary, 451, false, "451 4.7.1 Greylisted, try again later"},
		{"Reply550AtRcpt", smtptest.Reply550, notify.Permanent, 550, false, "550 5.1.1 No such user here"},
		{"Reply451AtData", smtptest.Reply451AtData, notify.Temporary, 451, false, "451 4.3.0 Queue full, try again later"},
		{"Reply550AtData", smtptest.Reply550AtData, notify.Permanent, 550, false, "550 5.7.1 Message refused by policy"},
		{"DropInData", smtptest.DropInData, notify.Temporary, 0, true, ""},
		{"Stall", smtptest.Stall, notify.Temporary, 0, true, "i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t)
			srv.Behave(func(rcpt string, _ int) smtptest.Behaviour {
				if rcpt == "bad@example.net" {
					return tt.behaviour
				}
				return smtptest.Accept
			})
			tr := email.NewSMTP(mustConfig(t, srv, timeout))
			conn := mustOpen(t, tr)

			start := time.Now()
			r := conn.Send(context.Background(), newMessage(1, "bad@example.net"))
			elapsed := time.Since(start)
			if r.Outcome != tt.outcome || r.Code != tt.code || r.Broken != tt.broken {
				t.Fatalf("Send = %+v, want %v code %d broken %v", r, tt.outcome, tt.code, tt.broken)
			}
			if r.Reply == "" {
				t.Error("empty reply")
			}
			if (tt.code != 0 && r.Reply != tt.reply) || !strings.Contains(r.Reply, tt.reply) {
				t.Errorf("Reply = %q, want %q", r.Reply, tt.reply)
			}
			if elapsed > 3*timeout {
				t.Errorf("Send took %v, want within about %v", elapsed, timeout)
			}
			if srv.Count() != 0 {
				t.Errorf("server accepted %d messages, want 0", srv.Count())
			}

			// A refused message leaves the session usable; a broken one
			// needs a new connection.
			if !r.Broken {
				if r := conn.Send(context.Background(), newMessage(2, "good@example.net")); r.Outcome != notify.Delivered {
					t.Errorf("next Send on the same conn = %+v, want delivered", r)
				}
				if n := srv.Connections(); n != 1 {
					t.Errorf("server saw %d connections, want 1", n)
				}
				return
			}
			if r := conn.Send(context.Background(), newMessage(2, "good@example.net")); !r.Broken {
				t.Errorf("Send on a broken conn = %+v, want broken", r)
			}
			_ = conn.Close()
			conn = mustOpen(t, tr)
			if r := conn.Send(context.Background(), newMessage(2, "good@example.net")); r.Outcome != notify.Delivered {
				t.Errorf("Send after reopening = %+v, want delivered", r)
			}
		})
	}
}

func TestSMTP_RetryLater(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Behave(func(_ string, attempt int) smtptest.Behaviour {
		if attempt == 1 {
			return smtptest.Reply451
		}
		return smtptest.Accept
	})
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
	m := newMessage(1, "greylisted@example.net")
	if r := conn.Send(context.Background(), m); r.Outcome != notify.Temporary || r.Code != 451 {
		t.Fatalf("first Send = %+v, want temporary 451", r)
	}
	if r := conn.Send(context.Background(), m); r.Outcome != notify.Delivered {
		t.Fatalf("second Send = %+v, want delivered", r)
	}
	if n := srv.Attempts("greylisted@example.net"); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].MessageID != m.MessageID {
		t.Errorf("stored %+v, want one message %s", got, m.MessageID)
	}
}

func TestSMTP_ContextDeadline(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Behave(func(string, int) smtptest.Behaviour { return smtptest.Stall })
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 10*time.Second)))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := conn.Send(ctx, newMessage(1, "slow@example.net"))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Send took %v with a 200ms context", elapsed)
	}
	if r.Outcome != notify.Temporary || !r.Broken || r.Code != 0 {
		t.Errorf("Send = %+v, want temporary, broken, code 0", r)
	}
	if !strings.Contains(r.Reply, "deadline exceeded") {
		t.Errorf("Reply = %q, want it to name the context deadline", r.Reply)
	}

	// A context already done sends nothing and leaves the conn alone.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	conn2 := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 10*time.Second)))
	if r := conn2.Send(done, newMessage(2, "x@example.net")); r.Outcome != notify.Temporary || r.Broken {
		t.Errorf("Send with a done context = %+v, want temporary, not broken", r)
	}
}

func TestSMTP_ReopenAfterIdleClose(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithIdleTimeout(150*time.Millisecond))
	conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))

	if r := conn.Send(context.Background(), newMessage(1, "a@example.net")); r.Outcome != notify.Delivered {
		t.Fatalf("first Send = %+v", r)
	}
	time.Sleep(400 * time.Millisecond) // the server hangs up meanwhile
	r := conn.Send(context.Background(), newMessage(2, "a@example.net"))
	if r.Outcome != notify.Delivered || r.Broken {
		t.Fatalf("Send after the server closed the idle connection = %+v, want delivered", r)
	}
	if n := srv.Connections(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
	if n := srv.Count(); n != 2 {
		t.Fatalf("server accepted %d messages, want 2", n)
	}
	// The message sent again on the new connection is the one hashed.
	if sum := sha256.Sum256(srv.Messages()[1].Data); r.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, the relay received bytes hashing to %x", r.SHA256, sum)
	}
}

func TestSMTP_Auth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("notices", "s3cr3t pass"))
	cfg := mustConfig(t, srv, 5*time.Second)
	cfg.Username, cfg.Password = "notices", "s3cr3t pass"
	conn := mustOpen(t, email.NewSMTP(cfg))
	if r := conn.Send(context.Background(), newMessage(1, "a@example.net")); r.Outcome != notify.Delivered {
		t.Fatalf("Send = %+v, want delivered", r)
	}

	t.Run("ErrWrongPassword", func(t *testing.T) {
		cfg.Password = "wrong-horse"
		_, err := email.NewSMTP(cfg).Open(context.Background())
		if err == nil {
			t.Fatal("Open with a wrong password succeeded")
		}
		if strings.Contains(err.Error(), "wrong-horse") {
			t.Errorf("error %q reveals the password", err)
		}
	})
	t.Run("ErrNoCredentials", func(t *testing.T) {
		conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
		r := conn.Send(context.Background(), newMessage(2, "a@example.net"))
		if r.Outcome != notify.Permanent || r.Code != 502 {
			t.Errorf("Send without AUTH = %+v, want permanent 502", r)
		}
	})
}

func TestSMTP_OpenErrors(t *testing.T) {
	srv := smtptest.Start(t)
	t.Run("ErrStartTLSUnsupported", func(t *testing.T) {
		cfg := mustConfig(t, srv, 2*time.Second)
		cfg.TLS = email.TLSStartTLS
		_, err := email.NewSMTP(cfg).Open(context.Background())
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("Open = %v, want a STARTTLS error", err)
		}
	})
	t.Run("ErrRefused", func(t *testing.T) {
		cfg := mustConfig(t, srv, 2*time.Second)
		closed := smtptest.Start(t)
		cfg.Port = portOf(t, closed.Addr())
		closed.Close()
		if _, err := email.NewSMTP(cfg).Open(context.Background()); err == nil {
			t.Error("Open to a closed port succeeded")
		}
	})
	t.Run("ErrNoHost", func(t *testing.T) {
		if _, err := email.NewSMTP(email.Config{}).Open(context.Background()); err == nil {
			t.Error("Open with an empty Config succeeded")
		}
	})
}

func portOf(t testing.TB, addr string) int {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	var p int
	if _, err := fmt.Sscan(addr[i+1:], &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSMTP_TLS sends over STARTTLS and over implicit TLS, with AUTH, to a
// server with a self-signed certificate: the session runs encrypted, the
// message arrives intact, and a relay that does not offer STARTTLS is
// refused rather than sent to in clear text.
func TestSMTP_TLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  smtptest.Option
	}{{"STARTTLS", smtptest.WithSTARTTLS()}, {"Implicit", smtptest.WithImplicitTLS()}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opt, smtptest.WithAuth("notices", "pw"))
			cfg := mustConfig(t, srv, 5*time.Second)
			cfg.Username, cfg.Password = "notices", "pw"
			conn := mustOpen(t, email.NewSMTP(cfg))
			for i := int64(1); i <= 2; i++ {
				if r := conn.Send(context.Background(), newMessage(i, "a@example.net")); r.Outcome != notify.Delivered {
					t.Fatalf("Send over %s = %+v", tc.name, r)
				}
			}
			if srv.TLSSessions() != 1 || srv.Count() != 2 {
				t.Errorf("%d TLS sessions, %d messages; want 1 and 2", srv.TLSSessions(), srv.Count())
			}
			if m := srv.Messages()[0]; m.MessageID != "<notice-1.inc-7@notices.example.org>" {
				t.Errorf("Message-ID %q", m.MessageID)
			}
		})
	}
	t.Run("ErrNoSTARTTLSOffered", func(t *testing.T) {
		srv := smtptest.Start(t)
		cfg := mustConfig(t, srv, 5*time.Second)
		cfg.TLS = email.TLSStartTLS
		if conn, err := email.NewSMTP(cfg).Open(context.Background()); err == nil {
			r := conn.Send(context.Background(), newMessage(1, "a@example.net"))
			conn.Close()
			if r.Outcome == notify.Delivered {
				t.Fatal("sent in clear text to a relay without STARTTLS")
			}
		}
		if srv.Count() != 0 {
			t.Errorf("the relay received %d messages in clear text", srv.Count())
		}
	})
}
