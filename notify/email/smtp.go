// Package email delivers notify.Message values by SMTP or, when no relay is
// configured, into an outbox directory of .eml files.
//
// Both transports build the same MIME message with go-mail: From and To
// with display names, the notice's stable Message-ID (never a generated
// one), a Date, and multipart/alternative with the text part before the
// HTML part. Header values are cleaned of control characters, so no input
// can add a header.
//
// The SMTP transport keeps one connection open per notify.Conn and sends
// many messages over it (no NOOP before and no RSET after each message).
// go-mail dials, authenticates and encodes; the mail transaction (MAIL,
// RCPT, DATA) runs here on go-mail's session client, so that each message
// is encoded once: Result.SHA256 hashes the very bytes written after DATA.
// Each message is bounded by the configured timeout and by the caller's
// context. Outcomes map as the notify package defines them:
//
//   - 2xx after DATA: Delivered, with the server's reply;
//   - a 4xx reply: Temporary; a 5xx reply: Permanent; with the code;
//   - a timeout, a reset or closed connection, or any other error without a
//     reply code: Temporary with Code 0 and Broken set, because the state of
//     the SMTP session is then unknown; MaybeDelivered too when it came
//     after the end of the message was sent (the relay may have accepted
//     it). A 421 reply also breaks the connection.
//
// A message with a DKIM signer (notify.Message.DKIM) is signed over its
// encoded bytes and the DKIM-Signature field goes first: the signature is
// part of what is hashed and delivered. A message with a ReturnPath is
// sent with it as MAIL FROM (the notice's own bounce address).
//
// Addresses go out with their domains in A-labels (IDNA, "xn--..."), so a
// relay without SMTPUTF8 takes them. A UTF-8 local part cannot be written
// in ASCII: such a message is sent only to a relay that offers SMTPUTF8
// (RFC 6531), and is otherwise Permanent with the reason, which makes the
// dispatcher fall back to a letter.
//
// Errors from Open and Close, and the replies in a Result, never contain
// the relay's user name or password: they are written into the ledger.
//
// A reused connection that turns out to be dead before the message content
// was sent (the relay closed it while idle) is reopened once within the
// same Send: nothing can have been delivered yet, so this cannot duplicate.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/breachnotice/breachnotice/notify"
)

// quitTimeout bounds the QUIT exchange in Close.
const quitTimeout = 5 * time.Second

// SMTP is the transport to one relay. It is safe for concurrent use; each
// Conn it opens is not.
type SMTP struct {
	cfg Config
	err error // from validating cfg, reported by Open
}

var _ notify.Transport = (*SMTP)(nil)

// NewSMTP returns a transport that opens connections to the relay cfg
// describes. A bad Config is reported by Open.
func NewSMTP(cfg Config) notify.Transport {
	cfg = cfg.withDefaults()
	return &SMTP{cfg: cfg, err: cfg.validate()}
}

// Name is the relay's host and port, without user info.
func (s *SMTP) Name() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

