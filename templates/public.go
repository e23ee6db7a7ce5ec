package templates

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PublicNotice is the props of an incident's public notice page: the
// notice every affected person was sent, for no one in particular
// (Notice.RecipientName is ignored), with when it was posted, whether the
// banner has been withdrawn, and the controller's ledger key fingerprint so
// that anyone can pin it when verifying a proof bundle. It holds nothing
// personal.
type PublicNotice struct {
	Notice Notice
	// Lang is the page's language (one of Languages()).
	Lang string
	// Path is the page's path without query ("/notices/op/3"), for the
	// language and plain-text links.
	Path string
	// Posted is when the banner was published; Until the last day it is
	// shown (zero: no end); Withdrawn when it was withdrawn (zero: not).
	Posted, Until, Withdrawn time.Time
	// KeyName and Fingerprint identify the controller's ledger signing key;
	// PublicKey is the key itself, as ledger key prints it (shown when set).
	KeyName, Fingerprint, PublicKey string
}

// NoticeListItem is one line of a controller's list of public notices.
type NoticeListItem struct {
	Path      string
	Title     string
	Posted    time.Time
	Withdrawn time.Time // zero: still posted
}

// NoticeList is the props of a controller's list of public notices.
type NoticeList struct {
	Lang           string
	ControllerName string
	Items          []NoticeListItem
}

