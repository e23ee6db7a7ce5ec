package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWeb_SNSSubscriptionConfirm: an SNS SubscriptionConfirmation to the
// SES webhook, signed with the key of the certificate its SigningCertURL
// serves, is confirmed by visiting its SubscribeURL; one whose signature
// does not verify, or whose certificate or subscription URL is not on an
// allowed host, is refused (401) and nothing is visited. The test serves
// a self-signed certificate from a TLS server of its own and widens the
// allowed hosts to it, as the production code allows only SNS hosts.
func TestWeb_SNSSubscriptionConfirm(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	var confirmed atomic.Int32
	aws := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cert.pem":
			w.Write(certPEM)
		case "/confirm":
			if r.URL.Query().Get("Token") == "tok-1" {
				confirmed.Add(1)
			}
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer aws.Close()

	c := newCLI(t)
	c.seed()
	const secret = "ses-secret-0123456789abcdef"
	c.env["BREACHNOTICE_WEBHOOK_SES_SECRET"] = secret
	s := c.server()
	if s.hooks.sns.allowHost("127.0.0.1") || !s.hooks.sns.allowHost("sns.eu-west-1.amazonaws.com") || s.hooks.sns.allowHost("sns.evil.example") {
		t.Fatal("the default client must allow SNS hosts only")
	}
	prod := s.hooks.sns
	test := newSNSClient()
	test.http = aws.Client()
	test.allowHost = func(h string) bool { return h == "127.0.0.1" }
	s.hooks.sns = test

	msg := func(mut func(m *snsMessage)) string {
		m := snsMessage{Type: "SubscriptionConfirmation", MessageID: "m-1", Token: "tok-1", TopicArn: "arn:aws:sns:us-east-1:123456789012:bounces",
			Message: "You have chosen to subscribe", SubscribeURL: aws.URL + "/confirm?Action=ConfirmSubscription&Token=tok-1",
			Timestamp: "2026-11-28T12:00:00.000Z", SignatureVersion: "2", SigningCertURL: aws.URL + "/cert.pem"}
		sum := sha256.Sum256([]byte(m.stringToSign()))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		m.Signature = base64.StdEncoding.EncodeToString(sig)
		if mut != nil {
			mut(&m)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	path := "/webhooks/bounces/ses?secret=" + secret
	for _, tc := range []struct {
		name string
		req  hookReq
		use  *snsClient
	}{
		{"no secret", hookReq{path: "/webhooks/bounces/ses", body: msg(nil)}, test},
		{"tampered", hookReq{path: path, body: msg(func(m *snsMessage) { m.TopicArn += "-other" })}, test},
		{"not signed", hookReq{path: path, body: msg(func(m *snsMessage) { m.Signature = "" })}, test},
		{"cert elsewhere", hookReq{path: path, body: msg(func(m *snsMessage) { m.SigningCertURL = "http://127.0.0.1/cert.pem" })}, test},
		{"production hosts only", hookReq{path: path, body: msg(nil)}, prod},
	} {
		s.hooks.sns = tc.use
		if r := postHook(t, s.handler, tc.req); r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401\n%s", tc.name, r.status, r.body)
		}
	}
	if confirmed.Load() != 0 {
		t.Fatalf("a refused confirmation was followed")
	}
	s.hooks.sns = test
	r := postHook(t, s.handler, hookReq{path: path, body: msg(nil)})
	if r.status != http.StatusOK || !strings.Contains(r.body, "confirmed") || confirmed.Load() != 1 {
		t.Fatalf("good confirmation: %d, visited %d times\n%s", r.status, confirmed.Load(), r.body)
	}
	db := c.openDB()
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'bounce.webhook.subscribe' AND detail LIKE '%confirmed%'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d audited confirmations, want 1", n)
	}
}

// TestWeb_MailgunTokensSurviveRestart: a Mailgun token is remembered in
// the database, so a captured signature replayed on another event after
// serve restarts is still refused; the same delivery retried is accepted;
// a signature older than the token window is refused, and tokens past it
// are forgotten.
func TestWeb_MailgunTokensSurviveRestart(t *testing.T) {
	c := newCLI(t)
	c.seed()
	const mgKey = "key-mailgun-0123456789"
	c.env["BREACHNOTICE_WEBHOOK_MAILGUN_KEY"] = mgKey
	body := mailgunBody(t, mgKey, "tok-restart", "mg-event-r1", "x@example.net", "<other@mail.example>", "permanent")
	if r := postHook(t, c.server().handler, hookReq{path: "/webhooks/bounces/mailgun", body: body}); r.status != http.StatusOK {
		t.Fatalf("first delivery: %d\n%s", r.status, r.body)
	}
	// serve restarts: a new server, the same database.
	h := c.server().handler
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/mailgun", body: body}); r.status != http.StatusOK {
		t.Errorf("a retry of the same delivery after the restart: %d, want 200", r.status)
	}
	other := strings.Replace(body, "x@example.net", "y@example.net", 1)
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/mailgun", body: other}); r.status != http.StatusUnauthorized {
		t.Errorf("the token on another event after the restart: %d, want 401", r.status)
	}
	// Two weeks later the signature is too old, and the token forgotten.
	c.now = c.now.Add(30 * 24 * time.Hour)
	h = c.server().handler
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/mailgun", body: body}); r.status != http.StatusUnauthorized {
		t.Errorf("a signature past the token window: %d, want 401", r.status)
	}
	db := c.openDB()
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM webhook_tokens`).Scan(&n)
	if n != 0 {
		t.Errorf("%d tokens remembered past the window", n)
	}
}
