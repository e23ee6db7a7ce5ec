package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/bounce"
)

// imapPasswordEnv names the environment variable bounces poll reads the
// mailbox password from (never a flag or the URL: both show in ps).
const imapPasswordEnv = "BREACHNOTICE_IMAP_PASSWORD"

// imapFetchBatch is how many messages one FETCH asks for.
const imapFetchBatch = 50

// imapMoveBatch is how many messages one MOVE moves.
const imapMoveBatch = 200

// imapMailbox is a parsed --imap URL.
type imapMailbox struct {
	tls     bool // imaps: implicit TLS; imap: STARTTLS when offered, else plain
	addr    string
	user    string
	mailbox string
}

func parseIMAPURL(raw string) (imapMailbox, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return imapMailbox{}, usagef("bounces poll: --imap: %v", err)
	}
	var mb imapMailbox
	port := "143"
	switch u.Scheme {
	case "imaps":
		mb.tls, port = true, "993"
	case "imap":
	default:
		return mb, usagef("bounces poll: --imap %q: want imaps://user@host[:port]/MAILBOX (or imap:// for a local server)", u.Redacted())
	}
	if u.User == nil || u.User.Username() == "" {
		return mb, usagef("bounces poll: --imap %q: no user (imaps://user@host/INBOX)", u.Redacted())
	}
	if _, set := u.User.Password(); set {
		return mb, usagef("bounces poll: --imap: put the password in %s, not the URL", imapPasswordEnv)
	}
	if u.Hostname() == "" {
		return mb, usagef("bounces poll: --imap %q: no host", u.Redacted())
	}
	if u.Port() != "" {
		port = u.Port()
	}
	mb.addr = net.JoinHostPort(u.Hostname(), port)
	mb.user = u.User.Username()
	mb.mailbox = strings.Trim(u.Path, "/")
	if mb.mailbox == "" {
		mb.mailbox = "INBOX"
	}
	return mb, nil
}

