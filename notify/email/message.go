package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wneessen/go-mail"
	"golang.org/x/net/idna"

	"github.com/breachnotice/breachnotice/notify"
)

// RefHeader carries a notice's return path inside the message.
const RefHeader mail.Header = "X-Breachnotice-Ref"

// errInvalid marks a message that can never be sent as given: the
// transports report it as Permanent without touching the connection.
var errInvalid = errors.New("invalid message")

// WriteMessage writes m as the MIME message both transports emit, dated
// now: the bytes an outbox file holds and an SMTP relay receives after
// DATA. A message that cannot be built is an error and nothing is written.
func WriteMessage(w io.Writer, m *notify.Message, now time.Time) error {
	msg, err := buildMsg(m, now, "")
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	var buf, scratch bytes.Buffer
	if err := encode(m, msg, &buf, &scratch); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("email: write message: %w", err)
	}
	return nil
}

// encode writes the message into dst (reset first), signed when m.DKIM
// is set: the DKIM-Signature field is computed over the encoded message
// (in scratch) and goes first, followed by those very bytes. dst then
// holds exactly what is delivered. On error dst is empty.
func encode(m *notify.Message, msg *built, dst, scratch *bytes.Buffer) error {
	dst.Reset()
	if m.DKIM == nil {
		if err := msg.writeTo(dst); err != nil {
			dst.Reset()
			return fmt.Errorf("%w: %v", errInvalid, err)
		}
		return nil
	}
	scratch.Reset()
	if err := msg.writeTo(scratch); err != nil {
		return fmt.Errorf("%w: %v", errInvalid, err)
	}
	sig, err := m.DKIM.Sign(scratch.Bytes())
	if err != nil {
		return err
	}
	dst.Grow(len(sig) + scratch.Len())
	dst.Write(sig)
	dst.Write(scratch.Bytes())
	return nil
}

// buildMsg turns a notice into the MIME message both transports emit
// (with the provider's metadata header carrying m.Ref, provider.go):
// From and To with display names, the notice's own Message-ID, a Date, and
// multipart/alternative with the text part first, in UTF-8. The domains of
// From and To are written in A-labels ("xn--").
//
// Every header value is cleaned of control characters here, whatever the
// caller promised, so no input can add a header line.
func buildMsg(m *notify.Message, now time.Time, provider Provider) (*built, error) {
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

	// The boundary is derived from the Message-ID, not random, so that
	// encoding a notice again (a re-send with the same Date) gives the
	// same bytes and the same SHA-256.
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP), mail.WithBoundary(boundaryFor(msgID)))
	// From, To and Subject are encoded and written here, not by go-mail,
	// which formats addresses with net/mail's Address.String (a
	// backslash in a non-ASCII name made an unparsable To), would
	// encode a UTF-8 local part as if it were text, and leaves a subject
	// reading "=?...?=" raw: see header.go. The SMTP envelope comes from
	// envelopeOf, not from these headers.
	b := &built{Msg: msg}
	writeField(&b.head, "From", formatAddress(from.Name, from.Address))
	writeField(&b.head, "To", formatAddress(to.Name, to.Address))
	writeField(&b.head, "Subject", subjectText(headerText(m.Subject)))
	// Not SetMessageIDWithValue: it adds brackets of its own. The value is
	// plain ASCII, so SetGenHeader leaves it as it is.
	msg.SetGenHeader(mail.HeaderMessageID, msgID)
	if !m.Date.IsZero() {
		now = m.Date
	}
	msg.SetDateWithValue(now)
	if m.ReturnPath != "" {
		// The return path again, in the message itself: a relay that
		// replaces the envelope sender with its own (Amazon SES, most
		// sending services) still returns the headers, and the tag in
		// this one ties the bounce to the notice unforgeably.
		rp, err := address("return path", "", m.ReturnPath)
		if err != nil {
			return nil, err
		}
		msg.SetGenHeader(RefHeader, rp.Address)
	}
	if name, value, ok := provider.refHeader(m.Ref); ok {
		msg.SetGenHeader(name, value)
	}
	switch {
	case m.HTML == "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return b, nil
}

// built is a message ready to encode: go-mail's Msg and, to go before
// its header, the From, To and Subject fields.
type built struct {
	*mail.Msg
	head bytes.Buffer
}

// writeTo writes the From, To and Subject fields, then the rest of the
// message.
func (b *built) writeTo(w *bytes.Buffer) error {
	w.Write(b.head.Bytes())
	_, err := b.Msg.WriteTo(w)
	return err
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
	ascii, err := asciiDomain(parsed.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: %s address %q: %v", errInvalid, field, addr, err)
	}
	return &netmail.Address{Name: headerText(name), Address: ascii}, nil
}

// asciiDomain returns addr with its domain converted to A-labels
// ("bücher.example" → "xn--bcher-kva.example"), as a relay without
// SMTPUTF8 needs it. An ASCII domain is returned as it is.
func asciiDomain(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, nil
	}
	domain := addr[at+1:]
	if isASCII(domain) {
		return addr, nil
	}
	a, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("domain is not a valid internationalised domain name: %v", err)
	}
	return addr[:at+1] + a, nil
}

// asciiLocal reports whether the local part of addr (before its last '@')
// is ASCII, that is, whether addr can go to a relay without SMTPUTF8 once
// its domain is in A-labels.
func asciiLocal(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		at = len(addr)
	}
	return isASCII(addr[:at])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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

// boundaryFor returns the MIME boundary of the message with Message-ID id:
// stable per message, hex like go-mail's own (which writes it unquoted),
// from a hash no notice text can be made to contain by chance.
func boundaryFor(id string) string {
	sum := sha256.Sum256([]byte("breachnotice boundary\x00" + id))
	return "bn" + hex.EncodeToString(sum[:24])
}
