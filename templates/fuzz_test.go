package templates_test

// The fuzz target lives in the external test package because it follows a
// notice all the way to MIME bytes through notify/email, which imports
// this package; the package itself still imports nothing of the project.

import (
	"bytes"
	"context"
	"io"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/templates"
)

var fuzzProfiles = []string{"generic", "gdpr", "uk-gdpr", "ca-pipeda", "us-ca", "us-dc", "us-il", "us-ma", "us-nm", "us-ri", "us-wi"}

// fuzzNotice builds the notice under test: choice picks the profile and
// language; name, controller, description and extra (the DPO, regulator,
// complaint authority and postal address) come from the fuzzer.
func fuzzNotice(choice uint8, name, controller, description, extra string) templates.Notice {
	locale := "en-US"
	if choice&0x80 != 0 {
		locale = "es-MX"
	}
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	return templates.Notice{
		Profile:       fuzzProfiles[int(choice&0x7f)%len(fuzzProfiles)],
		Locale:        locale,
		RecipientName: name,
		Controller: templates.Party{Name: controller, PostalAddress: extra + "\n1 Main St", Phone: "1-800-555-0100",
			Email: "privacy@example.org", Web: "example.org/breach", DPO: extra},
		Description:        description,
		Discovered:         d(3, 1),
		OccurredFrom:       d(2, 20),
		OccurredTo:         d(2, 27),
		NoticeDate:         d(3, 14),
		Elements:           []string{"name", "email", "password", "ssn"},
		Affected:           1200,
		Regulator:          extra,
		ComplaintAuthority: extra,
		Agencies: []templates.Agency{
			{ID: "equifax", Kind: templates.AgencyCRA, Name: "Equifax", PostalAddress: "P.O. Box 105788\nAtlanta, GA 30348", Phone: "1-888-298-0045"},
			{ID: "ftc", Kind: templates.AgencyFTC, Name: "Federal Trade Commission", Web: "www.identitytheft.gov"},
		},
		Protection: &templates.Protection{Months: 12, Provider: extra, EnrollURL: "https://enroll.example.org", Code: "ABC123", EnrollBy: d(6, 30)},
	}
}

// defang replaces the characters that matter to HTML markup by a letter:
// a notice from defanged props has the markup a correctly escaped one
// must have.
func defang(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>&"'`, r) {
			return 'x'
		}
		return r
	}, s)
}

