package law

import (
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// LetterCostCents is the estimated cost of printing and mailing one letter,
// used for the substitute-notice cost test. The statutes test the actual
// cost of providing notice, which the engine cannot know: the estimate only
// flags when the cost route is worth a real quote.
const LetterCostCents = 100

// Tally counts one jurisdiction's decisions.
type Tally struct {
	People      int `json:"people"`      // affected residents
	Owed        int `json:"owed"`        // owed individual notice
	Email       int `json:"email"`       // of those, reached by email
	Letter      int `json:"letter"`      // of those, reached by letter
	Unreachable int `json:"unreachable"` // of those, with no lawful channel
}

// Add counts one decision.
func (t *Tally) Add(d Decision) {
	t.People++
	if !d.Notify {
		return
	}
	t.Owed++
	if d.Unreachable {
		t.Unreachable++
	}
	for _, ch := range d.Channels {
		switch ch {
		case ChannelEmail:
			t.Email++
		case ChannelLetter:
			t.Letter++
		}
	}
}

// Obligation is what the law owes for one jurisdiction as a whole.
type Obligation struct {
	Jurisdiction string `json:"jurisdiction"`
	Name         string `json:"name"`
	Citation     string `json:"citation"`
	Confidence   string `json:"confidence"`
	Review       bool   `json:"review"`
	// ReviewWhy says why counsel must look here first: a low-confidence
	// row, a row marked for review, an unknown residence.
	ReviewWhy []string `json:"review_why,omitempty"`
	// InForce is the period of the row applied ("from 2027-05-13"), for
	// a jurisdiction whose rows are dated.
	InForce string `json:"in_force,omitempty"`
	Tally   Tally  `json:"tally"`
	// Deadline for the individual notices; zero when none is owed.
	Deadline     incident.Date `json:"deadline"`
	DeadlineKind string        `json:"deadline_kind"`
	// DeadlineAt is the due time, with its zone, of a deadline the law
	// counts in hours (DeadlineHours); nil for one counted in days.
	DeadlineAt     *time.Time       `json:"deadline_at,omitempty"`
	DeadlineHours  int              `json:"deadline_hours,omitempty"`
	ContentProfile string           `json:"content_profile"`
	Regulator      RegulatorNotice  `json:"regulator"`
	CRA            CRANotice        `json:"cra"`
	Substitute     SubstituteNotice `json:"substitute"`
	// Protection is the identity-theft-protection offer the residents
	// owed notice must get; nil when none is owed.
	Protection *Protection `json:"protection,omitempty"`
	Reasons    []Reason    `json:"reasons"`
}

// RegulatorNotice is the notice owed to a regulator or supervisory authority.
type RegulatorNotice struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	// Threshold is the minimum count (count >= threshold); 0 = no duty.
	Threshold int `json:"threshold"`
	// CountBasis is owed, people or people_or_owed: which count is tested.
	CountBasis string        `json:"count_basis"`
	Due        incident.Date `json:"due"`
	// DueAt is the due time, with its zone, of a report the law counts in
	// hours (DueHours); nil for one counted in days.
	DueAt      *time.Time `json:"due_at,omitempty"`
	DueHours   int        `json:"due_hours,omitempty"`
	DueText    string     `json:"due_text"`
	Submission string     `json:"submission"`
	// First is an earlier first report the law requires before this one
	// (JP's preliminary report, India's CERT-In report); nil for none.
	First *Report `json:"first,omitempty"`
}

// Report is one report to a regulator and when it is due.
type Report struct {
	Due   incident.Date `json:"due"`
	DueAt *time.Time    `json:"due_at,omitempty"`
	Hours int           `json:"hours,omitempty"`
	Text  string        `json:"text"`
}

// EarliestDue is the regulator's earliest due date: the first report's
// where there is one.
func (n RegulatorNotice) EarliestDue() incident.Date {
	if n.First != nil && !n.First.Due.IsZero() && (n.Due.IsZero() || n.First.Due.Before(n.Due.Time)) {
		return n.First.Due
	}
	return n.Due
}

// CRANotice is the notice owed to the nationwide consumer reporting agencies.
type CRANotice struct {
	Required  bool          `json:"required"`
	Threshold int           `json:"threshold"`
	Due       incident.Date `json:"due"`
	Text      string        `json:"text"`
}

// SubstituteNotice says whether substitute (public) notice may replace
// individual notice, and what it involves.
type SubstituteNotice struct {
	Eligible         bool     `json:"eligible"`
	Grounds          []string `json:"grounds"`
	CostThresholdUSD int      `json:"cost_threshold_usd"`
	CountThreshold   int      `json:"count_threshold"`
	EstimatedCostUSD float64  `json:"estimated_cost_usd"`
	CostNote         string   `json:"cost_note"`
	ConsistsOf       string   `json:"consists_of"`
	// MinPostingDays is how long a website posting must stay up; 0 = the
	// law sets no minimum.
	MinPostingDays int `json:"min_posting_days"`
}

