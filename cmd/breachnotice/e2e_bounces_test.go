//go:build e2e

package main

import (
	"archive/zip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/dkim"
)

// TestE2E_BouncesThroughMailpit: notices go out through mailpit signed
// with the controller's DKIM key (they verify against the published
// record) and each with its own return path; bounces for two of them are
// imported; the one with a postal address is in the next mail-house
// batch, and the bounce is in the proof bundle, which verifies.
func TestE2E_BouncesThroughMailpit(t *testing.T) {
	smtpURL, api := startMailpit(t)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	env := append(os.Environ(), e2eStore(t, dir)...)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("breachnotice %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	run("controllers", "add", "--id", "op", "--name", "OpenLearn", "--from", "notice@openlearn.example",
		"--postal-address", "141 Portland St;Cambridge, MA 02139", "--contact-email", "privacy@openlearn.example")
	run("controllers", "update", "op", "--dkim-key", write("dkim.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))),
		"--dkim-selector", "e2e", "--bounce-domain", "bounces.openlearn.example")
	run("accounts", "import", write("accounts.csv", `id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
a1,ana,Ana García,ana@example.org,es-US,US,US-CA,1 Main St,,Los Angeles,90012,yes,active
a4,di,Di Lee,di@example.org,en,US,US-CA,,,,,yes,active
a5,ed,Ed Roe,ed@example.org,en,US,US-CA,5 Elm St,,Fresno,93650,yes,active
`))
	run("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	run("incident", "scope", "1", "--all")
	run("incident", "plan", "1")
	if out, err := func() ([]byte, error) {
		cmd := exec.Command(bin, "incident", "send", "1", "--channel", "email", "--smtp", smtpURL)
		cmd.Dir, cmd.Env = dir, env
		return cmd.CombinedOutput()
	}(); err != nil {
		t.Fatalf("send: %v\n%s\n%s", err, out, run("ledger", "list", "--controller", "op", "--jsonl"))
	}

	rec := run("controllers", "dkim-record", "op")
	var value strings.Builder
	for i, part := range strings.Split(rec, `"`) {
		if i%2 == 1 {
			value.WriteString(part)
		}
	}
	type sent struct{ rp, rcpt, msgID string }
	byRcpt := map[string]sent{}
	for _, m := range mailpitMessages(t, api) {
		raw := httpGet(t, api+"/api/v1/message/"+m.ID+"/raw")
		if err := dkim.Verify([]byte(raw), value.String()); err != nil {
			t.Errorf("message to %v does not verify in mailpit: %v", m.To, err)
		}
		var full struct {
			ReturnPath string `json:"ReturnPath"`
		}
		if err := json.Unmarshal([]byte(httpGet(t, api+"/api/v1/message/"+m.ID)), &full); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(full.ReturnPath, "bounce+") || !strings.HasSuffix(full.ReturnPath, "@bounces.openlearn.example") {
			t.Errorf("return path %q", full.ReturnPath)
		}
		byRcpt[m.To[0].Address] = sent{full.ReturnPath, m.To[0].Address, "<" + m.MessageID + ">"}
	}
	if len(byRcpt) != 3 {
		t.Fatalf("mailpit holds mail for %v", byRcpt)
	}
	bounceFor := func(s sent, status string) string {
		return fmt.Sprintf(`From: MAILER-DAEMON@mx.example (Mail Delivery System)
To: %[1]s
Subject: Undelivered Mail Returned to Sender
Date: Tue, 24 Nov 2026 10:15:02 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<%[2]s>: host mx.example.org said: 550 %[3]s User unknown

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example
Arrival-Date: Tue, 24 Nov 2026 10:14:58 +0000

Final-Recipient: rfc822; %[2]s
Action: failed
Status: %[3]s
Diagnostic-Code: smtp; 550 %[3]s User unknown

--B
Content-Type: text/rfc822-headers

Message-ID: %[4]s

--B--
`, s.rp, s.rcpt, status, s.msgID)
	}
	bdir := filepath.Join(dir, "bounces")
	os.MkdirAll(bdir, 0o700)
	write("bounces/ana.eml", bounceFor(byRcpt["ana@example.org"], "5.1.1"))
	write("bounces/di.eml", bounceFor(byRcpt["di@example.org"], "5.1.1"))
	out := run("bounces", "import", bdir)
	if !strings.Contains(out, "2 bounced (1 letters queued, 1 unreachable") || !strings.Contains(out, "0 unmatched") {
		t.Errorf("bounces import:\n%s", out)
	}
	if sub := run("incident", "substitute", "1"); !strings.Contains(sub, "a4") {
		t.Errorf("Di is not owed substitute notice:\n%s", sub)
	}
	batch := filepath.Join(dir, "batch.zip")
	run("letters", "export", "1", "--out", batch)
	manifest := zipFile(t, batch, "manifest.csv")
	if !strings.Contains(manifest, ",a1,") || strings.Contains(manifest, ",a5,") {
		t.Errorf("the batch should hold Ana's letter only:\n%s", manifest)
	}
	bundle := filepath.Join(dir, "proof.zip")
	run("ledger", "export", "--controller", "op", "--out", bundle)
	if n := strings.Count(zipAll(t, bundle), `"email_bounced"`); n < 2 {
		t.Errorf("the proof bundle names %d email_bounced entries, want 2", n)
	}
	run("ledger", "verify", bundle)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, r.Status, b)
	}
	return string(b)
}

// zipAll is every file of a zip, concatenated.
func zipAll(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b strings.Builder
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		b.Write(data)
	}
	return b.String()
}
