package notify

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/templates"

	"github.com/breachnotice/breachnotice/templates/golden"
)

func contentIncident() *incident.Incident {
	return &incident.Incident{
		ID:           7,
		ControllerID: "op",
		Title:        "Support tool export",
		Description:  "An attacker used a stolen support-staff password to export learner records from our course administration tool.",
		Discovered:   incident.Date{Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		OccurredFrom: incident.Date{Time: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)},
		OccurredTo:   incident.Date{Time: time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
		Elements:     []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword, incident.ElemSSN},
		Status:       incident.StatusPlanned,
		Affected:     48213,
	}
}

func contentController() *incident.Controller {
	return &incident.Controller{
		ID: "op", Name: "Example Learning, Inc.", From: "notices@example.org",
		Contact: incident.Contact{
			PostalAddress: "100 Main Street\nCambridge, MA 02139",
			Phone:         "1-800-555-0100",
			Web:           "https://example.org/security-notice",
			Email:         "privacy@example.org",
			DPO:           "dpo@example.org",
		},
		TermsEConsent: true,
	}
}

// resident returns an affected person living in a rules-table jurisdiction.
func resident(code, locale string) *incident.Affected {
	a := &incident.Affected{Account: incident.Account{
		ID: "acct-" + code, Name: "Ana García", Email: "ana@example.net", EmailUsable: true,
		Locale: locale, PostalLine1: "1 Elm St", City: "Town", PostalCode: "00001",
		EConsent: true, Status: incident.AccountActive,
	}}
	a.NoticeEmail, a.NoticeEmailUsable = a.Email, true
	switch {
	case code == "US-PR" || code == "US-GU" || code == "US-VI":
		a.Country = code[3:]
	case strings.HasPrefix(code, "US-"):
		a.Country, a.Region = "US", code[3:]
	default:
		a.Country = code
	}
	return a
}

func renderNotice(t testing.TB, n templates.Notice) templates.Email {
	t.Helper()
	e, err := templates.RenderEmail(context.Background(), n)
	if err != nil {
		t.Fatalf("RenderEmail: %v", err)
	}
	return e
}

func TestNoticeFor_EveryRule(t *testing.T) {
	inc, c := contentIncident(), contentController()
	planner := law.NewPlanner(inc, c)
	known := templates.Profiles()
	for _, r := range law.RulesOn(inc.Discovered) {
		for _, locale := range []string{"en-US", "es-MX"} {
			a := resident(r.Code, locale)
			d := planner.Decide(a)
			if d.Jurisdiction != r.Code || d.ContentProfile != r.ContentProfile {
				t.Fatalf("%s: decision for %s with profile %s", r.Code, d.Jurisdiction, d.ContentProfile)
			}
			if !slices.Contains(known, r.ContentProfile) {
				t.Errorf("%s: templates has no profile %q", r.Code, r.ContentProfile)
			}
			e := renderNotice(t, NoticeFor(inc, c, a, d))
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(e.HTML))
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find(`[data-testid="notice"]`).AttrOr("data-profile", ""); got != r.ContentProfile {
				t.Errorf("%s/%s: rendered profile %q, want %q", r.Code, locale, got, r.ContentProfile)
			}
			if got, want := doc.Find("html").AttrOr("lang", ""), locale[:2]; got != want {
				t.Errorf("%s/%s: lang %q", r.Code, locale, got)
			}
			us := strings.HasPrefix(r.Code, "US-")
			if got := doc.Find(`[data-testid="card-equifax"]`).Length() == 1; got != us {
				t.Errorf("%s/%s: Equifax card %v, want %v", r.Code, locale, got, us)
			}
			if e.Subject == "" || e.Text == "" {
				t.Errorf("%s/%s: empty subject or text", r.Code, locale)
			}
		}
	}
}

func TestNoticeFor_ProfilesKnown(t *testing.T) {
	known := templates.Profiles()
	for _, p := range law.ContentProfiles() {
		if !slices.Contains(known, p) {
			t.Errorf("law profile %q has no template profile", p)
		}
	}
	for _, p := range known {
		if !slices.Contains(law.ContentProfiles(), p) {
			t.Errorf("template profile %q is not a law profile", p)
		}
	}
}

func TestNoticeFor_ElementWording(t *testing.T) {
	for _, lang := range templates.Languages() {
		for _, e := range incident.Elements {
			if w, ok := templates.ElementWording(lang, string(e)); !ok || w == "" {
				t.Errorf("%s: no wording for element %q", lang, e)
			}
		}
	}
}

// agContact matches content requirements that name the attorney general as
// a contact the notice must give.
var agContact = regexp.MustCompile(`\bO?AG\b`)

func TestNoticeFor_StateAgencies(t *testing.T) {
	inc, c := contentIncident(), contentController()
	for _, r := range law.RulesOn(inc.Discovered) {
		if !strings.HasPrefix(r.Code, "US-") || !agContact.MatchString(r.ContentRequirements) {
			continue
		}
		a := resident(r.Code, "en")
		e := renderNotice(t, NoticeFor(inc, c, a, law.Decide(inc, c, a)))
		if !strings.Contains(e.HTML, `data-testid="card-ag"`) {
			t.Errorf("%s (%s): no attorney general card; requirements: %s", r.Code, r.ContentProfile, r.ContentRequirements)
		}
	}
}

