package banner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
)

// bannerContent is a revision's content as given: the headline, the
// summary ("" = the catalogue's summary in each language) and the link to
// the notice page in the default language.
type bannerContent struct {
	Headline string `json:"headline"`
	Summary  string `json:"summary,omitempty"`
	Link     string `json:"link"`
}

// JSONBanner is one banner as /banner.json serves it. Its text is in
// Language (templates.DefaultLang); Translations holds it in every other
// catalogue language. Since is RFC 3339; Until the last day shown
// (YYYY-MM-DD, UTC), absent when the banner has no end.
type JSONBanner struct {
	Controller   string              `json:"controller"`
	Incident     int64               `json:"incident"`
	Language     string              `json:"language"`
	Headline     string              `json:"headline"`
	Summary      string              `json:"summary"`
	Link         string              `json:"link"`
	Since        string              `json:"since"`
	Until        string              `json:"until,omitempty"`
	Translations map[string]JSONText `json:"translations,omitempty"`
}

// JSONText is a banner's text in one language.
type JSONText struct {
	Headline string `json:"headline"`
	Summary  string `json:"summary"`
	Link     string `json:"link"`
}

// page is one rendered public notice page of a revision.
type page struct {
	lang, format string
	body         []byte
	sum          string // hex SHA-256 of body
}

// rendered is what a revision serves: the banner's object and its pages.
type rendered struct {
	bannerJSON []byte
	bannerSum  string
	pages      []page
}

// pageSums maps "LANG.FORMAT" to the page's SHA-256, for the ledger.
func (r *rendered) pageSums() map[string]string {
	m := make(map[string]string, len(r.pages))
	for _, p := range r.pages {
		m[p.lang+"."+p.format] = p.sum
	}
	return m
}

// same reports whether two renderings serve the same bytes.
func (r *rendered) same(o *rendered) bool {
	if r.bannerSum != o.bannerSum || len(r.pages) != len(o.pages) {
		return false
	}
	a, b := r.pageSums(), o.pageSums()
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// renderInput is everything a revision's bytes depend on.
type renderInput struct {
	inc        *incident.Incident
	controller *incident.Controller
	plan       *notify.Plan
	content    bannerContent
	published  time.Time
	until      incident.Date
	withdrawn  time.Time
	keyName    string
	vkey       string
}

// dominant is the decision whose content the public notice prints: that of
// the jurisdiction with the most people owed notice (then the most people,
// then the first by code), so the page carries the facts and required
// content of the emails most people got, minus anything personal.
func dominant(p *notify.Plan) law.Decision {
	var best *law.Obligation
	for i := range p.Jurisdictions {
		ob := &p.Jurisdictions[i]
		if best == nil || ob.Tally.Owed > best.Tally.Owed ||
			ob.Tally.Owed == best.Tally.Owed && ob.Tally.People > best.Tally.People {
			best = ob
		}
	}
	if best == nil {
		return law.Decision{ContentProfile: law.ProfileGeneric}
	}
	return law.Decision{Jurisdiction: best.Jurisdiction, ContentProfile: best.ContentProfile}
}

// render renders a revision's banner object and public notice pages.
func render(ctx context.Context, in renderInput) (*rendered, error) {
	fp, err := ledger.Fingerprint(in.vkey)
	if err != nil {
		return nil, err
	}
	n := notify.NoticeFor(in.inc, in.controller, nil, dominant(in.plan))
	n.NoticeDate = in.published
	path := NoticePath(in.inc.ControllerID, in.inc.ID)
	r := &rendered{}
	for _, lang := range templates.Languages() {
		p := templates.PublicNotice{Notice: n, Lang: lang, Path: path, Posted: in.published,
			Until: in.until.Time, Withdrawn: in.withdrawn, KeyName: in.keyName, Fingerprint: fp, PublicKey: in.vkey}
		html, text, err := templates.RenderPublicNotice(ctx, p)
		if err != nil {
			return nil, err
		}
		r.pages = append(r.pages, page{lang, "html", html, sum(html)}, page{lang, "txt", text, sum(text)})
	}
	jb := JSONBanner{Controller: in.inc.ControllerID, Incident: in.inc.ID, Language: templates.DefaultLang,
		Since: in.published.UTC().Format(time.RFC3339)}
	if !in.until.IsZero() {
		jb.Until = in.until.String()
	}
	for _, lang := range templates.Languages() {
		t := JSONText{Headline: in.content.Headline, Summary: in.content.Summary, Link: in.content.Link}
		if t.Summary == "" {
			t.Summary = templates.BannerSummary(lang, in.controller.Name, in.inc.Discovered.Time)
		}
		if lang == templates.DefaultLang {
			jb.Headline, jb.Summary, jb.Link = t.Headline, t.Summary, t.Link
			continue
		}
		t.Link += "?lang=" + lang
		if jb.Translations == nil {
			jb.Translations = map[string]JSONText{}
		}
		jb.Translations[lang] = t
	}
	b, err := json.Marshal(jb)
	if err != nil {
		return nil, fmt.Errorf("banner %d: %w", in.inc.ID, err)
	}
	r.bannerJSON, r.bannerSum = b, sum(b)
	return r, nil
}

// NoticePath is the path of an incident's public notice page.
func NoticePath(controller string, incidentID int64) string {
	return fmt.Sprintf("/notices/%s/%d", controller, incidentID)
}
