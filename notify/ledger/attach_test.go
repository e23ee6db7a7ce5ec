package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// mapAttacher serves attachments from a map by name: the seam notify/banner
// fills from its revisions.
type mapAttacher map[string][]byte

func (m mapAttacher) Attachments(ctx context.Context, e Entry) ([]Attachment, error) {
	want, err := e.Attachments()
	if err != nil {
		return nil, err
	}
	var out []Attachment
	for name := range want {
		if b, ok := m[name]; ok {
			out = append(out, Attachment{Name: name, Body: b})
		}
	}
	return out, nil
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// bannerEntry is a banner entry of incident 1's revision rev recording the
// SHA-256 of files, which it adds to m.
func bannerEntry(kind Kind, rev int64, at time.Time, m mapAttacher, body string) Entry {
	obj := []byte(fmt.Sprintf(`{"incident":1,"headline":"rev %d"}`, rev))
	pages := map[string]string{}
	m[BannerFile(1, rev, "")] = obj
	for _, p := range []string{"en.html", "en.txt", "es.html", "es.txt"} {
		b := []byte(fmt.Sprintf("<p>%s %s revision %d</p>", body, p, rev))
		m[BannerFile(1, rev, p)] = b
		pages[p] = hexSum(b)
	}
	d, _ := json.Marshal(map[string]any{"revision": rev, "banner_sha256": hexSum(obj), "pages": pages})
	return Entry{Controller: "op", At: at, Kind: kind, Incident: 1, Channel: "banner", Detail: d}
}

// TestExport_BannerAttachments: a bundle carries the bytes every banner
// entry records, and Verify holds each to its entry's hash.
func TestExport_BannerAttachments(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	files := mapAttacher{}
	mustAppend(t, db, deliveries("op", 6, at)...)
	mustAppend(t, db, bannerEntry(KindBannerPublished, 1, at, files, "posted"),
		bannerEntry(KindBannerUpdated, 2, at.Add(time.Hour), files, "updated"),
		bannerEntry(KindBannerWithdrawn, 3, at.Add(48*time.Hour), files, "withdrawn"))
	cli := incident.Actor{Role: "cli"}
	dir := t.TempDir()

	good := filepath.Join(dir, "good.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Incident: 1, Out: good, Actor: cli, Attach: files}); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, good, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	ms := readBundle(t, good)
	got := map[string][]byte{}
	for _, m := range ms {
		got[m.name] = m.data
	}
	for name, want := range files {
		if !bytes.Equal(got[name], want) {
			t.Errorf("bundle %s = %q, want %q", name, got[name], want)
		}
	}
	if len(ms) != 10+len(files) { // 10 bundle files (with proofs.jsonl) + 15
		t.Errorf("bundle has %d members, want %d", len(ms), 10+len(files))
	}

	t.Run("ExportRefuses", func(t *testing.T) {
		tampered := mapAttacher{}
		for k, v := range files {
			tampered[k] = v
		}
		tampered[BannerFile(1, 2, "es.html")] = []byte("<p>something else</p>")
		missing := mapAttacher{}
		for k, v := range files {
			if k != BannerFile(1, 3, "en.txt") {
				missing[k] = v
			}
		}
		for _, tc := range []struct {
			name   string
			attach Attacher
			want   string
		}{
			{"NoAttacher", nil, "has no Attacher"},
			{"StoredBytesDiffer", tampered, "the stored banner-1-r2-es.html is not the bytes the entry recorded"},
			{"StoredBytesMissing", missing, "banner-1-r3-en.txt is missing from the store"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(dir, tc.name+".zip")
				_, err := l.Export(ctx, db, ExportOptions{Controller: "op", Incident: 1, Out: out, Actor: cli, Attach: tc.attach})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Export: %v, want %q", err, tc.want)
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("a refused export left %s", out)
				}
			})
		}
	})

	signer, _, err := l.signer(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	page := BannerFile(1, 2, "en.html")
	flip := func(b []byte) []byte { b[3] ^= 0x20; return b }
	for _, tc := range []struct {
		name string
		ms   []member
		want string
	}{
		// Anyone can change a byte: the manifest's sum gives it away.
		{"PageByteChanged", editMember(ms, page, flip), page + ": SHA-256 or size differs from manifest.json"},
		// Only the key holder can re-sign the manifest: the entry's hash
		// still gives it away.
		{"PageByteChangedResealed", reseal(t, editMember(ms, page, flip), signer),
			"entry 8 (" + page + "): not the bytes the entry recorded"},
		{"PageDroppedResealed", resealFiles(t, dropMember(ms, BannerFile(1, 3, "es.txt")), signer),
			"records banner-1-r3-es.txt, which the bundle lacks"},
		{"ExtraFileResealed", resealFiles(t, append(append([]member{}, ms...), member{"banner-1-r9-en.html", []byte("<p>never posted</p>")}), signer),
			"banner-1-r9-en.html: not a bundle file, and no entry names it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".zip")
			if err := os.WriteFile(out, buildZip(t, zmembers(tc.ms)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(ctx, out, "")
			var ve *VerifyError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify: %v, want a VerifyError with %q", err, tc.want)
			}
		})
	}
}

func dropMember(ms []member, name string) []member {
	var out []member
	for _, m := range ms {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

// resealFiles is reseal with the manifest listing exactly the members.
func resealFiles(t testing.TB, ms []member, signer interface {
	Name() string
	KeyHash() uint32
	Sign([]byte) ([]byte, error)
}) []member {
	t.Helper()
	out := make([]member, 0, len(ms))
	var m manifest
	for _, x := range ms {
		if x.name == fileManifest {
			json.Unmarshal(x.data, &m)
		}
	}
	m.Files = nil
	for _, x := range ms {
		if x.name != fileManifest && x.name != fileManifestSig {
			m.Files = append(m.Files, manifestFile{Name: x.name})
		}
	}
	for _, x := range ms {
		if x.name == fileManifest {
			x.data, _ = json.Marshal(m)
		}
		out = append(out, x)
	}
	return reseal(t, out, signer)
}

func TestEntry_Attachments(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		kind   Kind
		detail string
		want   []string
		err    string
	}{
		{"NotABannerEntry", KindEmailSent, `{"revision":1}`, nil, ""},
		{"Published", KindBannerPublished, `{"revision":2,"banner_sha256":"` + sum + `","pages":{"en.html":"` + sum + `"}}`,
			[]string{"banner-7-r2.json", "banner-7-r2-en.html"}, ""},
		{"NoRevision", KindBannerUpdated, `{"banner_sha256":"` + sum + `","pages":{"en.html":"` + sum + `"}}`, nil, "names no revision"},
		{"PathInPageKey", KindBannerWithdrawn, `{"revision":1,"banner_sha256":"` + sum + `","pages":{"../x.html":"` + sum + `"}}`, nil, `page "../x.html"`},
		{"BadSum", KindBannerPublished, `{"revision":1,"banner_sha256":"` + sum + `","pages":{"en.txt":"xyz"}}`, nil, `page "en.txt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Entry{Kind: tc.kind, Incident: 7, Detail: json.RawMessage(tc.detail)}
			got, err := e.Attachments()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("Attachments = %v, %v; want %v", got, err, tc.want)
			}
			for _, n := range tc.want {
				if got[n] != sum {
					t.Errorf("%s: %q", n, got[n])
				}
			}
		})
	}
}
