package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestWeb_ProviderRefWebhooks: an incident sent through a relay
// configured as a sending service (provider= on --smtp) carries each
// notice's reference in that service's metadata header; the service's
// webhook event, echoing only that metadata (no returned headers, a
// Message-ID of the service's own), is matched to the notice by it: the
// notice fails and its letter is queued. A reference with a forged tag
// matches nothing.
func TestWeb_ProviderRefWebhooks(t *testing.T) {
	const mgKey, pmSecret, sesSecret = "key-mailgun-0123456789", "postmark-secret-0123456789", "ses-secret-0123456789abcdef"
	sgKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&sgKey.PublicKey)
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	tests := []struct {
		provider, header string
		ref              func(v string) string // the reference out of the header value
		req              func(t *testing.T, rcpt, ref string) hookReq
	}{
		{"postmark", "X-Pm-Metadata-Notice", func(v string) string { return v }, func(t *testing.T, rcpt, ref string) hookReq {
			return hookReq{path: "/webhooks/bounces/postmark", user: "postmark", pass: pmSecret, body: j(map[string]any{
				"RecordType": "Bounce", "ID": 77, "Type": "HardBounce", "Email": rcpt, "Details": "smtp;550 5.1.1 no such user",
				"BouncedAt": "2026-11-28T12:30:00Z", "MessageID": "pm-own-id", "Metadata": map[string]string{"notice": ref}})}
		}},
		{"mailgun", "X-Mailgun-Variables", func(v string) string {
			var m map[string]string
			json.Unmarshal([]byte(v), &m)
			return m["notice"]
		}, func(t *testing.T, rcpt, ref string) hookReq {
			var body map[string]any
			json.Unmarshal([]byte(mailgunBody(t, mgKey, "tok-ref-"+ref, "mg-ref-"+ref, rcpt, "<mg-own@mailgun.example>", "permanent")), &body)
			body["event-data"].(map[string]any)["user-variables"] = map[string]string{"notice": ref}
			return hookReq{path: "/webhooks/bounces/mailgun", body: j(body)}
		}},
		{"sendgrid", "X-Smtpapi", func(v string) string {
			var m struct {
				U map[string]string `json:"unique_args"`
			}
			json.Unmarshal([]byte(v), &m)
			return m.U["notice"]
		}, func(t *testing.T, rcpt, ref string) hookReq {
			body := j([]map[string]any{{"email": rcpt, "event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 no such user",
				"sg_event_id": "sg-ref-" + ref, "smtp-id": "<sg-own@sendgrid.example>", "timestamp": 1795000100, "notice": ref}})
			const ts = "1795000200"
			sum := sha256.Sum256([]byte(ts + body))
			sig, err := ecdsa.SignASN1(rand.Reader, sgKey, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			return hookReq{path: "/webhooks/bounces/sendgrid", body: body, header: []string{
				"X-Twilio-Email-Event-Webhook-Signature", base64.StdEncoding.EncodeToString(sig), "X-Twilio-Email-Event-Webhook-Timestamp", ts}}
		}},
		{"ses", "X-Ses-Message-Tags", func(v string) string { return strings.TrimPrefix(v, "notice=") }, func(t *testing.T, rcpt, ref string) hookReq {
			msg := j(map[string]any{"notificationType": "Bounce",
				"bounce": map[string]any{"bounceType": "Permanent", "feedbackId": "fb-ref-" + ref, "timestamp": "2026-11-28T12:30:00.000Z",
					"bouncedRecipients": []map[string]string{{"emailAddress": rcpt, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}}},
				"mail": map[string]any{"messageId": "ses-own-id", "headersTruncated": true, "tags": map[string][]string{"notice": {ref}}}})
			return hookReq{path: "/webhooks/bounces/ses?secret=" + sesSecret, body: j(map[string]string{"Type": "Notification", "MessageId": "sns-" + ref, "Message": msg})}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			c := newCLI(t)
			c.seed()
			c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
			c.ok("incident", "scope", "1", "--all")
			c.ok("incident", "plan", "1")
			srv := smtptest.Start(t)
			c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL()+"&provider="+tt.provider)
			var ana smtptest.Received
			for _, m := range srv.Messages() {
				if m.To[0] == "ana@example.org" {
					ana = m
				}
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(ana.Data))
			if err != nil {
				t.Fatal(err)
			}
			ref := tt.ref(msg.Header.Get(tt.header))
			if !strings.Contains(ana.From, "+"+ref+"@") || ref == "" {
				t.Fatalf("%s header %q: reference %q is not the return path's %s", tt.header, msg.Header.Get(tt.header), ref, ana.From)
			}
			c.env["BREACHNOTICE_WEBHOOK_MAILGUN_KEY"] = mgKey
			c.env["BREACHNOTICE_WEBHOOK_POSTMARK_SECRET"] = pmSecret
			c.env["BREACHNOTICE_WEBHOOK_SENDGRID_PUBLIC_KEY"] = base64.StdEncoding.EncodeToString(der)
			c.env["BREACHNOTICE_WEBHOOK_SES_SECRET"] = sesSecret
			h := c.server().handler
			db := c.openDB()
			defer db.Close()

			id, _, _ := strings.Cut(ref, ".")
			forged := id + ".aaaaaaaaaaaaaaaa"
			r := postHook(t, h, tt.req(t, ana.To[0], forged))
			if r.status != http.StatusOK || !strings.Contains(r.body, "tag does not verify") {
				t.Errorf("forged reference: %d\n%s", r.status, r.body)
			}
			r = postHook(t, h, tt.req(t, ana.To[0], ref))
			var res hookResult
			if err := json.Unmarshal([]byte(r.body), &res); r.status != http.StatusOK || err != nil || res.Bounced != 1 || res.LettersQueued != 1 {
				t.Fatalf("webhook with the reference: %d %v\n%s", r.status, err, r.body)
			}
			var state, by string
			db.QueryRow(`SELECT n.state, b.matched_by FROM notices n JOIN bounces b ON b.notice_id = n.id WHERE n.message_id = ?`, ana.MessageID).Scan(&state, &by)
			if state != "failed" || by != "return-path" {
				t.Errorf("ana's notice %q matched by %q, want failed by the reference", state, by)
			}
		})
	}
}