func TestNoticeFor_Mapping(t *testing.T) {
	inc, c := contentIncident(), contentController()
	a := resident("US-CA", "es-US")
	d := law.Decide(inc, c, a)
	n := NoticeFor(inc, c, a, d)
	if n.Profile != law.ProfileUSCA || n.Locale != "es-US" || n.RecipientName != "Ana García" {
		t.Errorf("profile/locale/name: %q %q %q", n.Profile, n.Locale, n.RecipientName)
	}
	if n.Controller.Name != c.Name || n.Controller.DPO != c.Contact.DPO || n.Controller.PostalAddress != c.Contact.PostalAddress {
		t.Errorf("controller %+v", n.Controller)
	}
	if !slices.Equal(n.Elements, []string{"name", "email", "password", "ssn"}) {
		t.Errorf("elements %q", n.Elements)
	}
	if n.Protection == nil || n.Protection.Months != 12 || n.Protection.Provider != "" {
		t.Errorf("California SSN breach: protection %+v, want 12 months and no provider yet", n.Protection)
	}
	// The incident's arranged offer is printed where the law owes one.
	withOffer := contentIncident()
	withOffer.Protection = &incident.Protection{Provider: "IdentityGuard", URL: "https://enroll.example.com", Phone: "1-800-555-0199"}
	if n := NoticeFor(withOffer, c, a, d); n.Protection == nil || *n.Protection != (templates.Protection{Months: 12,
		Provider: "IdentityGuard", EnrollURL: "https://enroll.example.com", Phone: "1-800-555-0199"}) {
		t.Errorf("with an offer arranged: protection %+v", n.Protection)
	}
	tx := resident("US-TX", "en")
	if n := NoticeFor(withOffer, c, tx, law.Decide(withOffer, c, tx)); n.Protection != nil {
		t.Errorf("Texas owes no protection, yet %+v", n.Protection)
	}
	if !n.Discovered.Equal(inc.Discovered.Time) || n.Affected != inc.Affected {
		t.Error("dates or count not mapped")
	}
	// No SSN: no offer. A hold: the delay is stated.
	inc2 := contentIncident()
	inc2.Elements = []incident.Element{incident.ElemEmail, incident.ElemPassword}
	inc2.Hold = &incident.Hold{Reason: "FBI", Since: inc2.Discovered.Time}
	if n := NoticeFor(inc2, c, a, law.Decide(inc2, c, a)); n.Protection != nil || !n.LawEnforcementDelay {
		t.Errorf("no-SSN breach under hold: protection %+v, delay %v", n.Protection, n.LawEnforcementDelay)
	}
	// GDPR: the member state's authority; no US agencies.
	de := resident("IE", "en")
	n = NoticeFor(inc, c, de, law.Decide(inc, c, de))
	if n.Profile != law.ProfileGDPR || n.ComplaintAuthority != "Data Protection Commission (DPC)" || n.Regulator != "" || n.Agencies != nil {
		t.Errorf("IE: profile %q regulator %q authority %q agencies %d", n.Profile, n.Regulator, n.ComplaintAuthority, len(n.Agencies))
	}
	gb := resident("GB", "en")
	if n := NoticeFor(inc, c, gb, law.Decide(inc, c, gb)); n.Regulator != "Information Commissioner's Office (ICO)" || n.ComplaintAuthority != n.Regulator {
		t.Errorf("GB: regulator %q authority %q", n.Regulator, n.ComplaintAuthority)
	}
	// Unknown residence: generic, English, nothing crashes.
	nowhere := &incident.Affected{Account: incident.Account{ID: "x", Status: incident.AccountActive}}
	n = NoticeFor(inc, nil, nowhere, law.Decide(inc, nil, nowhere))
	if n.Profile != law.ProfileGeneric {
		t.Errorf("unknown residence: profile %q", n.Profile)
	}
	renderNotice(t, n)
}

func TestNoticeFor_Massachusetts(t *testing.T) {
	inc, c := contentIncident(), contentController()
	a := resident("US-MA", "en")
	e := renderNotice(t, NoticeFor(inc, c, a, law.Decide(inc, c, a)))
	for _, bad := range []string{"48,213", "48213", "stolen support-staff password", "February 20"} {
		if strings.Contains(e.HTML, bad) || strings.Contains(e.Text, bad) {
			t.Errorf("MA notice contains %q", bad)
		}
	}
	for _, want := range []string{"police report", "free of charge", "18 months"} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("MA notice lacks %q", want)
		}
	}
}

func TestNoticeFor_Golden(t *testing.T) {
	inc, c := contentIncident(), contentController()
	for _, tc := range []struct{ code, locale string }{{"US-CA", "en"}, {"US-NY", "es"}, {"DE", "en"}} {
		a := resident(tc.code, tc.locale)
		n := NoticeFor(inc, c, a, law.Decide(inc, c, a))
		n.NoticeDate = time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
		e := renderNotice(t, n)
		got := "Subject: " + e.Subject + "\n\n" + e.Text
		golden.Check(t, "notice_"+tc.code+"."+tc.locale+".txt", got)
	}
}

func BenchmarkNoticeForRender(b *testing.B) {
	inc, c := contentIncident(), contentController()
	a := resident("US-CA", "en")
	d := law.Decide(inc, c, a)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := templates.RenderEmail(ctx, NoticeFor(inc, c, a, d)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
