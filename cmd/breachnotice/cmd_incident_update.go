package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// bindProtectionFlags binds the identity-theft-protection offer's flags,
// shared by incident open and incident update.
func bindProtectionFlags(fs *flag.FlagSet, p *incident.Protection) {
	fs.StringVar(&p.Provider, "protection-provider", "", "who provides the identity theft protection the law owes some residents (incident plan says who)")
	fs.StringVar(&p.URL, "protection-url", "", "the offer's enrolment page, https://...")
	fs.StringVar(&p.Phone, "protection-phone", "", "the offer's enrolment phone number")
	fs.IntVar(&p.Months, "protection-months", 0, "months the offer runs for (0: what each jurisdiction's law owes); never fewer than the plan's jurisdictions owe")
}

// incidentUpdate changes an incident's identity-theft-protection offer:
// what the notices owing one print from then on. An empty value clears a
// field; a flag not given leaves it. Months shorter than a jurisdiction of
// the plan owes are refused, naming it and the source; before a plan
// exists they are checked when incident send starts.
func (a *app) incidentUpdate(ctx context.Context, args []string) error {
	fs := a.flags("incident update")
	var prot incident.Protection
	bindProtectionFlags(fs, &prot)
	cause := fs.String("cause", "", "how the breach came about: "+causeList()+" (re-plan for the law to apply it)")
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident update", pos)
	if err != nil {
		return err
	}
	var u incident.IncidentUpdate
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "protection-provider":
			u.ProtectionProvider = &prot.Provider
		case "protection-url":
			u.ProtectionURL = &prot.URL
		case "protection-phone":
			u.ProtectionPhone = &prot.Phone
		case "protection-months":
			u.ProtectionMonths = &prot.Months
		case "cause":
			c := incident.Cause(*cause)
			u.Cause = &c
		}
	})
	if u.Cause != nil {
		if _, err := incident.ParseCause(string(*u.Cause)); err != nil {
			return valueError("incident update", "--cause", err)
		}
	}
	if u == (incident.IncidentUpdate{}) {
		return usagef("incident update: nothing to change: give --cause, --protection-provider, --protection-url, --protection-phone or --protection-months")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	inc, planned, err := updateIncident(ctx, st, id, u)
	if err != nil {
		return err
	}
	if u.ProtectionMonths != nil && *u.ProtectionMonths > 0 && !planned {
		fmt.Fprintf(a.stderr, "breachnotice: incident %d has no plan yet: --protection-months %d is checked against the law it finds (incident plan warns, incident send refuses if shorter)\n",
			id, *u.ProtectionMonths)
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	fmt.Fprintf(a.stdout, "incident %d updated: cause %s; identity theft protection offer: %s\n", id, inc.Cause, offerText(inc.Protection))
	return nil
}

// updateIncident applies u to incident id, as incident update and PATCH
// /api/incidents/{id} do. Protection months shorter than a jurisdiction of
// the plan owes are refused, naming it, and nothing changes; planned says
// whether there was a plan to check them against (without one, incident
// send checks them).
func updateIncident(ctx context.Context, st *incident.Store, id int64, u incident.IncidentUpdate) (inc *incident.Incident, planned bool, err error) {
	// Who may change it is checked before the plan is read: a refusal
	// naming its jurisdictions would tell another controller's member
	// about the incident.
	if _, err := st.FindIncidentFor(ctx, id, incident.ActChange); err != nil {
		return nil, false, err
	}
	if u.ProtectionMonths != nil && *u.ProtectionMonths > 0 {
		p, err := notify.FindPlan(ctx, st, id)
		switch {
		case errors.Is(err, incident.ErrNotFound):
		case err != nil:
			return nil, false, err
		default:
			planned = true
			if err := notify.CheckProtectionMonths(p, *u.ProtectionMonths); err != nil {
				return nil, true, fmt.Errorf("incident update: %w: nothing changed", err)
			}
		}
	}
	inc, err = st.UpdateIncident(ctx, id, u)
	return inc, planned, err
}

// offerText is the incident's arranged offer in one line: provider, URL,
// phone and months ("the law's months" when not set), or "none".
func offerText(p *incident.Protection) string {
	if p == nil {
		return "none"
	}
	var parts []string
	for _, s := range []string{p.Provider, p.URL, p.Phone} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if p.Months > 0 {
		parts = append(parts, fmt.Sprintf("%d months", p.Months))
	} else {
		parts = append(parts, "the months the law owes")
	}
	return strings.Join(parts, ", ")
}

// causeList names the causes an incident can record.
func causeList() string {
	s := make([]string, len(incident.Causes))
	for i, c := range incident.Causes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// discoveredText is the discovery date, with its time and zone where one
// was recorded.
func discoveredText(inc *incident.Incident) string {
	if inc.DiscoveredAt.IsZero() {
		return inc.Discovered.String() + " (date only: clocks in hours run from 00:00 UTC)"
	}
	return inc.DiscoveredAt.Format("2006-01-02 15:04 -07:00")
}
