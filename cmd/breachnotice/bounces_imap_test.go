package main

import (
	"archive/zip"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const imapTestPassword = "imap-pass-9f3c"

// imapTest is an in-process IMAP server (emersion/go-imap v2's server with
// its in-memory backend) on a loopback port, with one user, bounces@, and
// an INBOX.
type imapTest struct {
	t        *testing.T
	addr     string
	tls      *tls.Config // nil: plain; else a self-signed certificate
	startTLS bool        // TLS by STARTTLS, else from the first byte
}

// startIMAP starts a server: mode is "plain", "tls" (implicit) or
// "starttls"; caps nil is IMAP4rev2 (MOVE, UIDPLUS).
func startIMAP(t *testing.T, mode string, caps imap.CapSet) *imapTest {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("bounces@openlearn.example", imapTestPassword)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	it := &imapTest{t: t, startTLS: mode == "starttls"}
	if mode != "plain" {
		// httptest's self-signed certificate for 127.0.0.1.
		hs := httptest.NewUnstartedServer(nil)
		hs.StartTLS()
		it.tls = hs.TLS.Clone()
		it.tls.NextProtos = nil
		hs.Close()
	}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	}
	if it.startTLS {
		opts.TLSConfig = it.tls
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	it.addr = ln.Addr().String()
	if mode == "tls" {
		ln = tls.NewListener(ln, it.tls)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return it
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// url is the --imap URL of the INBOX.
func (it *imapTest) url() string {
	scheme := "imap"
	if it.tls != nil && !it.startTLS {
		scheme = "imaps"
	}
	return scheme + "://bounces%40openlearn.example@" + it.addr + "/INBOX"
}

// client logs in as the mailbox's owner would, to put mail in and look.
func (it *imapTest) client() *imapclient.Client {
	it.t.Helper()
	opts := &imapclient.Options{}
	var c *imapclient.Client
	var err error
	switch {
	case it.startTLS:
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
		c, err = imapclient.DialStartTLS(it.addr, opts)
	case it.tls != nil:
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
		c, err = imapclient.DialTLS(it.addr, opts)
	default:
		c, err = imapclient.DialInsecure(it.addr, opts)
	}
	if err != nil {
		it.t.Fatal(err)
	}
	if err := c.Login("bounces@openlearn.example", imapTestPassword).Wait(); err != nil {
		it.t.Fatal(err)
	}
	return c
}

// deliver appends a message to the INBOX as an MTA would store it: CRLF.
func (it *imapTest) deliver(msg string) {
	it.t.Helper()
	c := it.client()
	defer c.Close()
	raw := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	ac := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := io.WriteString(ac, raw); err != nil {
		it.t.Fatal(err)
	}
	if err := ac.Close(); err != nil {
		it.t.Fatal(err)
	}
	if _, err := ac.Wait(); err != nil {
		it.t.Fatal(err)
	}
}

// folder lists a folder's messages as "Subject [flags]", sorted; missing
// is nil.
func (it *imapTest) folder(name string) []string {
	it.t.Helper()
	c := it.client()
	defer c.Close()
	if _, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil
		}
		it.t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		it.t.Fatal(err)
	}
	out := []string{}
	for _, m := range msgs {
		flags := make([]string, 0, len(m.Flags))
		for _, f := range m.Flags {
			flags = append(flags, string(f))
		}
		out = append(out, m.Envelope.Subject+" "+strings.Join(flags, ","))
	}
	sort.Strings(out)
	return out
}

// TestCLI_BouncesPoll sends an incident's emails to an in-process SMTP
// server, then puts a Postfix bounce of Ana's notice, an Exchange bounce
// of Di's (already imported from a file), Cy's auto-reply, a delay warning
// and a stranger's question in an IMAP INBOX and polls it: Ana's notice
// fails and her letter is queued, as the file import does; only the two
// bounces move to the processed folder (created by the poll), the rest
// stay in the INBOX unread, nothing is deleted, and a second poll changes
// nothing.
func TestCLI_BouncesPoll(t *testing.T) {
	c := newCLI(t)
	c.seed()
	sent := sentIncident(t, c, "id,name,email,country,region\na4,Di,di@example.org,US,US-CA\n", "ana@example.org", "di@example.org", "cy@example.org")
	ana, di, cy := sent["ana@example.org"], sent["di@example.org"], sent["cy@example.org"]
	db := c.openDB()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	letters := func() int {
		return count(`SELECT count(*) FROM notices WHERE channel = 'letter' AND state = 'queued'`)
	}
	ledgerSize := func() int { return count(`SELECT sum(size) FROM ledger_logs`) }
	lettersBefore, ledgerBefore := letters(), ledgerSize()

	// Di's bounce was imported from a file before it reached the mailbox
	// too: the poll knows it (the same bytes, CRLF or not) and moves it.
	diBounce := bounceFrom(t, "exchange.eml", di)
	c.ok("bounces", "import", c.file("di.eml", diBounce))
	ledgerAfterDi := ledgerSize()

	it := startIMAP(t, "plain", nil)
	it.deliver(bounceFrom(t, "postfix.eml", ana))
	it.deliver(diBounce)
	it.deliver(bounceFrom(t, "autoreply.eml", cy))
	it.deliver(bounceFrom(t, "delay.eml", ana))
	it.deliver(bounceFrom(t, "not-a-bounce.eml", cy))
	inbox := it.folder("INBOX")
	if len(inbox) != 5 {
		t.Fatalf("INBOX before the poll: %q", inbox)
	}
	c.env[imapPasswordEnv] = imapTestPassword

	out, errOut, code := c.run("bounces", "poll", "--imap", it.url())
	if code != 0 {
		t.Fatalf("bounces poll: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"5 messages read: 1 bounced (1 letters queued, 0 unreachable: substitute notice)",
		"1 delay warnings and 1 auto-replies ignored, 1 already imported, 1 unmatched",
		"unmatched INBOX UID 5: not a delivery failure report",
		"2 matched messages moved from INBOX to breachnotice-processed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("poll output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, imapTestPassword) {
		t.Error("the poll printed the IMAP password")
	}

	// Ana's notice bounced as with the file import: failed, email_bounced
	// in the ledger, a letter queued, in one go.
	var state, reply, by string
	if err := db.QueryRow(`SELECT n.state, n.last_reply, b.matched_by FROM notices n JOIN bounces b ON b.notice_id = n.id WHERE n.message_id = ?`, ana.MessageID).
		Scan(&state, &reply, &by); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || !strings.Contains(reply, "bounced 5.1.1") || by != "return-path" {
		t.Errorf("Ana's email notice: %s %q matched by %s", state, reply, by)
	}
	// Di has no postal address: only Ana's letter.
	if got := letters(); got != lettersBefore+1 {
		t.Errorf("queued letters %d, want %d", got, lettersBefore+1)
	}
	if got := ledgerSize(); got != ledgerAfterDi+2 {
		t.Errorf("ledger grew from %d to %d entries, want 2 (email_bounced, letter_queued)", ledgerAfterDi, got)
	}
	if ledgerAfterDi <= ledgerBefore {
		t.Errorf("the file import of Di's bounce wrote nothing to the ledger")
	}
	if n := count(`SELECT count(*) FROM bounces`); n != 2 {
		t.Errorf("%d bounces recorded, want 2 (Di's once, Ana's)", n)
	}
	bundle := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--out", bundle)
	if n := strings.Count(zipText(t, bundle), `"email_bounced"`); n < 2 {
		t.Errorf("the proof bundle names %d email_bounced entries, want Ana's and Di's", n)
	}

	// Only the two bounces moved; the rest stay in the INBOX, unread.
	inbox, processed := it.folder("INBOX"), it.folder("breachnotice-processed")
	if want := []string{"Undeliverable: Notice of a data breach ", "Undelivered Mail Returned to Sender "}; !slices.Equal(processed, want) {
		t.Errorf("processed folder: %q, want the Postfix and Exchange bounces", processed)
	}
	if len(inbox) != 3 || len(inbox)+len(processed) != 5 {
		t.Errorf("INBOX after the poll: %q (processed %q): something was lost", inbox, processed)
	}
	for _, m := range append(slices.Clone(inbox), processed...) {
		if strings.Contains(m, `\Seen`) || strings.Contains(m, `\Deleted`) {
			t.Errorf("message flagged by the poll: %q", m)
		}
	}
	for _, m := range inbox {
		if strings.Contains(m, "Undeliver") {
			t.Errorf("a bounce stayed in the INBOX: %q", inbox)
		}
	}

	// Again: nothing changes.
	lettersNow, ledgerNow := letters(), ledgerSize()
	out = c.ok("bounces", "poll", "--imap", it.url(), "--json")
	var res struct {
		Read, Bounced, Duplicates, Moved int
		MovedTo                          string `json:"moved_to"`
		AutoReplies                      int    `json:"auto_replies"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Read != 3 || res.Bounced != 0 || res.Duplicates != 0 || res.AutoReplies != 1 || res.Moved != 0 || res.MovedTo != "breachnotice-processed" {
		t.Errorf("second poll:\n%s", out)
	}
	if letters() != lettersNow || ledgerSize() != ledgerNow {
		t.Errorf("the second poll changed the letters or the ledger")
	}
	if got := it.folder("INBOX"); !slices.Equal(got, inbox) {
		t.Errorf("INBOX after the second poll: %q, want %q", got, inbox)
	}
	if got := it.folder("breachnotice-processed"); !slices.Equal(got, processed) {
		t.Errorf("processed after the second poll: %q, want %q", got, processed)
	}
}

// TestCLI_BouncesPollRefuses: bad URLs, no password, a wrong password, a
// self-signed certificate without --insecure-tls and a server that cannot
// move without a full EXPUNGE are refused, naming the problem, the
// password never printed, and nothing in the mailbox touched.
func TestCLI_BouncesPollRefuses(t *testing.T) {
	c := newCLI(t)
	c.seed()
	plain := startIMAP(t, "plain", nil)
	tlsSrv := startIMAP(t, "tls", nil)
	starttls := startIMAP(t, "starttls", nil)
	old := startIMAP(t, "plain", imap.CapSet{imap.CapIMAP4rev1: {}})
	all := []*imapTest{plain, tlsSrv, starttls, old}
	for _, it := range all {
		it.deliver("From: someone@example.net\nSubject: hello\n\nhi\n")
	}
	tests := []struct {
		name     string
		password string
		args     []string
		code     int
		want     string
	}{
		{"no url", imapTestPassword, nil, 2, "want --imap"},
		{"bad scheme", imapTestPassword, []string{"--imap", "pop3://u@h/INBOX"}, 2, "want imaps://"},
		{"no user", imapTestPassword, []string{"--imap", "imaps://h/INBOX"}, 2, "no user"},
		{"password in url", imapTestPassword, []string{"--imap", "imaps://u:secret-in-url@h/INBOX"}, 2, "not the URL"},
		{"no password", "", []string{"--imap", plain.url()}, 2, imapPasswordEnv},
		{"move to the inbox", imapTestPassword, []string{"--imap", plain.url(), "--move-to", "inbox"}, 2, "other than INBOX"},
		{"wrong password", "wrong-pass-77", []string{"--imap", plain.url()}, 1, "log in"},
		{"self-signed", imapTestPassword, []string{"--imap", tlsSrv.url()}, 1, "certificate"},
		{"self-signed by STARTTLS", imapTestPassword, []string{"--imap", starttls.url()}, 1, "certificate"},
		{"no MOVE nor UIDPLUS", imapTestPassword, []string{"--imap", old.url()}, 1, "neither MOVE nor UIDPLUS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.env[imapPasswordEnv] = tc.password
			out, errOut, code := c.run(append([]string{"bounces", "poll"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			if strings.Contains(out+errOut, "secret-in-url") || (tc.password != "" && strings.Contains(out+errOut, tc.password)) {
				t.Errorf("a password was printed:\n%s%s", out, errOut)
			}
		})
	}
	for _, it := range all {
		if got := it.folder("INBOX"); len(got) != 1 || strings.Contains(got[0], `\Seen`) {
			t.Errorf("INBOX of %s after refused polls: %q", it.addr, got)
		}
		if got := it.folder("breachnotice-processed"); got != nil && len(got) != 0 {
			t.Errorf("processed folder of %s: %q", it.addr, got)
		}
	}

	// With --insecure-tls the self-signed servers are read (nothing
	// matches: nothing moves).
	c.env[imapPasswordEnv] = imapTestPassword
	for _, it := range []*imapTest{tlsSrv, starttls} {
		out := c.ok("bounces", "poll", "--imap", it.url(), "--insecure-tls")
		if !strings.Contains(out, "1 messages read") || !strings.Contains(out, "1 unmatched") || !strings.Contains(out, "0 matched messages moved") {
			t.Errorf("poll of %s:\n%s", it.url(), out)
		}
		if got := it.folder("INBOX"); len(got) != 1 {
			t.Errorf("INBOX of %s after the poll: %q", it.url(), got)
		}
	}
}

// zipText is every file of a zip archive, concatenated.
func zipText(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&b, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	return b.String()
}