// Open dials the relay, greets it, starts TLS and authenticates as
// configured, and returns a connection ready for Send.
func (s *SMTP) Open(ctx context.Context) (notify.Conn, error) {
	if s.err != nil {
		return nil, s.err
	}
	c := &smtpConn{cfg: s.cfg}
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// smtpConn is one SMTP session over one TCP connection.
type smtpConn struct {
	cfg    Config
	buf    bytes.Buffer // the message being sent, as encoded once
	body   bytes.Buffer // the unsigned message, when it is DKIM-signed
	client *mail.Client // the configuration: dials, authenticates, sends
	smtp   *smtp.Client // the session client dialled
	raw    net.Conn     // the TCP (or TLS) connection under smtp, for deadlines
	utf8   bool         // the relay offers SMTPUTF8
	sent   int          // messages sent over this connection
	broken bool
}

var _ notify.Conn = (*smtpConn)(nil)

// dial opens a new session and makes it the current one.
func (c *smtpConn) dial(ctx context.Context) error {
	tlsConfig := &tls.Config{
		ServerName:         c.cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.cfg.SkipVerify, //nolint:gosec // tests only, documented on Config
	}
	var raw net.Conn
	dialer := &net.Dialer{Timeout: c.cfg.Timeout, KeepAlive: 30 * time.Second}
	dialFunc := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var (
			conn net.Conn
			err  error
		)
		if c.cfg.TLS == TLSImplicit {
			conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, network, addr)
		} else {
			conn, err = dialer.DialContext(ctx, network, addr)
		}
		raw = conn
		return conn, err
	}

	opts := []mail.Option{
		mail.WithPort(c.cfg.Port),
		mail.WithTimeout(c.cfg.Timeout),
		mail.WithoutNoop(),
		mail.WithoutRset(),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(dialFunc),
	}
	switch c.cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		// dialFunc already speaks TLS; WithSSL keeps go-mail from trying
		// STARTTLS on top.
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	}
	if c.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(c.cfg.HELO))
	}
	if c.cfg.Username != "" {
		// The strongest mechanism the relay offers. PLAIN and LOGIN send
		// the password only over TLS or to a loopback relay (go-mail
		// refuses otherwise).
		opts = append(opts,
			mail.WithUsername(c.cfg.Username),
			mail.WithPassword(c.cfg.Password),
			mail.WithOpportunisticSMTPAuth(
				mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1,
				mail.SMTPAuthPlain, mail.SMTPAuthLogin, mail.SMTPAuthCramMD5),
		)
	}
	client, err := mail.NewClient(c.cfg.Host, opts...)
	if err != nil {
		return c.errorf("email: smtp client for %s", err)
	}
	// The session client itself, not DialWithContext, so that the relay's
	// extensions (SMTPUTF8) can be read.
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if raw != nil {
			_ = raw.Close()
		}
		return c.errorf("email: open %s", err)
	}
	c.client, c.smtp, c.raw, c.sent, c.broken = client, session, raw, 0, false
	c.utf8, _ = session.Extension("SMTPUTF8")
	return nil
}

// relayError is an error of this transport: its text names the relay
// without user info and has the credentials scrubbed from the underlying
// error, which stays available to errors.Is and errors.As.
type relayError struct {
	msg string
	err error
}

func (e *relayError) Error() string { return e.msg }
func (e *relayError) Unwrap() error { return e.err }

// errorf wraps err after prefix, a format with one %s for the relay.
func (c *smtpConn) errorf(prefix string, err error) error {
	return &relayError{msg: fmt.Sprintf(prefix, c.cfg.endpoint()) + ": " + c.cfg.scrub(err.Error()), err: err}
}

// Send delivers one message over the session. A Broken result means the
// caller must Close this Conn and Open another.
//
// The message is encoded once, into the connection's buffer: its SHA-256
// (Result.SHA256) is taken of those bytes, and those bytes are what the
// relay receives after DATA.
func (c *smtpConn) Send(ctx context.Context, m *notify.Message) notify.Result {
	if c.broken || c.client == nil {
		return notify.Result{Outcome: notify.Temporary, Reply: "connection already broken", Broken: true}
	}
	if err := ctx.Err(); err != nil {
		return notify.Result{Outcome: notify.Temporary, Reply: err.Error()}
	}
	msg, err := buildMsg(m, c.cfg.now(), c.cfg.Provider)
	if err != nil {
		return notify.Result{Outcome: notify.Permanent, Reply: err.Error()}
	}
	if !c.utf8 {
		if r, refused := refuseUTF8(m); refused {
			return r
		}
	}
	env, err := envelopeOf(m)
	if err != nil {
		return notify.Result{Outcome: notify.Permanent, Reply: trimSendError(err.Error())}
	}
	if m.ReturnPath != "" {
		rp, err := address("return path", "", m.ReturnPath)
		if err != nil {
			return notify.Result{Outcome: notify.Permanent, Reply: err.Error()}
		}
		// In angle brackets, as go-mail gives the From address: the
		// session client writes it after "MAIL FROM:" as it is, and a
		// strict relay refuses a bare address (501 5.5.4).
		env.from = (&netmail.Address{Address: rp.Address}).String()
	}
	if err := encode(m, msg, &c.buf, &c.body); err != nil {
		return notify.Result{Outcome: notify.Permanent, Reply: err.Error()}
	}
	sum := sha256.Sum256(c.buf.Bytes())

	r, retry := c.send(ctx, env, c.buf.Bytes())
	if retry && ctx.Err() == nil {
		// The relay closed the idle session before anything of the
		// message went out: reopen once and send the same bytes again.
		c.closeRaw()
		if err := c.dial(ctx); err != nil {
			c.broken = true
			return notify.Result{Outcome: notify.Temporary, Reply: err.Error(), Broken: true, Unsent: true}
		}
		if !c.utf8 {
			if r, refused := refuseUTF8(m); refused {
				return r
			}
		}
		r, _ = c.send(ctx, env, c.buf.Bytes())
	}
	c.broken = r.Broken
	r.Reply = c.cfg.scrub(r.Reply)
	r.SHA256 = hex.EncodeToString(sum[:])
	return r
}

