package email_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestSMTP_ProviderHeaders: a relay configured as a sending service
// (provider= on its URL) puts the notice's reference in that service's
// metadata header, in the form its webhooks echo; a plain relay adds
// none, and a reference that is not "<id>.<tag>" is never written.
func TestSMTP_ProviderHeaders(t *testing.T) {
	const ref = "42.abcdefghijklmnop"
	tests := []struct {
		provider, header string
		value            func(t *testing.T, v string) string // the reference read back as the webhook would
	}{
		{"postmark", "X-Pm-Metadata-Notice", func(t *testing.T, v string) string { return v }},
		{"mailgun", "X-Mailgun-Variables", func(t *testing.T, v string) string {
			var m map[string]string
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				t.Fatalf("X-Mailgun-Variables %q: %v", v, err)
			}
			return m["notice"]
		}},
		{"sendgrid", "X-Smtpapi", func(t *testing.T, v string) string {
			var m struct {
				UniqueArgs map[string]string `json:"unique_args"`
			}
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				t.Fatalf("X-SMTPAPI %q: %v", v, err)
			}
			return m.UniqueArgs["notice"]
		}},
		{"ses", "X-Ses-Message-Tags", func(t *testing.T, v string) string {
			name, val, _ := strings.Cut(v, "=")
			if name != "notice" {
				t.Fatalf("X-SES-MESSAGE-TAGS %q", v)
			}
			return val
		}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg, err := email.ParseURL(srv.URL() + "&provider=" + tt.provider)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Timeout = 5 * time.Second
			conn := mustOpen(t, email.NewSMTP(cfg))
			m := newMessage(42, "jo@example.org")
			m.Ref = ref
			if r := conn.Send(context.Background(), m); r.Code != 250 {
				t.Fatalf("send: %+v", r)
			}
			bad := newMessage(43, "kim@example.org")
			bad.Ref = "43.x\r\nBcc: evil@example.org"
			if r := conn.Send(context.Background(), bad); r.Code != 250 {
				t.Fatalf("send: %+v", r)
			}
			msgs := srv.Messages()
			got := parseMessage(t, msgs[0].Data).header.Get(tt.header)
			if got == "" || tt.value(t, got) != ref {
				t.Errorf("%s: %q, want the reference %s", tt.header, got, ref)
			}
			if h := parseMessage(t, msgs[1].Data).header; h.Get(tt.header) != "" || h.Get("Bcc") != "" {
				t.Errorf("a malformed reference was written: %q", h.Get(tt.header))
			}
		})
	}
	t.Run("no provider", func(t *testing.T) {
		srv := smtptest.Start(t)
		conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, 5*time.Second)))
		m := newMessage(42, "jo@example.org")
		m.Ref = ref
		if r := conn.Send(context.Background(), m); r.Code != 250 {
			t.Fatalf("send: %+v", r)
		}
		if data := string(srv.Messages()[0].Data); strings.Contains(data, ref) {
			t.Errorf("a plain relay got the reference in a header:\n%s", data)
		}
	})
	if _, err := email.ParseURL("smtp://mx.example.org?provider=sparkpost"); err == nil {
		t.Error("an unknown provider was accepted")
	}
}
