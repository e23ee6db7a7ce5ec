// Package smtptest runs an SMTP server in the test process, on a real TCP
// port on 127.0.0.1, for tests and benchmarks of SMTP clients.
//
// The server accepts every message by default and keeps it for
// inspection. Like a real relay, it refuses an envelope address with
// non-ASCII characters (553 5.6.7) unless it offers SMTPUTF8
// (WithSMTPUTF8) and the client asked for it on MAIL FROM. Behave programs a response per recipient and attempt, to
// provoke temporary and permanent replies, a connection dropped in the
// middle of DATA, or a server that stops answering. It is safe for
// concurrent connections.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Behaviour is the server's response to one recipient of one message.
type Behaviour int

// Behaviours. The ones after DATA apply to the whole message when any of
// its recipients asks for them.
const (
	// Accept takes the message and stores it.
	Accept Behaviour = iota
	// Reply451 refuses the recipient with 451 4.7.1 (try again later).
	Reply451
	// Reply550 refuses the recipient with 550 5.1.1 (no such user).
	Reply550
	// Reply451AtData takes the message content, then replies 451 4.3.0.
	Reply451AtData
	// Reply550AtData takes the message content, then replies 550 5.7.1.
	Reply550AtData
	// DropInData closes the connection while the content comes in.
	DropInData
	// Stall reads the content and then says nothing for the stall
	// duration (WithStall), longer than any sane client timeout.
	Stall
	// Discard accepts the message without storing it.
	Discard
	// DropAfterData takes the whole message and stores it, as a relay
	// that queued it would, then closes the connection before replying:
	// the client cannot know it was delivered.
	DropAfterData
)

func (b Behaviour) String() string {
	names := [...]string{"accept", "reply451", "reply550", "reply451-at-data",
		"reply550-at-data", "drop-in-data", "stall", "discard", "drop-after-data"}
	if b >= 0 && int(b) < len(names) {
		return names[b]
	}
	return fmt.Sprintf("Behaviour(%d)", int(b))
}

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	// MessageID is the Message-Id header, angle brackets included.
	MessageID string
}

// Option configures a Server.
type Option func(*options)

type options struct {
	tls     string // "", "starttls" or "implicit"
	discard bool
	stall   time.Duration
	user    string
	pass    string
	idle    time.Duration
	utf8    bool
	refuse  int // messages accepted before the server refuses (0: never)
	latency time.Duration
}

// WithLatency makes the server take d to answer each message's content,
// as a distant relay does: sending is then bound by latency, not by CPU.
func WithLatency(d time.Duration) Option { return func(o *options) { o.latency = d } }

// WithRefuseAfter makes the server go down once it has accepted n
// messages, as a relay taken out of service mid-run: its listener closes
// (new connections are refused) and open sessions answer 421 4.3.2 to the
// next MAIL FROM. Messages already past MAIL FROM still complete.
func WithRefuseAfter(n int) Option { return func(o *options) { o.refuse = n } }

// WithDiscard accepts every message fast without storing it, whatever
// Behave says: for throughput benchmarks. Count still counts.
func WithDiscard() Option { return func(o *options) { o.discard = true } }

// WithStall sets how long Stall keeps silent (default 10s; Close ends it
// early).
func WithStall(d time.Duration) Option { return func(o *options) { o.stall = d } }

// WithSTARTTLS offers STARTTLS with a self-signed certificate for
// 127.0.0.1; URL then asks for it (with verification off, for the test).
func WithSTARTTLS() Option { return func(o *options) { o.tls = "starttls" } }

// WithImplicitTLS serves SMTP inside TLS from the first byte (port 465
// style), with a self-signed certificate.
func WithImplicitTLS() Option { return func(o *options) { o.tls = "implicit" } }

// WithSMTPUTF8 offers the SMTPUTF8 extension (RFC 6531): UTF-8 envelope
// addresses are then accepted on a MAIL FROM that asks for it.
func WithSMTPUTF8() Option { return func(o *options) { o.utf8 = true } }

// WithAuth requires AUTH PLAIN with these credentials, over plain text.
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithIdleTimeout makes the server close a connection idle this long, with
// a 421 reply, as real relays do.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idle = d } }

// Server is a running test server.
type Server struct {
	opts options
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup

	mu          sync.Mutex
	tlsSessions int
	behave      func(rcpt string, attempt int) Behaviour
	attempts    map[string]int
	delivered   map[string]int // per recipient, lower-cased: messages accepted
	messages    []Received
	count       int
	conns       int
	closed      bool
	refusing    bool
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		opts:      options{stall: 10 * time.Second},
		done:      make(chan struct{}),
		attempts:  make(map[string]int),
		delivered: make(map[string]int),
	}
	for _, o := range opts {
		o(&s.opts)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.srv = smtp.NewServer(backend{s})
	if s.opts.tls != "" {
		cfg, err := selfSigned()
		if err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
		s.srv.TLSConfig = cfg
		if s.opts.tls == "implicit" {
			ln = tls.NewListener(ln, cfg)
		}
	}
	s.ln = ln
	s.srv.Domain = "smtptest.localhost"
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.MaxRecipients = 100
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = s.opts.idle
	s.srv.EnableSMTPUTF8 = s.opts.utf8
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is a relay URL for the server: without TLS, or with the server's TLS
// mode and certificate verification off (the certificate is self-signed).
func (s *Server) URL() string {
	switch s.opts.tls {
	case "starttls":
		return "smtp://" + s.Addr() + "?tls=starttls&skip-verify=1"
	case "implicit":
		return "smtps://" + s.Addr() + "?skip-verify=1"
	}
	return "smtp://" + s.Addr() + "?tls=none"
}

// TLSSessions counts sessions that ran over TLS.
func (s *Server) TLSSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsSessions
}

