package law

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
)

// Protection is a jurisdiction's duty to offer the people it notifies
// identity theft protection (credit monitoring) at no cost, because some
// elements were exposed. It is part of the jurisdiction's Obligation, and
// the notices of its residents print the offer (notify.NoticeFor); the
// provider and how to enrol are the incident's, not the law's.
type Protection struct {
	// Months of protection owed.
	Months int `json:"months"`
	// Elements are the incident's exposed elements that trigger the duty.
	Elements []incident.Element `json:"elements"`
	Citation string             `json:"citation"`
	// Note says what the engine cannot check (who caused the breach,
	// identifiers it does not model).
	Note string `json:"note,omitempty"`
	// Source is where the row's facts come from (protection.tsv source).
	Source string `json:"source,omitempty"`
	// Offer is the offer the incident arranged, as it applies to this
	// jurisdiction: filled in when a plan is shown (notify
	// WithProtectionOffers), never stored with the plan.
	Offer *ProtectionOffer `json:"offer,omitempty"`
}

// ProtectionOffer is the identity theft protection an incident's notices
// offer the residents of one jurisdiction: for how many months, by whom
// and how to enrol. Provider "" means none is set: the notices then tell
// people to contact the controller, which owes the offer either way.
type ProtectionOffer struct {
	Months   int    `json:"months"`
	Provider string `json:"provider,omitempty"`
	URL      string `json:"url,omitempty"`
	Phone    string `json:"phone,omitempty"`
	// Short is set when the incident's configured months are fewer than
	// the law owes here: incident send refuses to start.
	Short bool `json:"short,omitempty"`
}

// ProtectionRuleFor returns the protection.tsv row of a jurisdiction.
func ProtectionRuleFor(jurisdiction string) (ProtectionRule, bool) {
	r, ok := protectionRules[jurisdiction]
	return r, ok
}

// ProtectionRule is one row of protection.tsv: the duty, owed when any of
// its elements is exposed, with the row's source and the date it was last
// checked.
type ProtectionRule struct {
	Code     string             `json:"code"`
	Months   int                `json:"months"`
	Elements []incident.Element `json:"elements"`
	Citation string             `json:"citation"`
	Note     string             `json:"note,omitempty"`
	Source   string             `json:"source"`
	Checked  incident.Date      `json:"checked"`
}

//go:embed protection.tsv
var protectionTSV string

// protectionRules is protection.tsv by jurisdiction: the duties the rules
// table records in other_obligations, as data the engine applies. Which
// elements trigger the offer, and for how long, is data, not code.
var protectionRules = mustProtection(protectionTSV)

func mustProtection(src string) map[string]ProtectionRule {
	m, err := parseProtection(src)
	if err != nil {
		panic(err) // a malformed embedded table is a build defect
	}
	return m
}

// parseProtection parses protection.tsv: code, months, elements (comma
// separated), citation, note, source, checked (YYYY-MM-DD).
func parseProtection(src string) (map[string]ProtectionRule, error) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	want := "code\tmonths\telements\tcitation\tnote\tsource\tchecked"
	if len(lines) == 0 || lines[0] != want {
		return nil, fmt.Errorf("law: protection.tsv line 1: header is not %q", want)
	}
	m := map[string]ProtectionRule{}
	for n, line := range lines[1:] {
		f := strings.Split(line, "\t")
		fail := func(field string, err error) error {
			return fmt.Errorf("law: protection.tsv line %d field %s: %w", n+2, field, err)
		}
		if len(f) != 7 {
			return nil, fail("*", fmt.Errorf("%d fields, want 7", len(f)))
		}
		r := ProtectionRule{Code: f[0], Citation: f[3], Note: f[4], Source: f[5]}
		var err error
		if r.Months, err = strconv.Atoi(f[1]); err != nil || r.Months <= 0 {
			return nil, fail("months", fmt.Errorf("%q is not a number of months", f[1]))
		}
		if r.Elements, err = incident.ParseElements(f[2]); err != nil {
			return nil, fail("elements", err)
		}
		if r.Checked, err = incident.ParseDate(f[6]); err != nil {
			return nil, fail("checked", err)
		}
		if r.Code == "" || r.Citation == "" || r.Source == "" {
			return nil, fail("code, citation, source", fmt.Errorf("required"))
		}
		if _, dup := m[r.Code]; dup {
			return nil, fail("code", fmt.Errorf("duplicate %s", r.Code))
		}
		m[r.Code] = r
	}
	return m, nil
}

// ProtectionRules returns every row of protection.tsv, by code.
func ProtectionRules() []ProtectionRule {
	out := make([]ProtectionRule, 0, len(protectionRules))
	for _, r := range protectionRules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ProtectionRule) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// ProtectionFor returns the identity-theft-protection duty a jurisdiction
// owes its residents for the incident's exposed elements, and false when it
// owes none. The Elements slice is new on every call.
func ProtectionFor(jurisdiction string, inc *incident.Incident) (Protection, bool) {
	r, ok := protectionRules[jurisdiction]
	if !ok {
		return Protection{}, false
	}
	var hit []incident.Element
	for _, e := range r.Elements {
		if inc.Has(e) {
			hit = append(hit, e)
		}
	}
	if len(hit) == 0 {
		return Protection{}, false
	}
	return Protection{Months: r.Months, Elements: hit, Citation: r.Citation, Note: r.Note, Source: r.Source}, true
}

// ProtectionMonths is ProtectionFor without the allocation, for a hot
// path: the months owed, 0 for none.
func ProtectionMonths(jurisdiction string, inc *incident.Incident) int {
	r, ok := protectionRules[jurisdiction]
	if !ok {
		return 0
	}
	for _, e := range r.Elements {
		if inc.Has(e) {
			return r.Months
		}
	}
	return 0
}
