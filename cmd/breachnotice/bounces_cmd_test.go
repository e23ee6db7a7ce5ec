package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// bounceFrom fills a bounce corpus message (notify/bounce/testdata) with
// a sent message's return path, recipient and Message-ID.
func bounceFrom(t *testing.T, name string, m smtptest.Received) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "notify", "bounce", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	rcpt := m.To[0]
	local, _, _ := strings.Cut(rcpt, "@")
	return strings.NewReplacer("{{RETURN_PATH}}", m.From, "{{RCPT}}", rcpt, "{{RCPT_LOCAL}}", local, "{{MESSAGE_ID}}", m.MessageID).Replace(string(b))
}

// sentIncident imports accounts (a CSV), opens incident 1 on the
// operator's copy (name, email, password), scopes and plans it, sends its
// emails to an in-process SMTP server and returns them by recipient,
// failing unless each of want received one: the starting point of the
// bounce tests, whichever way the bounces then arrive.
func sentIncident(t *testing.T, c *cli, accountsCSV string, want ...string) map[string]smtptest.Received {
	t.Helper()
	c.ok("accounts", "import", c.file("more.csv", accountsCSV))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	srv := smtptest.Start(t)
	c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())
	sent := map[string]smtptest.Received{}
	for _, m := range srv.Messages() {
		sent[m.To[0]] = m
	}
	for _, w := range want {
		if _, ok := sent[w]; !ok {
			t.Fatalf("emails went to %v; the test wants %v", srv.Messages(), want)
		}
	}
	return sent
}

