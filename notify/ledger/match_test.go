package ledger

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFindRecorded: a notice is found by the digest its entry records,
// as delivered, as a mailbox saves it (header lines added on top, folded
// ones too; LF line ends), but not once its body has changed; a digest
// that appears only under another key (content_sha256) is not a match.
func TestFindRecorded(t *testing.T) {
	sent := "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\nFrom: a@example.org\r\nSubject: Notice\r\n\r\nYour data was exposed.\r\n"
	other := "Subject: Other\r\n\r\nbody\r\n"
	hexOf := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Controller: "op", Index: 0, At: at, Kind: KindControllerCreated},
		{Controller: "op", Index: 1, At: at, Kind: KindEmailSent, Incident: 1, Account: "a1", Notice: 7, Channel: "email",
			Detail: json.RawMessage(`{"sha256":"` + hexOf(sent) + `","content_sha256":"` + hexOf(other) + `"}`)},
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "b.zip")
	f, _ := os.Create(zipPath)
	zw := zip.NewWriter(f)
	w, _ := zw.Create(fileEntries)
	for _, e := range entries {
		w.Write(append(e.Canonical(), '\n'))
	}
	zw.Close()
	f.Close()

	received := "Return-Path: <bounce@example.org>\r\nReceived: from relay.example.org\r\n\tby mx.example.net; Mon, 30 Nov 2026\r\nDelivered-To: a1@example.net\r\n" + sent
	for _, tc := range []struct {
		name     string
		file     string
		found    bool
		stripped int
		crlf     bool
	}{
		{"AsDelivered", sent, true, 0, false},
		{"HeadersAddedInTransit", received, true, 3, false},
		{"SavedWithLF", strings.ReplaceAll(received, "\r\n", "\n"), true, 3, true},
		{"BodyChanged", strings.Replace(received, "exposed", "safe", 1), false, 0, false},
		{"OnlyContentHash", other, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindRecorded(context.Background(), zipPath, [][]byte{[]byte(tc.file)})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.found {
				if len(got[0]) != 0 {
					t.Fatalf("found %+v, want nothing", got[0])
				}
				return
			}
			if len(got[0]) != 1 || got[0][0].Entry.Notice != 7 || got[0][0].Stripped != tc.stripped || got[0][0].CRLF != tc.crlf {
				t.Fatalf("found %+v, want notice 7, %d lines stripped, crlf %v", got[0], tc.stripped, tc.crlf)
			}
		})
	}
}
