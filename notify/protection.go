package notify

import (
	"fmt"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
)

// OfferedMonths is how many months of identity theft protection a notice
// offers where the law owes owed months: the incident's configured months
// (incident update --protection-months) when longer, the law's otherwise.
// A notice never offers fewer months than the law owes.
func OfferedMonths(owed int, inc *incident.Incident) int {
	if owed == 0 {
		return 0
	}
	if inc.Protection != nil && inc.Protection.Months > owed {
		return inc.Protection.Months
	}
	return owed
}

// ProtectionShortfall is a jurisdiction of a plan whose law owes more
// months of identity theft protection than an offer runs for.
type ProtectionShortfall struct {
	Jurisdiction string `json:"jurisdiction"`
	Owed         int    `json:"owed_months"`
	Offered      int    `json:"offered_months"`
	Citation     string `json:"citation"`
	Source       string `json:"source"`
}

func (s ProtectionShortfall) String() string {
	return fmt.Sprintf("%s owes %d months (%s; source: %s)", s.Jurisdiction, s.Owed, s.Citation, s.Source)
}

// ProtectionShortfalls lists the jurisdictions of the plan owing identity
// theft protection for longer than months; none when months is 0 (the
// law's months everywhere).
func ProtectionShortfalls(p *Plan, months int) []ProtectionShortfall {
	if months <= 0 {
		return nil
	}
	var out []ProtectionShortfall
	for _, ob := range p.Jurisdictions {
		pr := ob.Protection
		if pr == nil || pr.Months <= months {
			continue
		}
		s := ProtectionShortfall{Jurisdiction: ob.Jurisdiction, Owed: pr.Months, Offered: months, Citation: pr.Citation, Source: pr.Source}
		if s.Source == "" { // a plan stored before sources were kept
			if r, ok := law.ProtectionRuleFor(ob.Jurisdiction); ok {
				s.Source = r.Source
			}
		}
		out = append(out, s)
	}
	return out
}

// CheckProtectionMonths refuses (incident.ErrInvalid) an offer of months
// shorter than any jurisdiction of the plan owes, naming each with its
// citation and source.
func CheckProtectionMonths(p *Plan, months int) error {
	short := ProtectionShortfalls(p, months)
	if len(short) == 0 {
		return nil
	}
	parts := make([]string, len(short))
	for i, s := range short {
		parts[i] = s.String()
	}
	return fmt.Errorf("%w: incident %d: an identity theft protection offer of %d months is shorter than the law owes: %s",
		incident.ErrInvalid, p.Incident, months, strings.Join(parts, "; "))
}

// WithProtectionOffers fills in, on each jurisdiction of the plan owing
// identity theft protection, the offer the incident arranged (months, by
// whom, how to enrol) and the row's source where a stored plan lacks it.
// It changes the plan in memory only, for showing it.
func WithProtectionOffers(p *Plan, inc *incident.Incident) {
	var months int
	var arranged incident.Protection
	if inc.Protection != nil {
		arranged = *inc.Protection
		months = arranged.Months
	}
	for i := range p.Jurisdictions {
		ob := &p.Jurisdictions[i]
		if ob.Protection == nil {
			continue
		}
		pr := *ob.Protection // the plan's own copy
		if pr.Source == "" {
			if r, ok := law.ProtectionRuleFor(ob.Jurisdiction); ok {
				pr.Source = r.Source
			}
		}
		pr.Offer = &law.ProtectionOffer{Months: OfferedMonths(pr.Months, inc), Provider: arranged.Provider, URL: arranged.URL,
			Phone: arranged.Phone, Short: months > 0 && months < pr.Months}
		ob.Protection = &pr
	}
}
