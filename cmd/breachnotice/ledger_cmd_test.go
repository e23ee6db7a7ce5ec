package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/templates/golden"
)

// ledgerKey returns controller id's public key and fingerprint as
// ledger key --json prints them.
func (c *cli) ledgerKey(id string) (vkey, fingerprint string) {
	c.t.Helper()
	var k struct {
		PublicKey   string `json:"public_key"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal([]byte(c.ok("ledger", "key", "--controller", id, "--json")), &k); err != nil {
		c.t.Fatal(err)
	}
	if k.PublicKey == "" || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
		c.t.Fatalf("ledger key --json: %+v", k)
	}
	return k.PublicKey, k.Fingerprint
}

// scrub replaces what changes from run to run (keys, and the roots of
// trees holding them) by placeholders, for golden files.
func scrub(s string, oldnew ...string) string {
	return strings.NewReplacer(oldnew...).Replace(s)
}

func TestCLI_LedgerKey(t *testing.T) {
	c := newCLI(t)
	c.seed()
	vkey, fp := c.ledgerKey("nb")
	if !strings.HasPrefix(vkey, "breachnotice/nb+") {
		t.Fatalf("public key %q", vkey)
	}
	if _, opFP := c.ledgerKey("op"); opFP == fp {
		t.Fatal("two controllers, one fingerprint")
	}
	golden.Check(t, "ledger_key", scrub(c.ok("ledger", "key", "--controller", "nb"), vkey, "PUBLIC_KEY", fp, "SHA256:FINGERPRINT"))
	golden.Check(t, "ledger_key_json", scrub(c.ok("ledger", "key", "--controller", "nb", "--json"), vkey, "PUBLIC_KEY", fp, "SHA256:FINGERPRINT"))

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoController", []string{"ledger", "key"}, 2, "ledger key: --controller is required"},
		{"UnknownController", []string{"ledger", "key", "--controller", "nope"}, 1, `ledger key: not found: no controller "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := c.run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}

// TestCLI_LedgerVerifyPin verifies a genuine bundle and a forged one: a
// bundle of another installation's ledger for a controller of the same id,
// so signed by a fresh key of the same name and consistent in every way.
// Unpinned, both verify; the output names the signer's fingerprint and says
// that only self-consistency was checked. Pinned to the real key (its text,
// a file holding it, or its fingerprint) the forgery fails.
func TestCLI_LedgerVerifyPin(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	real := filepath.Join(c.dir, "real.zip")
	c.ok("ledger", "export", "--controller", "nb", "--out", real)
	realKey, realFP := c.ledgerKey("nb")
	keyFile := c.file("nb.pub", realKey+"\n")
	fpFile := c.file("nb.fingerprint", realFP+"\n")
	empty := c.file("empty.pub", "\n")

	forger := newCLI(t)
	forger.env["BREACHNOTICE_SECRET"] = "another-secret-0123456789abcdef"
	forger.seed()
	forger.ok("incident", "open", "--controller", "nb", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	forged := filepath.Join(c.dir, "forged.zip")
	forger.ok("ledger", "export", "--controller", "nb", "--out", forged)
	_, forgedFP := forger.ledgerKey("nb")
	if forgedFP == realFP {
		t.Fatal("the forger's key has the real fingerprint")
	}

	const warning = "WARNING: no --key given: only the bundle's self-consistency was checked, not who signed it."
	tests := []struct {
		name    string
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{"RealUnpinned", []string{real}, 0,
			[]string{"ok: controller nb, whole log:", "signer: breachnotice/nb, fingerprint " + realFP + " (SHA-256 of the 32-byte ed25519 public key, unpadded base64); key not pinned", warning, "breachnotice ledger verify --key " + realFP + " FILE.zip"},
			nil},
		{"RealPinnedKey", []string{"--key", realKey, real}, 0, []string{"ok: controller nb", "fingerprint " + realFP, "; key matches --key"}, []string{"WARNING"}},
		{"RealPinnedKeyFile", []string{"--key", keyFile, real}, 0, []string{"; key matches --key"}, []string{"WARNING"}},
		{"RealPinnedFingerprint", []string{"--key", realFP, real}, 0, []string{"; key matches --key"}, []string{"WARNING"}},
		{"RealPinnedFingerprintFile", []string{"--key", fpFile, real}, 0, []string{"; key matches --key"}, []string{"WARNING"}},
		{"ForgedUnpinned", []string{forged}, 0,
			[]string{"ok: controller nb, whole log:", "fingerprint " + forgedFP, "key not pinned", warning},
			[]string{realFP}},
		{"ForgedPinnedKey", []string{"--key", realKey, forged}, 1, []string{"verify forged.zip: ledger: verify: public_key: key breachnotice/nb+", "is not the pinned key"}, []string{"ok:"}},
		{"ForgedPinnedKeyFile", []string{"--key", keyFile, forged}, 1, []string{"is not the pinned key"}, []string{"ok:"}},
		{"ForgedPinnedFingerprint", []string{"--key", realFP, forged}, 1, []string{"(fingerprint " + forgedFP + ") is not the pinned key " + realFP}, []string{"ok:"}},
		{"EmptyKeyFile", []string{"--key", empty, real}, 1, []string{"empty file"}, []string{"ok:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.run(append([]string{"ledger", "verify"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out+errOut, w) {
					t.Errorf("output has %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}

	var sum struct {
		Root      string `json:"root"`
		KeyPinned bool   `json:"key_pinned"`
		Warning   string `json:"warning"`
	}
	js := c.ok("ledger", "verify", "--json", real)
	if err := json.Unmarshal([]byte(js), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.KeyPinned || !strings.Contains(sum.Warning, "only the bundle's self-consistency was checked") {
		t.Errorf("verify --json without --key: %s", js)
	}
	placeholders := []string{realKey, "PUBLIC_KEY", realFP, "SHA256:FINGERPRINT", sum.Root, "ROOT"}
	golden.Check(t, "ledger_verify", scrub(c.ok("ledger", "verify", real), placeholders...))
	golden.Check(t, "ledger_verify_json", scrub(js, placeholders...))
	golden.Check(t, "ledger_verify_pinned_json", scrub(c.ok("ledger", "verify", "--json", "--key", realFP, real), placeholders...))
}

// TestCLI_LedgerExportIncident: an incident that does not exist, or is
// another controller's, is refused; nothing is written.
func TestCLI_LedgerExportIncident(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrNotFound", []string{"--controller", "nb", "--incident", "99"}, 1, "breachnotice: ledger export: not found: no incident 99\n"},
		{"ErrOtherController", []string{"--controller", "op", "--incident", "1"}, 1,
			"breachnotice: ledger export: invalid: incident 1 is controller nb's, not op's (its entries are in nb's log)\n"},
		{"ErrNegative", []string{"--controller", "nb", "--incident", "-1"}, 1, "not found: no incident -1"},
		{"ErrNoController", []string{"--controller", "nope", "--incident", "1"}, 1, `ledger export: not found: no controller "nope"`},
		{"Own", []string{"--controller", "nb", "--incident", "1"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(c.dir, tc.name+".zip")
			stdout, errOut, code := c.run(append(append([]string{"ledger", "export"}, tc.args...), "--out", out)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			_, err := os.Stat(out)
			if tc.code != 0 {
				if !os.IsNotExist(err) {
					t.Errorf("refused export wrote %s", out)
				}
				return
			}
			if err != nil || !strings.Contains(stdout, "entries of nb's log") {
				t.Fatalf("export: %v, %q", err, stdout)
			}
			c.ok("ledger", "verify", out)
		})
	}
}

// TestCLI_LedgerFileModes: the files ledger prove and ledger export write
// hold personal data: mode 0600 (the old prove's were 0644 under the usual
// umask 022), also over an existing 0644 file, and nothing written through
// a symlink planted at the temporary name the old prove used.
func TestCLI_LedgerFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	c := letterIncident(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"Prove", []string{"ledger", "prove", "--controller", "op", "--account", "p1", "--out"}},
		{"Export", []string{"ledger", "export", "--controller", "op", "--out"}},
		{"ExportIncident", []string{"ledger", "export", "--controller", "op", "--incident", "1", "--out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.zip")
			if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(dir, "victim")
			os.WriteFile(victim, []byte("keep"), 0o644)
			if err := os.Symlink(victim, out+".tmp"); err != nil {
				t.Fatal(err)
			}
			c.ok(append(tc.args, out)...)
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s wrote mode %v, want 0600", tc.name, st.Mode().Perm())
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep" {
				t.Error("wrote through the symlink at out.zip.tmp")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			c.ok("ledger", "verify", out)
		})
	}
}
