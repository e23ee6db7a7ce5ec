package templates

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Notice is the props of one person's breach notice. Callers fill it from
// the incident, the controller, the person and the law's decision; the
// package reads nothing else. Empty fields are left out of the notice.
type Notice struct {
	// Profile is the law engine's content profile ("us-ca", "gdpr"); an
	// unknown or empty profile renders as ProfileGeneric.
	Profile string
	// Locale is the recipient's locale; LangFor picks the language.
	Locale string
	// RecipientName is the person's name, for the greeting.
	RecipientName string
	// Controller is who sends the notice and answers questions.
	Controller Party
	// Description is what happened, in the controller's words (plain text;
	// blank lines separate paragraphs). Empty: a generic sentence built from
	// the discovery date.
	Description string
	// Discovered, OccurredFrom and OccurredTo are calendar dates (zero =
	// unknown). NoticeDate is the date the notice is issued, printed at the
	// top where set (California asks for it).
	Discovered, OccurredFrom, OccurredTo, NoticeDate time.Time
	// Elements are the exposed data elements, as incident.Element values
	// ("ssn", "password"); the catalogue words them.
	Elements []string
	// Affected is the number of people affected. It is printed only where a
	// profile requires it (Rhode Island) and never where one forbids it.
	Affected int64
	// LawEnforcementDelay says the notice was delayed at the request of law
	// enforcement.
	LawEnforcementDelay bool
	// Regulator names the authority the controller reports the breach to,
	// where a profile says so ("" = the competent authority, unnamed).
	Regulator string
	// ComplaintAuthority names the authority the person may complain to
	// (GDPR Art. 77: the one of their habitual residence); "" leaves the
	// right to complain out.
	ComplaintAuthority string
	// Agencies are the consumer reporting agencies, the FTC and the state
	// agencies the person may contact; which are printed is the profile's
	// choice. The slice is only read.
	Agencies []Agency
	// Protection is the identity-protection offer, if any.
	Protection *Protection
}

// Party is the controller's contact block.
type Party struct {
	Name          string
	PostalAddress string // lines separated by "\n"
	Phone         string
	Email         string
	Web           string
	DPO           string // data protection officer or other contact point
}

// Agency kinds.
const (
	AgencyCRA   = "cra"   // a nationwide consumer reporting agency
	AgencyFTC   = "ftc"   // the Federal Trade Commission
	AgencyState = "state" // a state attorney general or consumer-protection office
)

// Agency is an organisation a notice tells the person to contact.
type Agency struct {
	ID            string // stable id, used in the card's data-testid ("equifax")
	Kind          string // AgencyCRA, AgencyFTC or AgencyState
	Name          string
	PostalAddress string // lines separated by "\n"
	Phone         string
	Web           string
}

// Protection is an offer of identity theft protection and credit monitoring.
type Protection struct {
	Months    int
	Provider  string
	EnrollURL string
	// Phone is the number to call to enrol, alone or besides EnrollURL.
	Phone    string
	Code     string
	EnrollBy time.Time
}

// Content is a notice ready to print: what every renderer (email HTML and
// text, PDF letter) shows, in order.
type Content struct {
	Lang      string
	Profile   string
	Title     string
	Subject   string // header-safe
	Date      string // the notice date, formatted; "" when not set
	Greeting  string
	Intro     string
	Sections  []Section
	Closing   string
	Signature string
}

// Section is one headed part of a notice: paragraphs, then an optional
// bullet list, then contact cards.
type Section struct {
	ID         string // SectionWhatHappened...; the data-testid
	Heading    string
	Paragraphs []string
	Bullets    []string
	Cards      []Card
}

// Card is a contact block: its first line is the name.
type Card struct {
	ID    string
	Lines []string
}

// Sections returns the notice's sections in order: the content the email
// and the letter print under their headings.
func (n *Notice) Sections() []Section { return n.Content().Sections }

// Lang returns the notice's language.
func (n *Notice) Lang() string { return LangFor(n.Locale) }

