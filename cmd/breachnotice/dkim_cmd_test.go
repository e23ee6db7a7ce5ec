package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/dkim"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestCLI_DKIMAndReturnPath: a controller given a DKIM key and a bounce
// domain sends every notice signed (verifying against the record
// controllers dkim-record prints) with its own return path.
func TestCLI_DKIMAndReturnPath(t *testing.T) {
	c := newCLI(t)
	c.seed()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	keyFile := c.file("dkim.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))

	// Refusals change nothing.
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallFile := c.file("small.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})))
	if _, errOut, code := c.run("controllers", "update", "op", "--name", "Renamed", "--dkim-key", smallFile, "--dkim-selector", "s"); code == 0 || !strings.Contains(errOut, "1024 bits") {
		t.Errorf("1024-bit key: exit %d %s", code, errOut)
	}
	if out := c.ok("controllers", "show", "op"); strings.Contains(out, "Renamed") || !strings.Contains(out, "dkim") || !strings.Contains(out, "not configured") {
		t.Errorf("after a refused key:\n%s", out)
	}
	if _, errOut, code := c.run("controllers", "update", "op", "--dkim-key", keyFile); code != 2 {
		t.Errorf("--dkim-key without selector: exit %d %s", code, errOut)
	}
	if _, _, code := c.run("controllers", "dkim-record", "op"); code == 0 {
		t.Error("dkim-record without a key succeeded")
	}

	c.ok("controllers", "update", "op", "--dkim-key", keyFile, "--dkim-selector", "bn2026", "--bounce-domain", "bounces.openlearn.example")
	show := c.ok("controllers", "show", "op")
	for _, want := range []string{"rsa key, selector bn2026", "bounces.openlearn.example"} {
		if !strings.Contains(show, want) {
			t.Errorf("controllers show lacks %q:\n%s", want, show)
		}
	}
	var shown struct {
		Email notify.EmailSettings `json:"email"`
	}
	js := c.ok("controllers", "show", "op", "--json")
	if err := json.Unmarshal([]byte(js), &shown); err != nil || shown.Email.DKIMSelector != "bn2026" || shown.Email.DKIMAlgorithm != "rsa" ||
		shown.Email.BounceDomain != "bounces.openlearn.example" || !strings.HasPrefix(shown.Email.DKIMRecord, "v=DKIM1; k=rsa; p=") {
		t.Errorf("controllers show --json: %v %+v\n%s", err, shown.Email, js)
	}
	rec := c.ok("controllers", "dkim-record", "op")
	if !strings.HasPrefix(rec, "bn2026._domainkey.openlearn.example. IN TXT (") {
		t.Fatalf("dkim-record: %s", rec)
	}
	var value strings.Builder
	for i, part := range strings.Split(rec, `"`) {
		if i%2 == 1 {
			value.WriteString(part)
		}
	}
	// The database holds the key sealed, never the PEM.
	db := c.openDB()
	var sealed []byte
	if err := db.QueryRow(`SELECT dkim_sealed FROM controller_email WHERE controller_id = 'op'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || strings.Contains(string(sealed), "PRIVATE KEY") {
		t.Errorf("sealed key: %d bytes, PEM visible: %v", len(sealed), strings.Contains(string(sealed), "PRIVATE KEY"))
	}
	if out := c.ok("audit"); !strings.Contains(out, "controller.dkim") {
		t.Errorf("audit lacks the DKIM change:\n%s", out)
	}

	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	srv := smtptest.Start(t)
	c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())
	msgs := srv.Messages()
	if len(msgs) == 0 {
		t.Fatal("nothing sent")
	}
	for _, m := range msgs {
		if err := dkim.Verify(m.Data, value.String()); err != nil {
			t.Errorf("message to %v does not verify against the published record: %v", m.To, err)
		}
		id, tag, ok := notify.ParseReturnPath(m.From)
		if !ok || tag == "" || !strings.HasSuffix(m.From, "@bounces.openlearn.example") {
			t.Errorf("MAIL FROM %q is not a return path", m.From)
			continue
		}
		var to string
		if err := db.QueryRow(`SELECT address FROM notices WHERE id = ?`, id).Scan(&to); err != nil || to != m.To[0] {
			t.Errorf("return path %s names notice %d (to %q), message went to %v", m.From, id, to, m.To)
		}
	}

	// An ed25519 key replaces it.
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	der, _ = x509.MarshalPKCS8PrivateKey(ed)
	c.ok("controllers", "update", "op", "--dkim-key", c.file("ed.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))), "--dkim-selector", "ed1")
	if rec := c.ok("controllers", "dkim-record", "op"); !strings.Contains(rec, "ed1._domainkey.openlearn.example. IN TXT ( \"v=DKIM1; k=ed25519; p=") {
		t.Errorf("ed25519 record: %s", rec)
	}
}
