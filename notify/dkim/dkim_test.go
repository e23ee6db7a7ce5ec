package dkim_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/dkim"
)

func pemPKCS8(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

const message = "From: =?UTF-8?q?Zo=C3=AB?= <dpo@controller.example>\r\n" +
	"To: <ana@example.org>\r\n" +
	"Subject: Notice of a data breach\r\n" +
	"Date: Sat, 14 Mar 2026 09:26:53 +0000\r\n" +
	"Message-ID: <notice-1.inc-7@controller.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Dear Ana,\r\n\r\nwe found that your account data was exposed.\r\n"

func TestSignVerify(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	for _, tc := range []struct {
		name, alg string
		pem       []byte
	}{
		{"rsa-2048 pkcs8", "rsa", pemPKCS8(t, rsaKey)},
		{"rsa-2048 pkcs1", "rsa", rsaPKCS1},
		{"ed25519", "ed25519", pemPKCS8(t, edKey)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := dkim.ParseKey(tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			if got := dkim.Algorithm(k); got != tc.alg {
				t.Errorf("Algorithm = %q, want %q", got, tc.alg)
			}
			key := &dkim.Key{Domain: "controller.example", Selector: "bn2026", Signer: k}
			sig, err := key.Sign([]byte(message))
			if err != nil {
				t.Fatal(err)
			}
			h := string(sig)
			for _, want := range []string{"DKIM-Signature:", "c=relaxed/relaxed", "d=controller.example", "s=bn2026", "a=" + tc.alg + "-sha256"} {
				if !strings.Contains(h, want) {
					t.Errorf("signature lacks %q:\n%s", want, h)
				}
			}
			for _, f := range dkim.HeaderKeys {
				if !strings.Contains(strings.ToLower(strings.Join(strings.Fields(h), "")), strings.ToLower(f)) {
					t.Errorf("h= lacks %s:\n%s", f, h)
				}
			}
			if !strings.HasSuffix(h, "\r\n") {
				t.Errorf("signature field does not end in CRLF")
			}
			signed := append(append([]byte{}, sig...), message...)
			rec, err := dkim.RecordValue(k)
			if err != nil {
				t.Fatal(err)
			}
			if err := dkim.Verify(signed, rec); err != nil {
				t.Fatalf("signed message does not verify: %v", err)
			}
			// Relaxed canonicalisation forgives re-folded white space ...
			relaxed := bytes.Replace(signed, []byte("Subject: Notice"), []byte("Subject:   Notice"), 1)
			if err := dkim.Verify(relaxed, rec); err != nil {
				t.Errorf("extra white space in a header broke a relaxed signature: %v", err)
			}
			// ... but not one changed byte of the body or a signed header.
			i := bytes.Index(signed, []byte("exposed"))
			body := bytes.Clone(signed)
			body[i] = 'E'
			if err := dkim.Verify(body, rec); err == nil {
				t.Error("a changed body byte still verifies")
			}
			subj := bytes.Replace(signed, []byte("data breach"), []byte("data breech"), 1)
			if err := dkim.Verify(subj, rec); err == nil {
				t.Error("a changed subject still verifies")
			}
			if err := dkim.Verify([]byte(message), rec); err == nil {
				t.Error("an unsigned message verifies")
			}
			// Another key's record does not verify it.
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			orec, _ := dkim.RecordValue(other)
			if err := dkim.Verify(signed, orec); err == nil {
				t.Error("verifies against another key")
			}
		})
	}
}

func TestParseKeyRefuses(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := x509.MarshalPKIXPublicKey(ed.Public())
	for _, tc := range []struct {
		name, want string
		pem        []byte
	}{
		{"rsa-1024", "RSA key of 1024 bits", pemPKCS8(t, small)},
		{"ecdsa", "want RSA or ed25519", pemPKCS8(t, ec)},
		{"public key", `PEM block "PUBLIC KEY"`, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})},
		{"not pem", "no PEM block", []byte("hello")},
		{"two blocks", "more than one PEM block", append(pemPKCS8(t, ed), pemPKCS8(t, ed)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dkim.ParseKey(tc.pem)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseKey error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := dkim.Record(k, "bn2026", "controller.example.")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec, "bn2026._domainkey.controller.example. IN TXT ( \"v=DKIM1; k=rsa; p=") {
		t.Errorf("record = %s", rec)
	}
	// The value is split into strings of at most 255 bytes, which join
	// back to the value.
	val, _ := dkim.RecordValue(k)
	var joined strings.Builder
	for i, part := range strings.Split(rec, `"`) {
		if i%2 == 1 {
			if len(part) > 255 {
				t.Errorf("TXT string of %d bytes", len(part))
			}
			joined.WriteString(part)
		}
	}
	if joined.String() != val {
		t.Errorf("record strings join to\n%s\nwant\n%s", joined.String(), val)
	}
	var _ crypto.Signer = k
	for _, bad := range []string{"", "-x", "a..b", "a b", "a_b"} {
		if dkim.CheckSelector(bad) == nil {
			t.Errorf("selector %q accepted", bad)
		}
	}
}