// bouncesPoll reads the messages of an IMAP mailbox through the same
// import as bounces import, then moves the ones tied to a notice (applied
// now or before) to another folder; unmatched messages, delay warnings and
// auto-replies stay where they are. Nothing is deleted and messages are
// read without setting \Seen, so a second poll changes nothing.
func (a *app) bouncesPoll(ctx context.Context, args []string) error {
	fs := a.flags("bounces poll")
	rawURL := fs.String("imap", "", "the mailbox: imaps://user@host[:port]/INBOX (imap:// uses STARTTLS when offered, else plain); password in "+imapPasswordEnv)
	moveTo := fs.String("move-to", "breachnotice-processed", "the folder matched messages are moved to (created if missing)")
	insecure := fs.Bool("insecure-tls", false, "do not verify the server's certificate (self-signed test servers only)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *rawURL == "" {
		return usagef("bounces poll: want --imap imaps://user@host/INBOX and no arguments")
	}
	mb, err := parseIMAPURL(*rawURL)
	if err != nil {
		return err
	}
	if *moveTo == "" || strings.EqualFold(*moveTo, mb.mailbox) {
		return usagef("bounces poll: --move-to %q: want a folder other than %s", *moveTo, mb.mailbox)
	}
	password := a.getenv(imapPasswordEnv)
	if password == "" {
		return usagef("bounces poll: set %s to the mailbox password", imapPasswordEnv)
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	c, err := dialIMAP(mb, *insecure)
	if err != nil {
		return fmt.Errorf("bounces poll: connect to %s: %w", mb.addr, err)
	}
	defer c.Close()
	// The client takes no context: closing the connection ends whatever
	// command is waiting.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-done:
		}
	}()
	if err := c.Login(mb.user, password).Wait(); err != nil {
		return fmt.Errorf("bounces poll: log in to %s as %s: %w", mb.addr, mb.user, err)
	}
	// Without MOVE, moving is COPY, \Deleted and EXPUNGE; a plain EXPUNGE
	// would also remove what someone else marked deleted, so only UID
	// EXPUNGE (UIDPLUS) will do.
	caps := c.Caps()
	if !caps.Has(imap.CapMove) && !caps.Has(imap.CapUIDPlus) && !caps.Has(imap.CapIMAP4rev2) {
		return fmt.Errorf("bounces poll: %s supports neither MOVE nor UIDPLUS: cannot move only the matched messages", mb.addr)
	}
	if err := ensureIMAPFolder(c, *moveTo); err != nil {
		return fmt.Errorf("bounces poll: %s: %w", mb.addr, err)
	}
	if _, err := c.Select(mb.mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("bounces poll: select %s: %w", mb.mailbox, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return fmt.Errorf("bounces poll: search %s: %w", mb.mailbox, err)
	}
	uids := found.AllUIDs()
	uidOf := make(map[string]imap.UID, len(uids))
	res, err := notify.ImportBounceMessages(ctx, st, a.ledger, func(fn func(bounce.Message) error) error {
		return fetchIMAP(c, mb.mailbox, uids, func(uid imap.UID, raw []byte) error {
			src := fmt.Sprintf("%s UID %d", mb.mailbox, uid)
			uidOf[src] = uid
			return fn(bounce.NewMessage(src, raw))
		})
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// A MOVE per imapMoveBatch messages keeps each command line short.
	for start := 0; start < len(res.Matched); start += imapMoveBatch {
		var move imap.UIDSet
		for _, src := range res.Matched[start:min(start+imapMoveBatch, len(res.Matched))] {
			move.AddNum(uidOf[src])
		}
		if _, err := c.Move(move, *moveTo).Wait(); err != nil {
			return fmt.Errorf("bounces poll: the import is recorded, but moving %d messages to %s failed after %d (the next poll moves them): %w", len(res.Matched), *moveTo, start, err)
		}
	}
	if *asJSON {
		if err := a.printJSON(struct {
			*notify.BounceResult
			Moved   int    `json:"moved"`
			MovedTo string `json:"moved_to"`
		}{res, len(res.Matched), *moveTo}); err != nil {
			return err
		}
	} else {
		if err := a.printBounceResult(res, false); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d matched messages moved from %s to %s\n", len(res.Matched), mb.mailbox, *moveTo)
	}
	_ = c.Logout().Wait()
	return nil
}

// dialIMAP connects: implicit TLS for imaps, STARTTLS for imap when the
// server offers it, else plain (local relays and tests).
func dialIMAP(mb imapMailbox, insecure bool) (*imapclient.Client, error) {
	opts := &imapclient.Options{Dialer: &net.Dialer{Timeout: 30 * time.Second}}
	if insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by --insecure-tls
	}
	if mb.tls {
		return imapclient.DialTLS(mb.addr, opts)
	}
	c, err := imapclient.DialInsecure(mb.addr, opts)
	if err != nil {
		return nil, err
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, err
	}
	if !c.Caps().Has(imap.CapStartTLS) {
		return c, nil
	}
	c.Close()
	return imapclient.DialStartTLS(mb.addr, opts)
}

// ensureIMAPFolder creates folder unless it exists.
func ensureIMAPFolder(c *imapclient.Client, folder string) error {
	list, err := c.List("", folder, nil).Collect()
	if err != nil {
		return fmt.Errorf("list %s: %w", folder, err)
	}
	for _, l := range list {
		if l.Mailbox == folder || (strings.EqualFold(folder, "INBOX") && strings.EqualFold(l.Mailbox, "INBOX")) {
			return nil
		}
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		return fmt.Errorf("create %s: %w", folder, err)
	}
	return nil
}

// fetchIMAP calls fn with each message's bytes, imapFetchBatch at a time,
// in UID order, without setting \Seen (BODY.PEEK[]).
func fetchIMAP(c *imapclient.Client, mailbox string, uids []imap.UID, fn func(imap.UID, []byte) error) error {
	section := &imap.FetchItemBodySection{Peek: true}
	for start := 0; start < len(uids); start += imapFetchBatch {
		chunk := uids[start:min(start+imapFetchBatch, len(uids))]
		// Sizes first: a message larger than bounce.MaxMessage is refused
		// before its bytes are read, as the file import refuses it.
		sizes, err := c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return fmt.Errorf("bounces poll: fetch %s: %w", mailbox, err)
		}
		for _, m := range sizes {
			if m.RFC822Size > bounce.MaxMessage {
				return fmt.Errorf("bounces poll: %s UID %d: larger than %d bytes", mailbox, m.UID, bounce.MaxMessage)
			}
		}
		msgs, err := c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fmt.Errorf("bounces poll: fetch %s: %w", mailbox, err)
		}
		byUID := make(map[imap.UID][]byte, len(msgs))
		for _, m := range msgs {
			byUID[m.UID] = m.FindBodySection(section)
		}
		for _, uid := range chunk {
			raw, ok := byUID[uid]
			if !ok || raw == nil {
				// Expunged by someone else since the search: nothing to read.
				continue
			}
			if err := fn(uid, raw); err != nil {
				return err
			}
		}
	}
	return nil
}
