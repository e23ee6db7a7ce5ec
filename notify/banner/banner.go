// Package banner is the website channel: an incident's homepage banner and
// its public notice page, published, updated and withdrawn with ledger
// entries, and kept up at least as long as the law requires.
//
// # Model
//
// An incident has at most one banner, owned by the incident's controller:
// the operator's banner is the platform homepage's, a Member's shows where
// that Member's courses are shown. A banner has a headline, a summary and a
// link to the public notice page, in every catalogue language (defaults
// from the incident: its title, a catalogue summary, /notices/C/I), the
// time it was published, an optional last day (Until) and, once withdrawn,
// the time, the reason and whether the withdrawal was forced.
//
// Every state change writes a revision: the banner's object exactly as
// /banner.json serves it and the public notice page exactly as served, per
// language, in HTML and plain text. The revision, the banners row and the
// ledger entry recording the change (banner_published, banner_updated,
// banner_withdrawn, whose detail holds the SHA-256 of those bytes) commit in
// one transaction. Revisions are never rewritten, so what was posted, and
// when, can be shown later.
//
// # Posting minimum
//
// The stored plan says, per jurisdiction, how many days a website posting
// must stay up (law.SubstituteNotice.MinPostingDays). A banner must stay up
// for the longest of them, counted from publication (Required): Publish
// refuses an Until earlier than that, naming the jurisdiction, and
// Withdraw refuses to withdraw before it unless forced with a reason, which
// the ledger records.
//
// # Serving
//
// A server never queries the database per request: Load builds a Snapshot
// (every byte of /banner.json per controller with its ETag, the notice
// pages, the lists and the not-found page) and the server swaps it in
// whole. The CLI publishes from other processes, so every change also bumps
// the one-row banner_version counter in its transaction; the server polls
// Version (a primary-key read) every second or so and reloads when the
// counter moved, or when Snapshot.NextChange (the next time a live banner
// expires) has passed.
package banner

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
)

// Channel is the ledger channel of banner entries.
const Channel = "banner"

// Banner is an incident's published banner, as it stands.
type Banner struct {
	Incident   int64     `json:"incident"`
	Controller string    `json:"controller"`
	Revision   int64     `json:"revision"`
	Headline   string    `json:"headline"`
	Summary    string    `json:"summary"`
	Link       string    `json:"link"`
	Published  time.Time `json:"published"`
	// RequiredDays and RequiredBy are the longest posting the plan
	// required at publication and the jurisdiction requiring it.
	RequiredDays int    `json:"required_days"`
	RequiredBy   string `json:"required_by,omitempty"`
	// Until is the last day the banner is shown (UTC); zero: no end.
	Until     incident.Date `json:"until"`
	Withdrawn time.Time     `json:"withdrawn,omitzero"`
	Reason    string        `json:"withdraw_reason,omitempty"`
	Forced    bool          `json:"forced,omitempty"`
}

// RequiredUntil is when the posting the law requires ends.
func (b *Banner) RequiredUntil() time.Time { return b.Published.AddDate(0, 0, b.RequiredDays) }

// End is when the banner leaves the homepage on its own: the end of its
// Until day; zero when it has no end.
func (b *Banner) End() time.Time {
	if b.Until.IsZero() {
		return time.Time{}
	}
	return b.Until.AddDate(0, 0, 1)
}

// Live reports whether the banner is shown at now.
func (b *Banner) Live(now time.Time) bool {
	if !b.Withdrawn.IsZero() {
		return false
	}
	end := b.End()
	return end.IsZero() || now.Before(end)
}

// State says, for people, where the banner stands at now.
func (b *Banner) State(now time.Time) string {
	switch {
	case !b.Withdrawn.IsZero() && b.Forced:
		return "withdrawn (forced)"
	case !b.Withdrawn.IsZero():
		return "withdrawn"
	case !b.Live(now):
		return "expired"
	}
	return "live"
}

// Required returns the longest website posting any jurisdiction of the
// plan requires, in days, and the jurisdiction requiring it (the first by
// code among equals); 0 and "" when none does.
func Required(p *notify.Plan) (days int, jurisdiction string) {
	for _, ob := range p.Jurisdictions {
		if d := ob.Substitute.MinPostingDays; d > days {
			days, jurisdiction = d, ob.Jurisdiction
		}
	}
	return days, jurisdiction
}

// PostingStatus is an incident's substitute-notice website posting: what
// the plan requires and, once published, since when and until when.
type PostingStatus struct {
	Incident int64 `json:"incident"`
	// Days and Jurisdiction are the longest posting the plan requires.
	Days         int    `json:"required_days"`
	Jurisdiction string `json:"required_by,omitempty"`
	// Published is false until a banner is published; then Since is when,
	// RequiredUntil when the required posting ends, Until the banner's own
	// last day (zero: none) and Withdrawn when it was withdrawn (zero: not).
	Published     bool          `json:"published"`
	Since         time.Time     `json:"since,omitzero"`
	RequiredUntil time.Time     `json:"required_until,omitzero"`
	Until         incident.Date `json:"until,omitzero"`
	Withdrawn     time.Time     `json:"withdrawn,omitzero"`
	Forced        bool          `json:"forced,omitempty"`
}

