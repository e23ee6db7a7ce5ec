package templates

import (
	"context"
	"html"
	"strings"
	"sync"
	"unicode/utf8"
)

// namePlaceholder stands for the recipient's name in a cached rendering: a
// private-use rune that escaping, cleaning and wrapping leave alone.
const namePlaceholder = "\uE000"

// EmailCache renders notices that differ only in the recipient's name once
// per key and language, then fills each name in. Within one incident a
// notice's content is decided by its plan variant: a million notices are a
// few hundred renderings. The result is byte-for-byte what RenderEmail
// gives (TestEmailCache_MatchesRenderEmail); a name that could change the
// text's line wrapping is rendered in full.
type EmailCache struct {
	mu sync.Mutex
	m  map[string]*cachedEmail
}

type cachedEmail struct {
	subject, fromName string
	html, text        []string // split at the placeholder
}

// NewEmailCache returns an empty cache. It is safe for concurrent use.
func NewEmailCache() *EmailCache { return &EmailCache{m: map[string]*cachedEmail{}} }

// Render renders n, which must be the same as every other notice rendered
// under key except for RecipientName (and Locale, which is part of the key).
func (c *EmailCache) Render(ctx context.Context, n Notice, key string) (Email, error) {
	name := OneLine(n.RecipientName)
	greeting := expand(msgsFor(n.Lang()).get("greeting"), func(string) string { return name })
	if name == "" || strings.Contains(name, namePlaceholder) || utf8.RuneCountInString(greeting) > TextWidth {
		return RenderEmail(ctx, n)
	}
	k := key + "\x00" + n.Lang()
	c.mu.Lock()
	ce := c.m[k]
	c.mu.Unlock()
	if ce == nil {
		p := n
		p.RecipientName = namePlaceholder
		e, err := RenderEmail(ctx, p)
		if err != nil {
			return Email{}, err
		}
		ce = &cachedEmail{subject: e.Subject, fromName: e.FromName,
			html: strings.Split(e.HTML, namePlaceholder), text: strings.Split(e.Text, namePlaceholder)}
		c.mu.Lock()
		c.m[k] = ce
		c.mu.Unlock()
	}
	return Email{
		Subject:  ce.subject,
		FromName: ce.fromName,
		ToName:   HeaderSafe(n.RecipientName),
		HTML:     strings.Join(ce.html, html.EscapeString(name)),
		Text:     strings.Join(ce.text, name),
	}, nil
}
