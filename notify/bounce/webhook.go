package bounce

// Provider webhooks: the JSON events Mailgun, Postmark, SendGrid and
// Amazon SES (through SNS) post about a message they could not deliver,
// turned into the same Report a bounce message gives, so that matching
// and applying them is notify's one code path.
//
// A provider does not know our VERP return path (it puts its own in the
// envelope). A report from a webhook therefore names its notice by the
// X-Breachnotice-Ref header when the provider echoes the message's
// headers (SES with original headers, Postmark's bounce Content, a
// "breachnotice_ref" metadata or custom argument), or by the "notice"
// reference the relay configured as that provider put in the provider's
// metadata header (Postmark Metadata, Mailgun user-variables, SendGrid
// unique_args, SES tags; notify/email provider.go), else by the message's
// own Message-ID (Mailgun, SES, SendGrid's smtp-id), which notify checks
// together with the recipient. A provider's own message id is not stored
// at send time and is never used.

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Providers whose webhooks ParseWebhook reads.
const (
	ProviderSES      = "ses"
	ProviderSendGrid = "sendgrid"
	ProviderPostmark = "postmark"
	ProviderMailgun  = "mailgun"
)

// WebhookEvent is one event of a webhook delivery, as a report.
type WebhookEvent struct {
	// Source names the event without personal data: provider and the
	// provider's event id (or the event's position).
	Source string
	Report *Report
}

// Webhook is what one webhook delivery holds.
type Webhook struct {
	Events []WebhookEvent
	// Ignored counts events that are no delivery failure (delivered,
	// opened, complaints...).
	Ignored int
	// SubscribeURL is set when the delivery is an SNS subscription
	// confirmation: visiting it confirms the subscription.
	SubscribeURL string
}

// ParseWebhook reads the body of a provider's webhook delivery (its
// authenticity already checked). Each report's SHA256 is that of the
// provider's event (its id, else its JSON) and the recipient, so the same
// event delivered twice is the same report.
func ParseWebhook(provider string, body []byte) (*Webhook, error) {
	switch provider {
	case ProviderMailgun:
		return parseMailgun(body)
	case ProviderPostmark:
		return parsePostmark(body)
	case ProviderSendGrid:
		return parseSendGrid(body)
	case ProviderSES:
		return parseSES(body)
	}
	return nil, fmt.Errorf("webhook: unknown provider %q", provider)
}

// eventReport builds the report of one failed recipient.
func eventReport(provider, eventKey string, kind Kind, addr, status, diag string, at time.Time, refs, msgIDs []string) *Report {
	sum := sha256.Sum256([]byte(provider + "\x00" + eventKey + "\x00" + strings.ToLower(addr)))
	rep := &Report{Kind: kind, SHA256: hex.EncodeToString(sum[:]), Arrival: at, Structured: true}
	rep.Recipients = []Recipient{{Address: addr, Action: "failed", Status: status, Diagnostic: oneLine(diag)}}
	if kind == KindDelay {
		rep.Recipients[0].Action = "delayed"
	}
	for _, r := range refs {
		rep.ReturnPaths = append(rep.ReturnPaths, verpRE.FindAllString(r, 2)...)
	}
	rep.ReturnPaths = uniq(rep.ReturnPaths)
	for _, m := range msgIDs {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if !strings.HasPrefix(m, "<") {
			m = "<" + m + ">"
		}
		rep.MessageIDs = append(rep.MessageIDs, m)
	}
	rep.MessageIDs = uniq(rep.MessageIDs)
	return rep
}

// refKey is the metadata key of the notice reference the sending
// services carry (notify/email provider.go): "notice", its value
// "<notice id>.<tag>".
const refKey = "notice"

var noticeRefRE = regexp.MustCompile(`^[0-9]{1,18}\.[a-z2-7]{1,32}$`)

// refAddr turns a notice reference from provider metadata into the return
// path form the matcher reads ("bounce+<ref>@ref.invalid": the domain is
// not checked, the tag is). Anything else gives "".
func refAddr(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if !noticeRefRE.MatchString(v) {
		return ""
	}
	return "bounce+" + v + "@ref.invalid"
}

