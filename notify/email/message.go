package email

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/breachnotice/breachnotice/notify"
)

// errInvalid marks a message that can never be sent as given: the
// transports report it as Permanent without touching the connection.
var errInvalid = errors.New("invalid message")

// buildMsg turns a notice into the MIME message both transports emit:
// From and To with display names, the notice's own Message-ID, a Date, and
// multipart/alternative with the text part first, in UTF-8.
//
// Every header value is cleaned of control characters here, whatever the
// caller promised, so no input can add a header line.
func buildMsg(m *notify.Message, now time.Time) (*mail.Msg, error) {
	msgID, err := messageID(m.MessageID)
	if err != nil {
		return nil, err
	}
	from, err := address("from", m.FromName, m.From)
	if err != nil {
		return nil, err
	}
	to, err := address("to", m.ToName, m.To)
	if err != nil {
		return nil, err
	}
	if m.Text == "" && m.HTML == "" {
		return nil, fmt.Errorf("%w: no body", errInvalid)
	}

	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
	msg.SetAddrHeaderFromMailAddress(mail.HeaderFrom, from)
	msg.SetAddrHeaderFromMailAddress(mail.HeaderTo, to)
	msg.Subject(headerText(m.Subject))
	// Not SetMessageIDWithValue: it adds brackets of its own. The value is
	// plain ASCII, so SetGenHeader leaves it as it is.
	msg.SetGenHeader(mail.HeaderMessageID, msgID)
	msg.SetDateWithValue(now)
	switch {
	case m.HTML == "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// address checks addr is a bare addr-spec and pairs it with a cleaned
// display name.
func address(field, name, addr string) (*netmail.Address, error) {
	if addr == "" {
		return nil, fmt.Errorf("%w: %s address is empty", errInvalid, field)
	}
	if strings.ContainsFunc(addr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, fmt.Errorf("%w: %s address %q contains white space or control characters", errInvalid, field, addr)
	}
	parsed, err := netmail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return nil, fmt.Errorf("%w: %s address %q is not a plain address", errInvalid, field, addr)
	}
	return &netmail.Address{Name: headerText(name), Address: parsed.Address}, nil
}

// messageID returns id in angle brackets after checking it is a single
// printable-ASCII token of the form local@domain.
func messageID(id string) (string, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	local, domain, ok := strings.Cut(inner, "@")
	ok = ok && local != "" && domain != "" && !strings.Contains(domain, "@")
	for i := 0; ok && i < len(inner); i++ {
		c := inner[i]
		ok = c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '\\'
	}
	if !ok {
		return "", fmt.Errorf("%w: message id %q is not <local@domain>", errInvalid, id)
	}
	return "<" + inner + ">", nil
}

// headerText makes s safe for an unstructured header: every control
// character (CR and LF above all) becomes a space, runs of white space
// collapse, and the ends are trimmed. go-mail then encodes non-ASCII text
// as RFC 2047 words.
func headerText(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
}