// Summarize states one jurisdiction's obligations from its tally. An
// unknown jurisdiction gets a review obligation.
func Summarize(inc *incident.Incident, c *incident.Controller, jurisdiction string, t Tally) Obligation {
	policyDays := incident.DefaultPolicyDays
	if c != nil && c.PolicyDays > 0 {
		policyDays = c.PolicyDays
	}
	r, ok := LookupOn(jurisdiction, inc.Discovered)
	if !ok {
		return unknownObligation(jurisdiction, inc.Discovered, t)
	}
	deadline, kind, _ := consumerDeadline(&r, inc, policyDays)
	ob := Obligation{
		Jurisdiction:   r.Code,
		Name:           r.Name,
		Citation:       r.Citation,
		Confidence:     r.Confidence,
		Tally:          t,
		ContentProfile: r.ContentProfile,
		Reasons:        []Reason{},
	}
	if t.Owed > 0 {
		ob.Deadline, ob.DeadlineKind = deadline, kind
		if r.DeadlineHours > 0 {
			at, _ := dueAt(inc, r.DeadlineHours)
			ob.DeadlineAt, ob.DeadlineHours = &at, r.DeadlineHours
		}
	}
	if r.Confidence == ConfidenceLow {
		ob.Review = true
		why := "the research marks this row low confidence (" + r.Notes + "): counsel must confirm it"
		ob.ReviewWhy = append(ob.ReviewWhy, why)
		ob.Reasons = append(ob.Reasons, Reason{r.Code + "/confidence/low", why})
	}
	if r.Review != "" {
		ob.Review = true
		ob.ReviewWhy = append(ob.ReviewWhy, r.Review)
		ob.Reasons = append(ob.Reasons, Reason{r.Code + "/review", "counsel to review: " + r.Review})
	}
	if r.Dated() {
		ob.InForce = r.Period()
		ob.Reasons = append(ob.Reasons, inForce(&r, inc.Discovered))
	}
	var why Reason
	ob.Regulator, why = regulatorNotice(&r, inc, t, deadline, policyDays)
	ob.Reasons = append(ob.Reasons, why)
	ob.CRA, why = craNotice(&r, t, deadline)
	ob.Reasons = append(ob.Reasons, why)
	ob.Substitute, why = substituteNotice(&r, t)
	ob.Reasons = append(ob.Reasons, why)
	if p, ok := ProtectionFor(r.Code, inc); ok && t.Owed > 0 {
		ob.Protection = &p
		ob.Reasons = append(ob.Reasons, Reason{r.Code + "/protection/owed", "identity theft protection owed: " +
			strconv.Itoa(p.Months) + " months at no cost, because " + joinElements(p.Elements) + " exposed (" + p.Citation + ")"})
	}
	return ob
}