// statusOf is the RFC 3463 status of a failure: the enhanced code the
// provider gives (or one found in its text), else the class of the SMTP
// reply code, else the failure's permanence.
func statusOf(enhanced string, smtpCode int, text string, permanent bool) string {
	if m := statusRE.FindString(enhanced); m != "" && (m[0] == '5') == permanent {
		return m
	}
	if m := statusRE.FindString(text); m != "" && (m[0] == '5') == permanent {
		return m
	}
	if smtpCode >= 500 && smtpCode < 600 && permanent {
		return "5.0.0"
	}
	if smtpCode >= 400 && smtpCode < 500 && !permanent {
		return "4.0.0"
	}
	if permanent {
		return "5.0.0"
	}
	return "4.0.0"
}

// parseTime reads a provider's timestamp (RFC 3339, or Unix seconds).
func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		return time.Unix(int64(f), 0).UTC()
	}
	return time.Time{}
}

// --- Mailgun ---

// VerifyMailgun checks a Mailgun webhook's signature: the hex
// HMAC-SHA256 of timestamp and token under the webhook signing key.
func VerifyMailgun(key []byte, body []byte) bool {
	var p struct {
		Signature struct {
			Timestamp string `json:"timestamp"`
			Token     string `json:"token"`
			Signature string `json:"signature"`
		} `json:"signature"`
	}
	if len(key) == 0 || json.Unmarshal(body, &p) != nil || p.Signature.Token == "" || p.Signature.Timestamp == "" {
		return false
	}
	got, err := hex.DecodeString(p.Signature.Signature)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p.Signature.Timestamp + p.Signature.Token))
	return hmac.Equal(got, m.Sum(nil))
}

func parseMailgun(body []byte) (*Webhook, error) {
	var p struct {
		Event struct {
			ID        string  `json:"id"`
			Event     string  `json:"event"`
			Severity  string  `json:"severity"`
			Recipient string  `json:"recipient"`
			Timestamp float64 `json:"timestamp"`
			Status    struct {
				Code         int    `json:"code"`
				EnhancedCode string `json:"enhanced-code"`
				Message      string `json:"message"`
				Description  string `json:"description"`
			} `json:"delivery-status"`
			Message struct {
				Headers map[string]string `json:"headers"`
			} `json:"message"`
			UserVariables map[string]any `json:"user-variables"`
		} `json:"event-data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("mailgun webhook: %w", err)
	}
	e := p.Event
	w := &Webhook{}
	if e.Event != "failed" {
		w.Ignored++
		return w, nil
	}
	kind, permanent := KindFailure, e.Severity == "permanent"
	if !permanent && e.Severity != "temporary" {
		return nil, fmt.Errorf("mailgun webhook: event %s: severity %q is neither permanent nor temporary", e.ID, e.Severity)
	}
	diag := strings.TrimSpace(e.Status.Message + " " + e.Status.Description)
	if e.Status.Code != 0 {
		diag = strconv.Itoa(e.Status.Code) + " " + diag
	}
	var refs []string
	for k, v := range e.Message.Headers {
		if strings.EqualFold(k, "x-breachnotice-ref") {
			refs = append(refs, v)
		}
	}
	for k, v := range e.UserVariables {
		s, ok := v.(string)
		switch {
		case !ok:
		case strings.EqualFold(k, "breachnotice_ref"):
			refs = append(refs, s)
		case strings.EqualFold(k, refKey):
			refs = append(refs, refAddr(s))
		}
	}
	var mid string
	for k, v := range e.Message.Headers {
		if strings.EqualFold(k, "message-id") {
			mid = v
		}
	}
	key := e.ID
	if key == "" {
		key = string(body)
	}
	at := time.Time{}
	if e.Timestamp > 0 {
		at = time.Unix(int64(e.Timestamp), 0).UTC()
	}
	rep := eventReport(ProviderMailgun, key, kind, e.Recipient, statusOf(e.Status.EnhancedCode, e.Status.Code, diag, permanent), diag, at, refs, []string{mid})
	w.Events = append(w.Events, WebhookEvent{Source: "mailgun event " + sourceID(e.ID, 0), Report: rep})
	return w, nil
}

// sourceID names an event by the provider's id, else its position.
func sourceID(id string, i int) string {
	id = strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return -1
		}
		return r
	}, id)
	if id == "" || len(id) > 100 {
		return "#" + strconv.Itoa(i+1)
	}
	return id
}

// --- Postmark ---

func parsePostmark(body []byte) (*Webhook, error) {
	var e struct {
		RecordType  string            `json:"RecordType"`
		ID          json.Number       `json:"ID"`
		Type        string            `json:"Type"`
		Email       string            `json:"Email"`
		Details     string            `json:"Details"`
		Description string            `json:"Description"`
		BouncedAt   string            `json:"BouncedAt"`
		Metadata    map[string]string `json:"Metadata"`
		Content     string            `json:"Content"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("postmark webhook: %w", err)
	}
	w := &Webhook{}
	if e.RecordType != "" && e.RecordType != "Bounce" {
		w.Ignored++
		return w, nil
	}
	var kind Kind
	var permanent bool
	switch e.Type {
	case "HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked", "SMTPApiError":
		kind, permanent = KindFailure, true
	case "SoftBounce", "Transient", "DnsError", "MailFrontier", "ChallengeVerification":
		kind = KindFailure
	case "AutoResponder", "OpenRelayTest", "Unknown":
		kind = KindAutoReply
	default:
		w.Ignored++
		return w, nil
	}
	var refs, mids []string
	for k, v := range e.Metadata {
		switch {
		case strings.EqualFold(k, "breachnotice_ref") || strings.EqualFold(k, "x-breachnotice-ref"):
			refs = append(refs, v)
		case strings.EqualFold(k, refKey):
			refs = append(refs, refAddr(v))
		}
	}
	// Postmark includes the bounce message itself when asked to: the
	// returned copy's headers then name the notice.
	if e.Content != "" {
		if rep, err := Parse([]byte(e.Content)); err == nil {
			refs = append(refs, rep.ReturnPaths...)
			mids = append(mids, rep.MessageIDs...)
		}
	}
	diag := strings.TrimSpace(e.Details)
	if diag == "" {
		diag = e.Description
	}
	key := e.ID.String()
	if key == "" {
		key = string(body)
	}
	rep := eventReport(ProviderPostmark, key, kind, e.Email, statusOf("", 0, diag, permanent), diag, parseTime(e.BouncedAt), refs, mids)
	w.Events = append(w.Events, WebhookEvent{Source: "postmark bounce " + sourceID(e.ID.String(), 0), Report: rep})
	return w, nil
}