// publicMsgs are the public pages' and the banner's own sentences, per
// catalogue language; the notice itself comes from the catalogues.
// TestPublicMessagesComplete holds every language to every key.
var publicMsgs = map[string]map[string]string{
	"en": {
		"posted":        "Posted on {date}.",
		"until":         "Shown on the homepage until {date}.",
		"until.planned": "Planned to stay on the homepage until {date}.",
		"withdrawn":     "Withdrawn from the homepage on {date}. This notice stays here for reference.",
		"languages":     "This notice in other languages:",
		"text":          "Plain text version",
		"print":         "To keep a copy, print this page.",
		"proof":         "Proof of notice",
		"proof.body":    "{controller} keeps a signed, append-only log of the notices it gives. Its public signing key {name} has this fingerprint:",
		"proof.verify":  "To check a proof bundle against it: breachnotice ledger verify --key {fingerprint} FILE.zip",
		"proof.key":     "The public key itself:",
		"list.title":    "Notices from {controller}",
		"list.empty":    "There are no notices.",
		"list.posted":   "posted {date}",
		"list.withdrn":  "withdrawn {date}",
		"banner.label":  "Important",
		"banner.read":   "Read the notice",
		"banner.close":  "Dismiss this notice",
		"banner.summary": "On {discovered}, {controller} discovered a security incident involving learners' personal information. " +
			"Read the notice to find out what happened and what you can do.",
		"notfound.title": "Page not found",
		"notfound.body":  "There is no page at this address.",
	},
	"es": {
		"posted":        "Publicado el {date}.",
		"until":         "Visible en la página principal hasta el {date}.",
		"until.planned": "Estaba previsto mantenerlo en la página principal hasta el {date}.",
		"withdrawn":     "Retirado de la página principal el {date}. Este aviso se mantiene aquí como referencia.",
		"languages":     "Este aviso en otros idiomas:",
		"text":          "Versión en texto sin formato",
		"print":         "Para guardar una copia, imprima esta página.",
		"proof":         "Prueba de notificación",
		"proof.body":    "{controller} mantiene un registro firmado, de solo adición, de los avisos que envía. Su clave pública de firma {name} tiene esta huella:",
		"proof.verify":  "Para comprobar un paquete de prueba con ella: breachnotice ledger verify --key {fingerprint} FILE.zip",
		"proof.key":     "La clave pública en sí:",
		"list.title":    "Avisos de {controller}",
		"list.empty":    "No hay avisos.",
		"list.posted":   "publicado el {date}",
		"list.withdrn":  "retirado el {date}",
		"banner.label":  "Importante",
		"banner.read":   "Leer el aviso",
		"banner.close":  "Cerrar este aviso",
		"banner.summary": "El {discovered}, {controller} descubrió un incidente de seguridad que afectó a información personal de estudiantes. " +
			"Lea el aviso para saber qué sucedió y qué puede hacer.",
		"notfound.title": "Página no encontrada",
		"notfound.body":  "No hay ninguna página en esta dirección.",
	},
	// de and fr: drafts, not yet reviewed by counsel (see Reviewed).
	"de": {
		"posted":        "Veröffentlicht am {date}.",
		"until":         "Auf der Startseite sichtbar bis zum {date}.",
		"until.planned": "Sollte bis zum {date} auf der Startseite bleiben.",
		"withdrawn":     "Am {date} von der Startseite entfernt. Diese Benachrichtigung bleibt zum Nachlesen hier.",
		"languages":     "Diese Benachrichtigung in anderen Sprachen:",
		"text":          "Nur-Text-Fassung",
		"print":         "Um eine Kopie aufzubewahren, drucken Sie diese Seite.",
		"proof":         "Nachweis der Benachrichtigung",
		"proof.body":    "{controller} führt ein signiertes, nur erweiterbares Protokoll der Benachrichtigungen, die es versendet. Sein öffentlicher Signaturschlüssel {name} hat diesen Fingerabdruck:",
		"proof.verify":  "Um ein Nachweispaket damit zu prüfen: breachnotice ledger verify --key {fingerprint} FILE.zip",
		"proof.key":     "Der öffentliche Schlüssel selbst:",
		"list.title":    "Benachrichtigungen von {controller}",
		"list.empty":    "Es gibt keine Benachrichtigungen.",
		"list.posted":   "veröffentlicht am {date}",
		"list.withdrn":  "entfernt am {date}",
		"banner.label":  "Wichtig",
		"banner.read":   "Benachrichtigung lesen",
		"banner.close":  "Diesen Hinweis schließen",
		"banner.summary": "Am {discovered} hat {controller} einen Sicherheitsvorfall festgestellt, der personenbezogene Daten von Lernenden betrifft. " +
			"Lesen Sie die Benachrichtigung, um zu erfahren, was geschehen ist und was Sie tun können.",
		"notfound.title": "Seite nicht gefunden",
		"notfound.body":  "Unter dieser Adresse gibt es keine Seite.",
	},
	"fr": {
		"posted":        "Publié le {date}.",
		"until":         "Affiché sur la page d’accueil jusqu’au {date}.",
		"until.planned": "Devait rester sur la page d’accueil jusqu’au {date}.",
		"withdrawn":     "Retiré de la page d’accueil le {date}. Cet avis reste consultable ici.",
		"languages":     "Cet avis dans d’autres langues :",
		"text":          "Version texte",
		"print":         "Pour en garder une copie, imprimez cette page.",
		"proof":         "Preuve de notification",
		"proof.body":    "{controller} tient un journal signé, en ajout seul, des avis qu’il envoie. Sa clé publique de signature {name} a cette empreinte :",
		"proof.verify":  "Pour vérifier un dossier de preuve avec elle : breachnotice ledger verify --key {fingerprint} FILE.zip",
		"proof.key":     "La clé publique elle-même :",
		"list.title":    "Avis de {controller}",
		"list.empty":    "Il n’y a aucun avis.",
		"list.posted":   "publié le {date}",
		"list.withdrn":  "retiré le {date}",
		"banner.label":  "Important",
		"banner.read":   "Lire l’avis",
		"banner.close":  "Fermer cet avis",
		"banner.summary": "Le {discovered}, {controller} a découvert un incident de sécurité concernant des données personnelles d’apprenants. " +
			"Lisez l’avis pour savoir ce qui s’est passé et ce que vous pouvez faire.",
		"notfound.title": "Page introuvable",
		"notfound.body":  "Il n’y a aucune page à cette adresse.",
	},
}

