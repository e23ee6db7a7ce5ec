package email_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/dkim"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestSMTP_DKIMAndReturnPath sends signed notices with their own return
// paths to an in-process SMTP server: the bytes it received verify against
// the public key, hash to Result.SHA256, and came with the return path as
// MAIL FROM; one changed body byte breaks the signature.
func TestSMTP_DKIMAndReturnPath(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]*dkim.Key{
		"rsa":     {Domain: "controller.example", Selector: "s1", Signer: rsaKey},
		"ed25519": {Domain: "controller.example", Selector: "s2", Signer: edKey},
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg := mustConfig(t, srv, 5*time.Second)
			conn := mustOpen(t, email.NewSMTP(cfg))
			m := newMessage(42, "ana@example.net")
			m.DKIM = key
			m.ReturnPath = "bounce+42.abcdefghijklmnop@bounces.controller.example"
			r := conn.Send(context.Background(), m)
			if r.Outcome != notify.Delivered {
				t.Fatalf("Send = %+v", r)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages", len(got))
			}
			rec := got[0]
			if rec.From != m.ReturnPath {
				t.Errorf("MAIL FROM = %q, want %q", rec.From, m.ReturnPath)
			}
			if !bytes.HasPrefix(rec.Data, []byte("DKIM-Signature: ")) {
				t.Errorf("delivered message does not start with its signature:\n%.200s", rec.Data)
			}
			if sum := sha256.Sum256(rec.Data); r.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("Result.SHA256 %s is not the hash of the delivered bytes %x", r.SHA256, sum)
			}
			pub, _ := dkim.RecordValue(key.Signer)
			if err := dkim.Verify(rec.Data, pub); err != nil {
				t.Fatalf("delivered message does not verify: %v", err)
			}
			// The From header is the one the relay and reader see.
			p := parseMessage(t, rec.Data)
			if got := p.header.Get("X-Breachnotice-Ref"); got != m.ReturnPath {
				t.Errorf("X-Breachnotice-Ref = %q, want the return path %s", got, m.ReturnPath)
			}
			if p.from.Address != m.From {
				t.Errorf("From header = %s, want %s (the return path goes in the envelope only)", p.from.Address, m.From)
			}
			bad := bytes.Clone(rec.Data)
			i := bytes.LastIndex(bad, []byte("Hola"))
			bad[i] = 'h'
			if err := dkim.Verify(bad, pub); err == nil {
				t.Error("a changed body byte still verifies")
			}
		})
	}
}

// TestOutbox_DKIM: the outbox writes the signed message, and its hash.
func TestOutbox_DKIM(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	conn := mustOpen(t, email.NewOutbox(dir))
	m := newMessage(7, "bo@example.net")
	m.DKIM = &dkim.Key{Domain: "controller.example", Selector: "s", Signer: edKey}
	r := conn.Send(context.Background(), m)
	if r.Outcome != notify.Delivered {
		t.Fatal(r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "7.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); r.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 is not the file's")
	}
	pub, _ := dkim.RecordValue(edKey)
	if err := dkim.Verify(b, pub); err != nil {
		t.Errorf("outbox file does not verify: %v", err)
	}
}
