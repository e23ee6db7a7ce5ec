package notify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/templates"
)

// Sample person details: what a preview prints instead of the person's
// name and contact data.
const (
	SampleName    = "Sample Learner"
	SampleAddress = "sample.learner@preview.invalid"
)

// Sample is one notice of a preview: what the people of one content
// profile, language and protection offer get, rendered for a placeholder
// person. Email is nil when none of them is sent an email (or the preview
// leaves email out); Letter is false likewise for letters.
type Sample struct {
	Profile string `json:"profile"`
	Lang    string `json:"lang"`
	// ProtectionMonths is the identity theft protection the notice offers
	// (0: none): notices of one profile differ by it.
	ProtectionMonths int `json:"protection_months,omitempty"`
	// Jurisdictions and People are what the sample stands for: the people
	// owed notice with this profile, language and offer.
	Jurisdictions []string `json:"jurisdictions"`
	People        int      `json:"people"`
	// Jurisdiction is the one the sample was rendered for: the first
	// affected person's.
	Jurisdiction string   `json:"sample_jurisdiction"`
	Email        *Message `json:"-"`
	// Letter says a letter is owed to some of them: the caller renders
	// Notice with the letter renderer (notify/letter, which imports this
	// package), to a placeholder address in Country.
	Letter bool `json:"letter"`
	// Notice is the sample's notice props, as the dispatcher and the
	// letter export build them (NoticeFor), dated and for SampleName.
	Notice templates.Notice `json:"-"`
	// Country and Region are the first person's residence: the letter's
	// paper size and address layout follow them.
	Country, Region string `json:"-"`
	// Controller sends the notice (letterhead, return address).
	Controller *incident.Controller `json:"-"`
}

// PreviewOptions choose what a preview renders.
type PreviewOptions struct {
	// Channel is email, letter or all ("" = all).
	Channel string
	// Now dates the notices; nil: time.Now.
	Now func() time.Time
}

// Preview renders, for a planned incident, one sample notice per distinct
// content profile, language and protection offer among the people owed
// notice, and passes each to fn, sorted by profile, language and offer. A
// sample is rendered through the same code as a real notice (NoticeFor,
// templates.RenderEmail; the caller's letter.Render) from the decision of the first
// affected person (by account id) of its kind, with that person's locale
// and country; their name and addresses are replaced by placeholders
// (SampleName), so no personal data reaches a preview. Preview only reads:
// no notice, ledger entry or audit row is written.
func Preview(ctx context.Context, st *incident.Store, id int64, opt PreviewOptions, fn func(*Sample) error) error {
	if err := requirePlan(ctx, st, id); err != nil {
		return err
	}
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return err
	}
	variants, err := loadVariants(ctx, st, id)
	if err != nil {
		return err
	}
	// One row per plan variant and language subtag: a few hundred at most.
	rows, err := st.DB().QueryContext(ctx, `SELECT m.variant, `+primaryTag(st)+` AS lang, count(*), min(f.account_id) FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		WHERE f.incident_id = ?
		GROUP BY m.variant, lang`, id)
	if err != nil {
		return fmt.Errorf("preview incident %d: %w", id, err)
	}
	type key struct {
		profile, lang string
		months        int
	}
	type group struct {
		s        *Sample
		first    string // account id of the first person
		decision law.Decision
		email    bool
	}
	groups := map[key]*group{}
	for rows.Next() {
		var v int64
		var lang, first string
		var people int
		if err := rows.Scan(&v, &lang, &people, &first); err != nil {
			rows.Close()
			return fmt.Errorf("preview incident %d: %w", id, err)
		}
		d, ok := variants[v]
		if !ok || !d.Notify || len(d.Channels) == 0 {
			continue // not owed notice, or unreachable: no notice to show
		}
		profile := d.ContentProfile
		if profile == "" {
			profile = law.ProfileGeneric
		}
		k := key{profile, templates.LangFor(lang), OfferedMonths(law.ProtectionMonths(d.Jurisdiction, inc), inc)}
		g := groups[k]
		if g == nil {
			g = &group{s: &Sample{Profile: k.profile, Lang: k.lang, ProtectionMonths: k.months}, first: first, decision: d}
			groups[k] = g
		}
		if first < g.first {
			g.first, g.decision = first, d
		}
		g.s.People += people
		if !slices.Contains(g.s.Jurisdictions, d.Jurisdiction) {
			g.s.Jurisdictions = append(g.s.Jurisdictions, d.Jurisdiction)
		}
		g.email = g.email || slices.Contains(d.Channels, ChannelEmail)
		g.s.Letter = g.s.Letter || slices.Contains(d.Channels, ChannelLetter)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("preview incident %d: %w", id, err)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.profile != b.profile {
			return a.profile < b.profile
		}
		if a.lang != b.lang {
			return a.lang < b.lang
		}
		return a.months < b.months
	})
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	date := now().UTC().Truncate(24 * time.Hour)
	domain := "breachnotice.invalid"
	if at := strings.LastIndexByte(c.From, '@'); at >= 0 {
		domain = c.From[at+1:]
	}
	for _, k := range keys {
		g := groups[k]
		s := g.s
		sort.Strings(s.Jurisdictions)
		s.Jurisdiction = g.decision.Jurisdiction
		locale, country, region, err := incident.AccountPlace(ctx, st.DB(), g.first)
		if err != nil {
			return fmt.Errorf("preview incident %d: %w", id, err)
		}
		af := incident.Affected{Account: incident.Account{ID: "sample", Name: SampleName, Locale: locale, Country: country, Region: region}}
		s.Notice = NoticeFor(inc, c, &af, g.decision)
		s.Notice.NoticeDate = date
		s.Country, s.Region, s.Controller = country, region, c
		if g.email && opt.Channel != ChannelLetter {
			e, err := templates.RenderEmail(ctx, s.Notice)
			if err != nil {
				return fmt.Errorf("preview incident %d: %w", id, err)
			}
			s.Email = &Message{MessageID: MessageID(inc.ID, 0, domain), From: c.From, FromName: e.FromName,
				To: SampleAddress, ToName: e.ToName, Subject: e.Subject, HTML: e.HTML, Text: e.Text}
		}
		s.Letter = s.Letter && opt.Channel != ChannelEmail
		if s.Email == nil && !s.Letter {
			continue
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}
