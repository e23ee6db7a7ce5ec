package notify

import (
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/templates"
)

// NoticeFor builds the props of one person's notice from the incident, the
// controller whose copy was breached, the person and the law's decision for
// them. The content profile is d.ContentProfile; the jurisdiction's rule
// (law.LookupOn, the row in force on the discovery date) supplies the regulator and complaint authority. US residents get the three nationwide
// consumer reporting agencies and the FTC, plus their state's attorney
// general where one is listed; the profile decides which are printed. The
// Agencies slice is shared between notices and must not be modified.
//
// The notice date is left unset: the sender stamps it (n.NoticeDate) with
// its own clock. Of the person, it reads only the name and locale: the
// dispatcher's claim reads no more of the account, and renders once per
// plan variant and language (templates.EmailCache).
func NoticeFor(inc *incident.Incident, c *incident.Controller, a *incident.Affected, d law.Decision) templates.Notice {
	n := templates.Notice{
		Profile:             d.ContentProfile,
		Description:         inc.Description,
		Discovered:          inc.Discovered.Time,
		OccurredFrom:        inc.OccurredFrom.Time,
		OccurredTo:          inc.OccurredTo.Time,
		Elements:            elementNames(inc.Elements),
		Affected:            inc.Affected,
		LawEnforcementDelay: inc.Hold != nil,
		Agencies:            agenciesFor(d.Jurisdiction),
		Protection:          protectionFor(d.Jurisdiction, inc),
	}
	if n.Profile == "" {
		n.Profile = law.ProfileGeneric
	}
	if a != nil {
		n.Locale = a.Locale
		n.RecipientName = a.Name
	}
	if c != nil {
		n.Controller = templates.Party{
			Name:          c.Name,
			PostalAddress: c.Contact.PostalAddress,
			Phone:         c.Contact.Phone,
			Email:         c.Contact.Email,
			Web:           c.Contact.Web,
			DPO:           c.Contact.DPO,
		}
	}
	if r, ok := law.LookupOn(d.Jurisdiction, inc.Discovered); ok {
		n.Regulator, n.ComplaintAuthority = r.Regulator, r.Regulator
		if r.ComplaintAuthority != "" {
			// An EEA row's regulator is "the competent authority (the lead
			// one in a cross-border case)", which the notice does not name:
			// the person may complain to the authority of their own Member
			// State (GDPR Art. 77(1)), which the row names.
			n.Regulator, n.ComplaintAuthority = "", r.ComplaintAuthority
		}
	}
	return n
}

func elementNames(es []incident.Element) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e)
	}
	return out
}

// agenciesFor returns the agencies a resident of a jurisdiction may
// contact: none outside the US.
func agenciesFor(code string) []templates.Agency {
	if !strings.HasPrefix(code, "US-") {
		return nil
	}
	if as, ok := agenciesByCode[code]; ok {
		return as
	}
	return usAgencies
}

// protectionFor returns the identity-protection offer a notice prints: the
// months the jurisdiction's law owes for the incident's elements
// (law.ProtectionFor, the one table), or the incident's configured months
// when longer (OfferedMonths), with the provider and enrolment details
// arranged for the incident; nil when none is owed. With no provider set
// the notice tells the person to contact the controller.
func protectionFor(code string, inc *incident.Incident) *templates.Protection {
	months := OfferedMonths(law.ProtectionMonths(code, inc), inc)
	if months == 0 {
		return nil
	}
	p := &templates.Protection{Months: months}
	if inc.Protection != nil {
		p.Provider, p.EnrollURL, p.Phone = inc.Protection.Provider, inc.Protection.URL, inc.Protection.Phone
	}
	return p
}
