package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// hookReq is one webhook delivery a test posts.
type hookReq struct {
	path   string
	body   string
	header []string // name, value pairs
	user   string   // basic auth, when set
	pass   string
}

func postHook(t *testing.T, h http.Handler, q hookReq) response {
	t.Helper()
	r := httptest.NewRequest("POST", q.path, strings.NewReader(q.body))
	for i := 0; i+1 < len(q.header); i += 2 {
		r.Header.Set(q.header[i], q.header[i+1])
	}
	if q.user != "" || q.pass != "" {
		r.SetBasicAuth(q.user, q.pass)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{w.Code, w.Result().Header, w.Body.String()}
}

type hookResult struct {
	Provider      string `json:"provider"`
	Read          int    `json:"read"`
	Bounced       int    `json:"bounced"`
	LettersQueued int    `json:"letters_queued"`
	Temporary     int    `json:"temporary"`
	Delayed       int    `json:"delayed"`
	Duplicates    int    `json:"duplicates"`
	Ignored       int    `json:"ignored"`
	Unmatched     []struct{ Source, Reason string }
}

func mailgunBody(t *testing.T, key, token, eventID, rcpt, msgID, severity string) string {
	t.Helper()
	ts := "1795000000"
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + token))
	code, enh := 550, "5.1.1"
	if severity == "temporary" {
		code, enh = 452, "4.2.2"
	}
	b, err := json.Marshal(map[string]any{
		"signature": map[string]string{"timestamp": ts, "token": token, "signature": hex.EncodeToString(m.Sum(nil))},
		"event-data": map[string]any{"id": eventID, "event": "failed", "severity": severity, "recipient": rcpt, "timestamp": 1795000000.5,
			"delivery-status": map[string]any{"code": code, "enhanced-code": enh, "message": "mailbox unavailable", "description": ""},
			"message":         map[string]any{"headers": map[string]string{"message-id": strings.Trim(msgID, "<>"), "to": rcpt}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sesBody(t *testing.T, bounceType, feedback, rcpt, status string, headers map[string]string) string {
	t.Helper()
	var hs []map[string]string
	for k, v := range headers {
		hs = append(hs, map[string]string{"name": k, "value": v})
	}
	msg, err := json.Marshal(map[string]any{"notificationType": "Bounce",
		"bounce": map[string]any{"bounceType": bounceType, "feedbackId": feedback, "timestamp": "2026-11-28T12:30:00.000Z",
			"bouncedRecipients": []map[string]string{{"emailAddress": rcpt, "status": status, "diagnosticCode": "smtp; 550 " + status + " user unknown"}}},
		"mail": map[string]any{"messageId": "0100018c-ses-id", "headers": hs, "commonHeaders": map[string]any{"subject": "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "sns-" + feedback, "Message": string(msg)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWeb_BounceWebhooks sends an incident's emails to an in-process SMTP
// server, then posts each provider's bounce webhook to the serve handler:
// an authentic one fails the notice and queues its letter as `bounces
// import` does, one with a bad or missing signature is refused with 401
// and changes nothing, a replay changes nothing, and events naming no
// notice of ours (or a notice with another recipient, or a forged
// X-Breachnotice-Ref) are reported unmatched.
func TestWeb_BounceWebhooks(t *testing.T) {
	c := newCLI(t)
	c.seed()
	sent := sentIncident(t, c, `id,name,email,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
w1,Wen Mailgun,wen@example.org,US,US-CA,1 Mailgun Way,,Los Angeles,90012,yes,active
w2,Pia Postmark,pia@example.org,US,US-CA,2 Postmark Rd,,Los Angeles,90012,yes,active
w3,Sid Grid,sid@example.org,US,US-CA,3 Grid Ave,,Los Angeles,90012,yes,active
w4,Ses Amazon,ses@example.org,US,US-CA,4 Amazon Blvd,,Los Angeles,90012,yes,active
`,
		"wen@example.org", "pia@example.org", "sid@example.org", "ses@example.org", "cy@example.org")
	wen, pia, sid, ses, cy := sent["wen@example.org"], sent["pia@example.org"], sent["sid@example.org"], sent["ses@example.org"], sent["cy@example.org"]

	// Without secrets, no provider is enabled.
	if r := postHook(t, c.server().handler, hookReq{path: "/webhooks/bounces/mailgun", body: "{}"}); r.status != http.StatusNotFound {
		t.Errorf("mailgun webhook with no key configured: %d, want 404", r.status)
	}

	const mgKey, pmSecret, sesSecret = "key-mailgun-0123456789", "postmark-secret-0123456789", "ses-secret-0123456789abcdef"
	sgKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&sgKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	c.env["BREACHNOTICE_WEBHOOK_MAILGUN_KEY"] = mgKey
	c.env["BREACHNOTICE_WEBHOOK_POSTMARK_SECRET"] = pmSecret
	c.env["BREACHNOTICE_WEBHOOK_SENDGRID_PUBLIC_KEY"] = base64.StdEncoding.EncodeToString(der)
	c.env["BREACHNOTICE_WEBHOOK_SES_SECRET"] = sesSecret
	h := c.server().handler
	sgSign := func(ts, body string) string {
		sum := sha256.Sum256([]byte(ts + body))
		sig, err := ecdsa.SignASN1(rand.Reader, sgKey, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}

	db := c.openDB()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	letters := func() int { return count(`SELECT count(*) FROM notices WHERE channel = 'letter' AND state = 'queued'`) }
	ledgerSize := func() int { return count(`SELECT sum(size) FROM ledger_logs`) }
	state := func(m smtptest.Received) string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT state FROM notices WHERE message_id = ?`, m.MessageID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	mgGood := mailgunBody(t, mgKey, "tok-1", "mg-event-1", wen.To[0], wen.MessageID, "permanent")
	pmBody := `{"RecordType":"Bounce","ID":4323372036,"Type":"HardBounce","TypeCode":1,"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483",` +
		`"Email":"` + pia.To[0] + `","Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist",` +
		`"BouncedAt":"2026-11-28T12:30:00Z","Metadata":{"breachnotice_ref":"` + pia.From + `"}}`
	sgBody := `[{"email":"` + sid.To[0] + `","event":"processed","sg_event_id":"sg-p1","smtp-id":"` + sid.MessageID + `","timestamp":1795000000},` +
		`{"email":"` + sid.To[0] + `","event":"bounce","type":"bounce","status":"5.1.1","reason":"550 5.1.1 no such user","sg_event_id":"sg-b1","smtp-id":"` + sid.MessageID + `","timestamp":1795000100},` +
		`{"email":"` + cy.To[0] + `","event":"deferred","response":"451 try later","sg_event_id":"sg-d1","smtp-id":"` + cy.MessageID + `","timestamp":1795000100}]`
	const sgTS = "1795000200"
	sesGood := sesBody(t, "Permanent", "fb-1", ses.To[0], "5.1.1", map[string]string{"Message-ID": ses.MessageID, "X-Breachnotice-Ref": ses.From})

	lettersBefore := letters()
	for _, tc := range []struct {
		name string
		good hookReq
		bad  []hookReq
		who  smtptest.Received
	}{
		{"mailgun", hookReq{path: "/webhooks/bounces/mailgun", body: mgGood},
			[]hookReq{
				{path: "/webhooks/bounces/mailgun", body: mailgunBody(t, "wrong-key-0123456789", "tok-1", "mg-event-1", wen.To[0], wen.MessageID, "permanent")},
				{path: "/webhooks/bounces/mailgun", body: strings.Replace(mgGood, `"tok-1"`, `"tok-2"`, 1)},
				{path: "/webhooks/bounces/mailgun", body: `{"event-data":{"event":"failed","severity":"permanent"}}`},
			}, wen},
		{"postmark", hookReq{path: "/webhooks/bounces/postmark", body: pmBody, user: "postmark", pass: pmSecret},
			[]hookReq{
				{path: "/webhooks/bounces/postmark", body: pmBody, user: "postmark", pass: "wrong-secret-0123456789"},
				{path: "/webhooks/bounces/postmark", body: pmBody},
			}, pia},
		{"sendgrid", hookReq{path: "/webhooks/bounces/sendgrid", body: sgBody, header: []string{
			"X-Twilio-Email-Event-Webhook-Signature", sgSign(sgTS, sgBody), "X-Twilio-Email-Event-Webhook-Timestamp", sgTS}},
			[]hookReq{
				{path: "/webhooks/bounces/sendgrid", body: sgBody, header: []string{
					"X-Twilio-Email-Event-Webhook-Signature", sgSign(sgTS, sgBody+" "), "X-Twilio-Email-Event-Webhook-Timestamp", sgTS}},
				{path: "/webhooks/bounces/sendgrid", body: sgBody, header: []string{
					"X-Twilio-Email-Event-Webhook-Signature", sgSign(sgTS, sgBody), "X-Twilio-Email-Event-Webhook-Timestamp", "1795000201"}},
				{path: "/webhooks/bounces/sendgrid", body: sgBody},
			}, sid},
		{"ses", hookReq{path: "/webhooks/bounces/ses?secret=" + sesSecret, body: sesGood},
			[]hookReq{
				{path: "/webhooks/bounces/ses?secret=not-the-secret-0123456789", body: sesGood},
				{path: "/webhooks/bounces/ses", body: sesGood},
			}, ses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ledger0, letters0 := ledgerSize(), letters()
			for i, b := range tc.bad {
				if r := postHook(t, h, b); r.status != http.StatusUnauthorized {
					t.Errorf("bad delivery %d: %d, want 401\n%s", i, r.status, r.body)
				}
			}
			if ledgerSize() != ledger0 || letters() != letters0 || state(tc.who) != "sent" {
				t.Fatalf("a refused webhook changed something: ledger %d → %d, letters %d → %d, notice %s",
					ledger0, ledgerSize(), letters0, letters(), state(tc.who))
			}
			r := postHook(t, h, tc.good)
			var res hookResult
			if err := json.Unmarshal([]byte(r.body), &res); r.status != http.StatusOK || err != nil {
				t.Fatalf("good delivery: %d %v\n%s", r.status, err, r.body)
			}
			if res.Bounced != 1 || res.LettersQueued != 1 || len(res.Unmatched) != 0 || res.Provider != tc.name {
				t.Errorf("good delivery:\n%s", r.body)
			}
			if got := state(tc.who); got != "failed" {
				t.Errorf("notice after its bounce: %s, want failed", got)
			}
			if letters() != letters0+1 || ledgerSize() != ledger0+2 {
				t.Errorf("letters %d → %d (want +1), ledger %d → %d (want +2: email_bounced, letter_queued)", letters0, letters(), ledger0, ledgerSize())
			}
			// The provider retries: nothing changes.
			ledger1 := ledgerSize()
			r = postHook(t, h, tc.good)
			res = hookResult{}
			if err := json.Unmarshal([]byte(r.body), &res); r.status != http.StatusOK || err != nil || res.Duplicates != 1 || res.Bounced != 0 {
				t.Errorf("replay: %d %v\n%s", r.status, err, r.body)
			}
			if ledgerSize() != ledger1 || letters() != letters0+1 {
				t.Errorf("the replay changed the ledger or the letters")
			}
			if tc.name == "sendgrid" && (res.Ignored != 1 || res.Delayed != 1) {
				t.Errorf("sendgrid: a processed event is ignored, a deferral is a delay, not a bounce:\n%s", r.body)
			}
		})
	}
	if got := letters(); got != lettersBefore+4 {
		t.Errorf("letters queued by the webhooks: %d, want 4", got-lettersBefore)
	}
	if n := count(`SELECT count(*) FROM bounces WHERE matched_by = 'return-path'`); n != 2 {
		t.Errorf("bounces matched by X-Breachnotice-Ref (postmark metadata, SES headers): %d, want 2", n)
	}
	// Each accepted delivery is audited, under the provider's name.
	if n := count(`SELECT count(*) FROM audit WHERE action = 'bounce.webhook' AND object IN ('mailgun', 'postmark', 'sendgrid', 'ses')`); n != 8 {
		t.Errorf("audited webhook deliveries: %d, want 8 (4 providers, each twice)", n)
	}
	if n := count(`SELECT count(*) FROM audit WHERE action = 'bounce.webhook' AND object LIKE 'notice %'`); n != 4 {
		t.Errorf("audited bounced notices: %d, want 4", n)
	}
	if n := count(`SELECT count(*) FROM audit WHERE action = 'bounce.webhook' AND (detail LIKE '%@%' OR object LIKE '%@%')`); n != 0 {
		t.Errorf("%d audit entries hold an address", n)
	}

	// Mailgun's signature covers timestamp and token, not the event: a
	// captured one on another event is refused.
	ledger0, letters0 := ledgerSize(), letters()
	captured := strings.Replace(strings.Replace(mgGood, wen.To[0], cy.To[0], 1), strings.Trim(wen.MessageID, "<>"), strings.Trim(cy.MessageID, "<>"), 1)
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/mailgun", body: captured}); r.status != http.StatusUnauthorized {
		t.Errorf("a captured Mailgun signature on another event: %d, want 401\n%s", r.status, r.body)
	}
	if ledgerSize() != ledger0 || letters() != letters0 || state(cy) != "sent" {
		t.Errorf("a replayed Mailgun signature changed something")
	}

	// Events naming no notice of ours are reported, never guessed.
	forged := cy.From[:strings.IndexByte(cy.From, '.')+1] + "aaaaaaaaaaaaaaaa" + cy.From[strings.LastIndexByte(cy.From, '@'):]
	for _, tc := range []struct {
		name, reason string
		q            hookReq
	}{
		{"stranger", "no return path or Message-ID of a notice",
			hookReq{path: "/webhooks/bounces/mailgun", body: mailgunBody(t, mgKey, "tok-9", "mg-event-9", "x@example.net", "<other@mail.example>", "permanent")}},
		{"another recipient", "Message-ID " + cy.MessageID,
			hookReq{path: "/webhooks/bounces/mailgun", body: mailgunBody(t, mgKey, "tok-8", "mg-event-8", "x@example.net", cy.MessageID, "permanent")}},
		{"forged ref", "tag does not verify",
			hookReq{path: "/webhooks/bounces/ses?secret=" + sesSecret, body: sesBody(t, "Permanent", "fb-9", cy.To[0], "5.1.1", map[string]string{"X-Breachnotice-Ref": forged})}},
		{"postmark without ref", "no return path or Message-ID of a notice",
			hookReq{path: "/webhooks/bounces/postmark", body: strings.Replace(pmBody, `"Metadata":{"breachnotice_ref":"`+pia.From+`"}`, `"Metadata":{}`, 1), pass: pmSecret}},
	} {
		r := postHook(t, h, tc.q)
		var res hookResult
		if err := json.Unmarshal([]byte(r.body), &res); r.status != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v\n%s", tc.name, r.status, err, r.body)
		}
		if res.Bounced != 0 || len(res.Unmatched) != 1 || !strings.Contains(res.Unmatched[0].Reason, tc.reason) {
			t.Errorf("%s: want one unmatched event (%q):\n%s", tc.name, tc.reason, r.body)
		}
	}
	if ledgerSize() != ledger0 || letters() != letters0 || state(cy) != "sent" {
		t.Errorf("unmatched events changed something")
	}

	// A temporary failure is recorded, the notice stays sent.
	r := postHook(t, h, hookReq{path: "/webhooks/bounces/ses?secret=" + sesSecret,
		body: sesBody(t, "Transient", "fb-7", cy.To[0], "4.2.2", map[string]string{"X-Breachnotice-Ref": cy.From})})
	if !strings.Contains(r.body, `"temporary": 1`) || state(cy) != "sent" {
		t.Errorf("transient SES bounce: %d notice %s\n%s", r.status, state(cy), r.body)
	}
	// Unknown provider, oversized body.
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/sparkpost", body: "{}"}); r.status != http.StatusNotFound {
		t.Errorf("unknown provider: %d, want 404", r.status)
	}
	if r := postHook(t, h, hookReq{path: "/webhooks/bounces/ses?secret=" + sesSecret, body: strings.Repeat(" ", 5<<20)}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", r.status)
	}
}
