package email_test

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/email"
)

// TestWriteMessage_DisplayNames writes a message for each tricky display
// name (as sender and as recipient) and reads it back with net/mail: the
// header must parse as the one address, and the decoded name must be the
// name given, after the documented cleaning (control characters and runs
// of white space become one space, the ends are trimmed). Every header
// line stays within the 78 characters RFC 5322 recommends.
func TestWriteMessage_DisplayNames(t *testing.T) {
	long := strings.Repeat("Très long nom ", 40)
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII", "Ana Garcia", "Ana Garcia"},
		{"backslash", `Ana \ Garcia\`, `Ana \ Garcia\`},
		{"quotes", `Zoë "the" O'Brien`, `Zoë "the" O'Brien`},
		{"ASCII quotes", `"Bob" \"Jr\"`, `"Bob" \"Jr\"`},
		{"non-ASCII", "José Muñoz 山田", "José Muñoz 山田"},
		{"backslash then non-ASCII (fuzz find)", `\í`, `\í`},
		{"backslash and quotes and non-ASCII", `\"é\" \\ "x"`, `\"é\" \\ "x"`},
		{"comma", "Muñoz, José", "Muñoz, José"},
		{"ASCII comma", "Garcia, Ana", "Garcia, Ana"},
		{"angle brackets and address", "Eve <eve@evil.example>, mallory@evil.example", "Eve <eve@evil.example>, mallory@evil.example"},
		{"non-ASCII angle brackets", "Ève <eve@evil.example>", "Ève <eve@evil.example>"},
		{"encoded word as text", "=?utf-8?q?=0D=0ABcc:_eve@evil.example?=", "=?utf-8?q?=0D=0ABcc:_eve@evil.example?="},
		{"encoded word and non-ASCII", "é =?utf-8?b?QmNjOg==?=", "é =?utf-8?b?QmNjOg==?="},
		{"Q specials", "a_b=c?d", "a_b=c?d"},
		{"parentheses and semicolons", "(x); [y]: @z", "(x); [y]: @z"},
		{"control characters cleaned", "Bob\r\nBcc: eve@evil.example\t\x00x", "Bob Bcc: eve@evil.example x"},
		{"very long with spaces", long, strings.TrimSpace(long)},
		{"very long without spaces", strings.Repeat("x", 300), strings.Repeat("x", 300)},
		{"very long non-ASCII without spaces", strings.Repeat("ñ", 200), strings.Repeat("ñ", 200)},
		{"four-byte characters across word ends", strings.Repeat("a😀", 60), strings.Repeat("a😀", 60)},
		{"empty", "", ""},
	}
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMessage(1, "person@example.net")
			m.ToName, m.FromName, m.Subject = tt.in, tt.in, "Notice "+tt.in
			var b bytes.Buffer
			if err := email.WriteMessage(&b, m, now); err != nil {
				t.Fatal(err)
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatalf("read message: %v\n%s", err, b.Bytes())
			}
			for _, h := range []struct{ key, addr string }{{"From", m.From}, {"To", m.To}} {
				a, err := netmail.ParseAddress(msg.Header.Get(h.key))
				if err != nil {
					t.Fatalf("%s %q: %v", h.key, msg.Header.Get(h.key), err)
				}
				if a.Name != tt.want || a.Address != h.addr {
					t.Errorf("%s %q parses as %q <%s>, want %q <%s>", h.key, msg.Header.Get(h.key), a.Name, a.Address, tt.want, h.addr)
				}
				if list, err := msg.Header.AddressList(h.key); err != nil || len(list) != 1 {
					t.Errorf("%s holds %d addresses (%v), want one", h.key, len(list), err)
				}
			}
			subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if want := strings.TrimSpace("Notice " + tt.want); err != nil || subj != want {
				t.Errorf("Subject %q decodes to %q (%v), want %q", msg.Header.Get("Subject"), subj, err, want)
			}
			head, _, _ := bytes.Cut(b.Bytes(), []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(head), "\r\n") {
				if len(line) > 78 {
					t.Errorf("header line of %d characters: %q", len(line), line)
				}
			}
		})
	}
}