// --- SendGrid ---

// VerifySendGrid checks a SendGrid signed event webhook: the ECDSA
// signature (base64 ASN.1, header X-Twilio-Email-Event-Webhook-Signature)
// over SHA-256 of the timestamp (header ...-Timestamp) followed by the
// body, with the verification key SendGrid shows (base64 DER).
func VerifySendGrid(publicKey, signature, timestamp string, body []byte) bool {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(publicKey))
	if err != nil {
		return false
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || timestamp == "" {
		return false
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	return ecdsa.VerifyASN1(pub, h.Sum(nil), sig)
}

// ParseSendGridKey checks a SendGrid verification key is usable.
func ParseSendGridKey(publicKey string) error {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(publicKey))
	if err != nil {
		return fmt.Errorf("sendgrid public key: not base64: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("sendgrid public key: %w", err)
	}
	if _, ok := k.(*ecdsa.PublicKey); !ok {
		return errors.New("sendgrid public key: not an ECDSA key")
	}
	return nil
}

func parseSendGrid(body []byte) (*Webhook, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("sendgrid webhook: want a JSON array of events: %w", err)
	}
	w := &Webhook{}
	for i, r := range raw {
		var e struct {
			Event     string `json:"event"`
			Type      string `json:"type"`
			Email     string `json:"email"`
			Status    string `json:"status"`
			Reason    string `json:"reason"`
			Response  string `json:"response"`
			SMTPID    string `json:"smtp-id"`
			EventID   string `json:"sg_event_id"`
			Timestamp int64  `json:"timestamp"`
			Ref       string `json:"breachnotice_ref"`
			NoticeRef string `json:"notice"` // unique_args of X-SMTPAPI
		}
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, fmt.Errorf("sendgrid webhook: event %d: %w", i+1, err)
		}
		var kind Kind
		var permanent bool
		diag := e.Reason
		switch e.Event {
		case "bounce":
			kind, permanent = KindFailure, true
			if e.Type == "blocked" {
				// A block is SendGrid's name for a refusal it may retry
				// later with another IP: permanent only if the code says so.
				permanent = strings.HasPrefix(e.Status, "5")
			}
		case "dropped":
			// Never sent: as good as a permanent failure for the notice.
			kind, permanent = KindFailure, true
			diag = "dropped: " + e.Reason
		case "deferred":
			kind = KindDelay
			diag = e.Response
		default:
			w.Ignored++
			continue
		}
		key := e.EventID
		if key == "" {
			key = string(r)
		}
		at := time.Time{}
		if e.Timestamp > 0 {
			at = time.Unix(e.Timestamp, 0).UTC()
		}
		rep := eventReport(ProviderSendGrid, key, kind, e.Email, statusOf(e.Status, 0, diag, permanent), diag, at, []string{e.Ref, refAddr(e.NoticeRef)}, []string{e.SMTPID})
		w.Events = append(w.Events, WebhookEvent{Source: "sendgrid event " + sourceID(e.EventID, i), Report: rep})
	}
	return w, nil
}

