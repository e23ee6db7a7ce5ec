package law

import (
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
)

// Channels a notice can go by.
const (
	ChannelEmail  = "email"
	ChannelLetter = "letter"
)

// Deadline kinds.
const (
	// DeadlineStatutory: the law fixes the number of days.
	DeadlineStatutory = "statutory"
	// DeadlinePolicy: the law says only "without unreasonable (or undue)
	// delay"; the date is the controller's own target.
	DeadlinePolicy = "policy"
)

// JurisdictionUnknown is the Decision.Jurisdiction of a person whose
// account names no country.
const JurisdictionUnknown = "unknown"

// Reason is one rule that shaped a decision: Rule is a stable identifier
// such as "US-TX/trigger/name+ssn" or "DE/art34-3a/encryption", Text says
// what it means for this person.
type Reason struct {
	Rule string `json:"rule"`
	Text string `json:"text"`
}

// Decision is what the law owes one affected person. Its slices are shared
// between decisions and must not be modified.
type Decision struct {
	AccountID    string `json:"account_id"`
	Jurisdiction string `json:"jurisdiction"`
	Notify       bool   `json:"notify"`
	// Channels is empty when notice is not owed or the person is unreachable.
	Channels []string `json:"channels"`
	// Deadline is zero (JSON null) when notice is not owed.
	Deadline       incident.Date `json:"deadline"`
	DeadlineKind   string        `json:"deadline_kind"`
	ContentProfile string        `json:"content_profile"`
	Reasons        []Reason      `json:"reasons"`
	// Review is set when the residence is unknown or unsupported.
	Review      bool `json:"review"`
	Unreachable bool `json:"unreachable"`
}

// Decide is NewPlanner(inc, c).Decide(a). It evaluates the whole table on
// every call: use a Planner for more than one person.
func Decide(inc *incident.Incident, c *incident.Controller, a *incident.Affected) Decision {
	return NewPlanner(inc, c).Decide(a)
}

// Planner holds one incident's decisions for every jurisdiction, computed
// once; Decide then only picks the person's row and channel. A Planner is
// immutable and safe for concurrent use.
type Planner struct {
	byCode map[string]*plan
	plans  []plan
	strict plan // unknown or unsupported residence
	terms  bool // the controller's terms count as e-consent
}

// plan is one jurisdiction's decision for the incident, with the outcome of
// every channel case precomputed.
type plan struct {
	code      string
	notify    bool
	deadline  incident.Date
	kind      string
	profile   string
	review    bool
	route     string
	credOnly  bool // only credential triggers fired and the law allows e-notice for them
	noMailbox bool // never send notice to the compromised email account
	out       [numCases]outcome
}

type outcome struct {
	channels    []string
	reasons     []Reason
	unreachable bool
}

// Channel cases: how one person can be reached.
const (
	caseNotOwed = iota
	caseRetired
	caseEmailConsentAccount
	caseEmailConsentTerms
	caseEmailRoute
	caseEmailCredentials
	caseLetterNoEmail
	caseLetterNotLawful
	caseLetterCompromised
	caseUnreachableNoContact
	caseUnreachableNotLawful
	caseUnreachableCompromised
	caseBoth // review only
	numCases
)

var (
	noChannels     = []string{}
	emailOnly      = []string{ChannelEmail}
	letterOnly     = []string{ChannelLetter}
	emailAndLetter = []string{ChannelEmail, ChannelLetter}
)

// NewPlanner evaluates the incident's exposed elements, encryption and
// discovery date against every rule. A nil controller means policy target
// incident.DefaultPolicyDays and no consent in the terms.
func NewPlanner(inc *incident.Incident, c *incident.Controller) *Planner {
	policyDays := incident.DefaultPolicyDays
	terms := false
	if c != nil {
		if c.PolicyDays > 0 {
			policyDays = c.PolicyDays
		}
		terms = c.TermsEConsent
	}
	els := elementsOf(inc.Elements)
	rules := RulesOn(inc.Discovered)
	p := &Planner{
		plans:  make([]plan, len(rules)),
		byCode: make(map[string]*plan, len(rules)),
		terms:  terms,
	}
	for i := range rules {
		r := &rules[i]
		p.plans[i] = newPlan(r, inc, els, policyDays)
		p.byCode[r.Code] = &p.plans[i]
	}
	p.strict = strictPlan(inc, rules, policyDays)
	return p
}

