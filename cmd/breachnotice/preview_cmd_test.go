package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCLI_Preview: incident preview writes one sample per content profile
// and language of the plan (email .eml/.txt/.html, letter .pdf), addressed
// to the placeholder person, and changes nothing in the database: no
// notice, no ledger entry, no audit row.
func TestCLI_Preview(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password,ssn")
	c.ok("incident", "scope", "1", "--all")
	if _, errOut, code := c.run("incident", "preview", "1"); code != 1 || !strings.Contains(errOut, "incident 1 has no plan (run incident plan 1)") {
		t.Errorf("preview before plan: exit %d, %q", code, errOut)
	}
	c.ok("incident", "plan", "1")

	counts := func() [3]int {
		db := c.openDB()
		defer db.Close()
		var n [3]int
		for i, q := range []string{`SELECT count(*) FROM notices`, `SELECT coalesce(sum(size), 0) FROM ledger_logs`, `SELECT count(*) FROM audit`} {
			if err := db.QueryRow(q).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	before := counts()
	dir := filepath.Join(c.dir, "pv")
	out := c.ok("incident", "preview", "1", "--out", dir)
	if after := counts(); after != before {
		t.Errorf("preview changed the database: notices, ledger entries, audit rows %v → %v", before, after)
	}
	// a1 (US-CA, es-US) gets an email; a2 (US-TX, no consent) a letter;
	// a3 (DE, locale de) an email in German under the GDPR profile.
	for _, want := range []string{"PROFILE", "gdpr     de    -           1       DE", "generic  en    -           1       US-TX", "us-ca    es    12 mo       1       US-CA",
		`3 samples in ` + dir + `, addressed to "Sample Learner"`} {
		if !strings.Contains(out, want) {
			t.Errorf("preview table lacks %q:\n%s", want, out)
		}
	}
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"gdpr.de.eml", "gdpr.de.html", "gdpr.de.txt", "generic.en.pdf",
		"us-ca.es.protection-12mo.eml", "us-ca.es.protection-12mo.html", "us-ca.es.protection-12mo.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".pdf") {
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Errorf("%s is not a PDF", name)
			}
			continue
		}
		for _, personal := range []string{"Ana", "Garc", "Bo Li", "Cy M", "ana@example.org", "cy@example.org", "ana@nb.example"} {
			if bytes.Contains(b, []byte(personal)) {
				t.Errorf("%s holds personal data %q", name, personal)
			}
		}
		if !bytes.Contains(b, []byte("Sample Learner")) {
			t.Errorf("%s is not addressed to Sample Learner", name)
		}
	}
	if eml, _ := os.ReadFile(filepath.Join(dir, "gdpr.de.eml")); !bytes.Contains(eml, []byte("sample.learner@preview.invalid")) {
		t.Errorf("gdpr.de.eml is not to the sample address:\n%s", eml)
	}

	// --channel letter writes only the letters.
	out = c.ok("incident", "preview", "1", "--out", filepath.Join(c.dir, "pv2"), "--channel", "letter")
	if !strings.Contains(out, "1 samples in") || !strings.Contains(out, "generic.en.pdf") {
		t.Errorf("--channel letter:\n%s", out)
	}
	if after := counts(); after != before {
		t.Errorf("preview changed the database: %v → %v", before, after)
	}
}