// --- Amazon SES through SNS ---

func parseSES(body []byte) (*Webhook, error) {
	var env struct {
		Type         string `json:"Type"`
		MessageID    string `json:"MessageId"`
		Message      string `json:"Message"`
		SubscribeURL string `json:"SubscribeURL"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("ses webhook: %w", err)
	}
	w := &Webhook{}
	switch env.Type {
	case "SubscriptionConfirmation":
		w.SubscribeURL = env.SubscribeURL
		return w, nil
	case "Notification":
	default:
		// UnsubscribeConfirmation and anything else.
		w.Ignored++
		return w, nil
	}
	var n struct {
		NotificationType string `json:"notificationType"`
		EventType        string `json:"eventType"`
		Bounce           struct {
			BounceType string `json:"bounceType"`
			FeedbackID string `json:"feedbackId"`
			Timestamp  string `json:"timestamp"`
			Recipients []struct {
				EmailAddress   string `json:"emailAddress"`
				Status         string `json:"status"`
				DiagnosticCode string `json:"diagnosticCode"`
			} `json:"bouncedRecipients"`
		} `json:"bounce"`
		Mail struct {
			MessageID string `json:"messageId"`
			Headers   []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"headers"`
			CommonHeaders struct {
				MessageID string `json:"messageId"`
			} `json:"commonHeaders"`
			Tags map[string][]string `json:"tags"`
		} `json:"mail"`
	}
	if err := json.Unmarshal([]byte(env.Message), &n); err != nil {
		return nil, fmt.Errorf("ses webhook: notification %s: %w", sourceID(env.MessageID, 0), err)
	}
	if n.NotificationType != "Bounce" && n.EventType != "Bounce" {
		w.Ignored++
		return w, nil
	}
	var refs, mids []string
	for _, h := range n.Mail.Headers {
		switch strings.ToLower(h.Name) {
		case "x-breachnotice-ref":
			refs = append(refs, h.Value)
		case "message-id":
			mids = append(mids, h.Value)
		}
	}
	for k, v := range n.Mail.Tags {
		switch {
		case strings.EqualFold(k, "breachnotice_ref"):
			refs = append(refs, v...)
		case strings.EqualFold(k, refKey):
			for _, r := range v {
				refs = append(refs, refAddr(r))
			}
		}
	}
	mids = append(mids, n.Mail.CommonHeaders.MessageID)
	// Permanent, Transient or Undetermined (taken as temporary: never
	// fail a notice on a guess).
	permanent := n.Bounce.BounceType == "Permanent"
	key := n.Bounce.FeedbackID
	if key == "" {
		key = env.Message
	}
	for i, r := range n.Bounce.Recipients {
		diag := r.DiagnosticCode
		rep := eventReport(ProviderSES, key, KindFailure, r.EmailAddress, statusOf(r.Status, 0, diag, permanent), diag, parseTime(n.Bounce.Timestamp), refs, mids)
		src := "ses bounce " + sourceID(n.Bounce.FeedbackID, 0)
		if len(n.Bounce.Recipients) > 1 {
			src += " recipient " + strconv.Itoa(i+1)
		}
		w.Events = append(w.Events, WebhookEvent{Source: src, Report: rep})
	}
	return w, nil
}
