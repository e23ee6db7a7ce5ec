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

// Agency contact details. Source: not in the research file; these are the
// addresses, toll-free numbers and websites US breach notices commonly
// print (the bureaus' security-freeze addresses, the FTC's identity-theft
// site and the attorneys general's consumer-protection offices), from the
// implementer's knowledge and not re-verified this session. Counsel or
// operations should confirm them before a real mailing.
var (
	equifax = templates.Agency{ID: "equifax", Kind: templates.AgencyCRA, Name: "Equifax",
		PostalAddress: "P.O. Box 105788\nAtlanta, GA 30348-5788", Phone: "1-888-298-0045",
		Web: "www.equifax.com/personal/credit-report-services"}
	experian = templates.Agency{ID: "experian", Kind: templates.AgencyCRA, Name: "Experian",
		PostalAddress: "P.O. Box 9554\nAllen, TX 75013", Phone: "1-888-397-3742",
		Web: "www.experian.com/help"}
	transunion = templates.Agency{ID: "transunion", Kind: templates.AgencyCRA, Name: "TransUnion",
		PostalAddress: "P.O. Box 160\nWoodlyn, PA 19094", Phone: "1-888-909-8872",
		Web: "www.transunion.com/credit-help"}
	ftc = templates.Agency{ID: "ftc", Kind: templates.AgencyFTC, Name: "Federal Trade Commission",
		PostalAddress: "600 Pennsylvania Avenue NW\nWashington, DC 20580", Phone: "1-877-438-4338",
		Web: "www.identitytheft.gov"}

	// stateAgencies lists the state offices for the jurisdictions whose
	// content requirements name the attorney general (or, for New York,
	// state agencies) as a contact.
	stateAgencies = map[string][]templates.Agency{
		"US-AZ": {{ID: "ag", Kind: templates.AgencyState, Name: "Arizona Office of the Attorney General",
			PostalAddress: "2005 North Central Avenue\nPhoenix, AZ 85004", Phone: "1-602-542-5025", Web: "www.azag.gov"}},
		"US-DC": {{ID: "ag", Kind: templates.AgencyState, Name: "Office of the Attorney General for the District of Columbia",
			PostalAddress: "400 6th Street NW\nWashington, DC 20001", Phone: "1-202-727-3400", Web: "oag.dc.gov"}},
		"US-IA": {{ID: "ag", Kind: templates.AgencyState, Name: "Iowa Attorney General, Consumer Protection Division",
			PostalAddress: "1305 East Walnut Street\nDes Moines, IA 50319", Phone: "1-515-281-5926", Web: "www.iowaattorneygeneral.gov"}},
		"US-MD": {{ID: "ag", Kind: templates.AgencyState, Name: "Maryland Office of the Attorney General, Identity Theft Unit",
			PostalAddress: "200 St. Paul Place\nBaltimore, MD 21202", Phone: "1-888-743-0023", Web: "www.marylandattorneygeneral.gov"}},
		"US-NC": {{ID: "ag", Kind: templates.AgencyState, Name: "North Carolina Attorney General, Consumer Protection Division",
			PostalAddress: "9001 Mail Service Center\nRaleigh, NC 27699-9001", Phone: "1-877-566-7226", Web: "www.ncdoj.gov"}},
		"US-NY": {
			{ID: "ag", Kind: templates.AgencyState, Name: "New York Office of the Attorney General",
				PostalAddress: "The Capitol\nAlbany, NY 12224-0341", Phone: "1-800-771-7755", Web: "ag.ny.gov"},
			{ID: "ny-dos", Kind: templates.AgencyState, Name: "New York Department of State, Division of Consumer Protection",
				Phone: "1-800-697-1220", Web: "dos.ny.gov/consumer-protection"},
		},
		"US-OR": {{ID: "ag", Kind: templates.AgencyState, Name: "Oregon Department of Justice",
			PostalAddress: "1162 Court Street NE\nSalem, OR 97301-4096", Phone: "1-877-877-9392", Web: "www.doj.state.or.us"}},
		"US-RI": {{ID: "ag", Kind: templates.AgencyState, Name: "Rhode Island Office of the Attorney General",
			PostalAddress: "150 South Main Street\nProvidence, RI 02903", Phone: "1-401-274-4400", Web: "www.riag.ri.gov"}},
	}

	usAgencies = []templates.Agency{equifax, experian, transunion, ftc}

	// agenciesByCode is every US jurisdiction's agency list, built once.
	agenciesByCode = func() map[string][]templates.Agency {
		m := make(map[string][]templates.Agency, len(stateAgencies))
		for code, st := range stateAgencies {
			all := make([]templates.Agency, 0, len(usAgencies)+len(st))
			m[code] = append(append(all, usAgencies...), st...)
		}
		return m
	}()
)

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
// (law.ProtectionFor, the one table), with the provider and enrolment
// details arranged for the incident; nil when none is owed. With no
// provider set the notice tells the person to contact the controller.
func protectionFor(code string, inc *incident.Incident) *templates.Protection {
	months := law.ProtectionMonths(code, inc)
	if months == 0 {
		return nil
	}
	p := &templates.Protection{Months: months}
	if inc.Protection != nil {
		p.Provider, p.EnrollURL, p.Phone = inc.Protection.Provider, inc.Protection.URL, inc.Protection.Phone
	}
	return p
}
