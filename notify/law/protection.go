package law

import "github.com/breachnotice/breachnotice/incident"

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
}

// protectionRule is one row of the protection table: the duty, owed when
// any of its elements is exposed.
type protectionRule struct {
	months   int
	elements []incident.Element
	citation string
	note     string
}

// protectionRules are the duties the rules table records in
// other_obligations, as data the engine can apply. Source: rules.tsv's
// other_obligations column and the implementer's reading of the statutes
// it cites; the research marks none of them low confidence.
var protectionRules = map[string]protectionRule{
	"US-CA": {12, []incident.Element{incident.ElemSSN, incident.ElemDriversLicense, incident.ElemGovID},
		"Cal. Civ. Code 1798.82(d)(2)(G)",
		"owed only where the person or business providing notice was the source of the breach: counsel must confirm"},
	"US-CT": {24, []incident.Element{incident.ElemSSN}, "Conn. Gen. Stat. 36a-701b(b)(2)(B)", "ITIN not modelled"},
	"US-DC": {18, []incident.Element{incident.ElemSSN}, "D.C. Code 28-3852(a-1)", "TIN not modelled"},
	"US-DE": {12, []incident.Element{incident.ElemSSN}, "Del. Code tit. 6, 12B-102(e)", ""},
	"US-MA": {18, []incident.Element{incident.ElemSSN}, "M.G.L. c.93H §3A", ""},
	"US-PA": {12, []incident.Element{incident.ElemSSN, incident.ElemFinancialAccount, incident.ElemDriversLicense, incident.ElemGovID},
		"73 Pa. Stat. 2301-2330 (Act 33 of 2024)", "with one free credit report"},
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
	for _, e := range r.elements {
		if inc.Has(e) {
			hit = append(hit, e)
		}
	}
	if len(hit) == 0 {
		return Protection{}, false
	}
	return Protection{Months: r.months, Elements: hit, Citation: r.citation, Note: r.note}, true
}

// ProtectionMonths is ProtectionFor without the allocation, for a hot
// path: the months owed, 0 for none.
func ProtectionMonths(jurisdiction string, inc *incident.Incident) int {
	r, ok := protectionRules[jurisdiction]
	if !ok {
		return 0
	}
	for _, e := range r.elements {
		if inc.Has(e) {
			return r.months
		}
	}
	return 0
}
