package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBanner_ProofBundle: the proof bundle carries every banner revision's
// page and banner object exactly as they were served, and ledger verify
// holds them to the hashes of the banner_published, banner_updated and
// banner_withdrawn entries: one byte changed in a page fails it.
func TestBanner_ProofBundle(t *testing.T) {
	c := webCLI(t) // incident 1 (nb): revision 1 published
	served := map[string]string{}
	capture := func(rev string) {
		h := c.server().handler
		served["banner-1-r"+rev+"-en.html"] = get(t, h, "/notices/nb/1?lang=en").body
		served["banner-1-r"+rev+"-es.txt"] = get(t, h, "/notices/nb/1.txt?lang=es").body
		var doc struct {
			Banners []json.RawMessage `json:"banners"`
		}
		if err := json.Unmarshal([]byte(get(t, h, "/banner.json?controller=nb").body), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Banners) == 1 {
			served["banner-1-r"+rev+".json"] = string(doc.Banners[0])
		}
	}
	capture("1")
	c.ok("banner", "publish", "1", "--headline", "LMS database copied: change your password")
	capture("2")
	c.ok("banner", "withdraw", "1", "--force", "--reason", "moved to the course pages")
	capture("3") // no banner object: it left /banner.json

	out := filepath.Join(c.dir, "nb-1.zip")
	c.ok("ledger", "export", "--controller", "nb", "--incident", "1", "--out", out)
	if v := c.ok("ledger", "verify", out); !strings.HasPrefix(v, "ok: ") {
		t.Fatalf("verify: %s", v)
	}
	members := zipMembers(t, out)
	for name, want := range served {
		if got, ok := members[name]; !ok || string(got) != want {
			t.Errorf("bundle %s (%d bytes) is not what was served (%d bytes)", name, len(got), len(want))
		}
	}
	for _, rev := range []string{"1", "2", "3"} {
		for _, f := range []string{".json", "-en.html", "-en.txt", "-es.html", "-es.txt"} {
			if _, ok := members["banner-1-r"+rev+f]; !ok {
				t.Errorf("bundle lacks banner-1-r%s%s", rev, f)
			}
		}
	}
	if !strings.Contains(string(members["banner-1-r3-en.html"]), "Withdrawn from the homepage on") {
		t.Error("revision 3's page is not the withdrawn page")
	}
	if !strings.Contains(string(members["banner-1-r2.json"]), "change your password") {
		t.Error("revision 2's banner object lacks the new headline")
	}

	// The whole controller's log carries them too.
	whole := filepath.Join(c.dir, "nb.zip")
	c.ok("ledger", "export", "--controller", "nb", "--out", whole)
	c.ok("ledger", "verify", whole)
	if _, ok := zipMembers(t, whole)["banner-1-r3-es.txt"]; !ok {
		t.Error("the controller's bundle lacks the banner pages")
	}

	// One byte of a posted page changed.
	bad := filepath.Join(c.dir, "tampered.zip")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rewriteZip(t, bad, "banner-1-r2-en.html", func(b []byte) []byte {
		return bytes.Replace(b, []byte("Posted on"), []byte("Posted in"), 1)
	})
	_, errOut, code := c.run("ledger", "verify", bad)
	if code != 1 || !strings.Contains(errOut, "banner-1-r2-en.html") {
		t.Errorf("verify of a tampered page: exit %d, %q", code, errOut)
	}
}

// zipMembers reads a zip's members by name.
func zipMembers(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}