// Decide returns the decision for one affected person.
func (p *Planner) Decide(a *incident.Affected) Decision {
	var buf [keyLen]byte
	pl := &p.strict
	code := ""
	if key := jurisdictionKey(&buf, a.Country, a.Region); key != nil {
		if found := p.byCode[string(key)]; found != nil {
			pl, code = found, found.code
		}
	}
	if code == "" {
		code = rawResidence(&a.Account)
	}
	o := &pl.out[pl.channelCase(a, p.terms)]
	d := Decision{
		AccountID:      a.ID,
		Jurisdiction:   code,
		Notify:         pl.notify,
		Channels:       o.channels,
		ContentProfile: pl.profile,
		Reasons:        o.reasons,
		Review:         pl.review,
		Unreachable:    o.unreachable,
	}
	if pl.notify {
		d.Deadline, d.DeadlineKind = pl.deadline, pl.kind
	}
	return d
}

// JurisdictionOf returns the rules-table code for an account's residence,
// and false when the residence is unknown or has no row.
func JurisdictionOf(a *incident.Account) (string, bool) {
	var buf [keyLen]byte
	key := jurisdictionKey(&buf, a.Country, a.Region)
	if key == nil {
		return "", false
	}
	if _, ok := table.byCode[string(key)]; !ok {
		return "", false
	}
	return string(key), true
}

const keyLen = 16

