package templates

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/breachnotice/breachnotice/templates/golden"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// testAgencies are fixture contacts, in the shape notify supplies them.
var testAgencies = []Agency{
	{ID: "equifax", Kind: AgencyCRA, Name: "Equifax", PostalAddress: "P.O. Box 105788\nAtlanta, GA 30348-5788", Phone: "1-888-298-0045", Web: "www.equifax.com/personal/credit-report-services"},
	{ID: "experian", Kind: AgencyCRA, Name: "Experian", PostalAddress: "P.O. Box 9554\nAllen, TX 75013", Phone: "1-888-397-3742", Web: "www.experian.com/help"},
	{ID: "transunion", Kind: AgencyCRA, Name: "TransUnion", PostalAddress: "P.O. Box 160\nWoodlyn, PA 19094", Phone: "1-888-909-8872", Web: "www.transunion.com/credit-help"},
	{ID: "ftc", Kind: AgencyFTC, Name: "Federal Trade Commission", PostalAddress: "600 Pennsylvania Avenue NW\nWashington, DC 20580", Phone: "1-877-438-4338", Web: "www.identitytheft.gov"},
	{ID: "ag", Kind: AgencyState, Name: "Office of the Attorney General", PostalAddress: "1 State House\nCapital City, ST 00000", Phone: "1-800-555-0199", Web: "ag.example.gov"},
}

const testDescription = "On February 27, 2026, an attacker used a stolen support-staff password to export learner records from our course administration tool."

// fixture is the notice the goldens render: a credential and SSN breach
// at a fictional operator, for a resident of the profile's jurisdiction.
func fixture(profile, locale string) Notice {
	n := Notice{
		Profile:       profile,
		Locale:        locale,
		RecipientName: "Ana García",
		Controller: Party{
			Name:          "Example Learning, Inc.",
			PostalAddress: "100 Main Street, Suite 200\nCambridge, MA 02139",
			Phone:         "1-800-555-0100",
			Email:         "privacy@example.org",
			Web:           "https://example.org/security-notice",
		},
		Description:  testDescription,
		Discovered:   day(2026, time.March, 2),
		OccurredFrom: day(2026, time.February, 20),
		OccurredTo:   day(2026, time.February, 28),
		NoticeDate:   day(2026, time.March, 16),
		Elements:     []string{"name", "email", "password", "ssn"},
		Affected:     12345,
	}
	switch {
	case strings.HasPrefix(profile, "us-") || profile == ProfileGeneric:
		n.Agencies = testAgencies
	default:
		n.Controller.DPO = "dpo@example.org"
		n.Regulator = "Information Commissioner's Office (ICO)"
		n.ComplaintAuthority = n.Regulator
		if profile == "gdpr" {
			n.Regulator = "" // the lead authority is not named
			n.ComplaintAuthority = "Data Protection Commission (DPC)"
		}
	}
	if profile == "us-ca" || profile == "us-ma" {
		n.Protection = &Protection{Months: 12, Provider: "IdentityGuard Example", EnrollURL: "https://enroll.example.com", Code: "ABC123"}
		if profile == "us-ma" {
			n.Protection.Months = 18
			n.Protection.Phone = "1-888-555-0142"
		}
	}
	if profile == "us-wi" {
		n.LawEnforcementDelay = true
	}
	return n
}

func render(t testing.TB, n Notice) Email {
	t.Helper()
	e, err := RenderEmail(context.Background(), n)
	if err != nil {
		t.Fatalf("RenderEmail: %v", err)
	}
	return e
}

