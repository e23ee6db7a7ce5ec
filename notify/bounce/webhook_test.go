package bounce

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseWebhook reads each provider's event fixtures
// (testdata/webhooks) into reports: kind, recipient, RFC 3463 status, and
// what names the notice (X-Breachnotice-Ref return paths, Message-IDs).
func TestParseWebhook(t *testing.T) {
	type ev struct{ kind, addr, status, refs, mids string }
	const ref = "bounce+%s.abcdefghijklmnop@bounces.openlearn.example"
	rp := func(id string) string { return strings.Replace(ref, "%s", id, 1) }
	mid := func(id string) string { return "<notice-" + id + ".incident-1@openlearn.example>" }
	noteRef := func(id string) string { return "bounce+" + id + ".abcdefghijklmnop@ref.invalid" }
	for _, tc := range []struct {
		file, provider string
		want           []ev
		ignored        int
		subscribe      bool
	}{
		{"mailgun-permanent.json", ProviderMailgun, []ev{{"failure", "alice@example.com", "5.1.1", "", mid("7")}}, 0, false},
		{"mailgun-temporary.json", ProviderMailgun, []ev{{"failure", "bob@example.com", "4.0.0", rp("8"), mid("8")}}, 0, false},
		{"mailgun-delivered.json", ProviderMailgun, nil, 1, false},
		{"postmark-hard.json", ProviderPostmark, []ev{{"failure", "carol@example.com", "5.1.1", rp("9"), mid("9")}}, 0, false},
		{"postmark-soft.json", ProviderPostmark, []ev{{"failure", "dan@example.com", "4.2.2", rp("10"), ""}}, 0, false},
		{"postmark-autoresponder.json", ProviderPostmark, []ev{{"auto-reply", "eve@example.com", "4.0.0", "", ""}}, 0, false},
		{"postmark-spam.json", ProviderPostmark, nil, 1, false},
		{"sendgrid-batch.json", ProviderSendGrid, []ev{
			{"failure", "frank@example.com", "5.1.1", "", mid("11")},
			{"failure", "gina@example.com", "5.0.0", rp("12"), mid("12")},
			{"delay", "hal@example.com", "4.7.1", "", mid("13")},
			{"failure", "ivy@example.com", "4.0.0", "", mid("14")},
		}, 2, false},
		{"ses-permanent.json", ProviderSES, []ev{{"failure", "jo@example.com", "5.1.1", rp("15"), mid("15")}}, 0, false},
		{"ses-transient.json", ProviderSES, []ev{
			{"failure", "kim@example.com", "4.2.2", "", mid("16")},
			{"failure", "lee@example.com", "4.0.0", "", mid("16")},
		}, 0, false},
		{"ses-delivery.json", ProviderSES, nil, 1, false},
		{"ses-subscribe.json", ProviderSES, nil, 0, true},
		// The notice reference in each provider's metadata (a relay
		// configured with provider=), without the message's headers.
		{"mailgun-notice-ref.json", ProviderMailgun, []ev{{"failure", "mo@example.com", "5.1.1", noteRef("21"), "<20261128123000.abc@mg.openlearn.example>"}}, 0, false},
		{"postmark-notice-ref.json", ProviderPostmark, []ev{{"failure", "nan@example.com", "5.1.1", noteRef("22"), ""}}, 0, false},
		{"sendgrid-notice-ref.json", ProviderSendGrid, []ev{{"failure", "oz@example.com", "5.1.1", noteRef("23"), "<sg-rewritten-1@sendgrid.example>"}}, 0, false},
		{"ses-notice-ref.json", ProviderSES, []ev{{"failure", "pia@example.com", "5.1.1", noteRef("24"), ""}}, 0, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "webhooks", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			w, err := ParseWebhook(tc.provider, body)
			if err != nil {
				t.Fatal(err)
			}
			var got []ev
			seen := map[string]bool{}
			for _, e := range w.Events {
				r := e.Report
				if len(r.Recipients) != 1 {
					t.Fatalf("%s: %d recipients, want 1", e.Source, len(r.Recipients))
				}
				rc := r.Recipients[0]
				got = append(got, ev{string(r.Kind), rc.Address, rc.Status, strings.Join(r.ReturnPaths, ","), strings.Join(r.MessageIDs, ",")})
				if seen[r.SHA256] || len(r.SHA256) != 64 {
					t.Errorf("%s: hash %q not unique", e.Source, r.SHA256)
				}
				seen[r.SHA256] = true
				if strings.Contains(e.Source, "@") {
					t.Errorf("source %q names an address", e.Source)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("event %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			if w.Ignored != tc.ignored || (w.SubscribeURL != "") != tc.subscribe {
				t.Errorf("ignored %d (want %d), subscribe URL %q", w.Ignored, tc.ignored, w.SubscribeURL)
			}
			// The same delivery again is the same reports.
			again, _ := ParseWebhook(tc.provider, body)
			for i := range again.Events {
				if again.Events[i].Report.SHA256 != w.Events[i].Report.SHA256 {
					t.Errorf("event %d hashes differently on a second read", i)
				}
			}
		})
	}
	if _, err := ParseWebhook(ProviderSendGrid, []byte(`{"event":"bounce"}`)); err == nil {
		t.Error("a SendGrid body that is not an array was read")
	}
	if _, err := ParseWebhook("sparkpost", []byte(`{}`)); err == nil {
		t.Error("an unknown provider was read")
	}
}

func TestVerifyWebhookSignatures(t *testing.T) {
	mg := func(key, ts, token string) []byte {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(ts + token))
		return []byte(`{"signature":{"timestamp":"` + ts + `","token":"` + token + `","signature":"` + hex.EncodeToString(m.Sum(nil)) + `"},"event-data":{}}`)
	}
	if !VerifyMailgun([]byte("k1"), mg("k1", "1", "tok")) {
		t.Error("a good Mailgun signature was refused")
	}
	if VerifyMailgun([]byte("k1"), mg("k2", "1", "tok")) || VerifyMailgun(nil, mg("", "1", "tok")) ||
		VerifyMailgun([]byte("k1"), []byte(strings.Replace(string(mg("k1", "1", "tok")), `"1"`, `"2"`, 1))) {
		t.Error("a bad Mailgun signature was accepted")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := base64.StdEncoding.EncodeToString(der)
	body := []byte(`[{"event":"bounce"}]`)
	sum := sha256.Sum256(append([]byte("1795000000"), body...))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
	s := base64.StdEncoding.EncodeToString(sig)
	if err := ParseSendGridKey(pub); err != nil || !VerifySendGrid(pub, s, "1795000000", body) {
		t.Errorf("a good SendGrid signature was refused (%v)", err)
	}
	if VerifySendGrid(pub, s, "1795000001", body) || VerifySendGrid(pub, s, "1795000000", append(body, ' ')) || VerifySendGrid(pub, "", "1795000000", body) {
		t.Error("a bad SendGrid signature was accepted")
	}
	if ParseSendGridKey("not a key") == nil {
		t.Error("a bad SendGrid key was accepted")
	}
}