// Content builds the notice's printable content.
func (n *Notice) Content() Content {
	m := msgsFor(n.Lang())
	p := profileFor(n.Profile)
	b := builder{n: n, m: m, p: p, classes: classify(n.Elements)}
	profileName := n.Profile
	if _, ok := profiles[profileName]; !ok {
		profileName = ProfileGeneric
	}
	controller := n.Controller.Name
	title := m.get(p.title)
	c := Content{
		Lang:      m.lang,
		Profile:   profileName,
		Title:     title,
		Subject:   b.subject(title),
		Date:      "",
		Greeting:  b.greeting(),
		Intro:     b.expand(p.intro),
		Sections:  make([]Section, 0, len(p.sections)),
		Closing:   m.get("closing"),
		Signature: controller,
	}
	if !n.NoticeDate.IsZero() {
		c.Date = expand(m.get("label.date"), func(string) string { return m.date(n.NoticeDate) })
	}
	for _, id := range p.sections {
		s := Section{ID: id, Heading: m.get(headingPrefix + id)}
		for _, blk := range sectionBlocks[id] {
			if p.enabled.has(blk) {
				b.add(&s, blk)
			}
		}
		if len(s.Paragraphs)+len(s.Bullets)+len(s.Cards) > 0 {
			c.Sections = append(c.Sections, s)
		}
	}
	return c
}

const headingPrefix = "heading."

// Element classes: what an exposed element puts at risk.
const (
	classCredentials uint8 = 1 << iota
	classContact
	classIdentity
	classFinancial
	classSensitive
	classLearning
	classEmail
)

var elementClass = map[string]uint8{
	"name":              0,
	"email":             classContact | classEmail,
	"username":          0,
	"password":          classCredentials,
	"security_qa":       classCredentials,
	"postal_address":    classContact,
	"phone":             classContact,
	"dob":               classIdentity,
	"gov_id":            classIdentity,
	"ssn":               classIdentity,
	"drivers_license":   classIdentity,
	"passport":          classIdentity,
	"tax_id":            classIdentity,
	"financial_account": classFinancial,
	"payment_card":      classFinancial,
	"biometric":         classSensitive,
	"health":            classSensitive,
	"medical":           classSensitive,
	"health_insurance":  classSensitive,
	"ip_address":        0,
	"course_activity":   classLearning,
}

func classify(elements []string) uint8 {
	var c uint8
	for _, e := range elements {
		c |= elementClass[e]
	}
	return c
}

// builder fills sections for one notice.
type builder struct {
	n       *Notice
	m       msgs
	p       *profile
	classes uint8
}

// value returns a placeholder's value.
func (b *builder) value(name string) string {
	n := b.n
	switch name {
	case "controller":
		return n.Controller.Name
	case "name":
		return n.RecipientName
	case "discovered":
		return b.m.date(n.Discovered)
	case "from":
		return b.m.date(n.OccurredFrom)
	case "to":
		return b.m.date(n.OccurredTo)
	case "count":
		return b.m.count(n.Affected)
	case "regulator":
		return n.Regulator
	case "authority":
		return n.ComplaintAuthority
	case "dpo":
		return strings.TrimRight(n.Controller.DPO, ".")
	case "ag":
		if a := b.agency(AgencyState); a != nil {
			return a.Name
		}
	case "months":
		if n.Protection != nil {
			return itoa(n.Protection.Months)
		}
	case "provider":
		if n.Protection != nil {
			return n.Protection.Provider
		}
	case "url":
		if n.Protection != nil {
			return n.Protection.EnrollURL
		}
	case "code":
		if n.Protection != nil {
			return n.Protection.Code
		}
	case "date":
		if n.Protection != nil {
			return b.m.date(n.Protection.EnrollBy)
		}
	case "enroll_phone":
		if n.Protection != nil {
			return OneLine(n.Protection.Phone)
		}
	}
	return ""
}

func (b *builder) expand(key string) string { return expand(b.m.get(key), b.value) }

func (b *builder) subject(title string) string {
	if strings.TrimSpace(b.n.Controller.Name) == "" {
		return HeaderSafe(title)
	}
	return HeaderSafe(expand(b.m.get("subject"), func(name string) string {
		if name == "title" {
			return title
		}
		return b.value(name)
	}))
}

func (b *builder) greeting() string {
	if strings.TrimSpace(b.n.RecipientName) == "" {
		return b.m.get("greeting.anonymous")
	}
	return expand(b.m.get("greeting"), func(string) string { return OneLine(b.n.RecipientName) })
}