func doc(t testing.TB, html string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRenderEmail_Golden(t *testing.T) {
	cases := []struct{ profile, locale string }{
		{"generic", "en"},
		{"generic", "es-MX"},
		{"us-ca", "en-US"},
		{"us-ca", "es-US"},
		{"us-ma", "en"},
		{"us-il", "en"},
		{"us-dc", "en"},
		{"us-ri", "en"},
		{"us-nm", "en"},
		{"us-wi", "en"},
		{"gdpr", "en-IE"},
		{"gdpr", "es-ES"},
		{"gdpr", "de-DE"},
		{"gdpr", "fr-FR"},
		{"us-ca", "fr-CA"},
		{"uk-gdpr", "en-GB"},
		{"ca-pipeda", "en-CA"},
	}
	for _, tc := range cases {
		name := tc.profile + "." + LangFor(tc.locale)
		t.Run(name, func(t *testing.T) {
			e := render(t, fixture(tc.profile, tc.locale))
			golden.Check(t, name+".html", e.HTML)
			golden.Check(t, name+".txt", "Subject: "+e.Subject+"\n\n"+e.Text)
		})
	}
}

func TestRenderEmail_Deterministic(t *testing.T) {
	for _, p := range Profiles() {
		for _, l := range Languages() {
			n := fixture(p, l)
			a, b := render(t, n), render(t, n)
			if a != b {
				t.Errorf("%s/%s: two renders differ", p, l)
			}
		}
	}
}

func TestRenderEmail_EveryProfileAndLanguage(t *testing.T) {
	for _, p := range Profiles() {
		for _, l := range Languages() {
			n := fixture(p, l)
			e := render(t, n)
			d := doc(t, e.HTML)
			if got := d.Find(`[data-testid="notice"]`).AttrOr("data-profile", ""); got != p {
				t.Errorf("%s/%s: data-profile %q", p, l, got)
			}
			if d.Find("section").Length() < 3 {
				t.Errorf("%s/%s: only %d sections", p, l, d.Find("section").Length())
			}
			if !strings.Contains(e.Text, "Example Learning, Inc.") || e.Subject == "" {
				t.Errorf("%s/%s: text or subject missing", p, l)
			}
		}
	}
}

func TestRenderEmail_UnknownProfileIsGeneric(t *testing.T) {
	e := render(t, fixture("xx-nowhere", "en"))
	if got := doc(t, e.HTML).Find(`[data-testid="notice"]`).AttrOr("data-profile", ""); got != ProfileGeneric {
		t.Errorf("profile %q, want generic", got)
	}
}

func TestRenderEmail_California(t *testing.T) {
	e := render(t, fixture("us-ca", "en-US"))
	d := doc(t, e.HTML)
	if got := d.Find(`[data-testid="title"]`).Text(); got != "Notice of Data Breach" {
		t.Errorf("title %q", got)
	}
	if !strings.Contains(e.Subject, "Notice of Data Breach") {
		t.Errorf("subject %q lacks the title", e.Subject)
	}
	var headings []string
	d.Find(`section h2`).Each(func(_ int, s *goquery.Selection) { headings = append(headings, s.Text()) })
	want := []string{"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"}
	if !slices.Equal(headings, want) {
		t.Errorf("headings %q, want %q", headings, want)
	}
	// CRA contacts when the SSN is exposed, and the 12-month offer.
	for _, id := range []string{"card-equifax", "card-experian", "card-transunion", "card-ftc", "card-controller"} {
		if d.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("no %s", id)
		}
	}
	if !strings.Contains(d.Find(`[data-testid="what-we-are-doing"]`).Text(), "12 months") {
		t.Error("no identity-protection offer")
	}
	if got := d.Find(`[data-testid="date"]`).Text(); got != "Date: March 16, 2026" {
		t.Errorf("notice date %q", got)
	}
	for _, s := range []string{"What Happened\n-------------", "What You Can Do\n---------------"} {
		if !strings.Contains(e.Text, s) {
			t.Errorf("text lacks heading %q", s)
		}
	}
}

func TestRenderEmail_MassachusettsForbiddenContent(t *testing.T) {
	n := fixture("us-ma", "en")
	e := render(t, n)
	for _, body := range []string{e.HTML, e.Text, e.Subject} {
		for _, bad := range []string{"12,345", "12345", "stolen support-staff password", "course administration tool", "February 20", "unauthorized party"} {
			if strings.Contains(body, bad) {
				t.Errorf("MA notice contains forbidden %q", bad)
			}
		}
	}
	d := doc(t, e.HTML)
	if d.Find(`[data-testid="what-happened"]`).Length() != 0 {
		t.Error("MA notice has a What Happened section")
	}
	can := d.Find(`[data-testid="what-you-can-do"]`).Text()
	for _, want := range []string{"right to obtain a police report", "security freeze on your credit report free of charge", "proof of your current address"} {
		if !strings.Contains(can, want) {
			t.Errorf("MA notice lacks %q", want)
		}
	}
	if !strings.Contains(d.Find(`[data-testid="what-we-are-doing"]`).Text(), "18 months") {
		t.Error("MA notice lacks the 18-month offer")
	}
}