// selfSigned makes a TLS configuration with a fresh ECDSA certificate for
// 127.0.0.1 and localhost.
func selfSigned() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

// Behave sets the response to each recipient; attempt counts from 1 per
// recipient address over the server's life. nil restores Accept.
func (s *Server) Behave(f func(rcpt string, attempt int) Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behave = f
}

// Messages returns a copy of the messages stored so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	copy(out, s.messages)
	return out
}

// Count is the number of messages accepted, stored or discarded.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Deliveries returns, per recipient (lower-cased), how many messages the
// server accepted for them, stored or discarded: a count that stays small
// when WithDiscard keeps no message.
func (s *Server) Deliveries() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.delivered))
	for k, v := range s.delivered {
		out[k] = v
	}
	return out
}

// Connections is the number of connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Attempts is the number of RCPT commands seen for rcpt.
func (s *Server) Attempts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[strings.ToLower(rcpt)]
}

// Close stops the server and drops its connections. Start arranges for it
// to run when the test ends; calling it earlier is fine.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.done)
	_ = s.srv.Close()
	// Serve may not have registered the listener with go-smtp yet.
	_ = s.ln.Close()
	s.wg.Wait()
}

// decide counts an attempt for rcpt and returns what to do with it.
func (s *Server) decide(rcpt string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(rcpt)
	s.attempts[key]++
	if s.opts.discard {
		return Discard
	}
	if s.behave == nil {
		return Accept
	}
	return s.behave(rcpt, s.attempts[key])
}

func (s *Server) store(r Received, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	for _, to := range r.To {
		s.delivered[strings.ToLower(to)]++
	}
	if keep {
		s.messages = append(s.messages, r)
	}
	if s.opts.refuse > 0 && s.count >= s.opts.refuse && !s.refusing {
		s.refusing = true
		_ = s.ln.Close()
	}
}

// Refusing reports whether the server has gone down (WithRefuseAfter).
func (s *Server) Refusing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusing
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.conns++
	b.s.mu.Unlock()
	return &session{s: b.s, conn: c}, nil
}

// session is one SMTP session; go-smtp calls it from one goroutine.
type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	utf8   bool // MAIL FROM asked for SMTPUTF8
	to     []string
	after  Behaviour // what to do after DATA
	// countedTLS: this session was counted in tlsSessions.
	countedTLS bool
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.opts.user || pass != ss.s.opts.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

// errNeedsSMTPUTF8 is what a relay answers to a UTF-8 address in a
// transaction without SMTPUTF8.
var errNeedsSMTPUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
	Message: "Non-ASCII address requires SMTPUTF8"}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if _, ok := ss.conn.TLSConnectionState(); ok && !ss.countedTLS {
		ss.countedTLS = true
		ss.s.mu.Lock()
		ss.s.tlsSessions++
		ss.s.mu.Unlock()
	}
	if ss.s.opts.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if ss.s.Refusing() {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service shutting down"}
	}
	ss.utf8 = opts != nil && opts.UTF8
	if !ss.utf8 && !isASCII(from) {
		return errNeedsSMTPUTF8
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.utf8 && !isASCII(to) {
		return errNeedsSMTPUTF8
	}
	switch b := ss.s.decide(to); b {
	case Reply451:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}
	case Reply550:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	case Accept:
	default:
		// The first behaviour past plain acceptance wins.
		if ss.after == Accept || ss.after == Discard {
			ss.after = b
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.opts.latency > 0 {
		defer time.Sleep(ss.s.opts.latency)
	}
	switch ss.after {
	case DropInData:
		_, _ = io.CopyN(io.Discard, r, 16)
		_ = ss.conn.Conn().Close()
		return errors.New("smtptest: connection dropped")
	case Discard:
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		ss.s.store(Received{To: ss.to}, false)
		return nil
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch ss.after {
	case Stall:
		t := time.NewTimer(ss.s.opts.stall)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ss.s.done:
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Woke up too late"}
	case Reply451AtData:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Queue full, try again later"}
	case Reply550AtData:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message refused by policy"}
	}
	rec := Received{From: ss.from, To: append([]string(nil), ss.to...), Data: data}
	if m, err := netmail.ReadMessage(bytes.NewReader(data)); err == nil {
		rec.MessageID = m.Header.Get("Message-Id")
	}
	if ss.after == DropAfterData {
		ss.s.store(rec, true)
		_ = ss.conn.Conn().Close()
		return errors.New("smtptest: connection dropped before the reply")
	}
	ss.s.store(rec, true)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.utf8, ss.to, ss.after = "", false, nil, Accept
}

func (ss *session) Logout() error { return nil }
