// Package dkim signs outgoing notices with a controller's DKIM key
// (RFC 6376, relaxed/relaxed, SHA-256) using github.com/emersion/go-msgauth,
// and reads and prints such keys: PEM private keys in, the DNS TXT record
// to publish out.
//
// Keys are RSA of 2048 to 4096 bits or ed25519 (RFC 8463). The private key
// is never stored here: the caller seals the PEM (notify.SetDKIM) and hands
// the parsed key back for each send.
package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// HeaderKeys are the header fields every signature covers: the ones a
// reader sees and the MIME structure. A field is signed whether or not the
// message has it, so one added later in transit breaks the signature.
var HeaderKeys = []string{"From", "To", "Subject", "Date", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding"}

// ErrBadKey marks a key file that is not a usable DKIM private key.
var ErrBadKey = errors.New("not a DKIM private key")

// selectorRE is a DNS label sequence, as a selector must be.
var selectorRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// CheckSelector reports whether s can be a DKIM selector (DNS labels).
func CheckSelector(s string) error {
	if len(s) == 0 || len(s) > 200 || !selectorRE.MatchString(s) {
		return fmt.Errorf("selector %q is not a DNS name (letters, digits, '-', labels separated by '.')", s)
	}
	return nil
}

// ParseKey reads a PEM private key: PKCS#8 ("PRIVATE KEY", RSA or
// ed25519, as openssl genpkey writes) or PKCS#1 ("RSA PRIVATE KEY"). RSA
// keys must have 2048 to 4096 bits: shorter ones are refused by receivers
// (RFC 8301), longer ones do not fit a TXT record.
func ParseKey(pemBytes []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrBadKey)
	}
	if b2, _ := pem.Decode(rest); b2 != nil {
		return nil, fmt.Errorf("%w: more than one PEM block", ErrBadKey)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q (want PRIVATE KEY or RSA PRIVATE KEY)", ErrBadKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < 2048 || bits > 4096 {
			return nil, fmt.Errorf("%w: RSA key of %d bits (want 2048 to 4096)", ErrBadKey, bits)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: key type %T (want RSA or ed25519)", ErrBadKey, key)
}

// Algorithm names the key's type as the k= tag does: "rsa" or "ed25519".
func Algorithm(k crypto.Signer) string {
	if _, ok := k.Public().(ed25519.PublicKey); ok {
		return "ed25519"
	}
	return "rsa"
}

// RecordValue is the TXT record value that publishes k's public key:
// "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>" or, for ed25519,
// "v=DKIM1; k=ed25519; p=<base64 of the 32-byte key>" (RFC 8463).
func RecordValue(k crypto.Signer) (string, error) {
	var p []byte
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		p = pub
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("dkim: public key: %w", err)
		}
		p = der
	default:
		return "", fmt.Errorf("dkim: %w: key type %T", ErrBadKey, pub)
	}
	return "v=DKIM1; k=" + Algorithm(k) + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// RecordName is the DNS name the record goes under.
func RecordName(selector, domain string) string {
	return selector + "._domainkey." + strings.TrimSuffix(domain, ".")
}

// Record is the zone-file line to publish: the name, TXT, and the value
// split into quoted strings of at most 255 bytes (a TXT record's limit per
// string; an RSA-2048 value is longer).
func Record(k crypto.Signer, selector, domain string) (string, error) {
	v, err := RecordValue(k)
	if err != nil {
		return "", err
	}
	var parts []string
	for len(v) > 255 {
		parts = append(parts, `"`+v[:255]+`"`)
		v = v[255:]
	}
	parts = append(parts, `"`+v+`"`)
	return RecordName(selector, domain) + ". IN TXT ( " + strings.Join(parts, " ") + " )", nil
}

// Key is a controller's signing key and where its record is published.
type Key struct {
	Domain   string // d=: the From domain
	Selector string // s=
	Signer   crypto.Signer
}

// Sign returns the DKIM-Signature header field, with its CRLF, for msg
// (a whole message, header and body, with CRLF line ends): prepended to
// msg, it makes the signed message.
func (k *Key) Sign(msg []byte) ([]byte, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 k.Domain,
		Selector:               k.Selector,
		Signer:                 k.Signer,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             HeaderKeys,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim: sign: %w", err)
	}
	if _, err := s.Write(msg); err != nil {
		s.Close()
		return nil, fmt.Errorf("dkim: sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("dkim: sign: %w", err)
	}
	return []byte(s.Signature()), nil
}

// Verify checks every DKIM signature of msg against the public key
// published as record (a TXT value as RecordValue makes) for any
// selector and domain: no DNS is asked. It returns an error unless there
// is at least one signature and all of them verify.
func Verify(msg []byte, record string) error {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil },
	})
	if err != nil {
		return fmt.Errorf("dkim: verify: %w", err)
	}
	if len(vs) == 0 {
		return errors.New("dkim: verify: message not signed")
	}
	for _, v := range vs {
		if v.Err != nil {
			return fmt.Errorf("dkim: verify %s: %w", v.Domain, v.Err)
		}
	}
	return nil
}