func TestRenderEmail_IllinoisNoCount(t *testing.T) {
	e := render(t, fixture("us-il", "en"))
	for _, bad := range []string{"12,345", "12345"} {
		if strings.Contains(e.HTML, bad) || strings.Contains(e.Text, bad) {
			t.Errorf("IL notice states the count %q", bad)
		}
	}
	// Rhode Island, by contrast, must state it.
	if e := render(t, fixture("us-ri", "en")); !strings.Contains(e.Text, "12,345 people") {
		t.Error("RI notice lacks the count")
	}
}

func TestRenderEmail_GDPR(t *testing.T) {
	e := render(t, fixture("gdpr", "en-IE"))
	d := doc(t, e.HTML)
	if got := d.Find(`[data-testid="title"]`).Text(); got != "Notice of a Personal Data Breach" {
		t.Errorf("title %q", got)
	}
	checks := map[string]string{
		"what-happened":     testDescription,                            // nature of the breach
		"more-information":  "data protection officer: dpo@example.org", // DPO / contact point
		"consequences":      "Identity theft",                           // likely consequences
		"what-we-are-doing": "we took steps to contain it",              // measures taken or proposed
	}
	for id, want := range checks {
		if got := d.Find(`[data-testid="` + id + `"]`).Text(); !strings.Contains(got, want) {
			t.Errorf("section %s lacks %q: %q", id, want, got)
		}
	}
	if !strings.Contains(d.Text(), "lodge a complaint with a data protection authority: Data Protection Commission (DPC)") {
		t.Error("no right to complain")
	}
	if d.Find(`[data-testid="card-equifax"]`).Length() != 0 {
		t.Error("GDPR notice lists a US credit bureau")
	}
	es := doc(t, render(t, fixture("gdpr", "es")).HTML)
	if got := es.Find(`[data-testid="consequences"] h2`).Text(); got != "Consecuencias probables" {
		t.Errorf("Spanish consequences heading %q", got)
	}
}

func TestRenderEmail_Spanish(t *testing.T) {
	for _, locale := range []string{"es", "es-MX", "es_US", "ES"} {
		e := render(t, fixture("generic", locale))
		d := doc(t, e.HTML)
		if got := d.Find(`[data-testid="title"]`).Text(); got != "Aviso de violación de datos" {
			t.Errorf("%s: title %q", locale, got)
		}
		if got := d.Find("html").AttrOr("lang", ""); got != "es" {
			t.Errorf("%s: lang %q", locale, got)
		}
		for _, want := range []string{"Qué sucedió", "Descubrimos el incidente el 2 de marzo de 2026.", "Su número de Seguro Social", "Atentamente,"} {
			if !strings.Contains(e.Text, want) {
				t.Errorf("%s: text lacks %q", locale, want)
			}
		}
		for _, bad := range []string{"What Happened", "Dear ", "March"} {
			if strings.Contains(e.Text, bad) {
				t.Errorf("%s: text contains English %q", locale, bad)
			}
		}
		if !strings.HasPrefix(e.Subject, "Aviso de violación de datos") {
			t.Errorf("%s: subject %q", locale, e.Subject)
		}
	}
	for _, locale := range []string{"", "pt-PT", "en-GB", "e", "español"} {
		if got := LangFor(locale); got != "en" {
			t.Errorf("LangFor(%q) = %q, want en", locale, got)
		}
	}
}