func regulatorNotice(r *Rule, inc *incident.Incident, t Tally, deadline incident.Date, policyDays int) (RegulatorNotice, Reason) {
	n := RegulatorNotice{
		Name:       r.Regulator,
		Threshold:  r.RegulatorMinCount,
		CountBasis: r.RegulatorCountBasis,
		DueText:    r.RegulatorDeadlineText,
		Submission: r.RegulatorSubmission,
	}
	id := r.Code + "/regulator/"
	if r.RegulatorClock == "" {
		n.CountBasis = ""
		text := "no regulator notice for a private entity in the table"
		if r.Regulator != "" {
			text = "regulator notice only in a case the engine does not plan (" + r.Regulator + ": " + r.RegulatorDeadlineText + ")"
		}
		return n, Reason{id + "none", text}
	}
	days := r.RegulatorDeadlineDays
	var clock []string
	if r.RegulatorWrongfulDays > 0 && inc.Cause != incident.CauseUnknown && causeIn(r.RegulatorCauses, inc.Cause) {
		days = r.RegulatorWrongfulDays
		clock = append(clock, "cause "+string(inc.Cause)+": "+strconv.Itoa(days)+" days for a wrongful-purpose case")
	} else if r.RegulatorWrongfulDays > 0 {
		clock = append(clock, strconv.Itoa(days)+" days ("+strconv.Itoa(r.RegulatorWrongfulDays)+" only for a known wrongful-purpose cause)")
	}
	switch r.RegulatorClock {
	case clockDiscovery:
		if r.RegulatorDeadlineHours > 0 {
			at, from := dueAt(inc, r.RegulatorDeadlineHours)
			n.Due, n.DueAt, n.DueHours = dateOf(at), &at, r.RegulatorDeadlineHours
			clock = append(clock, hoursText(r.RegulatorDeadlineHours)+" from discovery ("+from+"), due "+FormatInstant(at))
		} else {
			n.Due = addDays(inc.Discovered, days, r.RegulatorBusinessDays)
		}
	case clockAfterConsumer:
		n.Due = addDays(deadline, days, r.RegulatorBusinessDays)
	case clockWithConsumer:
		n.Due = deadline
	case clockDiscoveryOrConsumer:
		n.Due = minDate(addDays(inc.Discovered, days, r.RegulatorBusinessDays), deadline)
	case clockPolicy:
		n.Due = inc.Discovered.AddDays(policyDays)
	}
	if r.RegulatorFirstHours > 0 || r.RegulatorFirstDays > 0 {
		f := &Report{Text: r.RegulatorFirstText}
		if r.RegulatorFirstHours > 0 {
			at, from := dueAt(inc, r.RegulatorFirstHours)
			f.Due, f.DueAt, f.Hours = dateOf(at), &at, r.RegulatorFirstHours
			clock = append(clock, "first report "+hoursText(r.RegulatorFirstHours)+" from discovery ("+from+"), due "+FormatInstant(at))
		} else {
			f.Due = addDays(inc.Discovered, r.RegulatorFirstDays, false)
			clock = append(clock, "first report due "+f.Due.String()+" ("+strconv.Itoa(r.RegulatorFirstDays)+" days from discovery)")
		}
		n.First = f
	}
	when := ""
	if len(clock) > 0 {
		when = "; " + strings.Join(clock, "; ")
	}
	if r.RegulatorEncryptionExempt && inc.Encrypted {
		if r.Regime == "gdpr" || r.Regime == "uk-gdpr" {
			return n, Reason{id + "art33-unlikely-risk", "Art. 33(1): the data was encrypted and the key was not taken, so the breach is unlikely to result in a risk: no report to " +
				r.Regulator + "; record the breach (Art. 33(5))"}
		}
		return n, Reason{id + "encryption", "the data was encrypted and the key was not taken: excluded from every reportable category under " +
			r.Citation + ", whatever the count: no report to " + r.Regulator}
	}
	threshold := strconv.Itoa(r.RegulatorMinCount)
	var why Reason
	switch r.RegulatorCountBasis {
	case basisOwed:
		n.Required = t.Owed >= r.RegulatorMinCount
		why = Reason{id + "threshold", verdict(n.Required) + ": " + strconv.Itoa(t.Owed) + " residents owed notice, threshold " + threshold + " (count >= threshold)"}
	case basisPeople:
		n.Required = t.People >= r.RegulatorMinCount
		why = Reason{id + "threshold", verdict(n.Required) + ": " + strconv.Itoa(t.People) + " residents affected, threshold " + threshold + " (" + r.RiskOfHarmStandard + ")"}
	default:
		n.Required = t.People >= r.RegulatorMinCount || t.Owed > 0
		why = Reason{id + "threshold", verdict(n.Required) + ": " + strconv.Itoa(t.People) + " residents affected (threshold " + threshold +
			"), " + strconv.Itoa(t.Owed) + " at risk of harm, which is reportable at any count"}
	}
	if !n.Required && t.People > 0 {
		if hit := exposedOf(r.RegulatorElements, inc); len(hit) > 0 {
			n.Required = true
			why = Reason{id + "elements", "regulator notice required at any count: " + joinElements(hit) + " exposed (" + r.RegulatorDeadlineText + ")"}
		} else if causeIn(r.RegulatorCauses, inc.Cause) {
			n.Required = true
			why = Reason{id + "cause", "regulator notice required at any count: " + causeText(inc.Cause, "unauthorised access with wrongful purpose") +
				" (" + r.RegulatorDeadlineText + ")"}
		}
	}
	why.Text += when
	return n, why
}

// exposedOf returns the elements of es the incident exposed.
func exposedOf(es []incident.Element, inc *incident.Incident) []incident.Element {
	var hit []incident.Element
	for _, e := range es {
		if inc.Has(e) {
			hit = append(hit, e)
		}
	}
	return hit
}

func joinElements(es []incident.Element) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

func verdict(required bool) string {
	if required {
		return "regulator notice required"
	}
	return "regulator notice not required"
}