// TestCLI_BouncesImport sends an incident's emails to an in-process SMTP
// server, then imports bounces for them: a person with a postal address
// gets a letter (in the next mail-house batch), one without counts
// towards substitute notice, a temporary failure, a delay, an auto-reply,
// a forged return path and a stranger's mail change nothing, and a second
// import changes nothing.
func TestCLI_BouncesImport(t *testing.T) {
	c := newCLI(t)
	c.seed()
	sent := sentIncident(t, c, "id,name,email,country,region\na4,Di,di@example.org,US,US-CA\n", "ana@example.org", "di@example.org", "cy@example.org")
	ana, di, cy := sent["ana@example.org"], sent["di@example.org"], sent["cy@example.org"]
	db := c.openDB()
	letters := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM notices WHERE channel = 'letter' AND state = 'queued'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	lettersBefore := letters()
	notifiedBefore := bundleNotified(t, c, "before.zip")

	dir := filepath.Join(c.dir, "bounces")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Ana's bounce arrives in an mbox, Di's as an Exchange .eml, Cy's is a
	// temporary SES failure; a delay, an auto-reply, a forged tag and a
	// stranger's question.
	write("a.mbox", "From MAILER-DAEMON Tue Nov 24 10:15:02 2026\n"+bounceFrom(t, "postfix.eml", ana)+"\nFrom MAILER-DAEMON Tue Nov 24 18:00:00 2026\n"+bounceFrom(t, "delay.eml", ana)+"\n")
	write("b-di.eml", bounceFrom(t, "exchange.eml", di))
	// Cy's comes from a sending service that put its own address in the
	// envelope: only the returned headers' X-Breachnotice-Ref names the
	// notice.
	ses := strings.Replace(bounceFrom(t, "ses.eml", cy), "To: "+cy.From, "To: bounces@ses-feedback.example", 1)
	ses = strings.Replace(ses, "Message-ID: "+cy.MessageID, "Message-ID: "+cy.MessageID+"\nX-Breachnotice-Ref: "+cy.From, 1)
	if strings.Count(ses, cy.From) != 1 {
		t.Fatalf("the SES bounce should name the return path once, in the returned headers:\n%s", ses)
	}
	write("c-cy.eml", ses)
	// A bounce naming only a Message-ID (which can be guessed) and no
	// recipient of that notice is not matched.
	write("g-msgid.eml", "From: MAILER-DAEMON@mx.example\nTo: postmaster@openlearn.example\nSubject: Undelivered Mail Returned to Sender\n\n550 5.1.1 mailbox unavailable\n\nMessage-ID: "+cy.MessageID+"\n")
	write("d-auto.eml", bounceFrom(t, "autoreply.eml", cy))
	forged := cy
	at := strings.LastIndexByte(forged.From, '@')
	dot := strings.IndexByte(forged.From, '.')
	forged.From = forged.From[:dot+1] + strings.Repeat("a", at-dot-1) + forged.From[at:]
	write("e-forged.eml", bounceFrom(t, "qmail.eml", forged))
	write("f-question.eml", bounceFrom(t, "not-a-bounce.eml", cy))

	out := c.ok("bounces", "import", dir, "--json")
	var res struct {
		Read, Bounced, Temporary, Delayed, Duplicates int
		LettersQueued                                 int `json:"letters_queued"`
		Unreachable                                   int `json:"unreachable"`
		AutoReplies                                   int `json:"auto_replies"`
		Unmatched                                     []struct{ Source, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Read != 8 || res.Bounced != 2 || res.LettersQueued != 1 || res.Unreachable != 1 || res.Temporary != 1 ||
		res.Delayed != 1 || res.AutoReplies != 1 || len(res.Unmatched) != 3 {
		t.Errorf("import result:\n%s", out)
	}
	reasons := ""
	for _, u := range res.Unmatched {
		reasons += u.Source + ": " + u.Reason + "\n"
	}
	if !strings.Contains(reasons, "e-forged.eml: return path") || !strings.Contains(reasons, "tag does not verify") ||
		!strings.Contains(reasons, "f-question.eml: not a delivery failure report") ||
		!strings.Contains(reasons, "g-msgid.eml: Message-ID "+cy.MessageID) {
		t.Errorf("unmatched:\n%s", reasons)
	}
	if got := letters(); got != lettersBefore+1 {
		t.Errorf("queued letters %d, want %d", got, lettersBefore+1)
	}
	var state, reply string
	if err := db.QueryRow(`SELECT state, last_reply FROM notices WHERE message_id = ?`, ana.MessageID).Scan(&state, &reply); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || !strings.Contains(reply, "bounced 5.1.1") {
		t.Errorf("Ana's email notice: %s %q", state, reply)
	}
	if err := db.QueryRow(`SELECT state FROM notices WHERE message_id = ?`, cy.MessageID).Scan(&state); err != nil || state != "sent" {
		t.Errorf("Cy's email notice after a temporary failure: %s %v", state, err)
	}
	var by string
	if err := db.QueryRow(`SELECT b.matched_by FROM bounces b JOIN notices n ON n.id = b.notice_id WHERE n.message_id = ?`, cy.MessageID).Scan(&by); err != nil || by != "return-path" {
		t.Errorf("Cy's bounce matched by %q (%v), want return-path (the X-Breachnotice-Ref header)", by, err)
	}
	if sub := c.ok("incident", "substitute", "1", "--json"); !strings.Contains(sub, `"account_id":"a4"`) || !strings.Contains(sub, "bounced 5.1.10") || strings.Contains(sub, `"a1"`) {
		t.Errorf("substitute notice:\n%s", sub)
	}

	if show := c.ok("incident", "show", "1"); !strings.Contains(show, "1 letter queued, 1 temporary, 1 unreachable") {
		t.Errorf("incident show lacks the bounces:\n%s", show)
	}

	// Again: nothing changes.
	ledgerSize := func() int {
		var n int
		if err := db.QueryRow(`SELECT sum(size) FROM ledger_logs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ledgerBefore := ledgerSize()
	out = c.ok("bounces", "import", dir)
	if !strings.Contains(out, "0 bounced") || !strings.Contains(out, "3 already imported") {
		t.Errorf("second import:\n%s", out)
	}
	ledgerAfter := ledgerSize()
	if ledgerAfter != ledgerBefore || letters() != lettersBefore+1 {
		t.Errorf("second import changed the ledger (%d → %d entries) or the letters", ledgerBefore, ledgerAfter)
	}

	// Ana's letter is in the next mail-house batch, and the bounce in the
	// proof bundle.
	batch := filepath.Join(c.dir, "batch.zip")
	c.ok("letters", "export", "1", "--out", batch)
	if manifest := zipFile(t, batch, "manifest.csv"); !strings.Contains(manifest, ",a1,") {
		t.Errorf("Ana's letter is not in the batch manifest:\n%s", manifest)
	}
	bundle := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--out", bundle)
	found := false
	zr, err := zip.OpenReader(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(b), `"email_bounced"`) && strings.Contains(string(b), "bounce_sha256") {
			found = true
		}
	}
	if !found {
		t.Error("the proof bundle holds no email_bounced entry")
	}
	c.ok("ledger", "verify", bundle)
	// The proof's summary no longer counts Ana and Di as notified.
	if after := bundleNotified(t, c, "after.zip"); after != notifiedBefore-2 {
		t.Errorf("summary: %d people notified before the bounces, %d after (want 2 fewer)", notifiedBefore, after)
	}
}

// bundleNotified exports a proof bundle of the operator and returns its
// summary's count of people notified.
func bundleNotified(t *testing.T, c *cli, name string) int64 {
	t.Helper()
	path := filepath.Join(c.dir, name)
	c.ok("ledger", "export", "--controller", "op", "--out", path)
	var r struct {
		Counts struct {
			People struct {
				Notified int64 `json:"notified"`
			} `json:"people"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(zipFile(t, path, "summary.json")), &r); err != nil {
		t.Fatal(err)
	}
	return r.Counts.People.Notified
}

func zipFile(t *testing.T, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if filepath.Base(f.Name) == name {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			return string(b)
		}
	}
	t.Fatalf("%s has no %s", path, name)
	return ""
}
