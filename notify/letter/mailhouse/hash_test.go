package mailhouse_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/letter/mailhouse"
)

// TestLetters_LedgerHashesExportedPDFs: whoever holds a letter's PDF (the
// mail house, an auditor, the controller) finds its SHA-256 in the ledger:
// the letter_exported entry of that letter carries the digest of exactly
// the file in the batch zip, the manifest lists the same digest, a
// re-export (--again) writes the same bytes, and the letter_mailed entry
// repeats the digest.
func TestLetters_LedgerHashesExportedPDFs(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	dir := t.TempDir()
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "b1.zip")
	res, err := mailhouse.Export(ctx, st, id, out, "")
	if err != nil || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	files := zipMembers(t, out)

	// Digests the ledger records, by kind and letter id.
	recorded := func(kind ledger.Kind) map[string]string {
		t.Helper()
		m := map[string]string{}
		err := ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(e ledger.Entry) error {
			if e.Kind != kind {
				return nil
			}
			var d struct {
				SHA256 string `json:"sha256"`
			}
			if err := json.Unmarshal(e.Detail, &d); err != nil {
				return err
			}
			m[mailhouse.LetterID(e.Notice)] = d.SHA256
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	exported := recorded(ledger.KindLetterExported)
	if len(exported) != 4 {
		t.Fatalf("%d letter_exported entries, want 4", len(exported))
	}
	manifest := string(files["manifest.csv"])
	var confirm strings.Builder
	for name, b := range files {
		if !strings.HasSuffix(name, ".pdf") {
			continue
		}
		sum := sha256.Sum256(b)
		want := hex.EncodeToString(sum[:])
		letterID := strings.TrimSuffix(name, ".pdf")
		if got := exported[letterID]; got != want {
			t.Errorf("%s: letter_exported records sha256 %q, the PDF in the batch hashes to %s", name, got, want)
		}
		if !strings.Contains(manifest, letterID+",") || !strings.Contains(manifest, ","+want+"\n") {
			t.Errorf("%s: manifest.csv does not list sha256 %s", name, want)
		}
		fmt.Fprintf(&confirm, "%s,%s\n", letterID, st.Now().UTC().Format("2006-01-02"))
	}

	// The same batch again: the same bytes, so the same digests.
	again := filepath.Join(dir, "again.zip")
	if _, err := mailhouse.Export(ctx, st, id, again, res.Batch); err != nil {
		t.Fatal(err)
	}
	for name, b := range zipMembers(t, again) {
		if string(b) != string(files[name]) {
			t.Errorf("re-export: %s differs from the first export", name)
		}
	}

	fr, err := mailhouse.Confirm(ctx, st, strings.NewReader(confirm.String()), mailhouse.FileOptions{File: "confirm.csv"}, func(p incident.Problem) {
		t.Errorf("confirm: %v", p)
	})
	if err != nil || fr.Accepted != 4 {
		t.Fatalf("confirm: %+v, %v", fr, err)
	}
	mailed := recorded(ledger.KindLetterMailed)
	for letterID, sum := range exported {
		if mailed[letterID] != sum {
			t.Errorf("%s: letter_mailed records sha256 %q, letter_exported %q", letterID, mailed[letterID], sum)
		}
	}
}