// publicMsg returns a public message in lang (falling back to English),
// with its {placeholders} expanded from vars (name, value pairs).
func publicMsg(lang, key string, vars ...string) string {
	m, ok := publicMsgs[lang]
	if !ok {
		m = publicMsgs[DefaultLang]
	}
	s, ok := m[key]
	if !ok {
		s = publicMsgs[DefaultLang][key]
	}
	return expand(s, func(name string) string {
		for i := 0; i+1 < len(vars); i += 2 {
			if vars[i] == name {
				return vars[i+1]
			}
		}
		return ""
	})
}

// FormatDate formats a calendar date the language's way.
func FormatDate(lang string, t time.Time) string { return msgsFor(lang).date(t) }

// BannerSummary is the banner's default plain-language summary in lang.
func BannerSummary(lang, controller string, discovered time.Time) string {
	return publicMsg(lang, "banner.summary", "controller", controller, "discovered", FormatDate(lang, discovered))
}

// BannerLabels are the words banner.js shows around a banner, per language:
// the region's label, the link text and the dismiss button's accessible
// name.
type BannerLabels struct {
	Label string `json:"label"`
	Read  string `json:"read"`
	Close string `json:"close"`
}

// BannerLabelsByLang returns the banner's labels in every language.
func BannerLabelsByLang() map[string]BannerLabels {
	out := map[string]BannerLabels{}
	for _, l := range Languages() {
		out[l] = BannerLabels{publicMsg(l, "banner.label"), publicMsg(l, "banner.read"), publicMsg(l, "banner.close")}
	}
	return out
}

// RenderPublicNotice renders the public notice page as HTML and as plain
// text. The same props always give the same bytes.
func RenderPublicNotice(ctx context.Context, p PublicNotice) (html, text []byte, err error) {
	v := p.view()
	var h bytes.Buffer
	if err := publicNoticeHTML(&v).Render(ctx, &h); err != nil {
		return nil, nil, fmt.Errorf("templates: render public notice: %w", err)
	}
	var t strings.Builder
	writeText(&t, &v.Content)
	t.WriteString("\n")
	for _, line := range v.Status {
		wrap(&t, line, "", "")
	}
	t.WriteString("\n" + v.ProofHeading + "\n")
	wrap(&t, v.ProofBody, "", "")
	t.WriteString("    " + p.Fingerprint + "\n")
	wrap(&t, v.ProofVerify, "", "")
	if v.PublicKey != "" {
		wrap(&t, v.KeyLabel, "", "")
		t.WriteString("    " + v.PublicKey + "\n")
	}
	return h.Bytes(), []byte(t.String()), nil
}

// publicView is what the public notice page prints, worked out from the
// props.
type publicView struct {
	Content
	Status                               []string // posted, until (if any), withdrawn (if it was)
	Withdrawn                            bool
	Others                               []langLink
	TextLink, TextLabel, PrintHint       string
	ProofHeading, ProofBody, ProofVerify string
	OthersLabel, Fingerprint             string
	KeyLabel, PublicKey                  string
}

type langLink struct{ Lang, Name, Href string }