// refuseUTF8 returns the Permanent result for a message whose sender or
// recipient has a UTF-8 local part, to a relay without SMTPUTF8: there is
// no ASCII form of such an address, and a relay that does not offer the
// extension would refuse it (553 5.6.7) or mangle it.
func refuseUTF8(m *notify.Message) (notify.Result, bool) {
	for _, a := range []struct{ role, addr string }{{"recipient", m.To}, {"sender", m.From}} {
		if !asciiLocal(a.addr) {
			return notify.Result{Outcome: notify.Permanent,
				Reply: "not sent: the " + a.role + " address has a UTF-8 local part and the relay does not offer SMTPUTF8"}, true
		}
	}
	return notify.Result{}, false
}

// envelope is a message's SMTP sender and recipients.
type envelope struct {
	from string
	to   []string
}

// envelopeOf returns the envelope of m: its sender and recipient in
// angle brackets, domains in A-labels, as go-mail's own Send would give
// them.
func envelopeOf(m *notify.Message) (envelope, error) {
	from, err := address("from", "", m.From)
	if err != nil {
		return envelope{}, &stepError{step: "getting sender address", err: err}
	}
	to, err := address("to", "", m.To)
	if err != nil {
		return envelope{}, &stepError{step: "getting recipient addresses", err: err}
	}
	return envelope{from: (&netmail.Address{Address: from.Address}).String(),
		to: []string{(&netmail.Address{Address: to.Address}).String()}}, nil
}

// send makes one attempt. retry says the session was found dead before
// DATA on a connection that had been used before.
func (c *smtpConn) send(ctx context.Context, env envelope, data []byte) (notify.Result, bool) {
	// The connection deadline is set from the timeout at the start of
	// each message; a done context moves it to the past, which makes the
	// blocked read or write return at once.
	raw := c.raw
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	reply, err := c.transact(env, data)
	interrupted := !stop()

	if err == nil {
		c.sent++
		return notify.Result{Outcome: notify.Delivered, Code: 250, Reply: oneLine(reply)}, false
	}
	r, preData := classify(err)
	r.Unsent = preData
	if interrupted && r.Code == 0 {
		r.Reply = fmt.Sprintf("%v: %s", ctx.Err(), r.Reply)
	}
	retry := preData && r.Broken && !interrupted && c.sent > 0 && (r.Code == 421 || !isTimeout(err))
	return r, retry
}

// stepError is a failed step of an SMTP transaction. Its text is the one
// go-mail's SendError gives for the same step.
type stepError struct {
	step    string
	preData bool // nothing of the message content had been sent
	endSent bool // the end of the content (the final dot) may have reached the relay
	err     error
	reset   error // from the RSET after a refused MAIL or RCPT
}

func (e *stepError) Error() string {
	if e.reset != nil {
		return e.step + ": " + e.err.Error() + ", " + e.reset.Error()
	}
	return e.step + ": " + e.err.Error()
}

func (e *stepError) Unwrap() error { return e.err }