// jurisdictionKey writes the table code for a residence into buf without
// allocating: "US" + region gives "US-TX" (a region may carry its "US-"
// prefix), "PR", "GU" and "VI" are US territories, "UK" is GB and "EL"
// (the EU's code for Greece) is GR. It returns nil when no code can be made.
func jurisdictionKey(buf *[keyLen]byte, country, region string) []byte {
	country = strings.TrimSpace(country)
	if len(country) != 2 {
		return nil
	}
	cc := [2]byte{upper(country[0]), upper(country[1])}
	switch string(cc[:]) {
	case "US":
		region = strings.TrimSpace(region)
		if len(region) > 3 && (region[:3] == "US-" || region[:3] == "us-") {
			region = region[3:]
		}
		if region == "" || len(region) > keyLen-3 {
			return nil
		}
		n := copy(buf[:], "US-")
		for i := 0; i < len(region); i++ {
			buf[n] = upper(region[i])
			n++
		}
		return buf[:n]
	case "PR", "GU", "VI":
		n := copy(buf[:], "US-")
		n += copy(buf[n:], cc[:])
		return buf[:n]
	case "UK":
		cc = [2]byte{'G', 'B'}
	case "EL":
		cc = [2]byte{'G', 'R'}
	}
	n := copy(buf[:], cc[:])
	return buf[:n]
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// rawResidence names an unsupported residence for Decision.Jurisdiction.
func rawResidence(a *incident.Account) string {
	country := strings.ToUpper(strings.TrimSpace(a.Country))
	if country == "" {
		return JurisdictionUnknown
	}
	if region := strings.ToUpper(strings.TrimSpace(a.Region)); region != "" && country == "US" {
		return "US-" + strings.TrimPrefix(region, "US-")
	}
	return country
}

// channelCase picks how this person can lawfully be reached.
func (pl *plan) channelCase(a *incident.Affected, terms bool) int {
	if !pl.notify {
		return caseNotOwed
	}
	if a.Status == incident.AccountRetired {
		return caseRetired
	}
	email := a.NoticeEmailUsable && a.NoticeEmail != ""
	postal := a.PostalComplete()
	switch {
	case pl.review && email && postal:
		return caseBoth
	case pl.review && email:
		return caseEmailRoute
	case !email && postal:
		return caseLetterNoEmail
	case !email:
		return caseUnreachableNoContact
	}
	c := pl.emailCase(a, terms)
	switch {
	case c == caseLetterNotLawful && !postal:
		return caseUnreachableNotLawful
	case c == caseLetterCompromised && !postal:
		return caseUnreachableCompromised
	}
	return c
}

// emailCase says whether email is lawful for this person, and on what
// ground, or which letter case applies.
func (pl *plan) emailCase(a *incident.Affected, terms bool) int {
	if pl.noMailbox && strings.EqualFold(strings.TrimSpace(a.NoticeEmail), strings.TrimSpace(a.Email)) {
		return caseLetterCompromised
	}
	if pl.credOnly {
		return caseEmailCredentials
	}
	switch pl.route {
	case routeAny, routeOnlineBusiness, routeRelationship:
		return caseEmailRoute
	case routeESign, routeESignOrPrimary, routePriorChannel:
		if a.EConsent {
			return caseEmailConsentAccount
		}
		if terms {
			return caseEmailConsentTerms
		}
	case routeESignAccountOnly:
		if a.EConsent {
			return caseEmailConsentAccount
		}
	}
	return caseLetterNotLawful
}

// elemSet is a set of data elements, one bit per incident.Elements entry.
type elemSet uint32

func elemBit(e incident.Element) elemSet {
	for i, k := range incident.Elements {
		if k == e {
			return 1 << i
		}
	}
	return 0
}

func elementsOf(es []incident.Element) elemSet {
	var s elemSet
	for _, e := range es {
		s |= elemBit(e)
	}
	return s
}

func (s elemSet) has(e incident.Element) bool { return s&elemBit(e) != 0 }

func (s elemSet) String() string {
	var names []string
	for _, e := range incident.Elements {
		if s.has(e) {
			names = append(names, string(e))
		}
	}
	return strings.Join(names, ", ")
}

// highRisk holds the elements the risk-based regimes treat as high risk on
// their own; name with date of birth is added in riskElements.
var highRisk = elementsOf([]incident.Element{
	incident.ElemPassword, incident.ElemSecurityQA, incident.ElemGovID, incident.ElemSSN,
	incident.ElemDriversLicense, incident.ElemPassport, incident.ElemTaxID, incident.ElemFinancialAccount,
	incident.ElemPaymentCard, incident.ElemHealth, incident.ElemMedical, incident.ElemHealthInsurance,
	incident.ElemBiometric,
})

// newPlan evaluates one rule for the incident.
func newPlan(r *Rule, inc *incident.Incident, els elemSet, policyDays int) plan {
	pl := plan{code: r.Code, profile: r.ContentProfile, route: r.EmailRoute}
	var base []Reason
	if r.Dated() {
		base = append(base, inForce(r, inc.Discovered))
	}
	if r.RiskModel == riskElements {
		var mailbox bool
		var rs []Reason
		rs, pl.credOnly, mailbox = usTriggers(r, els)
		pl.notify = len(rs) > 0
		base = append(base, rs...)
		pl.credOnly = pl.credOnly && r.CredentialsNotice != ""
		pl.noMailbox = mailbox && r.CredentialsNotice == credNoticeNotCompromised
		if !pl.notify {
			base = append(base, Reason{r.Code + "/trigger/none", "exposed elements (" + orNone(els) +
				") are not personal information under " + r.Citation + ", alone or combined"})
		}
	} else {
		var rs []Reason
		pl.notify, rs = riskTriggers(r, inc, els)
		base = append(base, rs...)
	}
	if pl.notify && inc.Encrypted {
		var harbor Reason
		pl.notify, harbor = encryption(r)
		base = append(base, harbor)
	}
	if pl.notify {
		if r.Review != "" {
			base = append(base, Reason{r.Code + "/review", "counsel to review: " + r.Review})
		}
		if r.RiskModel == riskElements && r.RiskOfHarmException {
			base = append(base, Reason{r.Code + "/risk-of-harm/not-applied",
				"the law lets the entity skip notice after a documented finding (" + r.RiskOfHarmStandard +
					"); the engine makes no such finding, so notice is planned"})
		}
		var why Reason
		pl.deadline, pl.kind, why = consumerDeadline(r, inc, policyDays)
		base = append(base, why)
	}
	pl.out = outcomes(r, base, pl.notify)
	return pl
}

func orNone(s elemSet) string {
	if s == 0 {
		return "none"
	}
	return s.String()
}

// usTriggers applies a US row's element lists. credOnly reports that only
// credential triggers fired; mailbox that the credentials are taken to open
// the person's email account.
func usTriggers(r *Rule, els elemSet) (rs []Reason, credOnly, mailbox bool) {
	add := func(id, text string) {
		rs = append(rs, Reason{r.Code + "/trigger/" + id, text + " under " + r.Citation})
	}
	name := ""
	switch {
	case els.has(incident.ElemName):
		name = "name"
	case r.NameEquivalents == "*":
		name = "the elements alone (no name needed where they are enough to assume the person's identity)"
	default:
		for _, eq := range strings.Split(r.NameEquivalents, ",") {
			if eq != "" && els.has(incident.Element(eq)) {
				name = eq + " (standing in for a name)"
				break
			}
		}
	}
	linked := 0
	if name != "" {
		link := func(e incident.Element, applies bool, what string) {
			if applies && els.has(e) {
				add("name+"+string(e), name+" linked with "+what+" is personal information")
				linked++
			}
		}
		link(incident.ElemSSN, true, "a Social Security number")
		link(incident.ElemDriversLicense, r.GovIDTrigger == "yes", "a driver's licence number")
		link(incident.ElemGovID, r.GovIDTrigger == "yes", "a state or government ID number")
		link(incident.ElemTaxID, r.GovIDTrigger == "yes", "a taxpayer identification number (a government-issued number: taken with the government ID numbers, conservatively)")
		link(incident.ElemFinancialAccount, true, "a financial account number (its access code is taken as exposed too, conservatively)")
		link(incident.ElemPaymentCard, true, "a payment card number (its security code is taken as exposed too, conservatively)")
		passport := "a passport number"
		if r.PassportTrigger == "unknown" {
			passport += " (coverage unconfirmed; applied conservatively)"
		}
		link(incident.ElemPassport, r.PassportTrigger != "no", passport)
		link(incident.ElemBiometric, r.BiometricTrigger == "yes", "biometric data")
		link(incident.ElemHealth, r.HealthTrigger == "yes", "health information")
		link(incident.ElemMedical, r.HealthTrigger == "yes", "medical information")
		link(incident.ElemHealthInsurance, r.HealthInsuranceTrigger == "yes", "health insurance information")
		link(incident.ElemDOB, r.NameDOBTrigger == "yes", "a date of birth")
	}
	login := els.has(incident.ElemEmail) || els.has(incident.ElemUsername)
	secret := els.has(incident.ElemPassword) || els.has(incident.ElemSecurityQA)
	mailboxCreds := els.has(incident.ElemEmail) && secret
	creds := "online credentials (username or email address with password or security Q&A; " + r.CredentialsNote + ")"
	mailboxText := "email address with password or security Q&A, taken conservatively as credentials for the person's email account (password reuse); " + r.CredentialsNote
	switch r.CredentialsScope {
	case scopeStandalone:
		if login && secret {
			add("credentials", creds+" are personal information on their own")
		}
	case scopeWithName:
		if name != "" && login && secret {
			add("name+credentials", name+" linked with "+creds+" is personal information")
		}
	case scopeEmailAccount:
		if mailboxCreds {
			add("email-account-credentials", mailboxText)
			mailbox = true
		}
	case scopeEmailAccountWithName:
		if name != "" && mailboxCreds {
			add("name+email-account-credentials", name+" linked with "+mailboxText)
			mailbox = true
		}
	}
	return rs, len(rs) > 0 && linked == 0, mailbox
}

// riskTriggers applies a risk-based regime.
func riskTriggers(r *Rule, inc *incident.Incident, els elemSet) (bool, []Reason) {
	art := "/risk/"
	if r.Regime == "gdpr" || r.Regime == "uk-gdpr" {
		art = "/art34/"
	}
	high := els & highRisk
	if els.has(incident.ElemName) && els.has(incident.ElemDOB) {
		high |= elemBit(incident.ElemName) | elemBit(incident.ElemDOB)
	}
	switch {
	case r.RiskModel == riskNone:
		return false, []Reason{{r.Code + "/trigger/no-individual-duty", "no duty to notify individuals under " + r.Citation +
			" (" + r.RiskOfHarmStandard + "); the regulator duty is assessed separately"}}
	case r.RiskModel == riskAny && els != 0:
		return true, []Reason{{r.Code + "/trigger/any-breach", "no harm threshold for individual notice (" +
			r.RiskOfHarmStandard + "): any exposure (" + els.String() + ") is notifiable under " + r.Citation}}
	case high != 0:
		return true, []Reason{{r.Code + art + "high-risk", "exposed " + high.String() +
			": sensitive elements are treated as high risk to the person (" + r.RiskOfHarmStandard + ") under " + r.Citation}}
	case els != 0 && causeIn(r.CauseNotice, inc.Cause):
		return true, []Reason{{r.Code + "/trigger/wrongful-purpose", causeText(inc.Cause, "a leak with wrongful purpose") +
			": reportable and notifiable whatever the data and the count (" + r.RiskOfHarmStandard + ") under " + r.Citation}}
	case r.Regime == "appi" && r.RegulatorMinCount > 0 && inc.Affected >= int64(r.RegulatorMinCount):
		return true, []Reason{{r.Code + "/trigger/count", "more than 1,000 people affected (" +
			strconv.FormatInt(inc.Affected, 10) + "): a reportable category regardless of the data (" + r.RiskOfHarmStandard + ")"}}
	}
	return false, []Reason{{r.Code + art + "low-risk", "only low-risk elements exposed (" + orNone(els) +
		"): no individual notice under " + r.Citation + "; the regulator duty is assessed separately"}}
}

// encryption applies an encryption safe harbour to a duty that would
// otherwise exist; it can only remove the duty.
func encryption(r *Rule) (bool, Reason) {
	switch r.EncryptionSafeHarbor {
	case "yes":
		if r.Regime == "gdpr" || r.Regime == "uk-gdpr" {
			return false, Reason{r.Code + "/art34-3a/encryption", "Art. 34(3)(a): the data was encrypted and the key was not taken, so it is unintelligible: no communication to data subjects"}
		}
		return false, Reason{r.Code + "/safe-harbor/encryption", "the data was encrypted and the key was not taken: encryption safe harbour under " + r.Citation}
	case "partial":
		return true, Reason{r.Code + "/safe-harbor/partial", "encryption only weighs in the risk assessment here; not relied on"}
	}
	return true, Reason{r.Code + "/safe-harbor/none", "no encryption safe harbour under " + r.Citation + "; encryption is not relied on"}
}

// consumerDeadline is discovery plus the statutory days (or hours) where
// the law fixes them, otherwise discovery plus the policy target.
func consumerDeadline(r *Rule, inc *incident.Incident, policyDays int) (incident.Date, string, Reason) {
	discovered := inc.Discovered
	if r.DeadlineHours > 0 {
		at, from := dueAt(inc, r.DeadlineHours)
		return dateOf(at), DeadlineStatutory, Reason{r.Code + "/deadline/statutory", r.DeadlineText + ": " + strconv.Itoa(r.DeadlineHours) +
			" hours from discovery (" + from + "), due " + FormatInstant(at)}
	}
	if r.DeadlineDays > 0 {
		unit := " days"
		if r.DeadlineBusinessDays {
			unit = " business days"
		}
		return addDays(discovered, r.DeadlineDays, r.DeadlineBusinessDays), DeadlineStatutory,
			Reason{r.Code + "/deadline/statutory", r.DeadlineText + ": " + strconv.Itoa(r.DeadlineDays) + unit +
				" counted from discovery (the law's clock: " + r.DeadlineClock + ")"}
	}
	return discovered.AddDays(policyDays), DeadlinePolicy,
		Reason{r.Code + "/deadline/policy", "the law fixes no days (" + r.DeadlineText + "): controller policy target of " +
			strconv.Itoa(policyDays) + " days from discovery"}
}

// outcomes precomputes every channel case's channels and reasons.
func outcomes(r *Rule, base []Reason, notify bool) [numCases]outcome {
	var out [numCases]outcome
	out[caseNotOwed] = outcome{channels: noChannels, reasons: clip(base)}
	if !notify {
		for i := range out {
			out[i] = out[caseNotOwed]
		}
		return out
	}
	id := func(s string) string { return r.Code + "/channel/" + s }
	rule := r.NoticeEmailRule
	if rule == "" {
		rule = "no condition on email stated"
	}
	substitute := "substitute notice covers it"
	if r.SubstituteConsistsOf != "" {
		substitute += " (" + r.SubstituteConsistsOf + ")"
	}
	routeText := "email notice is allowed (" + rule + ")"
	switch r.EmailRoute {
	case routeOnlineBusiness:
		routeText = "email notice is allowed because the controller does business primarily online, as an online learning platform does (" + rule + ")"
	case routeRelationship:
		routeText = "email notice is allowed: the learner account is a prior business relationship and the address is valid (" + rule + ")"
	}
	notLawful := "email notice needs e-consent here (" + rule + ") and the person has given none"
	switch r.EmailRoute {
	case routePrimaryOnly:
		notLawful = "email notice is allowed only where email is the primary method of communication with the person (" + rule + "), which the engine does not assume"
	case routeESignAccountOnly:
		notLawful = "email notice needs the person's own consent (" + rule + "); consent in the controller's terms does not count"
	}
	compromised := "the notice address is the compromised email account and the law forbids sending the notice there (" + r.CredentialsSpecialRule + ")"
	set := func(c int, ch []string, unreachable bool, ruleID, text string) {
		out[c] = outcome{channels: ch, unreachable: unreachable, reasons: with(base, Reason{id(ruleID), text})}
	}
	set(caseRetired, noChannels, true, "retired", "account retired: no reachable contact data; recorded as unreachable and "+substitute)
	set(caseEmailConsentAccount, emailOnly, false, "email-consent-account", "email: the person consented to electronic notice on the account ("+rule+")")
	set(caseEmailConsentTerms, emailOnly, false, "email-consent-terms", "email: the controller's terms of service record consent to electronic notice ("+rule+")")
	set(caseEmailRoute, emailOnly, false, "email", routeText)
	set(caseEmailCredentials, emailOnly, false, "email-credentials-only", "email: only credentials trigger notice and the law allows electronic notice for that ("+r.CredentialsSpecialRule+")")
	set(caseLetterNoEmail, letterOnly, false, "letter-no-email", "no usable email address: written notice by letter")
	set(caseLetterNotLawful, letterOnly, false, "letter-email-not-lawful", notLawful+": written notice by letter")
	set(caseLetterCompromised, letterOnly, false, "letter-compromised-mailbox", compromised+": written notice by letter")
	set(caseUnreachableNoContact, noChannels, true, "unreachable-no-contact", "no usable email and no complete postal address: unreachable; "+substitute)
	set(caseUnreachableNotLawful, noChannels, true, "unreachable-email-not-lawful", notLawful+", and there is no complete postal address: unreachable for direct notice; "+substitute)
	set(caseUnreachableCompromised, noChannels, true, "unreachable-compromised-mailbox", compromised+", and there is no complete postal address: unreachable; "+substitute)
	out[caseBoth] = out[caseEmailRoute] // only reviews use caseBoth
	return out
}

// with returns base plus r in a new, capacity-clipped slice.
func with(base []Reason, r Reason) []Reason {
	out := make([]Reason, len(base), len(base)+1)
	copy(out, base)
	return append(out, r)
}

// clip caps a shared slice so an append by a caller cannot write into it.
func clip(rs []Reason) []Reason { return rs[:len(rs):len(rs)] }

// strictPlan is the plan for an unknown or unsupported residence: notice
// owed, the shortest deadline of any rule, every reachable channel.
func strictPlan(inc *incident.Incident, rules []Rule, policyDays int) plan {
	pl := plan{code: JurisdictionUnknown, notify: true, review: true, profile: ProfileGeneric, route: routeAny}
	pl.deadline, pl.kind = inc.Discovered.AddDays(policyDays), DeadlinePolicy
	from := "the controller's policy target"
	for i := range rules {
		r := &rules[i]
		if d, kind, _ := consumerDeadline(r, inc, policyDays); d.Before(pl.deadline.Time) {
			pl.deadline, pl.kind, from = d, kind, r.Code+" ("+r.DeadlineText+")"
		}
	}
	base := []Reason{{"REVIEW/residence", "residence unknown or not in the rules table: flagged for review and planned under the strictest rule: notice owed, deadline " +
		pl.deadline.String() + " from " + from + ", every reachable channel, generic content"}}
	reason := func(id, text string) []Reason { return with(base, Reason{"REVIEW/channel/" + id, text}) }
	pl.out[caseNotOwed] = outcome{channels: noChannels, reasons: clip(base)}
	pl.out[caseRetired] = outcome{channels: noChannels, unreachable: true, reasons: reason("retired", "account retired: no reachable contact data; recorded as unreachable")}
	pl.out[caseBoth] = outcome{channels: emailAndLetter, reasons: reason("email+letter", "email and letter both, since which form of notice is lawful for this residence is unknown")}
	pl.out[caseEmailRoute] = outcome{channels: emailOnly, reasons: reason("email", "email only: no complete postal address")}
	pl.out[caseLetterNoEmail] = outcome{channels: letterOnly, reasons: reason("letter", "letter only: no usable email address")}
	pl.out[caseUnreachableNoContact] = outcome{channels: noChannels, unreachable: true, reasons: reason("unreachable", "no usable email and no complete postal address: unreachable")}
	return pl
}