// TestRenderEmail_GermanFrench: de and fr catalogues (drafts counsel has
// not reviewed: Reviewed says so) translate every part a person reads,
// dates included; other languages still fall back to English.
func TestRenderEmail_GermanFrench(t *testing.T) {
	for _, tc := range []struct {
		locale, lang, title string
		want, english       []string
	}{
		{"de-DE", "de", "Benachrichtigung über eine Verletzung des Schutzes personenbezogener Daten",
			[]string{"Was ist geschehen?", "Wir haben den Vorfall am 2. März 2026 entdeckt.", "Wahrscheinliche Folgen", "Mit freundlichen Grüßen"},
			[]string{"What Happened", "March", "Sincerely"}},
		{"fr_FR", "fr", "Avis de violation de données à caractère personnel",
			[]string{"Ce qui s’est passé", "Nous avons découvert l’incident le 2 mars 2026.", "Conséquences probables", "Cordialement,"},
			[]string{"What Happened", "March", "Sincerely"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			e := render(t, fixture("gdpr", tc.locale))
			d := doc(t, e.HTML)
			if got := d.Find(`[data-testid="title"]`).Text(); got != tc.title {
				t.Errorf("title %q, want %q", got, tc.title)
			}
			if got := d.Find("html").AttrOr("lang", ""); got != tc.lang {
				t.Errorf("lang %q", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Text, w) {
					t.Errorf("text lacks %q", w)
				}
			}
			for _, bad := range tc.english {
				if strings.Contains(e.Text, bad) {
					t.Errorf("text contains English %q", bad)
				}
			}
			if Reviewed(tc.lang) {
				t.Errorf("%s is a draft translation, Reviewed says reviewed", tc.lang)
			}
		})
	}
	for _, l := range []string{"en", "es"} {
		if !Reviewed(l) {
			t.Errorf("Reviewed(%q) = false", l)
		}
	}
	if got := (msgs{"fr", catalogs["fr"]}).count(1234567); got != "1\u00a0234\u00a0567" {
		t.Errorf("French count %q", got)
	}
}