// FuzzRenderEmail renders a notice whose names, description and contact
// texts come from the fuzzer, and builds the MIME message the transports
// send from it. It checks that
//
//   - no header value holds a control character, and the message has
//     exactly the headers of a plain notice, each From and To one address:
//     nothing the input says can add a header or a recipient;
//   - the HTML part has exactly the markup of the same notice with every
//     '<', '>', '&', '"' and apostrophe of the input replaced by a letter: no
//     input can add an element or an attribute, or end one early, and the
//     greeting (the recipient's name) and signature (the controller's
//     name) hold no raw '<' or '"'.
func FuzzRenderEmail(f *testing.F) {
	f.Add(uint8(0), "Ana García", "Northbridge Learning", "An attacker copied the course database.", "Data Protection Office")
	f.Add(uint8(4), "<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "<b>bold</b>\n\n</p><p>", `' onmouseover='x`)
	f.Add(uint8(0x81), "Bob\r\nBcc: eve@evil.example", "Ops\nTo: eve@evil.example\r\n\r\nbody", "line\r\n.\r\nMAIL FROM:<x>", "a\u2028b\u0085c")
	f.Add(uint8(7), "=?utf-8?q?=0D=0ABcc:_eve@evil.example?=", "\"Q\" <eve@evil.example>, mallory@evil.example", "&lt;script&gt; &amp; &#60;", "<!-- -->")
	f.Add(uint8(9), "\xff\xfe bad UTF-8 \xc3", strings.Repeat("Très long nom de responsable ", 12), "\x00\x1b[31m", "\t\v\f")
	f.Add(uint8(0x85), "Zoë \"the\" O'Brien <zoe@example.org>", "Müller & Söhne", "", "")
	f.Add(uint8(2), "", "", "", "")

	ctx := context.Background()
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	plain := buildMIME(f, templates.Notice{Profile: "generic", RecipientName: "Ana", Controller: templates.Party{Name: "Op"}}, now)
	wantKeys := headerKeys(f, plain)

	f.Fuzz(func(t *testing.T, choice uint8, name, controller, description, extra string) {
		n := fuzzNotice(choice, name, controller, description, extra)
		e, err := templates.RenderEmail(ctx, n)
		if err != nil {
			t.Fatalf("RenderEmail: %v", err)
		}
		for field, v := range map[string]string{"Subject": e.Subject, "FromName": e.FromName, "ToName": e.ToName} {
			if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' }) {
				t.Errorf("%s %q holds a control character", field, v)
			}
		}

		// Header injection: the full path to MIME bytes.
		data := buildMIME(t, n, now)
		if keys := headerKeys(t, data); !slices.Equal(keys, wantKeys) {
			t.Errorf("headers %v, want %v\n%s", keys, wantKeys, data)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, data)
		}
		for _, h := range []struct{ key, addr, name string }{{"From", "notice@example.org", e.FromName}, {"To", "person@example.net", e.ToName}} {
			list, err := msg.Header.AddressList(h.key)
			if err != nil || len(list) != 1 || list[0].Address != h.addr {
				t.Errorf("%s: %q parses as %v (%v), want the one address %s", h.key, msg.Header.Get(h.key), list, err, h.addr)
			} else if list[0].Name != h.name {
				t.Errorf("%s display name %q, want %q", h.key, list[0].Name, h.name)
			}
		}
		if got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || got != e.Subject {
			t.Errorf("Subject decodes to %q (%v), want %q", got, err, e.Subject)
		}

		// HTML injection: same markup as the defanged notice.
		shadow, err := templates.RenderEmail(ctx, fuzzNotice(choice, defang(name), defang(controller), defang(description), defang(extra)))
		if err != nil {
			t.Fatalf("RenderEmail (defanged): %v", err)
		}
		got, want := markup(t, e.HTML), markup(t, shadow.HTML)
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("HTML markup differs from the defanged notice's at token %d: %q, want %q\n%s", i, got[i], want[i], e.HTML)
				}
			}
			t.Fatalf("HTML has %d tokens, the defanged notice %d\n%s", len(got), len(want), e.HTML)
		}
		for _, part := range []string{inner(e.HTML, `data-testid="greeting"`, "</p>"), after(inner(e.HTML, `data-testid="closing"`, "</p>"), "<br>")} {
			if strings.ContainsAny(part, `<"`) {
				t.Errorf("raw '<' or '\"' in %q", part)
			}
		}
	})
}

// buildMIME renders n and returns the message email.WriteMessage makes of it.
func buildMIME(t testing.TB, n templates.Notice, now time.Time) []byte {
	t.Helper()
	e, err := templates.RenderEmail(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	m := &notify.Message{NoticeID: 1, MessageID: "<notice-1.incident-1@notices.example.org>",
		From: "notice@example.org", FromName: e.FromName, To: "person@example.net", ToName: e.ToName,
		Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	var b bytes.Buffer
	if err := email.WriteMessage(&b, m, now); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	return b.Bytes()
}

// headerKeys returns the message's header names in order, after checking
// the header block has only CRLF line ends and every line is a field or a
// folded continuation.
func headerKeys(t testing.TB, data []byte) []string {
	t.Helper()
	head, _, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no end of header\n%s", data)
	}
	var keys []string
	for i, line := range strings.Split(string(head), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("header line %d %q holds a bare CR or LF", i, line)
		}
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if i == 0 {
				t.Fatalf("header starts with a continuation line %q", line)
			}
			continue
		}
		k, _, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			t.Fatalf("header line %d %q is neither a field nor a continuation", i, line)
		}
		keys = append(keys, strings.ToLower(k))
	}
	return keys
}

// markup tokenizes an HTML document into tag names with their attributes
// and text, with every '<', '>', '&', '"' and apostrophe of the decoded text and
// attribute values replaced as defang does.
func markup(t testing.TB, doc string) []string {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(doc))
	var out []string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("tokenize: %v", z.Err())
			}
			return out
		}
		tok := z.Token()
		s := tt.String() + " " + tok.Data
		if tt == html.TextToken || tt == html.CommentToken {
			s = tt.String() + " " + defang(tok.Data)
		}
		for _, a := range tok.Attr {
			s += " " + a.Key + "=" + defang(a.Val)
		}
		out = append(out, s)
	}
}

// inner returns the text after the first start tag holding attr, up to end.
func inner(doc, attr, end string) string {
	_, rest, ok := strings.Cut(doc, attr)
	if !ok {
		return ""
	}
	_, rest, _ = strings.Cut(rest, ">")
	s, _, _ := strings.Cut(rest, end)
	return s
}

func after(s, sep string) string {
	_, rest, _ := strings.Cut(s, sep)
	return rest
}
