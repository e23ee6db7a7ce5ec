package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
)

// bindProtectionFlags binds the identity-theft-protection offer's flags,
// shared by incident open and incident update.
func bindProtectionFlags(fs *flag.FlagSet, provider, url, phone *string) {
	fs.StringVar(provider, "protection-provider", "", "who provides the identity theft protection the law owes some residents (incident plan says who)")
	fs.StringVar(url, "protection-url", "", "the offer's enrolment page, https://...")
	fs.StringVar(phone, "protection-phone", "", "the offer's enrolment phone number")
}

// incidentUpdate changes an incident's identity-theft-protection offer:
// what the notices owing one print from then on. An empty value clears a
// field; a flag not given leaves it.
func (a *app) incidentUpdate(ctx context.Context, args []string) error {
	fs := a.flags("incident update")
	var provider, url, phone string
	bindProtectionFlags(fs, &provider, &url, &phone)
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
			u.ProtectionProvider = &provider
		case "protection-url":
			u.ProtectionURL = &url
		case "protection-phone":
			u.ProtectionPhone = &phone
		case "cause":
			c := incident.Cause(*cause)
			u.Cause = &c
		}
	})
	if u == (incident.IncidentUpdate{}) {
		return usagef("incident update: nothing to change: give --cause, --protection-provider, --protection-url or --protection-phone")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	inc, err := st.UpdateIncident(ctx, id, u)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	offer := "none"
	if p := inc.Protection; p != nil {
		var parts []string
		for _, s := range []string{p.Provider, p.URL, p.Phone} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		offer = strings.Join(parts, ", ")
	}
	fmt.Fprintf(a.stdout, "incident %d updated: cause %s; identity theft protection offer: %s\n", id, inc.Cause, offer)
	return nil
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
