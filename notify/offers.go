package notify

import (
	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// Offer is the identity-theft-protection enrolment code assigned to one
// person (offers import, table offer_codes): the provider that issued it
// (empty: the incident's) and the last day to enrol (YYYY-MM-DD, empty:
// none given).
type Offer struct {
	Code, Provider, Expires string
}

// OfferColumns selects a notice's offer from offer_codes aliased t (joined
// with LEFT JOIN OfferJoin), in the order ScanOffer-style callers read
// Offer's fields; empty strings where the person holds no code.
func OfferColumns(t string) string {
	return "coalesce(" + t + ".code, ''), coalesce(" + t + ".provider, ''), coalesce(" + t + ".expires, '')"
}

// OfferJoin joins offer_codes, aliased t, to a row with incident_id and
// account_id columns in the relation aliased on.
func OfferJoin(t, on string) string {
	return "LEFT JOIN offer_codes " + t + " ON " + t + ".incident_id = " + on + ".incident_id AND " + t + ".account_id = " + on + ".account_id"
}

// WithOffer prints the person's code in a notice that offers protection:
// the code, the provider that issued it (where the import named one) and
// the date enrolment closes. A notice that offers none is left alone: a
// code never appears where the law owes no offer.
func WithOffer(n *templates.Notice, o Offer) {
	if o.Code == "" || n.Protection == nil {
		return
	}
	p := *n.Protection // the notice's own copy
	p.Code = o.Code
	if o.Provider != "" {
		p.Provider = o.Provider
	}
	if d, err := incident.ParseDate(o.Expires); err == nil && o.Expires != "" {
		p.EnrollBy = d.Time
	}
	n.Protection = &p
}
