package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/bounce"
)

// Bounce webhooks: POST /webhooks/bounces/{ses|sendgrid|postmark|mailgun}
// take the delivery failures a sending service reports, and apply them
// as `bounces import` applies bounce mail (notify.ApplyBounceReports).
// Each provider is enabled by its secret in the environment; one without
// answers 404. A request whose signature or shared secret does not check
// out answers 401 and changes nothing.
//
//	mailgun   BREACHNOTICE_WEBHOOK_MAILGUN_KEY       the webhook signing key (HMAC-SHA256 of timestamp+token)
//	postmark  BREACHNOTICE_WEBHOOK_POSTMARK_SECRET   shared secret: basic-auth password, ?secret= or X-Breachnotice-Secret
//	sendgrid  BREACHNOTICE_WEBHOOK_SENDGRID_PUBLIC_KEY  the signed event webhook's verification key (ECDSA)
//	          BREACHNOTICE_WEBHOOK_SENDGRID_SECRET   else a shared secret, as for postmark
//	ses       BREACHNOTICE_WEBHOOK_SES_SECRET        shared secret in the SNS subscription URL (?secret=)
//
// SES notifications are authenticated by the secret in the subscription
// URL (HTTPS keeps it out of sight). A subscription confirmation must
// carry the secret too, and an SNS signature that verifies with the
// certificate from its SigningCertURL (an SNS host only); the server then
// confirms the subscription itself (web_webhooks_sns.go).

// webhookMaxBody caps a webhook delivery (SendGrid batches events).
const webhookMaxBody = 4 << 20

// webhookConfig holds the providers' secrets; empty = not enabled.
type webhookConfig struct {
	mailgunKey     string
	postmarkSecret string
	sendgridKey    string
	sendgridSecret string
	sesSecret      string
	// sns fetches SNS signing certificates and confirms subscriptions
	// (web_webhooks_sns.go).
	sns *snsClient
}

// mailgunFresh checks a Mailgun delivery's token against the tokens seen
// (in the database, so across restarts): Mailgun's signature covers
// timestamp and token, not the event, so a token seen with another body
// is a forgery; and a signature older than notify.TokenWindow is refused,
// since its token may have been forgotten.
func (s *server) mailgunFresh(r *http.Request, body []byte) (bool, error) {
	var p struct {
		Signature struct {
			Timestamp string `json:"timestamp"`
			Token     string `json:"token"`
		} `json:"signature"`
	}
	if json.Unmarshal(body, &p) != nil || p.Signature.Token == "" {
		return false, nil
	}
	ts, err := strconv.ParseInt(p.Signature.Timestamp, 10, 64)
	if err != nil {
		return false, nil
	}
	return notify.FreshWebhookToken(r.Context(), s.app.store, bounce.ProviderMailgun, p.Signature.Token, time.Unix(ts, 0), body, s.app.now())
}

// loadWebhookConfig reads the providers' secrets from the environment.
func loadWebhookConfig(getenv func(string) string) (webhookConfig, error) {
	c := webhookConfig{
		mailgunKey:     getenv("BREACHNOTICE_WEBHOOK_MAILGUN_KEY"),
		postmarkSecret: getenv("BREACHNOTICE_WEBHOOK_POSTMARK_SECRET"),
		sendgridKey:    getenv("BREACHNOTICE_WEBHOOK_SENDGRID_PUBLIC_KEY"),
		sendgridSecret: getenv("BREACHNOTICE_WEBHOOK_SENDGRID_SECRET"),
		sesSecret:      getenv("BREACHNOTICE_WEBHOOK_SES_SECRET"),
		sns:            newSNSClient(),
	}
	if c.sendgridKey != "" {
		if err := bounce.ParseSendGridKey(c.sendgridKey); err != nil {
			return c, fmt.Errorf("BREACHNOTICE_WEBHOOK_SENDGRID_PUBLIC_KEY: %w", err)
		}
	}
	for name, v := range map[string]string{"POSTMARK_SECRET": c.postmarkSecret, "SENDGRID_SECRET": c.sendgridSecret, "SES_SECRET": c.sesSecret} {
		if v != "" && len(v) < 16 {
			return c, fmt.Errorf("BREACHNOTICE_WEBHOOK_%s: want at least 16 characters", name)
		}
	}
	return c, nil
}

// enabled reports whether provider has a secret configured.
func (c webhookConfig) enabled(provider string) bool {
	switch provider {
	case bounce.ProviderMailgun:
		return c.mailgunKey != ""
	case bounce.ProviderPostmark:
		return c.postmarkSecret != ""
	case bounce.ProviderSendGrid:
		return c.sendgridKey != "" || c.sendgridSecret != ""
	case bounce.ProviderSES:
		return c.sesSecret != ""
	}
	return false
}