func craNotice(r *Rule, t Tally, deadline incident.Date) (CRANotice, Reason) {
	n := CRANotice{Threshold: r.CRAMinCount}
	id := r.Code + "/cra/"
	if r.CRAMinCount == 0 {
		return n, Reason{id + "none", "no consumer-reporting-agency notice duty in the table"}
	}
	n.Required = t.Owed >= r.CRAMinCount
	n.Text = "tell the nationwide consumer reporting agencies the timing, distribution and content of the notices; the table sets no separate date, so it is due with the individual notices"
	if strings.Contains(r.OtherObligations, "CRA") {
		n.Text += " (" + r.OtherObligations + ")"
	}
	if n.Required {
		n.Due = deadline
		return n, Reason{id + "threshold", "CRA notice required: " + strconv.Itoa(t.Owed) + " residents owed notice, threshold " + strconv.Itoa(r.CRAMinCount)}
	}
	return n, Reason{id + "threshold", "CRA notice not required: " + strconv.Itoa(t.Owed) + " residents owed notice, threshold " + strconv.Itoa(r.CRAMinCount)}
}

func substituteNotice(r *Rule, t Tally) (SubstituteNotice, Reason) {
	n := SubstituteNotice{
		Grounds:          []string{},
		CostThresholdUSD: r.SubstituteCostUSD,
		CountThreshold:   r.SubstituteCount,
		EstimatedCostUSD: float64(t.Letter*LetterCostCents) / 100,
		CostNote: "estimated as " + strconv.Itoa(t.Letter) + " letters at " + strconv.FormatFloat(LetterCostCents/100.0, 'f', 2, 64) +
			" USD each; the law tests the actual cost of providing notice, which the engine cannot compute",
		ConsistsOf:     r.SubstituteConsistsOf,
		MinPostingDays: r.SubstitutePostingDays,
	}
	id := r.Code + "/substitute/"
	if t.Owed == 0 {
		return n, Reason{id + "not-needed", "no individual notice owed, so no substitute notice"}
	}
	if r.SubstituteCount > 0 && t.Owed > r.SubstituteCount {
		n.Grounds = append(n.Grounds, "more than "+strconv.Itoa(r.SubstituteCount)+" people to notify ("+strconv.Itoa(t.Owed)+")")
	}
	if r.SubstituteCostUSD > 0 && n.EstimatedCostUSD > float64(r.SubstituteCostUSD) {
		n.Grounds = append(n.Grounds, "estimated cost above "+strconv.Itoa(r.SubstituteCostUSD)+" USD")
	}
	if t.Unreachable > 0 {
		g := strconv.Itoa(t.Unreachable) + " people lack contact details for a lawful direct notice"
		if r.Regime == "gdpr" || r.Regime == "uk-gdpr" {
			g = "Art. 34(3)(c): direct communication to " + strconv.Itoa(t.Unreachable) + " unreachable people would need disproportionate effort: public communication instead"
		}
		n.Grounds = append(n.Grounds, g)
	}
	switch {
	case len(n.Grounds) == 0:
		return n, Reason{id + "not-eligible", "direct notice to every person owed it; no substitute-notice ground"}
	case r.SubstituteConsistsOf == "":
		return n, Reason{id + "no-route", "the table records no substitute-notice route here although " + strings.Join(n.Grounds, "; ") + ": counsel must decide"}
	}
	n.Eligible = true
	text := "substitute notice allowed: " + strings.Join(n.Grounds, "; ") + "; it consists of " + r.SubstituteConsistsOf
	if r.SubstitutePostingDays > 0 {
		text += "; website posting for at least " + strconv.Itoa(r.SubstitutePostingDays) + " days"
	}
	return n, Reason{id + "eligible", text}
}

// unknownObligation covers people whose residence has no rule: they are
// notified under the strictest rule, and counsel decides the rest.
func unknownObligation(jurisdiction string, discovered incident.Date, t Tally) Obligation {
	why := "residence " + jurisdiction + " is unknown or has no row in the rules table in force on " + discovered.String() +
		": individual notice is planned under the strictest rule; regulator, CRA and substitute notice need counsel"
	ob := Obligation{
		Jurisdiction:   jurisdiction,
		Name:           "unknown or unsupported residence",
		Review:         true,
		ReviewWhy:      []string{why},
		Tally:          t,
		ContentProfile: ProfileGeneric,
		Regulator:      RegulatorNotice{DueText: "no rule in the table: counsel must decide"},
		CRA:            CRANotice{Text: "no rule in the table: counsel must decide"},
		Substitute:     SubstituteNotice{Grounds: []string{}, CostNote: "no rule in the table"},
		Reasons:        []Reason{{"REVIEW/residence", why}},
	}
	if t.Unreachable > 0 {
		ob.Substitute.Eligible = true
		ob.Substitute.Grounds = append(ob.Substitute.Grounds, strconv.Itoa(t.Unreachable)+" people lack contact details")
		ob.Substitute.ConsistsOf = "public notice: website posting"
		ob.Substitute.MinPostingDays = longestPosting()
	}
	return ob
}

func longestPosting() int {
	days := 0
	for _, r := range table.rules {
		days = max(days, r.SubstitutePostingDays)
	}
	return days
}