func TestRenderEmail_EscapesHTML(t *testing.T) {
	n := fixture("generic", "en")
	n.Description = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`
	n.RecipientName = `<b>Mallory</b>`
	n.Controller.Name = `Evil "Corp" <i>`
	e := render(t, n)
	for _, bad := range []string{"<script>", "<img", "<b>Mallory", "<i>"} {
		if strings.Contains(e.HTML, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	if !strings.Contains(e.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img") {
		t.Errorf("description not escaped as expected:\n%s", e.HTML)
	}
	d := doc(t, e.HTML)
	if d.Find("script, img").Length() != 0 {
		t.Error("injected elements parsed")
	}
	if got := d.Find(`[data-testid="what-happened"] p`).First().Text(); !strings.HasPrefix(got, `<script>alert("x")</script>`) {
		t.Errorf("description text %q", got)
	}
}

func TestRenderEmail_HeaderInjection(t *testing.T) {
	n := fixture("us-ca", "en")
	n.Controller.Name = "Example\r\nBcc: victim@example.com"
	n.RecipientName = "Ana\nX-Evil: 1\x00\u2028"
	e := render(t, n)
	for _, h := range []string{e.Subject, e.FromName, e.ToName} {
		if strings.ContainsAny(h, "\r\n\x00\u2028") {
			t.Errorf("header value %q has a line break or control character", h)
		}
	}
	if e.Subject != "Notice of Data Breach – Example Bcc: victim@example.com" {
		t.Errorf("subject %q", e.Subject)
	}
	if e.ToName != "Ana X-Evil: 1" {
		t.Errorf("to name %q", e.ToName)
	}
	for in, want := range map[string]string{
		"plain":           "plain",
		" a\r\n\tb  c ":   "a b c",
		"x\u0085y\u2029z": "x y z",
		"bad\xffutf8":     "bad utf8",
		"ünïcödé – fine":  "ünïcödé – fine",
		"\r\n":            "",
	} {
		if got := HeaderSafe(in); got != want {
			t.Errorf("HeaderSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderEmail_TextWrapped(t *testing.T) {
	for _, p := range Profiles() {
		for _, l := range Languages() {
			e := render(t, fixture(p, l))
			for _, line := range strings.Split(e.Text, "\n") {
				if utf8.RuneCountInString(line) > TextWidth && strings.Contains(strings.TrimSpace(line), " ") {
					t.Errorf("%s/%s: line over %d columns: %q", p, l, TextWidth, line)
				}
			}
			if strings.Contains(e.Text, "<") || strings.Contains(e.Text, "&amp;") {
				t.Errorf("%s/%s: markup in the text part", p, l)
			}
		}
	}
}

func TestNotice_Sections(t *testing.T) {
	n := fixture("us-ca", "en")
	c := n.Content()
	secs := n.Sections()
	if len(secs) != len(c.Sections) || secs[0].ID != SectionWhatHappened || secs[len(secs)-1].ID != SectionMoreInformation {
		t.Fatalf("sections %+v", secs)
	}
	if got := secs[1].Bullets; !slices.Equal(got, []string{"Your name", "Your email address", "Your account password", "Your Social Security number"}) {
		t.Errorf("information bullets %q", got)
	}
	// An empty description gives the generic sentence; no elements says so.
	n.Description, n.Elements = "", nil
	secs = n.Sections()
	if got := secs[0].Paragraphs[0]; got != "On March 2, 2026, we discovered that an unauthorized party had gained access to systems at Example Learning, Inc. that hold personal information about you." {
		t.Errorf("generic description %q", got)
	}
	if got := secs[1].Paragraphs[0]; !strings.HasPrefix(got, "We are still determining") {
		t.Errorf("no elements: %q", got)
	}
	// Paragraphs of a multi-line description.
	n.Description = "First line\r\ncontinues.\r\n\r\n\r\nSecond\tparagraph.\x1b[31m"
	if got := n.Sections()[0].Paragraphs[:2]; !slices.Equal(got, []string{"First line continues.", "Second paragraph. [31m"}) {
		t.Errorf("paragraphs %q", got)
	}
}

func TestCatalogComplete(t *testing.T) {
	en := catalogs[DefaultLang]
	for _, l := range Languages() {
		c := catalogs[l]
		for k, v := range en {
			tr, ok := c[k]
			if !ok || strings.TrimSpace(tr) == "" && k != "format.thousands" { // French groups digits with a no-break space
				t.Errorf("%s: missing %q", l, k)
				continue
			}
			if !slices.Equal(placeholders(v), placeholders(tr)) {
				t.Errorf("%s: %q placeholders %q, English has %q", l, k, placeholders(tr), placeholders(v))
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %q not in English", l, k)
			}
		}
	}
	// Every key the code uses exists.
	keys := []string{"subject", "closing", "greeting", "greeting.anonymous", "label.date", "label.phone", "label.email", "label.web", "format.date", "format.thousands"}
	for _, p := range profiles {
		keys = append(keys, p.title, p.intro)
		for _, s := range p.sections {
			keys = append(keys, headingPrefix+s)
		}
	}
	for _, c := range consequences {
		keys = append(keys, c.key)
	}
	for e := range elementClass {
		keys = append(keys, "element."+e)
	}
	keys = append(keys, monthKeys[:]...)
	for _, k := range keys {
		if _, ok := en[k]; !ok {
			t.Errorf("catalogue lacks %q", k)
		}
	}
}

func TestProfiles(t *testing.T) {
	for name, p := range profiles {
		for _, fb := range forbiddenBlocks {
			if p.forbid&fb.f != 0 && p.extra&fb.bs != 0 {
				t.Errorf("%s: extra blocks include content it forbids", name)
			}
		}
		if p.extra&^optionalBlocks != 0 {
			t.Errorf("%s: extra names a standard block", name)
		}
		for _, s := range p.sections {
			if _, ok := sectionBlocks[s]; !ok {
				t.Errorf("%s: unknown section %q", name, s)
			}
		}
	}
	var all []block
	for _, bs := range sectionBlocks {
		all = append(all, bs...)
	}
	if len(all) != int(numBlocks) {
		t.Errorf("sectionBlocks places %d blocks, want each of %d exactly once", len(all), numBlocks)
	}
	for _, tc := range []struct {
		profile string
		block   block
		want    bool
	}{
		{"us-ma", bDescription, false},
		{"us-ma", bCount, false},
		{"us-ma", bPoliceReport, true},
		{"us-il", bCount, false},
		{"us-ri", bCount, true},
		{"gdpr", bConsequences, true},
		{"generic", bComplaint, false},
	} {
		if got := profiles[tc.profile].enabled.has(tc.block) && slices.ContainsFunc(profiles[tc.profile].sections, func(s string) bool {
			return slices.Contains(sectionBlocks[s], tc.block)
		}); got != tc.want {
			t.Errorf("%s prints block %d: %v, want %v", tc.profile, tc.block, got, tc.want)
		}
	}
}

func TestTextComponent(t *testing.T) {
	n := fixture("us-ca", "en")
	c := n.Content()
	var buf bytes.Buffer
	if err := Text(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != render(t, n).Text {
		t.Error("Text component differs from RenderEmail's text")
	}
	buf.Reset()
	if err := HTML(c).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != render(t, n).HTML {
		t.Error("HTML component differs from RenderEmail's HTML")
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	n := fixture("us-ca", "en")
	ctx := context.Background()
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		e, err := RenderEmail(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		size = len(e.HTML) + len(e.Text)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(size), "bytes/msg")
}