// authentic checks a delivery's signature or shared secret.
func (c webhookConfig) authentic(provider string, r *http.Request, body []byte) bool {
	switch provider {
	case bounce.ProviderMailgun:
		return bounce.VerifyMailgun([]byte(c.mailgunKey), body) // and mailgunFresh
	case bounce.ProviderPostmark:
		return sharedSecretOK(r, c.postmarkSecret)
	case bounce.ProviderSendGrid:
		if c.sendgridKey != "" {
			return bounce.VerifySendGrid(c.sendgridKey, r.Header.Get("X-Twilio-Email-Event-Webhook-Signature"),
				r.Header.Get("X-Twilio-Email-Event-Webhook-Timestamp"), body)
		}
		return sharedSecretOK(r, c.sendgridSecret)
	case bounce.ProviderSES:
		return sharedSecretOK(r, c.sesSecret)
	}
	return false
}

// sharedSecretOK compares the request's secret (?secret=, the
// X-Breachnotice-Secret header or the basic-auth password) with want in
// constant time.
func sharedSecretOK(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	got := r.URL.Query().Get("secret")
	if got == "" {
		got = r.Header.Get("X-Breachnotice-Secret")
	}
	if got == "" {
		_, got, _ = r.BasicAuth()
	}
	if got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return hmac.Equal(a[:], b[:])
}

func (s *server) mountWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/bounces/{provider}", s.handleBounceWebhook)
}

// webhookResult is the answer to an accepted delivery: counts and the
// unmatched events (named by the provider's event id, never an address).
type webhookResult struct {
	Provider string `json:"provider"`
	*notify.BounceResult
}

func (s *server) handleBounceWebhook(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	if !s.hooks.enabled(provider) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhookMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	}
	ok := s.hooks.authentic(provider, r, body)
	if ok && provider == bounce.ProviderMailgun {
		if ok, err = s.mailgunFresh(r, body); err != nil {
			s.log.Error("bounce webhook", "provider", provider, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	if !ok {
		s.log.Warn("bounce webhook refused: bad signature or secret", "provider", provider)
		w.Header().Set("WWW-Authenticate", `Basic realm="breachnotice webhooks"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	hook, err := bounce.ParseWebhook(provider, body)
	if err != nil {
		http.Error(w, "cannot read the webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx := incident.WithActor(r.Context(), incident.Actor{Name: "webhook " + provider, Role: incident.RoleCLI})
	if hook.SubscribeURL != "" {
		s.confirmSNS(ctx, w, provider, body)
		return
	}
	reps := make([]notify.SourcedReport, 0, len(hook.Events))
	for _, e := range hook.Events {
		reps = append(reps, notify.SourcedReport{Source: e.Source, Report: e.Report})
	}
	res, err := notify.ApplyBounceReports(ctx, s.app.store, s.app.ledger, "bounce.webhook", provider, reps)
	if err != nil {
		// 500: the provider retries, and a retry applies only what is
		// missing.
		s.log.Error("bounce webhook", "provider", provider, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	res.Ignored = hook.Ignored
	s.log.LogAttrs(ctx, slog.LevelInfo, "bounce webhook", slog.String("provider", provider), slog.Int("events", res.Read),
		slog.Int("bounced", res.Bounced), slog.Int("letters_queued", res.LettersQueued), slog.Int("temporary", res.Temporary),
		slog.Int("duplicates", res.Duplicates), slog.Int("unmatched", len(res.Unmatched)), slog.Int("ignored", res.Ignored))
	writeJSON(w, http.StatusOK, webhookResult{Provider: provider, BounceResult: res})
}

// confirmSNS answers an SNS SubscriptionConfirmation (its shared secret
// already checked): its signature verified with the certificate from
// SigningCertURL, the subscription is confirmed by visiting SubscribeURL
// (web_webhooks_sns.go); a signature that does not verify answers 401 and
// nothing is visited. Audited either way.
func (s *server) confirmSNS(ctx context.Context, w http.ResponseWriter, provider string, body []byte) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "cannot read the webhook", http.StatusBadRequest)
		return
	}
	status, outcome := http.StatusOK, "confirmed"
	err := s.hooks.sns.verify(ctx, &m)
	if err == nil {
		if err = s.hooks.sns.confirm(ctx, &m); err != nil {
			status, outcome = http.StatusBadGateway, "confirmation failed"
		}
	} else {
		status, outcome = http.StatusUnauthorized, "refused"
	}
	detail := map[string]string{"topic": m.TopicArn, "outcome": outcome}
	if err != nil {
		detail["error"] = err.Error()
		s.log.Warn("SNS subscription confirmation not confirmed", "provider", provider, "error", err)
	}
	if aerr := s.app.store.InTxAt(ctx, s.app.store.Now(), func(tx *incident.Tx) error {
		return tx.Audit(ctx, "bounce.webhook.subscribe", provider, detail)
	}); aerr != nil {
		s.log.Error("bounce webhook", "provider", provider, "err", aerr)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if status != http.StatusOK {
		http.Error(w, "subscription "+outcome, status)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"provider": provider, "subscription": outcome})
}
