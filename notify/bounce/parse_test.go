package bounce_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/bounce"
)

const (
	testRP    = "bounce+17.abcdefghijklmnop@bounces.openlearn.example"
	testRcpt  = "ana@example.org"
	testMsgID = "<incident-1.notice-17@openlearn.example>"
)

// Fill puts a return path, recipient and Message-ID into a corpus
// message's placeholders.
func fill(tmpl, rp, rcpt, msgID string) string {
	local, _, _ := strings.Cut(rcpt, "@")
	return strings.NewReplacer("{{RETURN_PATH}}", rp, "{{RCPT}}", rcpt, "{{RCPT_LOCAL}}", local, "{{MESSAGE_ID}}", msgID).Replace(tmpl)
}

func corpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fill(string(b), testRP, testRcpt, testMsgID))
}

func TestParseCorpus(t *testing.T) {
	for _, tc := range []struct {
		file       string
		kind       bounce.Kind
		status     string // of Failed(), "" for none
		structured bool
		msgID      bool   // the returned copy's Message-ID is found
		arrival    string // RFC 3339, "" to skip
		diag       string // part of the diagnostic
	}{
		{"postfix.eml", bounce.KindFailure, "5.1.1", true, true, "2026-11-24T10:14:58Z", "User unknown in virtual mailbox table"},
		{"exim.eml", bounce.KindFailure, "5.7.1", false, true, "2026-11-24T10:02:44Z", "Mailbox disabled"},
		{"exchange.eml", bounce.KindFailure, "5.1.10", true, true, "2026-11-24T12:30:05Z", "RecipientNotFound"},
		{"gmail.eml", bounce.KindFailure, "5.1.1", true, true, "2026-11-24T13:12:38Z", "does not exist"},
		{"ses.eml", bounce.KindFailure, "4.4.7", true, true, "2026-11-24T14:00:03Z", "Message expired"},
		{"truncated.eml", bounce.KindFailure, "5.2.2", true, false, "2026-11-24T16:44:51Z", "Mailbox full"},
		{"qmail.eml", bounce.KindFailure, "5.1.1", false, true, "", "no mailbox here"},
		{"delay.eml", bounce.KindDelay, "", true, true, "", ""},
		{"autoreply.eml", bounce.KindAutoReply, "", false, false, "", ""},
		{"not-a-bounce.eml", bounce.KindUnknown, "", false, false, "", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := bounce.Parse(corpus(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != tc.kind {
				t.Fatalf("kind = %s, want %s (%+v)", rep.Kind, tc.kind, rep)
			}
			if len(rep.ReturnPaths) == 0 || !strings.EqualFold(rep.ReturnPaths[0], testRP) {
				t.Errorf("return paths = %v, want %s", rep.ReturnPaths, testRP)
			}
			if got := len(rep.MessageIDs) == 1 && rep.MessageIDs[0] == testMsgID; got != tc.msgID {
				t.Errorf("message ids = %v, want %s: %v", rep.MessageIDs, testMsgID, tc.msgID)
			}
			if rep.Structured != tc.structured {
				t.Errorf("structured = %v", rep.Structured)
			}
			if tc.arrival != "" {
				if got := rep.Arrival.Format(time.RFC3339); got != tc.arrival {
					t.Errorf("arrival = %s, want %s", got, tc.arrival)
				}
			}
			f := rep.Failed()
			if tc.status == "" {
				if f != nil && tc.kind != bounce.KindFailure {
					t.Errorf("Failed() = %+v on a %s", f, tc.kind)
				}
				return
			}
			if f == nil {
				t.Fatalf("no failed recipient: %+v", rep)
			}
			if f.Status != tc.status || f.Address != testRcpt || !strings.Contains(f.Diagnostic, tc.diag) {
				t.Errorf("failed = %+v, want %s %s %q", f, tc.status, testRcpt, tc.diag)
			}
			if f.Permanent() != strings.HasPrefix(tc.status, "5.") {
				t.Errorf("Permanent() = %v", f.Permanent())
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	pf := corpus(t, "postfix.eml")
	ex := corpus(t, "exim.eml")
	// An mbox with a ">From " line in a body, CRLF line ends in one
	// message; a maildir with the same messages.
	exBody := strings.Replace(string(ex), "Dear learner,", ">From the controller: Dear learner,", 1)
	mbox := "From MAILER-DAEMON Tue Nov 24 10:15:02 2026\n" + string(pf) + "\nFrom MAILER-DAEMON Tue Nov 24 11:02:44 2026\n" + exBody + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "bounces.mbox"), []byte(mbox), 0o600))
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		must(t, os.MkdirAll(filepath.Join(md, sub), 0o700))
	}
	must(t, os.WriteFile(filepath.Join(md, "new", "1.mx:2,"), []byte(strings.ReplaceAll(string(pf), "\n", "\r\n")), 0o600))
	must(t, os.WriteFile(filepath.Join(md, "cur", "2.mx:2,S"), ex, 0o600))

	var got []bounce.Message
	if err := bounce.Read(dir, func(m bounce.Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("read %d messages, want 4: %v", len(got), got)
	}
	sums := map[string][]string{}
	for _, m := range got {
		rep, err := bounce.Parse(m.Raw)
		if err != nil || rep.Kind != bounce.KindFailure {
			t.Errorf("%s: %v %+v", m.Source, err, rep)
			continue
		}
		sums[rep.SHA256] = append(sums[rep.SHA256], m.Source)
	}
	// The postfix bounce hashes the same from the mbox (LF) and the
	// maildir (CRLF); the exim one differs by the unescaped From line.
	for _, m := range got {
		if strings.HasSuffix(m.Source, "#2") && !strings.Contains(string(m.Raw), "\nFrom the controller: Dear") {
			t.Errorf("mbox >From line not unescaped:\n%s", m.Raw)
		}
	}
	if len(sums) != 3 {
		t.Errorf("%d distinct hashes, want 3 (postfix twice, exim and its edited copy): %v", len(sums), sums)
	}
	if err := bounce.Read(filepath.Join(dir, "missing"), func(bounce.Message) error { return nil }); err == nil {
		t.Error("a missing path is no error")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	es, _ := os.ReadDir(filepath.Join("testdata", "corpus"))
	for _, e := range es {
		f.Add(corpus(f, e.Name()))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep, err := bounce.Parse(raw)
		if rep == nil {
			t.Fatal("nil report")
		}
		if err != nil {
			return
		}
		for _, r := range rep.Recipients {
			if r.Status != "" && !strings.ContainsAny(r.Status[:1], "245") {
				t.Errorf("status %q", r.Status)
			}
		}
		if f := rep.Failed(); f != nil && rep.Kind == bounce.KindAutoReply {
			t.Errorf("auto-reply with a failed recipient")
		}
	})
}
