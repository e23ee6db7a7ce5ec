//go:build e2e

// The end-to-end suite runs the built binary against real outside parts:
// mailpit as the SMTP relay (its HTTP API tells what arrived) and poppler's
// pdftotext reading the printed letters. .ci/run installs both.
//
//	go test -tags e2e ./cmd/breachnotice -run E2E
package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
)

// freePort returns a loopback port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMailpit runs mailpit on loopback ports and returns its SMTP URL and
// API base.
func startMailpit(t *testing.T) (smtpURL, api string) {
	t.Helper()
	bin, err := exec.LookPath("mailpit")
	if err != nil {
		if p := filepath.Join(os.Getenv("HOME"), "go", "bin", "mailpit"); fileExists(p) {
			bin = p
		} else {
			t.Fatal("mailpit not found: go install github.com/axllent/mailpit@v1.33.1 (.ci/run does)")
		}
	}
	smtpPort, httpPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--max", "0", "--disable-version-check", "--smtp-disable-rdns", "--database", filepath.Join(t.TempDir(), "mailpit.db"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	api = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if r, err := http.Get(api + "/api/v1/messages?limit=1"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", smtpPort), api
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

type mailpitMessage struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// mailpitMessages lists every message mailpit holds.
func mailpitMessages(t *testing.T, api string) []mailpitMessage {
	t.Helper()
	var all []mailpitMessage
	for start := 0; ; start += 500 {
		r, err := http.Get(fmt.Sprintf("%s/api/v1/messages?limit=500&start=%d", api, start))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Total    int              `json:"total"`
			Messages []mailpitMessage `json:"messages"`
		}
		err = json.NewDecoder(r.Body).Decode(&page)
		r.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.Total {
			return all
		}
	}
}

// TestE2E_DemoThroughMailpit plays the demo with mailpit as the relay:
// every email the ledger says was sent arrived once, with the notice's own
// Message-ID and the title its jurisdiction demands; the exported letters
// print the same notice; the proof verifies in a process that has no
// database.
func TestE2E_DemoThroughMailpit(t *testing.T) {
	smtpURL, api := startMailpit(t)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	env := append(os.Environ(), append(e2eStore(t, dir), "BREACHNOTICE_SMTP="+smtpURL)...)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("breachnotice %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("demo", "--accounts", "1500")
	var sent, failed, letters int
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "==> delivered:") {
			fmt.Sscanf(line, "==> delivered: %d emails sent to the SMTP relay, %d failed, %d letters queued", &sent, &failed, &letters)
		}
	}
	if sent == 0 || letters == 0 {
		t.Fatalf("demo delivered nothing:\n%s", out)
	}

	msgs := mailpitMessages(t, api)
	if len(msgs) != sent {
		t.Errorf("mailpit holds %d messages, the demo says %d were sent", len(msgs), sent)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.MessageID] {
			t.Errorf("message %s arrived twice", m.MessageID)
		}
		seen[m.MessageID] = true
		if !strings.HasPrefix(m.MessageID, "notice-") || !strings.HasSuffix(m.MessageID, "@northbridge.example") {
			t.Errorf("Message-ID %q is not the notice's own", m.MessageID)
		}
	}
	// The ledger names every one of them.
	entries := run("ledger", "list", "--controller", "northbridge", "--jsonl")
	if n := strings.Count(entries, `"kind":"email_sent"`); n != sent {
		t.Errorf("ledger has %d email_sent entries, mailpit %d messages", n, sent)
	}
	// Californians' emails carry California's title (Cal. Civ. Code
	// 1798.82(d)), "Notice of Data Breach", in the notice's language.
	titles := breachTitles(t)
	found := false
	for _, line := range strings.Split(entries, "\n") {
		if !strings.Contains(line, `"kind":"email_sent"`) || !strings.Contains(line, `"jurisdiction":"US-CA"`) {
			continue
		}
		var e struct {
			Detail struct {
				MessageID string `json:"message_id"`
			} `json:"detail"`
		}
		json.Unmarshal([]byte(line), &e)
		for _, m := range msgs {
			if "<"+m.MessageID+">" == e.Detail.MessageID {
				found = true
				if !slices.ContainsFunc(titles, func(title string) bool { return strings.HasPrefix(m.Subject, title) }) {
					t.Errorf("California notice subject %q lacks the title (one of %q)", m.Subject, titles)
				}
			}
		}
	}
	if !found {
		t.Error("no Californian's email found in mailpit")
	}

	// Letters: the mail-house batch prints the notices; pdftotext reads them.
	batch := filepath.Join(dir, "batch.zip")
	run("letters", "export", "1", "--out", batch)
	zr, err := zip.OpenReader(batch)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var manifest [][]string
	pdfs := 0
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case f.Name == "manifest.csv":
			manifest, err = csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(f.Name, ".pdf"):
			pdfs++
			if pdfs > 5 {
				continue
			}
			p := filepath.Join(dir, f.Name)
			os.WriteFile(p, b, 0o644)
			txt, err := exec.Command("pdftotext", "-layout", p, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext %s: %v (apt-get install poppler-utils)", f.Name, err)
			}
			text := string(txt)
			for _, want := range []string{"Northbridge University", "privacy@northbridge.example"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: pdftotext finds no %q", f.Name, want)
				}
			}
			if !strings.Contains(text, "Notice of Data Breach") && !strings.Contains(text, "Aviso de violación de datos") {
				t.Errorf("%s: no notice title in the letter text:\n%s", f.Name, text[:min(len(text), 600)])
			}
		}
	}
	if pdfs != letters || len(manifest) != letters+1 {
		t.Errorf("batch has %d PDFs and %d manifest rows for %d queued letters", pdfs, len(manifest)-1, letters)
	}

	// The proof verifies in a process that has only the zip.
	proof := filepath.Join(dir, "demo", "proof-northbridge-incident-1.zip")
	cmd := exec.Command(bin, "ledger", "verify", proof)
	cmd.Dir, cmd.Env = t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}
	if vout, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(vout), "ok: controller northbridge") {
		t.Errorf("offline verify: %v\n%s", err, vout)
	}
	if entries, _ := os.ReadDir(cmd.Dir); len(entries) != 0 {
		t.Errorf("verify wrote files: %v", entries)
	}
	t.Logf("mailpit received %d notices (%d distinct Message-IDs), the ledger names %d; %d letters in the batch, %d read back with pdftotext",
		len(msgs), len(seen), sent, pdfs, min(pdfs, 5))
}

// breachTitles reads "title.breach" ("Notice of Data Breach") of every
// notice catalogue, as a Californian's email subject starts.
func breachTitles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "templates", "catalog", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("notice catalogues: %v (%d found)", err, len(paths))
	}
	var titles []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]string
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if cat["title.breach"] == "" {
			t.Fatalf("%s has no title.breach", p)
		}
		titles = append(titles, cat["title.breach"])
	}
	return titles
}

// e2eStore is the environment that points the binary at the tests'
// store: a SQLite file in dir, or under BREACHNOTICE_TEST_STORE=postgres
// a fresh database on the throwaway PostgreSQL with the secret every
// process then shares.
func e2eStore(t *testing.T, dir string) []string {
	t.Helper()
	if storetest.Default() == storetest.Postgres {
		return []string{"BREACHNOTICE_DB=" + storetest.Location(t, storetest.Postgres), "BREACHNOTICE_SECRET=e2e-secret-0123456789abcdef"}
	}
	return []string{"BREACHNOTICE_DB=" + filepath.Join(dir, "bn.db")}
}
