package email

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how a connection to the relay is encrypted.
type TLSMode string

// TLS modes: plain text (loopback relays and tests only), STARTTLS on a
// plain connection (required, never opportunistic), or TLS from the first
// byte ("implicit", usually port 465).
const (
	TLSNone     TLSMode = "none"
	TLSStartTLS TLSMode = "starttls"
	TLSImplicit TLSMode = "implicit"
)

// DefaultTimeout bounds each SMTP exchange (dial and greeting, or one
// message from MAIL FROM to the reply after DATA) unless the URL says
// otherwise.
const DefaultTimeout = 30 * time.Second

// Config says how to reach an SMTP relay. ParseURL builds one from a URL;
// the zero values of Port, TLS and Timeout mean their defaults.
type Config struct {
	Host     string
	Port     int // 0: 25, 587 or 465 by TLS mode
	Username string
	Password string
	TLS      TLSMode       // "": starttls
	Timeout  time.Duration // per exchange; 0: DefaultTimeout
	HELO     string        // name sent in EHLO; "": the local host name
	// SkipVerify turns off certificate verification. For tests only.
	SkipVerify bool
	// Provider is the sending service behind the relay, if any: each
	// message then carries the notice's reference in that service's
	// metadata header, which its webhooks echo (provider.go).
	Provider Provider
	// Now stamps the Date header; nil means time.Now.
	Now func() time.Time
}

// ParseURL parses a relay URL of the form
//
//	smtp://user:pass@host:port?tls=none|starttls|implicit&timeout=10s&helo=name&skip-verify=1&provider=postmark
//
// smtps:// means tls=implicit. User name and password are URL-decoded; a
// '/', '?' or '#' in them must be percent-encoded (%2F, %3F, %23).
//
// Errors never contain the user name or the password: the URL they quote
// has everything before its last '@' replaced (smtp://xxxxx@host:port),
// and no part of the user info is ever quoted.
func ParseURL(s string) (Config, error) {
	shown := redactRaw(s)
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("email: relay url %q: %s", shown, fmt.Sprintf(format, args...))
	}
	if userinfo, ok := rawUserinfo(s); ok && strings.ContainsAny(userinfo, "/?#") {
		// net/url would end the host at that character and report the
		// rest of the password as a port, path, query or fragment.
		return bad("the user name or password holds an unescaped '/', '?' or '#' (percent-encode them as %%2F, %%3F, %%23)")
	}
	if !strings.Contains(s, "://") {
		// Without it, net/url takes whatever precedes the first ':' (a
		// user name) for the scheme.
		return bad("missing scheme (want smtp:// or smtps://)")
	}
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		var eerr url.EscapeError
		if errors.As(err, &eerr) {
			// The bad escape may sit in the password: don't quote it.
			err = errors.New("invalid %-escape")
		}
		return bad("%v", err)
	}

	var cfg Config
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		cfg.TLS = TLSStartTLS
	case "smtps":
		cfg.TLS = TLSImplicit
	case "":
		return bad("missing scheme (want smtp:// or smtps://)")
	default:
		return bad("unsupported scheme %q (want smtp or smtps)", u.Scheme)
	}
	if u.Opaque != "" {
		return bad("missing // after the scheme")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return bad("unexpected fragment %q", u.Fragment)
	}

	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return bad("missing host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("bad port %q (want 1-65535)", p)
		}
		cfg.Port = n
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" {
			return bad("password given without a user name")
		}
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("bad query: %v", err)
	}
	for key, vals := range q {
		if len(vals) != 1 {
			return bad("query parameter %q given %d times", key, len(vals))
		}
		v := vals[0]
		switch key {
		case "tls":
			mode := TLSMode(strings.ToLower(v))
			switch mode {
			case TLSNone, TLSStartTLS, TLSImplicit:
			default:
				return bad("bad tls=%q (want none, starttls or implicit)", v)
			}
			if u.Scheme == "smtps" && mode != TLSImplicit {
				return bad("smtps:// conflicts with tls=%s", v)
			}
			cfg.TLS = mode
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return bad("bad timeout=%q (want a positive duration such as 10s)", v)
			}
			cfg.Timeout = d
		case "helo":
			if !isHostToken(v) {
				return bad("bad helo=%q (want a host name)", v)
			}
			cfg.HELO = v
		case "skip-verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return bad("bad skip-verify=%q (want 0 or 1)", v)
			}
			cfg.SkipVerify = b
		case "provider":
			p, err := ParseProvider(v)
			if err != nil {
				return bad("%v", err)
			}
			cfg.Provider = p
		default:
			return bad("unknown query parameter %q (want tls, timeout, helo, skip-verify or provider)", key)
		}
	}
	return cfg.withDefaults(), nil
}

// withDefaults fills in the port, TLS mode and timeout left zero.
func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSNone:
			c.Port = 25
		case TLSImplicit:
			c.Port = 465
		default:
			c.Port = 587
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// now is the time for the Date header.
func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// validate reports a Config that NewSMTP cannot use.
func (c Config) validate() error {
	switch {
	case c.Host == "":
		return errors.New("email: relay has no host")
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("email: relay port %d out of range", c.Port)
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("email: unknown tls mode %q", c.TLS)
	}
	if c.HELO != "" && !isHostToken(c.HELO) {
		return fmt.Errorf("email: bad helo name %q", c.HELO)
	}
	return nil
}

// String returns the relay as a URL with the password redacted, for the
// operator's terminal. It names the user: errors use endpoint instead.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "xxxxx")
		} else {
			u.User = url.User(c.Username)
		}
	}
	q := url.Values{}
	q.Set("tls", string(c.TLS))
	if c.Timeout > 0 {
		q.Set("timeout", c.Timeout.String())
	}
	if c.HELO != "" {
		q.Set("helo", c.HELO)
	}
	if c.SkipVerify {
		q.Set("skip-verify", "1")
	}
	if c.Provider != "" {
		q.Set("provider", string(c.Provider))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// endpoint names the relay without any user info ("smtp://host:587"), for
// errors: they end up in ledger entries, which must not hold credentials.
func (c Config) endpoint() string {
	scheme := "smtp"
	if c.TLS == TLSImplicit {
		scheme = "smtps"
	}
	return scheme + "://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// scrub removes the configured user name and password from an error text
// that may quote a server reply.
func (c Config) scrub(s string) string {
	for _, secret := range []string{c.Password, c.Username} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "xxxxx")
		}
	}
	return s
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "email.Config(" + c.String() + ")" }

// redactRaw returns s fit to quote in an error or a log line: everything
// between the scheme's "//" and the last '@' (the user name and the
// password, escaped or not) becomes "xxxxx". A string without '@' has no
// user info and is returned as it is.
func redactRaw(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s[:at], "://"); i >= 0 {
		start = i + 3
	}
	return s[:start] + "xxxxx" + s[at:]
}

// rawUserinfo returns the text between the scheme's "//" and the last '@'
// of s, which can only be user info: no other part of a relay URL may hold
// an '@'.
func rawUserinfo(s string) (string, bool) {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return "", false
	}
	start := 0
	if i := strings.Index(s[:at], "://"); i >= 0 {
		start = i + 3
	}
	return s[start:at], true
}

// isHostToken reports whether s can go on the EHLO line: letters, digits
// and the punctuation of host names and address literals.
func isHostToken(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-_:[]", r):
		default:
			return false
		}
	}
	return true
}
