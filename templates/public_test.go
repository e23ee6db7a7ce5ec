package templates

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
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
		{"", "pt-BR, es;q=0.5, en;q=0.4", "es"},
		{"", "fr-CA, es;q=0.5, en;q=0.4", "fr"},
		{"", "en;q=0.2, es-MX;q=0.9", "es"},
		{"", "es;q=0, en", "en"},
		{"", "de, fr", "de"},
		{"", "ja, ko", "en"},
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
		Posted: day(2026, 11, 28), Withdrawn: day(2026, 12, 3), KeyName: "breachnotice/op", Fingerprint: "SHA256:abc",
		PublicKey: "breachnotice/op+0a1b2c3d+AXyz"}
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
		"&lt;script&gt;", `href="/notices/op/7?lang=en"`, `<p>La clave pública en sí:</p><p class="fp" data-testid="public-key">breachnotice/op+0a1b2c3d+AXyz</p>`} {
		if !strings.Contains(html, w) {
			t.Errorf("html lacks %q", w)
		}
	}
	if w := "La clave pública en sí:\n    breachnotice/op+0a1b2c3d+AXyz\n"; !strings.Contains(string(t1), w) {
		t.Errorf("text lacks %q:\n%s", w, t1)
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

// TestPublicNoticeStatus: the "Posted on" box says when the notice was
// posted, until when it is (or was planned to be) on the homepage, and
// when it was withdrawn, in the page and in the text version.
func TestPublicNoticeStatus(t *testing.T) {
	for _, tc := range []struct {
		name             string
		until, withdrawn []int // y, m, d; nil: none
		lang             string
		want             []string
	}{
		{"Live", nil, nil, "en", []string{"Posted on November 28, 2026."}},
		{"LiveWithUntil", []int{2027, 1, 15}, nil, "en",
			[]string{"Posted on November 28, 2026.", "Shown on the homepage until January 15, 2027."}},
		{"WithdrawnEarly", []int{2027, 1, 15}, []int{2026, 12, 3}, "en",
			[]string{"Posted on November 28, 2026.", "Planned to stay on the homepage until January 15, 2027.",
				"Withdrawn from the homepage on December 3, 2026. This notice stays here for reference."}},
		{"WithdrawnOnItsLastDay", []int{2027, 1, 15}, []int{2027, 1, 15}, "en",
			[]string{"Posted on November 28, 2026.", "Planned to stay on the homepage until January 15, 2027.",
				"Withdrawn from the homepage on January 15, 2027. This notice stays here for reference."}},
		{"Expired", []int{2027, 1, 15}, []int{2027, 1, 16}, "en",
			[]string{"Posted on November 28, 2026.", "Shown on the homepage until January 15, 2027.",
				"Withdrawn from the homepage on January 16, 2027. This notice stays here for reference."}},
		{"WithdrawnWithoutUntil", nil, []int{2026, 12, 3}, "es",
			[]string{"Publicado el 28 de noviembre de 2026.", "Retirado de la página principal el 3 de diciembre de 2026. Este aviso se mantiene aquí como referencia."}},
		{"WithdrawnEarlyES", []int{2027, 1, 15}, []int{2026, 12, 3}, "es",
			[]string{"Publicado el 28 de noviembre de 2026.", "Estaba previsto mantenerlo en la página principal hasta el 15 de enero de 2027.",
				"Retirado de la página principal el 3 de diciembre de 2026. Este aviso se mantiene aquí como referencia."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PublicNotice{Notice: fixture("us-ca", "en"), Lang: tc.lang, Path: "/notices/op/7", Posted: day(2026, 11, 28),
				KeyName: "breachnotice/op", Fingerprint: "SHA256:abc"}
			if tc.until != nil {
				p.Until = day(tc.until[0], time.Month(tc.until[1]), tc.until[2])
			}
			if tc.withdrawn != nil {
				p.Withdrawn = day(tc.withdrawn[0], time.Month(tc.withdrawn[1]), tc.withdrawn[2]).Add(15 * time.Hour)
			}
			html, text, err := RenderPublicNotice(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			box := between(string(html), `data-testid="status"`, "</div>")
			var want strings.Builder
			for _, line := range tc.want {
				want.WriteString("<p>" + line + "</p>")
			}
			if got := box[strings.Index(box, "<p>"):]; got != want.String() {
				t.Errorf("status box\n got %s\nwant %s", got, want.String())
			}
			if got := strings.Contains(box, "withdrawn"); got != (tc.withdrawn != nil) {
				t.Errorf("status box marked withdrawn: %v", got)
			}
			flat := strings.Join(strings.Fields(string(text)), " ")
			if !strings.Contains(flat, strings.Join(tc.want, " ")) {
				t.Errorf("text version lacks %q", strings.Join(tc.want, " "))
			}
		})
	}
}

// between returns s from the first from up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
