package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SNS subscription confirmation. A SubscriptionConfirmation to the SES
// webhook (which already passed the shared secret) is checked as AWS
// documents: the signing certificate is fetched from SigningCertURL, which
// must be https on an SNS host (sns.REGION.amazonaws.com), over TLS
// verified against the system's roots; the message's signature
// (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) must verify with its
// key over the canonical string of the message's fields. Only then is the
// SubscribeURL (https, an SNS host too) visited, which confirms the
// subscription. Nothing else is ever fetched. Notifications themselves
// stay authenticated by the shared secret.

// snsHost matches the hosts SNS certificates and subscription URLs live on.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// snsClient fetches signing certificates and confirms subscriptions.
type snsClient struct {
	http *http.Client
	// allowHost says whether a URL's host may be fetched; tests widen it
	// to their own TLS server.
	allowHost func(host string) bool
	mu        sync.Mutex
	certs     map[string]*x509.Certificate
}

func newSNSClient() *snsClient {
	return &snsClient{
		http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never follow a redirect off the SNS host
		}},
		allowHost: snsHost.MatchString,
		certs:     map[string]*x509.Certificate{},
	}
}

// snsMessage is an SNS message's envelope.
type snsMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject"`
	Message          string `json:"Message"`
	SubscribeURL     string `json:"SubscribeURL"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
}

// stringToSign is the canonical form SNS signs.
func (m *snsMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == "Notification" {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// checkURL returns raw parsed when it is https on an allowed host.
func (c *snsClient) checkURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || !c.allowHost(u.Hostname()) {
		return nil, fmt.Errorf("sns: %s is not an https URL on an SNS host", what)
	}
	return u, nil
}

// verify checks the message's signature with the certificate its
// SigningCertURL names.
func (c *snsClient) verify(ctx context.Context, m *snsMessage) error {
	u, err := c.checkURL("SigningCertURL", m.SigningCertURL)
	if err != nil {
		return err
	}
	var h crypto.Hash
	var sum []byte
	switch m.SignatureVersion {
	case "1":
		s := sha1.Sum([]byte(m.stringToSign())) //nolint:gosec // as SNS signs
		h, sum = crypto.SHA1, s[:]
	case "2":
		s := sha256.Sum256([]byte(m.stringToSign()))
		h, sum = crypto.SHA256, s[:]
	default:
		return fmt.Errorf("sns: unknown SignatureVersion %q", m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return errors.New("sns: the signature is not base64")
	}
	cert, err := c.cert(ctx, u.String())
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("sns: the signing certificate has no RSA key")
	}
	if err := rsa.VerifyPKCS1v15(pub, h, sum, sig); err != nil {
		return errors.New("sns: the signature does not verify")
	}
	return nil
}

// cert fetches (once) and parses a signing certificate.
func (c *snsClient) cert(ctx context.Context, certURL string) (*x509.Certificate, error) {
	c.mu.Lock()
	cert, ok := c.certs[certURL]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	body, err := c.get(ctx, certURL, 64<<10)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("sns: the signing certificate is not PEM")
	}
	cert, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sns: signing certificate: %w", err)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errors.New("sns: the signing certificate is expired or not yet valid")
	}
	c.mu.Lock()
	c.certs[certURL] = cert
	c.mu.Unlock()
	return cert, nil
}

// confirm visits the subscription URL.
func (c *snsClient) confirm(ctx context.Context, m *snsMessage) error {
	u, err := c.checkURL("SubscribeURL", m.SubscribeURL)
	if err != nil {
		return err
	}
	_, err = c.get(ctx, u.String(), 64<<10)
	return err
}

func (c *snsClient) get(ctx context.Context, raw string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sns: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sns: %s answered %s", req.URL.Host, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}