func (b *builder) agency(kind string) *Agency {
	for i := range b.n.Agencies {
		if b.n.Agencies[i].Kind == kind {
			return &b.n.Agencies[i]
		}
	}
	return nil
}

func (b *builder) para(s *Section, key string) { s.Paragraphs = append(s.Paragraphs, b.expand(key)) }

// add appends block blk's content to s, if it has any for this notice.
func (b *builder) add(s *Section, blk block) {
	n := b.n
	switch blk {
	case bDescription:
		if paras := paragraphs(n.Description); len(paras) > 0 {
			s.Paragraphs = append(s.Paragraphs, paras...)
			if !n.Discovered.IsZero() {
				b.para(s, "p.discovered_on")
			}
		} else if n.Discovered.IsZero() {
			b.para(s, "p.discovered_generic_nodate")
		} else {
			b.para(s, "p.discovered_generic")
		}
	case bKnows:
		b.para(s, "p.knows")
	case bOccurred:
		from, to := n.OccurredFrom, n.OccurredTo
		switch {
		case from.IsZero():
		case to.IsZero():
			b.para(s, "p.occurred_since")
		case sameDay(from, to):
			b.para(s, "p.occurred_on")
		default:
			b.para(s, "p.occurred_between")
		}
	case bCount:
		if n.Affected > 0 {
			b.para(s, "p.count")
		}
	case bDelay:
		if n.LawEnforcementDelay {
			b.para(s, "p.delayed")
		}
	case bElements:
		if len(n.Elements) == 0 {
			b.para(s, "p.elements_unknown")
			return
		}
		b.para(s, "p.elements")
		for _, e := range n.Elements {
			w, ok := b.m.c["element."+e]
			if !ok {
				w, ok = catalogs[DefaultLang]["element."+e]
			}
			if !ok {
				w = OneLine(e) // an element the catalogue does not know: print its id
			}
			s.Bullets = append(s.Bullets, w)
		}
	case bConsequences:
		b.para(s, "p.consequences")
		for _, c := range consequences {
			if b.classes&c.class != 0 {
				s.Bullets = append(s.Bullets, b.m.get(c.key))
			}
		}
		if len(s.Bullets) == 0 {
			s.Bullets = append(s.Bullets, b.m.get("c.loss_of_control"))
		}
	case bMeasures:
		b.para(s, "p.measures")
	case bProtection:
		pr := n.Protection
		if pr == nil || pr.Months <= 0 {
			return
		}
		if pr.Provider != "" {
			b.para(s, "p.protection_provider")
		} else {
			b.para(s, "p.protection")
		}
		switch {
		case pr.EnrollURL != "" && pr.Code != "":
			b.para(s, "p.enroll_url_code")
		case pr.EnrollURL != "":
			b.para(s, "p.enroll_url")
		case pr.Phone != "" && pr.Code != "":
			b.para(s, "p.enroll_phone_code")
		case pr.Phone != "":
			b.para(s, "p.enroll_phone")
		case pr.Code != "":
			b.para(s, "p.enroll_contact_code")
		default:
			b.para(s, "p.enroll_contact")
		}
		if pr.EnrollURL != "" && pr.Phone != "" {
			b.para(s, "p.enroll_phone_also")
		}
		if !pr.EnrollBy.IsZero() {
			b.para(s, "p.enroll_by")
		}
	case bRegulatorTold:
		if n.Regulator != "" {
			b.para(s, "p.regulator_told")
		} else {
			b.para(s, "p.regulator_told_generic")
		}
	case bPassword:
		if b.classes&classCredentials != 0 {
			b.para(s, "p.change_password")
		}
	case bPhishing:
		if b.classes&classContact != 0 {
			b.para(s, "p.phishing")
		}
	case bPayment:
		if b.classes&classFinancial != 0 {
			b.para(s, "p.payment")
		}
	case bVigilance:
		if b.agency(AgencyCRA) != nil {
			b.para(s, "p.vigilance_us")
		} else {
			b.para(s, "p.vigilance")
		}
	case bFraudAlert:
		if b.agency(AgencyCRA) != nil {
			b.para(s, "p.fraud_alert")
		}
	case bFreeze:
		if b.agency(AgencyCRA) != nil && !b.p.enabled.has(bFreezeRight) {
			b.para(s, "p.security_freeze")
		}
	case bFreezeRight:
		b.para(s, "p.freeze_right")
	case bPoliceReport:
		b.para(s, "p.police_report")
	case bReportTheft:
		if b.agency(AgencyFTC) != nil {
			b.para(s, "p.report_theft")
		}
	case bFCRA:
		b.para(s, "p.fcra")
	case bAgencyInfo:
		if b.agency(AgencyFTC) == nil {
			return
		}
		if b.p.enabled.has(bAGCard) && b.agency(AgencyState) != nil {
			b.para(s, "p.ftc_ag_info")
		} else {
			b.para(s, "p.ftc_info")
		}
	case bCRACards:
		b.cards(s, AgencyCRA)
	case bFTCCard:
		b.cards(s, AgencyFTC)
	case bAGCard:
		b.cards(s, AgencyState)
	case bContact:
		c := n.Controller
		if c.PostalAddress != "" || c.Phone != "" || c.Email != "" || c.Web != "" {
			b.para(s, "p.contact")
		}
	case bDPO:
		if n.Controller.DPO != "" {
			b.para(s, "p.dpo")
		}
	case bComplaintInternal:
		b.para(s, "p.complaint_internal")
	case bComplaint:
		if n.ComplaintAuthority != "" {
			b.para(s, "p.complaint")
		}
	case bContactCard:
		c := n.Controller
		if c.Name != "" {
			s.Cards = append(s.Cards, b.card("controller", c.Name, c.PostalAddress, c.Phone, c.Email, c.Web))
		}
	}
}

