package templates

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestPublicMessagesComplete: every catalogue language has every public
// message, with English's placeholders.
func TestPublicMessagesComplete(t *testing.T) {
	for _, lang := range Languages() {
		m, ok := publicMsgs[lang]
		if !ok {
			t.Errorf("no public messages for %s", lang)
			continue
		}
		for k, en := range publicMsgs[DefaultLang] {
			s, ok := m[k]
			if !ok {
				t.Errorf("%s: no %q", lang, k)
				continue
			}
			if got, want := strings.Join(placeholders(s), ","), strings.Join(placeholders(en), ","); got != want {
				t.Errorf("%s %q: placeholders %s, English has %s", lang, k, got, want)
			}
		}
	}
}

func TestPickLang(t *testing.T) {
	for _, tc := range []struct{ explicit, accept, want string }{
		{"", "", "en"},
		{"es", "", "es"},
		{"ES", "en", "es"},
		{"xx", "es", "es"},
		{"", "fr-CA, es;q=0.5, en;q=0.4", "es"},
		{"", "en;q=0.2, es-MX;q=0.9", "es"},
		{"", "es;q=0, en", "en"},
		{"", "de, fr", "en"},
		{"", "garbage;;q=x,,", "en"},
	} {
		if got := PickLang(tc.explicit, tc.accept); got != tc.want {
			t.Errorf("PickLang(%q, %q) = %q, want %q", tc.explicit, tc.accept, got, tc.want)
		}
	}
}

// TestRenderPublicNotice: deterministic, escaped, nothing personal, the
// withdrawn state and the fingerprint shown.
func TestRenderPublicNotice(t *testing.T) {
	p := PublicNotice{Notice: fixture("us-ca", "en"), Lang: "es", Path: "/notices/op/7",
		Posted: day(2026, 11, 28), Withdrawn: day(2026, 12, 3), KeyName: "breachnotice/op", Fingerprint: "SHA256:abc"}
	p.Notice.Description = `<script>alert(1)</script>`
	h1, t1, err := RenderPublicNotice(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	h2, t2, _ := RenderPublicNotice(context.Background(), p)
	if !bytes.Equal(h1, h2) || !bytes.Equal(t1, t2) {
		t.Error("rendering is not deterministic")
	}
	html := string(h1)
	for _, w := range []string{`<html lang="es">`, "Retirado de la página principal el 3 de diciembre de 2026.", "SHA256:abc",
		"&lt;script&gt;", `href="/notices/op/7?lang=en"`} {
		if !strings.Contains(html, w) {
			t.Errorf("html lacks %q", w)
		}
	}
	if name := fixture("us-ca", "en").RecipientName; name != "" && (strings.Contains(html, name) || strings.Contains(string(t1), name)) {
		t.Errorf("the recipient's name %q is on the public page", name)
	}
	if strings.Contains(html, "<script>") {
		t.Error("unescaped script")
	}
}

func TestBannerScript(t *testing.T) {
	js := string(BannerScript())
	for _, w := range []string{`"en":{"label":"Important"`, `"es":{"label":"Importante"`, "textContent", `getAttribute("data-controller")`} {
		if !strings.Contains(js, w) {
			t.Errorf("banner.js lacks %q", w)
		}
	}
	for _, w := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "document.cookie", "eval(", "/*LABELS*/"} {
		if strings.Contains(js, w) {
			t.Errorf("banner.js holds %q", w)
		}
	}
}
