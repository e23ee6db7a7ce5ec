package banner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
)

// Limits on what a banner says: it is a banner, not the notice.
const (
	MaxHeadline = 200  // runes
	MaxSummary  = 1000 // runes
)

// PublishOptions are a publication's or an update's choices; the zero
// value publishes the defaults, or changes nothing of a published banner.
type PublishOptions struct {
	// Headline and Summary replace the incident's title and the catalogue
	// summary, in every language; "" keeps the current (or default) text.
	Headline, Summary string
	// Until is the banner's last day; zero keeps the current one (none at
	// first publication).
	Until incident.Date
	// PublicURL is the base URL the banner links from
	// ("https://notices.example.org"); "" keeps the current link, or links
	// by path (banner.js resolves it against its own origin).
	PublicURL string
}

// Result is what Publish or Withdraw did.
type Result struct {
	Banner *Banner
	// Kind is the ledger entry written; "" when nothing changed.
	Kind ledger.Kind
	// Entry is that entry's detail.
	Detail Detail
}

// Detail is the detail of a banner ledger entry: the hashes of the exact
// bytes the revision serves, and the posting it is held to.
type Detail struct {
	Revision int64 `json:"revision"`
	// BannerSHA256 is the SHA-256 (hex) of the banner's object exactly as
	// /banner.json serves it (one element of its "banners" array).
	BannerSHA256 string `json:"banner_sha256"`
	// Pages maps "LANG.html" and "LANG.txt" to the SHA-256 of the public
	// notice page served at /notices/C/I?lang=LANG (and .txt).
	Pages         map[string]string `json:"pages"`
	Link          string            `json:"link"`
	Since         string            `json:"since"`
	Until         string            `json:"until,omitempty"`
	RequiredDays  int               `json:"required_days"`
	RequiredBy    string            `json:"required_by,omitempty"`
	RequiredUntil string            `json:"required_until,omitempty"`
	// Forced and Reason are set on a withdrawal: forced when it came
	// before the required posting ended.
	Forced bool   `json:"forced,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Publish publishes an incident's banner, or updates a published one: a
// planned incident's banner goes live at once with the incident's
// defaults, overridden by opt. An Until earlier than the longest posting the
// plan requires (counted from publication) is refused with the reason and
// the jurisdiction. An update that changes no byte served records nothing.
// A withdrawn banner stays withdrawn.
func Publish(ctx context.Context, st *incident.Store, incidentID int64, opt PublishOptions) (*Result, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	inc, c, plan, err := load(ctx, st, "publish", incidentID)
	if err != nil {
		return nil, err
	}
	now := st.Now().UTC().Truncate(time.Second)
	var res *Result
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		old, err := FindBanner(ctx, tx, incidentID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			return err
		}
		in := renderInput{inc: inc, controller: c, plan: plan, published: now,
			content: bannerContent{Headline: inc.Title, Link: NoticePath(inc.ControllerID, inc.ID)}}
		in.content.Link = linkFor(opt.PublicURL, in.content.Link)
		kind := ledger.KindBannerPublished
		days, by := Required(plan)
		if old != nil {
			if !old.Withdrawn.IsZero() {
				return fmt.Errorf("%w: incident %d's banner was withdrawn on %s; a withdrawn banner stays withdrawn",
					incident.ErrConflict, incidentID, old.Withdrawn.Format(time.DateOnly))
			}
			kind = ledger.KindBannerUpdated
			in.published, in.until = old.Published, old.Until
			in.content = bannerContent{Headline: old.Headline, Summary: old.Summary, Link: old.Link}
			if opt.PublicURL != "" {
				in.content.Link = linkFor(opt.PublicURL, NoticePath(inc.ControllerID, inc.ID))
			}
			days, by = old.RequiredDays, old.RequiredBy
		}
		if opt.Headline != "" {
			in.content.Headline = opt.Headline
		}
		if opt.Summary != "" {
			in.content.Summary = opt.Summary
		}
		if !opt.Until.IsZero() {
			b := Banner{Published: in.published, RequiredDays: days, Until: opt.Until}
			if b.End().Before(b.RequiredUntil()) {
				return fmt.Errorf("%w: --until %s is too early: %s requires the posting to stay up %d days from %s, through %s",
					incident.ErrInvalid, opt.Until, by, days, in.published.Format(time.DateOnly),
					b.RequiredUntil().Add(-time.Second).Format(time.DateOnly))
			}
			if !b.End().After(now) {
				return fmt.Errorf("%w: --until %s is in the past", incident.ErrInvalid, opt.Until)
			}
			in.until = opt.Until
		}
		in.keyName = ledger.KeyName(inc.ControllerID)
		if in.vkey, err = ledger.PublicKey(ctx, tx, inc.ControllerID); err != nil {
			return err
		}
		r, err := render(ctx, in)
		if err != nil {
			return err
		}
		b := &Banner{Incident: inc.ID, Controller: inc.ControllerID, Headline: in.content.Headline, Summary: in.content.Summary,
			Link: in.content.Link, Published: in.published, RequiredDays: days, RequiredBy: by, Until: in.until}
		if old != nil {
			b.Revision = old.Revision
			prev, err := loadRendered(ctx, tx, inc.ID, old.Revision)
			if err != nil {
				return err
			}
			if prev.same(r) {
				res = &Result{Banner: old}
				return nil
			}
		}
		d, err := commitRevision(ctx, tx, b, kind, in.content, r)
		if err != nil {
			return err
		}
		res = &Result{Banner: b, Kind: kind, Detail: d}
		action := "banner.publish"
		if kind == ledger.KindBannerUpdated {
			action = "banner.update"
		}
		return tx.Audit(ctx, action, fmt.Sprintf("incident:%d", inc.ID), map[string]any{"revision": b.Revision, "until": d.Until})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// WithdrawOptions are a withdrawal's choices.
type WithdrawOptions struct {
	// Force allows withdrawing before the required posting ends; Reason
	// (required then) says why, and the ledger records both.
	Force  bool
	Reason string
}

// Withdraw takes an incident's banner off the homepage. Its notice page
// stays reachable, marked withdrawn with the date. Before the longest
// posting the plan requires has ended it needs Force and a Reason.
func Withdraw(ctx context.Context, st *incident.Store, incidentID int64, opt WithdrawOptions) (*Result, error) {
	opt.Reason = strings.TrimSpace(opt.Reason)
	if opt.Force && opt.Reason == "" {
		return nil, fmt.Errorf("%w: a forced withdrawal needs a reason", incident.ErrInvalid)
	}
	if !utf8.ValidString(opt.Reason) || utf8.RuneCountInString(opt.Reason) > MaxSummary {
		return nil, fmt.Errorf("%w: the reason must be valid UTF-8 of at most %d characters", incident.ErrInvalid, MaxSummary)
	}
	inc, c, plan, err := load(ctx, st, "withdraw", incidentID)
	if err != nil {
		return nil, err
	}
	now := st.Now().UTC().Truncate(time.Second)
	var res *Result
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		b, err := FindBanner(ctx, tx, incidentID)
		if err != nil {
			return err
		}
		if !b.Withdrawn.IsZero() {
			return fmt.Errorf("%w: incident %d's banner was already withdrawn on %s", incident.ErrConflict, incidentID, b.Withdrawn.Format(time.DateOnly))
		}
		early := now.Before(b.RequiredUntil())
		if early && !opt.Force {
			return fmt.Errorf("%w: incident %d's banner must stay up until %s (%d days required by %s); withdraw it earlier only with --force --reason",
				incident.ErrConflict, incidentID, b.RequiredUntil().Format(time.RFC3339), b.RequiredDays, b.RequiredBy)
		}
		if res, err = withdraw(ctx, tx, inc, c, plan, b, early, opt.Reason); err != nil {
			return err
		}
		return tx.Audit(ctx, "banner.withdraw", fmt.Sprintf("incident:%d", inc.ID), map[string]any{"forced": b.Forced, "reason": b.Reason})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// withdraw writes b's withdrawal at tx.Now: the withdrawn revision (its
// pages marked withdrawn with the date), the banners row and the
// banner_withdrawn entry, in tx.
func withdraw(ctx context.Context, tx *incident.Tx, inc *incident.Incident, c *incident.Controller, plan *notify.Plan,
	b *Banner, forced bool, reason string) (*Result, error) {
	now := tx.Now
	b.Withdrawn, b.Forced, b.Reason = now, forced, reason
	in := renderInput{inc: inc, controller: c, plan: plan, published: b.Published, until: b.Until, withdrawn: now,
		content: bannerContent{Headline: b.Headline, Summary: b.Summary, Link: b.Link}, keyName: ledger.KeyName(inc.ControllerID)}
	var err error
	if in.vkey, err = ledger.PublicKey(ctx, tx, inc.ControllerID); err != nil {
		return nil, err
	}
	r, err := render(ctx, in)
	if err != nil {
		return nil, err
	}
	d, err := commitRevision(ctx, tx, b, ledger.KindBannerWithdrawn, in.content, r)
	if err != nil {
		return nil, err
	}
	return &Result{Banner: b, Kind: ledger.KindBannerWithdrawn, Detail: d}, nil
}

// ExpiredReason is the reason Expire records on the withdrawals it makes.
const ExpiredReason = "expired"

// Expired reports whether Expire would withdraw b at now: it is live, its
// last day (Until) has passed, and so has the posting the law requires.
// A banner without a last day never expires.
func (b *Banner) Expired(now time.Time) bool {
	return b.Withdrawn.IsZero() && !b.Until.IsZero() && !now.Before(b.End()) && !now.Before(b.RequiredUntil())
}

// Expire withdraws, as of now, every banner whose last day has passed and
// whose required posting is over (Banner.Expired); a banner the law still
// requires stays, whatever its Until says. Each withdrawal is not forced,
// has the reason "expired", and commits with its banner_withdrawn entry
// and its withdrawn pages in one transaction, so the snapshot drops the
// banner and its notice page says when. It is idempotent: a banner already
// withdrawn is left alone, so running it again (hourly, by the scheduler)
// withdraws nothing more. It returns how many banners it withdrew.
func Expire(ctx context.Context, st *incident.Store, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Second)
	bs, err := FindBanners(ctx, st.DB(), "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range bs {
		if !b.Expired(now) {
			continue
		}
		inc, c, plan, err := load(ctx, st, "expire", b.Incident)
		if err != nil {
			return n, err
		}
		done := false
		err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
			cur, err := FindBanner(ctx, tx, b.Incident)
			if err != nil {
				return err
			}
			if !cur.Expired(now) { // another process got there first
				return nil
			}
			if _, err := withdraw(ctx, tx, inc, c, plan, cur, false, ExpiredReason); err != nil {
				return err
			}
			done = true
			return tx.Audit(ctx, "banner.expire", fmt.Sprintf("incident:%d", inc.ID), map[string]any{"until": cur.Until.String()})
		})
		if err != nil {
			return n, fmt.Errorf("banner expire %d: %w", b.Incident, err)
		}
		if done {
			n++
		}
	}
	return n, nil
}

// commitRevision writes b's next revision (its content and bytes), the
// banners row, the change counter and the ledger entry, in tx. A
// withdrawal's revision keeps serving the banner object last served (it
// is no longer in /banner.json) and records the withdrawn pages.
func commitRevision(ctx context.Context, tx *incident.Tx, b *Banner, kind ledger.Kind, c bannerContent, r *rendered) (Detail, error) {
	fail := func(err error) (Detail, error) {
		return Detail{}, fmt.Errorf("banner %d: %s: %w", b.Incident, kind, err)
	}
	b.Revision++
	at := tx.Now.Format(time.RFC3339Nano)
	content, err := json.Marshal(c)
	if err != nil {
		return fail(err)
	}
	until, withdrawn := "", ""
	if !b.Until.IsZero() {
		until = b.Until.String()
	}
	if !b.Withdrawn.IsZero() {
		withdrawn = b.Withdrawn.UTC().Format(time.RFC3339Nano)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO banners(incident_id, controller_id, revision, published_at, required_days, required_by,
			until, withdrawn_at, withdraw_reason, forced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET revision = excluded.revision, until = excluded.until,
			withdrawn_at = excluded.withdrawn_at, withdraw_reason = excluded.withdraw_reason, forced = excluded.forced`,
		b.Incident, b.Controller, b.Revision, b.Published.UTC().Format(time.RFC3339Nano), b.RequiredDays, b.RequiredBy,
		until, withdrawn, b.Reason, b.Forced); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO banner_revisions(incident_id, revision, at, kind, content, banner_json) VALUES (?, ?, ?, ?, ?, ?)`,
		b.Incident, b.Revision, at, string(kind), content, r.bannerJSON); err != nil {
		return fail(err)
	}
	for _, p := range r.pages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO banner_pages(incident_id, revision, lang, format, body, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
			b.Incident, b.Revision, p.lang, p.format, p.body, p.sum); err != nil {
			return fail(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE banner_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fail(err)
	}
	d := Detail{Revision: b.Revision, BannerSHA256: r.bannerSum, Pages: r.pageSums(), Link: b.Link,
		Since: b.Published.UTC().Format(time.RFC3339), Until: until, RequiredDays: b.RequiredDays, RequiredBy: b.RequiredBy,
		Forced: b.Forced, Reason: b.Reason}
	if b.RequiredDays > 0 {
		d.RequiredUntil = b.RequiredUntil().UTC().Format(time.RFC3339)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fail(err)
	}
	if err := ledger.Append(ctx, tx.Tx, ledger.Entry{Controller: b.Controller, At: tx.Now, Kind: kind,
		Incident: b.Incident, Channel: Channel, Detail: raw}); err != nil {
		return fail(err)
	}
	return d, nil
}

// loadRendered reads a revision's bytes back.
func loadRendered(ctx context.Context, q Queryer, incidentID, revision int64) (*rendered, error) {
	r := &rendered{}
	if err := q.QueryRowContext(ctx, `SELECT banner_json FROM banner_revisions WHERE incident_id = ? AND revision = ?`,
		incidentID, revision).Scan(&r.bannerJSON); err != nil {
		return nil, fmt.Errorf("banner %d revision %d: %w", incidentID, revision, err)
	}
	r.bannerSum = sum(r.bannerJSON)
	rows, err := q.QueryContext(ctx, `SELECT lang, format, body, sha256 FROM banner_pages WHERE incident_id = ? AND revision = ? ORDER BY lang, format`,
		incidentID, revision)
	if err != nil {
		return nil, fmt.Errorf("banner %d revision %d: %w", incidentID, revision, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p page
		if err := rows.Scan(&p.lang, &p.format, &p.body, &p.sum); err != nil {
			return nil, fmt.Errorf("banner %d revision %d: %w", incidentID, revision, err)
		}
		r.pages = append(r.pages, p)
	}
	return r, rows.Err()
}

// check validates the options' text and URL.
func (o *PublishOptions) check() error {
	o.Headline = templates.OneLine(strings.TrimSpace(o.Headline))
	o.Summary = strings.TrimSpace(o.Summary)
	switch {
	case !utf8.ValidString(o.Headline) || utf8.RuneCountInString(o.Headline) > MaxHeadline:
		return fmt.Errorf("%w: the headline must be valid UTF-8 of at most %d characters", incident.ErrInvalid, MaxHeadline)
	case !utf8.ValidString(o.Summary) || utf8.RuneCountInString(o.Summary) > MaxSummary:
		return fmt.Errorf("%w: the summary must be valid UTF-8 of at most %d characters", incident.ErrInvalid, MaxSummary)
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%w: public URL %q: want http(s)://HOST[/PATH], without query", incident.ErrInvalid, o.PublicURL)
		}
	}
	return nil
}

// linkFor is path under base ("" base: path alone).
func linkFor(base, path string) string {
	if base == "" {
		return path
	}
	return strings.TrimRight(base, "/") + path
}

// load reads what publishing or withdrawing a banner decides from: the
// incident, its controller and its stored plan.
func load(ctx context.Context, st *incident.Store, verb string, incidentID int64) (*incident.Incident, *incident.Controller, *notify.Plan, error) {
	inc, err := st.FindIncidentFor(ctx, incidentID, incident.ActBanner)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return nil, nil, nil, err
	}
	plan, err := notify.FindPlan(ctx, st, incidentID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("banner %s %d: %w", verb, incidentID, err)
	}
	return inc, c, plan, nil
}

// Archive is the ledger.Attacher of banner entries: it reads the revision
// an entry records (its /banner.json object and its public notice pages,
// as posted) from the store, so that a proof bundle carries exactly what
// was posted and when. The ledger checks the bytes against the entry's
// hashes before it writes them.
type Archive struct{ Q Queryer }

// Attachments returns the bytes of the revision e records.
func (a Archive) Attachments(ctx context.Context, e ledger.Entry) ([]ledger.Attachment, error) {
	var d Detail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return nil, fmt.Errorf("banner %d: entry %d: %w", e.Incident, e.Index, err)
	}
	r, err := loadRendered(ctx, a.Q, e.Incident, d.Revision)
	if err != nil {
		return nil, err
	}
	out := []ledger.Attachment{{Name: ledger.BannerFile(e.Incident, d.Revision, ""), Body: r.bannerJSON}}
	for _, p := range r.pages {
		out = append(out, ledger.Attachment{Name: ledger.BannerFile(e.Incident, d.Revision, p.lang+"."+p.format), Body: p.body})
	}
	return out, nil
}
