package banner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// Doc is one response body the public routes serve, with its ETag (a
// quoted hash of the body).
type Doc struct {
	Body []byte
	ETag string
}

func newDoc(b []byte) Doc {
	s := sha256.Sum256(b)
	return Doc{Body: b, ETag: `"` + hex.EncodeToString(s[:12]) + `"`}
}

// Page is an incident's public notice page per language, as its current
// revision serves it.
type Page struct {
	HTML, Text map[string]Doc
}

type pageKey struct {
	controller string
	incident   int64
}

// Snapshot is everything the public routes serve, built at one time from
// one banner_version: it is never changed after Load, so a server swaps
// snapshots whole and reads them without locks.
type Snapshot struct {
	// Version is the banner_version the snapshot was built from.
	Version int64
	// At is when it was built; NextChange when a live banner of it
	// expires (zero: none does), after which it must be rebuilt.
	At, NextChange time.Time
	// Operator is the controller whose banners /banner.json serves by
	// default: the operator (the first one by id, if several).
	Operator string

	docs     map[string]Doc // controller -> /banner.json
	empty    Doc
	pages    map[pageKey]*Page
	lists    map[string]map[string]Doc // controller -> lang -> list page
	notFound map[string][]byte         // lang -> page
}

// BannerJSON returns /banner.json for a controller ("" = the operator): an
// object {"banners":[...]} whose elements are the live banners' objects
// (JSONBanner) exactly as their ledger entries hash them, newest first. A
// controller without live banners, or unknown, gets the empty list.
func (s *Snapshot) BannerJSON(controller string) Doc {
	if controller == "" {
		controller = s.Operator
	}
	if d, ok := s.docs[controller]; ok {
		return d
	}
	return s.empty
}

// Notice returns a published incident's notice page; false for anything
// else (unknown controller, another controller's incident, unpublished).
func (s *Snapshot) Notice(controller string, incidentID int64) (*Page, bool) {
	p, ok := s.pages[pageKey{controller, incidentID}]
	return p, ok
}

// List returns a controller's list of published notices in lang; false for
// a controller that has published none.
func (s *Snapshot) List(controller, lang string) (Doc, bool) {
	l, ok := s.lists[controller]
	if !ok {
		return Doc{}, false
	}
	return l[templates.LangFor(lang)], true
}

// NotFound returns the plain not-found page in lang.
func (s *Snapshot) NotFound(lang string) []byte { return s.notFound[templates.LangFor(lang)] }

// Load builds a snapshot of every banner at now: a handful of queries,
// whatever the number of requests it then serves.
func Load(ctx context.Context, st *incident.Store, now time.Time) (*Snapshot, error) {
	db := st.DB()
	v, err := Version(ctx, db)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Version: v, At: now, docs: map[string]Doc{}, pages: map[pageKey]*Page{},
		lists: map[string]map[string]Doc{}, notFound: map[string][]byte{}, empty: newDoc([]byte(`{"banners":[]}` + "\n"))}
	cs, err := st.FindControllers(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
		if !c.Member && (s.Operator == "" || c.ID < s.Operator) {
			s.Operator = c.ID
		}
	}
	bs, err := FindBanners(ctx, db, "")
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT b.incident_id, r.banner_json FROM banners b
		JOIN banner_revisions r ON r.incident_id = b.incident_id AND r.revision = b.revision`)
	if err != nil {
		return nil, fmt.Errorf("load banners: %w", err)
	}
	objects := map[int64][]byte{}
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load banners: %w", err)
		}
		objects[id] = b
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load banners: %w", err)
	}
	live := map[string][][]byte{}
	items := map[string][]templates.NoticeListItem{}
	controllerOf := map[int64]string{}
	for _, b := range bs { // newest first
		controllerOf[b.Incident] = b.Controller
		s.pages[pageKey{b.Controller, b.Incident}] = &Page{HTML: map[string]Doc{}, Text: map[string]Doc{}}
		items[b.Controller] = append(items[b.Controller], templates.NoticeListItem{
			Path: NoticePath(b.Controller, b.Incident), Title: b.Headline, Posted: b.Published, Withdrawn: b.Withdrawn})
		if !b.Live(now) {
			continue
		}
		live[b.Controller] = append(live[b.Controller], objects[b.Incident])
		if end := b.End(); !end.IsZero() && (s.NextChange.IsZero() || end.Before(s.NextChange)) {
			s.NextChange = end
		}
	}
	for c, objs := range live {
		var buf bytes.Buffer
		buf.WriteString(`{"banners":[`)
		buf.Write(bytes.Join(objs, []byte(",")))
		buf.WriteString("]}\n")
		s.docs[c] = newDoc(buf.Bytes())
	}
	rows, err = db.QueryContext(ctx, `SELECT p.incident_id, p.lang, p.format, p.body FROM banner_pages p
		JOIN banners b ON b.incident_id = p.incident_id AND b.revision = p.revision`)
	if err != nil {
		return nil, fmt.Errorf("load banner pages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var lang, format string
		var body []byte
		if err := rows.Scan(&id, &lang, &format, &body); err != nil {
			return nil, fmt.Errorf("load banner pages: %w", err)
		}
		p := s.pages[pageKey{controllerOf[id], id}]
		if p == nil {
			continue
		}
		if format == "txt" {
			p.Text[lang] = newDoc(body)
		} else {
			p.HTML[lang] = newDoc(body)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load banner pages: %w", err)
	}
	for _, lang := range templates.Languages() {
		nf, err := templates.RenderNotFound(ctx, lang)
		if err != nil {
			return nil, err
		}
		s.notFound[lang] = nf
		for c, its := range items {
			html, err := templates.RenderNoticeList(ctx, templates.NoticeList{Lang: lang, ControllerName: names[c], Items: its})
			if err != nil {
				return nil, err
			}
			if s.lists[c] == nil {
				s.lists[c] = map[string]Doc{}
			}
			s.lists[c][lang] = newDoc(html)
		}
	}
	return s, nil
}

// Controllers lists the controllers that have published a notice, sorted.
func (s *Snapshot) Controllers() []string {
	out := make([]string, 0, len(s.lists))
	for c := range s.lists {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
