package email

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wneessen/go-mail"
)

// Provider is a sending service behind a relay. Its webhooks report
// bounces without the bounce message, so each message carries the
// notice's reference (notify.Message.Ref, "<notice id>.<tag>", the tag an
// HMAC: unforgeable) in the service's own metadata header, which the
// service echoes in its events:
//
//	postmark  X-PM-Metadata-notice: <ref>                  → Metadata.notice
//	mailgun   X-Mailgun-Variables: {"notice":"<ref>"}      → user-variables.notice
//	sendgrid  X-SMTPAPI: {"unique_args":{"notice":"<ref>"}} → the event's "notice"
//	ses       X-SES-MESSAGE-TAGS: notice=<ref>             → mail.tags.notice
//
// The header is added only when the relay is configured as that provider
// (provider= on the relay URL or in the relays file): another relay would
// pass it on to the recipient for nothing.
type Provider string

// Providers.
const (
	ProviderPostmark Provider = "postmark"
	ProviderMailgun  Provider = "mailgun"
	ProviderSendGrid Provider = "sendgrid"
	ProviderSES      Provider = "ses"
)

// ParseProvider checks a provider name.
func ParseProvider(s string) (Provider, error) {
	switch p := Provider(strings.ToLower(s)); p {
	case ProviderPostmark, ProviderMailgun, ProviderSendGrid, ProviderSES:
		return p, nil
	}
	return "", fmt.Errorf("unknown provider %q (want postmark, mailgun, sendgrid or ses)", s)
}

// refHeader returns the provider's metadata header carrying ref, or ok
// false when there is none to add. ref holds only [0-9a-z.] (checked), so
// it needs no quoting in any of the four forms.
func (p Provider) refHeader(ref string) (name mail.Header, value string, ok bool) {
	if p == "" || ref == "" || strings.Trim(ref, "0123456789abcdefghijklmnopqrstuvwxyz.") != "" {
		return "", "", false
	}
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch p {
	case ProviderPostmark:
		return "X-PM-Metadata-notice", ref, true
	case ProviderMailgun:
		return "X-Mailgun-Variables", j(map[string]string{"notice": ref}), true
	case ProviderSendGrid:
		return "X-SMTPAPI", j(map[string]any{"unique_args": map[string]string{"notice": ref}}), true
	case ProviderSES:
		return "X-SES-MESSAGE-TAGS", "notice=" + ref, true
	}
	return "", "", false
}
