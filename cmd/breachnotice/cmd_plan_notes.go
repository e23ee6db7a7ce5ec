package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/law"
)

// protectionCell is the plan table's PROTECTION column: the months of
// identity theft protection the jurisdiction owes, or "-".
func protectionCell(ob law.Obligation) string {
	if ob.Protection == nil {
		return "-"
	}
	return fmt.Sprintf("%d mo", ob.Protection.Months)
}

// owingProtection lists the jurisdictions of the plan that owe identity
// theft protection.
func owingProtection(p *notify.Plan) []law.Obligation {
	var out []law.Obligation
	for _, ob := range p.Jurisdictions {
		if ob.Protection != nil {
			out = append(out, ob)
		}
	}
	return out
}

// printPlanNotes prints, after the plan table, one line per jurisdiction
// owing identity theft protection (the months the law owes, and the offer
// arranged: months, by whom), one on the substitute notice's website
// posting (the banner: since, required until, by which jurisdiction) and
// one on the people whose language has no notice catalogue; it warns on
// stderr when protection is owed and no provider is set, or the offer's
// months are shorter than a jurisdiction owes.
func (a *app) printPlanNotes(ctx context.Context, st *incident.Store, p *notify.Plan) error {
	inc, err := st.FindIncidentByID(ctx, p.Incident)
	if err != nil {
		return err
	}
	for _, ob := range owingProtection(p) {
		pr := ob.Protection
		note := ""
		if pr.Note != "" {
			note = "; " + pr.Note
		}
		fmt.Fprintf(a.stdout, "protection: %s owes %d months of identity theft protection at no cost to %d people (%s exposed; %s%s); offered: %s\n",
			ob.Jurisdiction, pr.Months, ob.Tally.Owed, incident.JoinElements(pr.Elements), pr.Citation, note, offeredText(pr.Months, inc))
	}
	a.warnShortProtection(p, inc)
	printLawNotes(a.stdout, p, a.now())
	if err := a.warnNoProvider(ctx, st, p); err != nil {
		return err
	}
	posting, err := banner.PostingOf(ctx, st.DB(), p)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "website posting: "+posting.String())
	gaps, err := notify.LanguageGaps(ctx, st, p.Incident)
	if err != nil {
		return err
	}
	if text := notify.LanguageGapText(gaps); text != "" {
		fmt.Fprintln(a.stdout, text)
	}
	drafts, err := notify.DraftLanguages(ctx, st, p.Incident)
	if err != nil {
		return err
	}
	if text := notify.DraftLanguageText(p.Incident, drafts); text != "" {
		fmt.Fprintln(a.stdout, text)
	}
	return nil
}

// offeredText says what the notices of a jurisdiction owing owed months
// offer: months and by whom.
func offeredText(owed int, inc *incident.Incident) string {
	months := notify.OfferedMonths(owed, inc)
	by := "the controller (no provider set: the notices say to contact you to enroll)"
	if pr := inc.Protection; pr != nil && pr.Provider != "" {
		by = pr.Provider
		if pr.URL != "" {
			by += ", enrolment " + pr.URL
		} else if pr.Phone != "" {
			by += ", enrolment " + pr.Phone
		}
	}
	s := fmt.Sprintf("%d months by %s", months, by)
	if pr := inc.Protection; pr != nil && pr.Months > 0 && pr.Months < owed {
		s += fmt.Sprintf(" (configured %d months: SHORT, incident send refuses)", pr.Months)
	}
	return s
}

// warnShortProtection warns on stderr when the incident's configured
// months of protection are fewer than a jurisdiction of the plan owes:
// incident send refuses to start until they are raised.
func (a *app) warnShortProtection(p *notify.Plan, inc *incident.Incident) {
	if inc.Protection == nil {
		return
	}
	for _, s := range notify.ProtectionShortfalls(p, inc.Protection.Months) {
		fmt.Fprintf(a.stderr, "breachnotice: warning: incident %d offers %d months of identity theft protection, but %s: incident send refuses to start; raise it with: breachnotice incident update %d --protection-months %d\n",
			p.Incident, s.Offered, s, p.Incident, s.Owed)
	}
}

// warnNoProvider warns on stderr when the plan owes identity theft
// protection and the incident has no provider set: the notices then tell
// people to contact the controller to enrol.
func (a *app) warnNoProvider(ctx context.Context, st *incident.Store, p *notify.Plan) error {
	owing := owingProtection(p)
	if len(owing) == 0 {
		return nil
	}
	inc, err := st.FindIncidentByID(ctx, p.Incident)
	if err != nil {
		return err
	}
	if inc.Protection != nil && inc.Protection.Provider != "" {
		return nil
	}
	codes := make([]string, len(owing))
	for i, ob := range owing {
		codes[i] = ob.Jurisdiction
	}
	fmt.Fprintf(a.stderr, "breachnotice: warning: %s owe identity theft protection and incident %d has no provider set: "+
		"their notices tell people to contact you to enroll; set one with: breachnotice incident update %d --protection-provider NAME --protection-url URL [--protection-phone P]\n",
		strings.Join(codes, ", "), p.Incident, p.Incident)
	return nil
}

// warnBeforeSend repeats the plan's warnings on stderr before incident
// send delivers anything: protection owed with no provider set, and the
// people who get English notices for want of a catalogue. Sending goes on:
// the law's deadline matters more than either.
func (a *app) warnBeforeSend(ctx context.Context, st *incident.Store, id int64) error {
	p, err := notify.FindPlan(ctx, st, id)
	if errors.Is(err, incident.ErrNotFound) {
		return nil // send says what is missing
	}
	if err != nil {
		return err
	}
	if err := a.warnNoProvider(ctx, st, p); err != nil {
		return err
	}
	posting, err := banner.PostingOf(ctx, st.DB(), p)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "website posting: "+posting.String())
	gaps, err := notify.LanguageGaps(ctx, st, id)
	if err != nil {
		return err
	}
	if text := notify.LanguageGapText(gaps); text != "" {
		fmt.Fprintf(a.stderr, "breachnotice: warning: %s\n", text)
	}
	drafts, err := notify.DraftLanguages(ctx, st, id)
	if err != nil {
		return err
	}
	if text := notify.DraftLanguageText(id, drafts); text != "" {
		fmt.Fprintf(a.stderr, "breachnotice: warning: %s\n", text)
	}
	return nil
}