// String is the posting in one line, for incident show and plan: since
// when the banner is up, until when the law requires it and by which
// jurisdiction, and its own end or withdrawal.
func (p *PostingStatus) String() string {
	const at = "2006-01-02 15:04 MST"
	req := "no website posting required"
	if p.Days > 0 {
		req = fmt.Sprintf("%d days required by %s", p.Days, p.Jurisdiction)
	}
	if !p.Published {
		if p.Days == 0 {
			return req + "; no banner published"
		}
		return fmt.Sprintf("no banner published (breachnotice banner publish %d); once published it must stay up %d days, required by %s",
			p.Incident, p.Days, p.Jurisdiction)
	}
	s := "banner since " + p.Since.UTC().Format(at)
	if p.Days > 0 {
		s += ", required until " + p.RequiredUntil.UTC().Format(at) + " (" + req + ")"
	} else {
		s += " (" + req + ")"
	}
	switch {
	case !p.Withdrawn.IsZero() && p.Forced:
		s += "; withdrawn early (forced) " + p.Withdrawn.UTC().Format(at)
	case !p.Withdrawn.IsZero():
		s += "; withdrawn " + p.Withdrawn.UTC().Format(at)
	case !p.Until.IsZero():
		s += "; shown through " + p.Until.String()
	default:
		s += "; shown until withdrawn"
	}
	return s
}

// Posting returns an incident's website posting: what its stored plan
// requires and, if a banner was published, its dates. An incident without
// a plan is incident.ErrNotFound.
func Posting(ctx context.Context, st *incident.Store, incidentID int64) (*PostingStatus, error) {
	plan, err := notify.FindPlan(ctx, st, incidentID)
	if err != nil {
		return nil, err
	}
	return PostingOf(ctx, st.DB(), plan)
}

// PostingOf is Posting for an incident's plan at hand.
func PostingOf(ctx context.Context, q Queryer, plan *notify.Plan) (*PostingStatus, error) {
	p := &PostingStatus{Incident: plan.Incident}
	p.Days, p.Jurisdiction = Required(plan)
	b, err := FindBanner(ctx, q, plan.Incident)
	if errors.Is(err, incident.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	// Once published, the requirement is the one fixed at publication.
	p.Days, p.Jurisdiction = b.RequiredDays, b.RequiredBy
	p.Published, p.Since, p.RequiredUntil = true, b.Published, b.RequiredUntil()
	p.Until, p.Withdrawn, p.Forced = b.Until, b.Withdrawn, b.Forced
	return p, nil
}

// Queryer is what the readers need: a *sql.DB or a *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const bannerColumns = `b.incident_id, b.controller_id, b.revision, r.content, b.published_at, b.required_days, b.required_by,
	b.until, b.withdrawn_at, b.withdraw_reason, b.forced`

const bannerFrom = ` FROM banners b JOIN banner_revisions r ON r.incident_id = b.incident_id AND r.revision = b.revision`

func scanBanner(sc interface{ Scan(...any) error }, extra ...any) (*Banner, error) {
	var b Banner
	var content []byte
	var published, until, withdrawn string
	dest := append([]any{&b.Incident, &b.Controller, &b.Revision, &content, &published, &b.RequiredDays, &b.RequiredBy,
		&until, &withdrawn, &b.Reason, &b.Forced}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	var c bannerContent
	if err := json.Unmarshal(content, &c); err != nil {
		return nil, fmt.Errorf("banner %d: content: %w", b.Incident, err)
	}
	b.Headline, b.Summary, b.Link = c.Headline, c.Summary, c.Link
	b.Published, _ = time.Parse(time.RFC3339Nano, published)
	if until != "" {
		d, err := incident.ParseDate(until)
		if err != nil {
			return nil, fmt.Errorf("banner %d: until: %w", b.Incident, err)
		}
		b.Until = d
	}
	if withdrawn != "" {
		b.Withdrawn, _ = time.Parse(time.RFC3339Nano, withdrawn)
	}
	return &b, nil
}

// FindBanner returns an incident's banner, or incident.ErrNotFound.
func FindBanner(ctx context.Context, q Queryer, incidentID int64) (*Banner, error) {
	b, err := scanBanner(q.QueryRowContext(ctx, `SELECT `+bannerColumns+bannerFrom+` WHERE b.incident_id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: incident %d has no banner", incident.ErrNotFound, incidentID)
	}
	if err != nil {
		return nil, fmt.Errorf("find banner %d: %w", incidentID, err)
	}
	return b, nil
}

// FindBanners returns the banners, of one controller when controller is
// not "", newest first.
func FindBanners(ctx context.Context, q Queryer, controller string) ([]*Banner, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+bannerColumns+bannerFrom+`
		WHERE ? = '' OR b.controller_id = ? ORDER BY b.published_at DESC, b.incident_id DESC`, controller, controller)
	if err != nil {
		return nil, fmt.Errorf("find banners: %w", err)
	}
	defer rows.Close()
	var out []*Banner
	for rows.Next() {
		b, err := scanBanner(rows)
		if err != nil {
			return nil, fmt.Errorf("find banners: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Version returns the banner change counter: it moves with every publish,
// update and withdrawal, whichever process made it.
func Version(ctx context.Context, q Queryer) (int64, error) {
	var v int64
	if err := q.QueryRowContext(ctx, `SELECT version FROM banner_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("banner version: %w", err)
	}
	return v, nil
}