// consequences lists the likely-consequence bullets in printing order.
var consequences = []struct {
	class uint8
	key   string
}{
	{classCredentials, "c.account_takeover"},
	{classContact, "c.phishing"},
	{classIdentity, "c.identity_fraud"},
	{classFinancial, "c.financial_fraud"},
	{classSensitive, "c.sensitive"},
	{classLearning, "c.privacy"},
}

func (b *builder) cards(s *Section, kind string) {
	for i := range b.n.Agencies {
		a := &b.n.Agencies[i]
		if a.Kind == kind {
			s.Cards = append(s.Cards, b.card(a.ID, a.Name, a.PostalAddress, a.Phone, "", a.Web))
		}
	}
}

func (b *builder) card(id, name, address, phone, email, web string) Card {
	lines := make([]string, 0, 6)
	lines = append(lines, OneLine(name))
	for address != "" {
		line, rest, _ := strings.Cut(address, "\n")
		if line = OneLine(line); line != "" {
			lines = append(lines, line)
		}
		address = rest
	}
	label := func(key, v string) {
		if v = OneLine(v); v != "" {
			lines = append(lines, expand(b.m.get(key), func(string) string { return v }))
		}
	}
	label("label.phone", phone)
	label("label.email", email)
	label("label.web", web)
	return Card{ID: id, Lines: lines}
}

// paragraphs splits plain text into paragraphs at blank lines, joining the
// lines of each and dropping control characters.
func paragraphs(text string) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if clean(text) {
		return []string{text}
	}
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	var out []string
	for text != "" {
		para, rest, _ := strings.Cut(text, "\n\n")
		if p := OneLine(para); p != "" {
			out = append(out, p)
		}
		text = rest
	}
	return out
}

// OneLine turns control characters (newlines included) and invalid UTF-8
// into spaces, collapses runs of white space and trims the result: what a
// name or address line must be before it is printed on one line.
func OneLine(s string) string {
	if clean(s) && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean reports whether s has no control or line-separator characters and
// is valid UTF-8.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			return cleanRunes(s[i:])
		}
	}
	return true
}

func cleanRunes(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return false
		}
	}
	return true
}

// HeaderSafe returns s fit for a mail header: control characters (CR and
// LF included) and Unicode line separators become spaces, white space is
// collapsed and trimmed, and invalid UTF-8 is dropped. Use it on anything
// that reaches a header: subjects, display names.
func HeaderSafe(s string) string { return OneLine(s) }

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func itoa(n int) string { return strconv.Itoa(n) }