func (p *PublicNotice) view() publicView {
	n := p.Notice
	n.Locale, n.RecipientName = p.Lang, ""
	c := n.Content()
	lang := c.Lang
	v := publicView{Content: c, Fingerprint: p.Fingerprint, Withdrawn: !p.Withdrawn.IsZero()}
	v.Status = append(v.Status, publicMsg(lang, "posted", "date", FormatDate(lang, p.Posted)))
	if !p.Until.IsZero() {
		key := "until"
		if !p.Withdrawn.IsZero() && p.Withdrawn.Before(p.Until.AddDate(0, 0, 1)) {
			key = "until.planned" // withdrawn before its last day was over
		}
		v.Status = append(v.Status, publicMsg(lang, key, "date", FormatDate(lang, p.Until)))
	}
	if !p.Withdrawn.IsZero() {
		v.Status = append(v.Status, publicMsg(lang, "withdrawn", "date", FormatDate(lang, p.Withdrawn)))
	}
	for _, l := range Languages() {
		if l != lang {
			v.Others = append(v.Others, langLink{l, msgsFor(l).get("lang.name"), p.Path + "?lang=" + l})
		}
	}
	v.OthersLabel = publicMsg(lang, "languages")
	v.TextLink, v.TextLabel = p.Path+".txt?lang="+lang, publicMsg(lang, "text")
	v.PrintHint = publicMsg(lang, "print")
	v.ProofHeading = publicMsg(lang, "proof")
	v.ProofBody = publicMsg(lang, "proof.body", "controller", n.Controller.Name, "name", p.KeyName)
	v.ProofVerify = publicMsg(lang, "proof.verify", "fingerprint", p.Fingerprint)
	if p.PublicKey != "" {
		v.KeyLabel, v.PublicKey = publicMsg(lang, "proof.key"), p.PublicKey
	}
	return v
}

// RenderNoticeList renders a controller's list of public notices.
func RenderNoticeList(ctx context.Context, l NoticeList) ([]byte, error) {
	lang := LangFor(l.Lang)
	var items []listItem
	for _, it := range l.Items {
		when := publicMsg(lang, "list.posted", "date", FormatDate(lang, it.Posted))
		if !it.Withdrawn.IsZero() {
			when += ", " + publicMsg(lang, "list.withdrn", "date", FormatDate(lang, it.Withdrawn))
		}
		items = append(items, listItem{it.Path, it.Title, when})
	}
	title := publicMsg(lang, "list.title", "controller", l.ControllerName)
	var b bytes.Buffer
	err := publicPage(lang, title, noticeList(title, publicMsg(lang, "list.empty"), items)).Render(ctx, &b)
	if err != nil {
		return nil, fmt.Errorf("templates: render notice list: %w", err)
	}
	return b.Bytes(), nil
}

// listItem is one rendered line of a notice list.
type listItem struct{ Href, Title, When string }

// RenderNotFound renders the one plain "not found" page of the public
// routes, in lang. It says nothing about what does or does not exist.
func RenderNotFound(ctx context.Context, lang string) ([]byte, error) {
	lang = LangFor(lang)
	title := publicMsg(lang, "notfound.title")
	var b bytes.Buffer
	if err := publicPage(lang, title, notFound(title, publicMsg(lang, "notfound.body"))).Render(ctx, &b); err != nil {
		return nil, fmt.Errorf("templates: render not found: %w", err)
	}
	return b.Bytes(), nil
}

// PickLang chooses a page language from an explicit choice (?lang=) and an
// Accept-Language header: the explicit choice when a catalogue has it, else
// the first language of the header (by quality) that one has, else
// DefaultLang.
func PickLang(explicit, acceptLanguage string) string {
	if explicit != "" {
		if l := LangFor(explicit); strings.EqualFold(l, primary(explicit)) {
			return l
		}
	}
	type choice struct {
		lang string
		q    float64
		i    int
	}
	var cs []choice
	for i, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if tag == "" || q <= 0 {
			continue
		}
		cs = append(cs, choice{primary(tag), q, i})
	}
	slices.SortStableFunc(cs, func(a, b choice) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	for _, c := range cs {
		if l := LangFor(c.lang); strings.EqualFold(l, c.lang) {
			return l
		}
	}
	return DefaultLang
}

func primary(tag string) string {
	if i := strings.IndexAny(tag, "-_."); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(strings.TrimSpace(tag))
}

//go:embed public_banner.js
var bannerScript []byte

// BannerScript returns banner.js, the script a site includes to show its
// banners, with the labels of every language built in.
func BannerScript() []byte {
	labels, err := json.Marshal(BannerLabelsByLang())
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return bytes.Replace(bannerScript, []byte("/*LABELS*/{}"), labels, 1)
}
