package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseRelays reads the relays files in testdata/relays: the good one
// gives its relays with weights, rate, provider and the password from the
// environment; each bad one is refused with FILE:LINE: FIELD: reason, and
// no error quotes a password or a user name.
func TestParseRelays(t *testing.T) {
	env := map[string]string{"MX1_PASSWORD": "env-secret-pass"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		file, err string
	}{
		{"good.txt", ""},
		{"bad-weight.txt", `bad-weight.txt:1: weight: "three" is not a whole number from 1 to 1000`},
		{"bad-rate.txt", `bad-rate.txt:2: rate: "-1" is not a positive number`},
		{"password-twice.txt", "password-twice.txt:1: password-env: the url holds a password already"},
		{"password-unset.txt", "password-unset.txt:1: password-env: UNSET_VAR is not set"},
		{"bad-url.txt", `bad-url.txt:1: url: relay url "smtp://xxxxx@mx1.example.org:587/x": unexpected path`},
		{"unknown-field.txt", "unknown-field.txt:2: color: unknown field"},
		{"duplicate.txt", "duplicate.txt:2: url: smtp://mx1.example.org:587 is line 1's relay again"},
		{"bad-provider.txt", `bad-provider.txt:1: provider: unknown provider "sparkpost"`},
		{"empty.txt", "empty.txt: no relay in the file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "relays", tt.file)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			specs, err := ParseRelays(tt.file, f, getenv)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error %v, want prefix %q", err, tt.err)
				}
				for _, secret := range []string{"hunter2pass", "env-secret-pass", "user:"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error quotes %q: %v", secret, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(specs) != 2 {
				t.Fatalf("%d relays, want 2", len(specs))
			}
			a, b := specs[0], specs[1]
			if a.Config.Host != "mx1.example.org" || a.Weight != 3 || a.Rate != 50 || a.Config.Password != "env-secret-pass" ||
				a.Config.Username != "notices" || a.Config.Provider != ProviderPostmark {
				t.Errorf("first relay %+v weight %d rate %v", a.Config, a.Weight, a.Rate)
			}
			if b.Config.Port != 2525 || b.Config.TLS != TLSNone || b.Weight != 1 || b.Rate != 0 || b.Config.Provider != "" {
				t.Errorf("second relay %+v weight %d rate %v", b.Config, b.Weight, b.Rate)
			}
			if s := a.Config.String(); strings.Contains(s, "env-secret-pass") {
				t.Errorf("String() shows the password: %s", s)
			}
		})
	}
}
