package templates

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// TextWidth is the column the plain-text notice wraps at.
const TextWidth = 76

// Email is a rendered notice email: the header values (all header-safe)
// and the two bodies of a multipart/alternative message.
type Email struct {
	Subject  string
	FromName string // the controller's name
	ToName   string // the recipient's name
	HTML     string
	Text     string
}

// RenderEmail renders a notice as an email. The same Notice always gives
// the same bytes.
func RenderEmail(ctx context.Context, n Notice) (Email, error) {
	c := n.Content()
	var h strings.Builder
	h.Grow(8192)
	if err := emailHTML(&c).Render(ctx, &h); err != nil {
		return Email{}, fmt.Errorf("templates: render email html: %w", err)
	}
	var t strings.Builder
	t.Grow(4096)
	writeText(&t, &c)
	return Email{
		Subject:  c.Subject,
		FromName: HeaderSafe(n.Controller.Name),
		ToName:   HeaderSafe(n.RecipientName),
		HTML:     h.String(),
		Text:     t.String(),
	}, nil
}

// HTML is the notice email's HTML body as a component.
func HTML(c Content) templ.Component { return emailHTML(&c) }

// Text is the notice email's plain-text body as a component: the same
// content as HTML, wrapped at TextWidth columns.
func Text(c Content) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		b.Grow(4096)
		writeText(&b, &c)
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// writeText writes the plain-text rendering of c.
func writeText(b *strings.Builder, c *Content) {
	b.WriteString(c.Title)
	b.WriteByte('\n')
	underline(b, c.Title, '=')
	if c.Date != "" {
		b.WriteByte('\n')
		wrap(b, c.Date, "", "")
	}
	b.WriteByte('\n')
	wrap(b, c.Greeting, "", "")
	b.WriteByte('\n')
	wrap(b, c.Intro, "", "")
	for i := range c.Sections {
		s := &c.Sections[i]
		b.WriteByte('\n')
		b.WriteString(s.Heading)
		b.WriteByte('\n')
		underline(b, s.Heading, '-')
		for _, p := range s.Paragraphs {
			b.WriteByte('\n')
			wrap(b, p, "", "")
		}
		if len(s.Bullets) > 0 {
			b.WriteByte('\n')
			for _, item := range s.Bullets {
				wrap(b, item, "  - ", "    ")
			}
		}
		for _, card := range s.Cards {
			b.WriteByte('\n')
			for _, line := range card.Lines {
				wrap(b, line, "    ", "      ")
			}
		}
	}
	b.WriteByte('\n')
	b.WriteString(c.Closing)
	b.WriteByte('\n')
	b.WriteString(c.Signature)
	b.WriteByte('\n')
}

func underline(b *strings.Builder, s string, c byte) {
	n := min(utf8.RuneCountInString(s), TextWidth)
	for range n {
		b.WriteByte(c)
	}
	b.WriteByte('\n')
}

// wrap writes text word-wrapped at TextWidth columns (counted in runes),
// starting the first line with first and the others with rest. A word
// longer than a line (a long URL) gets a line of its own and is not broken.
func wrap(b *strings.Builder, text, first, rest string) {
	prefix := first
	for {
		b.WriteString(prefix)
		line, more := cutLine(text, TextWidth-utf8.RuneCountInString(prefix))
		b.WriteString(line)
		b.WriteByte('\n')
		if more == "" {
			return
		}
		text, prefix = more, rest
	}
}

// cutLine splits text at the last space that leaves at most width runes
// before it, or after the first word when that word alone is wider.
func cutLine(text string, width int) (line, more string) {
	n, space := 0, -1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ' ' {
			if n <= width || space < 0 {
				space = i
			}
			if n > width {
				break
			}
		}
		if c&0xC0 != 0x80 { // the first byte of a rune
			n++
		}
	}
	if n <= width || space < 0 {
		return text, ""
	}
	return text[:space], strings.TrimLeft(text[space+1:], " ")
}