// transact runs one mail transaction (MAIL, RCPT, DATA) on the session
// and writes data, the message as encoded, after DATA: the same exchange
// as go-mail's Client.SendWithSMTPClient with no NOOP before and no RSET
// after, but with the bytes already encoded (and hashed) by Send. It
// returns the relay's reply to the end of DATA.
func (c *smtpConn) transact(env envelope, data []byte) (string, error) {
	s := c.smtp
	if !s.HasConnection() {
		return "", &stepError{step: "checking SMTP connection", preData: true, err: mail.ErrNoActiveConnection}
	}
	if err := s.UpdateDeadline(c.cfg.Timeout); err != nil {
		return "", &stepError{step: "checking SMTP connection", preData: true, err: err}
	}
	// After a refused MAIL or RCPT the transaction is reset, so the
	// session stays usable for the next message.
	reset := func(e *stepError) error {
		e.reset = s.Reset()
		return e
	}
	if err := s.Mail(env.from); err != nil {
		return "", reset(&stepError{step: "sending SMTP MAIL FROM command", preData: true, err: err})
	}
	for _, to := range env.to {
		if err := s.Rcpt(to); err != nil {
			return "", reset(&stepError{step: "sending SMTP RCPT TO command", preData: true, err: err})
		}
	}
	w, err := s.Data()
	if err != nil {
		return "", &stepError{step: "sending SMTP DATA command", preData: true, err: err}
	}
	if _, err := w.Write(data); err != nil {
		return "", &stepError{step: "sending message content", err: err}
	}
	if err := w.Close(); err != nil {
		// Close sends the final dot, then reads the reply: without a
		// reply the relay may have taken the message.
		return "", &stepError{step: "closing SMTP DATA writer", endSent: true, err: err}
	}
	if dc, ok := w.(*smtp.DataCloser); ok {
		return dc.ServerResponse(), nil
	}
	return "", nil
}

// classify maps a failed transaction to a Result. preData says nothing of
// the message content had been sent when it failed.
func classify(err error) (notify.Result, bool) {
	var se *stepError
	if !errors.As(err, &se) {
		return notify.Result{Outcome: notify.Temporary, Reply: oneLine(err.Error()), Broken: true}, false
	}
	var te *textproto.Error
	if !errors.As(se.err, &te) || te.Code < 400 || te.Code > 599 {
		// No reply code: a network error or timeout mid-exchange. After
		// the final dot, the message may have been accepted.
		return notify.Result{Outcome: notify.Temporary, Reply: trimSendError(se.Error()), Broken: true, MaybeDelivered: se.endSent}, se.preData
	}
	code := te.Code
	r := notify.Result{Outcome: notify.Permanent, Code: code, Reply: replyText(se.Error(), code)}
	if code < 500 {
		r.Outcome = notify.Temporary
	}
	// 421: the relay is closing the session.
	r.Broken = code == 421
	return r, se.preData
}

// replyText picks the server's reply ("451 4.7.1 Try later") out of a
// go-mail SendError text, which wraps it in the failed step, the affected
// recipients and message id, and quotes it (net/textproto formats a reply
// as 451 "text").
func replyText(s string, code int) string {
	prefix := strconv.Itoa(code) + " "
	i := strings.Index(s, prefix)
	if i < 0 {
		return trimSendError(s)
	}
	rest := s[i+len(prefix):]
	if q, err := strconv.QuotedPrefix(rest); err == nil {
		if text, err := strconv.Unquote(q); err == nil {
			return oneLine(prefix + text)
		}
	}
	return trimSendError(s[i:])
}

// trimSendError drops the affected recipients and message id that go-mail
// appends to a SendError text: the ledger has them already.
func trimSendError(s string) string {
	for _, tail := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.LastIndex(s, tail); i >= 0 {
			s = s[:i]
		}
	}
	return oneLine(s)
}

// oneLine joins a multi-line reply into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func isTimeout(err error) bool {
	// go-mail's SendError keeps the underlying error to itself, so the
	// text is all there is to go by.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "i/o timeout")
}

// Close ends the session with QUIT unless it is broken, and closes the
// connection in any case.
func (c *smtpConn) Close() error {
	if c.client == nil {
		return nil
	}
	var err error
	if !c.broken {
		_ = c.raw.SetDeadline(time.Now().Add(min(c.cfg.Timeout, quitTimeout)))
		if qerr := c.client.CloseWithSMTPClient(c.smtp); qerr != nil {
			err = c.errorf("email: close %s", qerr)
		}
	}
	c.closeRaw()
	c.client, c.smtp, c.broken = nil, nil, true
	return err
}

// closeRaw drops the TCP connection without a word to the server.
func (c *smtpConn) closeRaw() {
	if c.raw != nil {
		_ = c.raw.Close()
		c.raw = nil
	}
}
