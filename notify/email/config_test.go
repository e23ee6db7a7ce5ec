package email_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/email"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want email.Config
	}{
		{"Defaults", "smtp://relay.example.org",
			email.Config{Host: "relay.example.org", Port: 587, TLS: email.TLSStartTLS, Timeout: 30 * time.Second}},
		{"NoTLSPort25", "smtp://relay.example.org?tls=none",
			email.Config{Host: "relay.example.org", Port: 25, TLS: email.TLSNone, Timeout: 30 * time.Second}},
		{"ImplicitPort465", "smtp://relay.example.org?tls=implicit",
			email.Config{Host: "relay.example.org", Port: 465, TLS: email.TLSImplicit, Timeout: 30 * time.Second}},
		{"SMTPS", "smtps://relay.example.org",
			email.Config{Host: "relay.example.org", Port: 465, TLS: email.TLSImplicit, Timeout: 30 * time.Second}},
		{"SMTPSExplicitImplicit", "smtps://relay.example.org:2465?tls=implicit",
			email.Config{Host: "relay.example.org", Port: 2465, TLS: email.TLSImplicit, Timeout: 30 * time.Second}},
		{"UserPassDecoded", "smtp://no%40tice:p%40ss%3Aw%2Fd@relay.example.org:2525?tls=starttls",
			email.Config{Host: "relay.example.org", Port: 2525, Username: "no@tice", Password: "p@ss:w/d",
				TLS: email.TLSStartTLS, Timeout: 30 * time.Second}},
		{"UserOnly", "smtp://apikey@relay.example.org",
			email.Config{Host: "relay.example.org", Port: 587, Username: "apikey", TLS: email.TLSStartTLS, Timeout: 30 * time.Second}},
		{"AllOptions", "smtp://127.0.0.1:1025/?tls=NONE&timeout=1500ms&helo=sender.example.org&skip-verify=1",
			email.Config{Host: "127.0.0.1", Port: 1025, TLS: email.TLSNone, Timeout: 1500 * time.Millisecond,
				HELO: "sender.example.org", SkipVerify: true}},
		{"IPv6", "smtp://[::1]:25?tls=none",
			email.Config{Host: "::1", Port: 25, TLS: email.TLSNone, Timeout: 30 * time.Second}},
		{"SchemeCase", "SMTP://relay.example.org",
			email.Config{Host: "relay.example.org", Port: 587, TLS: email.TLSStartTLS, Timeout: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := email.ParseURL(tt.url)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if got.Now != nil {
				t.Errorf("Now = non-nil, want nil")
			}
			got.Now = nil
			if !reflect.DeepEqual(got, tt.want) || got.Password != tt.want.Password {
				t.Errorf("ParseURL(%q)\n got %#v\nwant %#v", tt.url, got, tt.want)
			}
		})
	}
}

func TestParseURL_Errors(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"ErrScheme", "http://relay.example.org", `unsupported scheme "http"`},
		{"ErrNoScheme", "relay.example.org:25", "scheme"},
		{"ErrNoHost", "smtp://:25", "missing host"},
		{"ErrNoHostAtAll", "smtp://", "missing host"},
		{"ErrPortText", "smtp://u:secret@relay.example.org:smtp", `invalid port ":smtp"`},
		{"ErrPortRange", "smtp://relay.example.org:70000", `bad port "70000"`},
		{"ErrPortZero", "smtp://relay.example.org:0", `bad port "0"`},
		{"ErrTLS", "smtp://relay.example.org?tls=ssl", `bad tls="ssl"`},
		{"ErrSMTPSConflict", "smtps://relay.example.org?tls=none", "smtps:// conflicts with tls=none"},
		{"ErrTimeout", "smtp://relay.example.org?timeout=10", `bad timeout="10"`},
		{"ErrTimeoutNegative", "smtp://relay.example.org?timeout=-1s", `bad timeout="-1s"`},
		{"ErrHELO", "smtp://relay.example.org?helo=a%20b", `bad helo="a b"`},
		{"ErrHELOCRLF", "smtp://relay.example.org?helo=a%0D%0AMAIL", "bad helo="},
		{"ErrSkipVerify", "smtp://relay.example.org?skip-verify=maybe", `bad skip-verify="maybe"`},
		{"ErrUnknownParam", "smtp://relay.example.org?tsl=none", `unknown query parameter "tsl"`},
		{"ErrRepeatedParam", "smtp://relay.example.org?tls=none&tls=starttls", `"tls" given 2 times`},
		{"ErrPath", "smtp://relay.example.org/inbox", `unexpected path "/inbox"`},
		{"ErrPasswordWithoutUser", "smtp://:secret@relay.example.org", "password given without a user name"},
		{"ErrBadEscape", "smtp://user:sec%zzret@relay.example.org", "invalid %-escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := email.ParseURL(tt.url)
			if err == nil {
				t.Fatalf("ParseURL(%q): no error, want %q", tt.url, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURL(%q) error = %q, want it to contain %q", tt.url, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "zz") {
				t.Errorf("ParseURL(%q) error %q reveals the password", tt.url, err)
			}
		})
	}
}

func TestConfig_String(t *testing.T) {
	cfg, err := email.ParseURL("smtp://user:secret@relay.example.org?timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, "secret") {
			t.Errorf("%q reveals the password", s)
		}
		if !strings.Contains(s, "relay.example.org:587") {
			t.Errorf("%q lacks the relay address", s)
		}
	}
	back, err := email.ParseURL(cfg.String())
	if err != nil {
		t.Fatalf("ParseURL(String()): %v", err)
	}
	back.Password = cfg.Password
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip: got %#v, want %#v", back, cfg)
	}
}
