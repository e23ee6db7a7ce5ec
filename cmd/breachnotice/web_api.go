package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/offer"
)

// The JSON API: bearer tokens, JSON in and out, errors as {"error": "..."}.
// Each handler calls the same domain operation as the command line; the
// store decides who may (incident.Actor.Can) and writes the audit row.

// apiRoutes lists the API's routes, registered by mountAPI and checked
// against the OpenAPI document by TestOpenAPI_Routes.
func (s *server) apiRoutes() map[string]userHandler {
	return map[string]userHandler{
		"GET /api/incidents":                      s.apiIncidents,
		"POST /api/incidents":                     s.apiOpen,
		"GET /api/incidents/{id}":                 s.apiIncident,
		"PATCH /api/incidents/{id}":               s.apiUpdate,
		"POST /api/incidents/{id}/scope":          s.apiScope,
		"POST /api/incidents/{id}/plan":           s.apiPlan,
		"POST /api/incidents/{id}/send":           s.apiSend,
		"POST /api/incidents/{id}/hold":           s.apiHold,
		"POST /api/incidents/{id}/release":        s.apiRelease,
		"GET /api/incidents/{id}/obligations":     s.apiObligations,
		"POST /api/incidents/{id}/banner":         s.apiPublish,
		"DELETE /api/incidents/{id}/banner":       s.apiWithdraw,
		"GET /api/controllers/{id}/ledger/export": s.apiExport,
	}
}

func (s *server) mountAPI(mux *http.ServeMux) {
	for pattern, h := range s.apiRoutes() {
		mux.Handle(pattern, s.api(h))
	}
	mux.Handle("GET /api/openapi.json", s.secure(apiCSP, http.HandlerFunc(s.handleOpenAPI)))
	// Anything else under /api/ is a JSON 404, authenticated or not.
	notFound := s.secure(apiCSP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, r, http.StatusNotFound, "no such API route")
	}))
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
		mux.Handle(m+" /api/", notFound) // "GET /" is the public face's
	}
}

// pathID parses the {id} path value as an incident id.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not an incident id", incident.ErrInvalid, r.PathValue("id"))
	}
	return id, nil
}

// decode reads a JSON body into v; an empty body leaves v as it is.
// Unknown fields are refused, so a typo is not silently ignored.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: request body: %v", incident.ErrInvalid, err)
	}
	return nil
}

// incidentView is an incident with its notices and progress, as GET
// /api/incidents/{id} (and incident show --json) shows it.
type incidentView struct {
	*incident.Incident
	Notices  map[string]map[string]int `json:"notices,omitempty"`
	Progress *notify.Progress          `json:"progress,omitempty"`
	Send     *sendRun                  `json:"send,omitempty"`
	// Bounces counts the incident's bounces by outcome; BounceList lists
	// the latest (bounceListMax), without addresses.
	Bounces    map[string]int      `json:"bounces,omitempty"`
	BounceList []notify.BounceRow  `json:"bounce_list,omitempty"`
	Offers     *offer.Counts       `json:"offers,omitempty"`
	Relays     []notify.RelayCount `json:"relays,omitempty"`
}

// bounceListMax is the most bounces an incident view lists.
const bounceListMax = 200

func (s *server) incidentView(ctx context.Context, id int64) (*incidentView, error) {
	st := s.app.store
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	counts, err := notify.FindNoticeCounts(ctx, st, id)
	if err != nil {
		return nil, err
	}
	progress, err := notify.FindProgress(ctx, st, id, s.app.now(), notify.DefaultWarnDays)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return nil, err
	}
	v := &incidentView{Incident: inc, Notices: counts, Progress: progress}
	if v.Bounces, err = notify.FindBounceCounts(ctx, st, id); err != nil {
		return nil, err
	}
	if len(v.Bounces) > 0 {
		if v.BounceList, err = notify.FindBounces(ctx, st, id, bounceListMax); err != nil {
			return nil, err
		}
	}
	oc, err := offer.FindCounts(ctx, st.DB(), id)
	if err != nil {
		return nil, err
	}
	if oc.Assigned+oc.Remaining > 0 {
		v.Offers = &oc
	}
	if v.Relays, err = notify.FindRelayCounts(ctx, st, id); err != nil {
		return nil, err
	}
	if run, ok := s.adm.runs.get(id); ok {
		v.Send = &run
	}
	return v, nil
}

func (s *server) apiIncidents(w http.ResponseWriter, r *http.Request, u *incident.User) {
	incs, err := s.app.store.FindIncidents(r.Context(), incident.IncidentFilter{
		Controller: r.URL.Query().Get("controller"), Status: incident.Status(r.URL.Query().Get("status"))})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if incs == nil {
		incs = []*incident.Incident{}
	}
	writeJSON(w, http.StatusOK, incs)
}

func (s *server) apiIncident(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.incidentView(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// openRequest is POST /api/incidents' body.
type openRequest struct {
	Controller   string   `json:"controller"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Discovered   string   `json:"discovered"`
	OccurredFrom string   `json:"occurred_from"`
	OccurredTo   string   `json:"occurred_to"`
	Elements     []string `json:"elements"`
	Encrypted    bool     `json:"encrypted"`
	// Cause is malicious, accidental, lost_device, insider or unknown
	// (the default).
	Cause string `json:"cause"`
}

// newIncident checks an open request the way incident open checks its
// flags.
func (o openRequest) newIncident() (incident.NewIncident, error) {
	n := incident.NewIncident{ControllerID: o.Controller, Title: o.Title, Description: o.Description, Encrypted: o.Encrypted}
	if o.Controller == "" {
		return n, fmt.Errorf("%w: controller is required", incident.ErrInvalid)
	}
	var err error
	if n.Cause, err = incident.ParseCause(o.Cause); err != nil {
		return n, fmt.Errorf("cause: %w", err)
	}
	if o.Discovered != "" {
		// A date, or a date and time with its zone (clocks in hours run
		// from it).
		if n.Discovered, n.DiscoveredAt, err = incident.ParseDiscovery(o.Discovered); err != nil {
			return n, fmt.Errorf("discovered: %w", err)
		}
	}
	for _, d := range []struct {
		name, s string
		dst     *incident.Date
	}{{"occurred_from", o.OccurredFrom, &n.OccurredFrom}, {"occurred_to", o.OccurredTo, &n.OccurredTo}} {
		if d.s == "" {
			continue
		}
		if *d.dst, err = incident.ParseDate(d.s); err != nil {
			return n, fmt.Errorf("%w: %s: %v", incident.ErrInvalid, d.name, err)
		}
	}
	if n.Elements, err = incident.ParseElements(strings.Join(o.Elements, ",")); err != nil {
		return n, fmt.Errorf("elements: %w", err)
	}
	return n, nil
}

func (s *server) apiOpen(w http.ResponseWriter, r *http.Request, u *incident.User) {
	var o openRequest
	if err := decode(r, &o); err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := o.newIncident()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := s.app.store.CreateIncident(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/incidents/%d", inc.ID))
	writeJSON(w, http.StatusCreated, inc)
}

// updateRequest is PATCH /api/incidents/{id}'s body: the fields given
// change (an empty string clears a text field; months 0 means the law's),
// the others stay, as with incident update's flags.
type updateRequest struct {
	Cause              *string `json:"cause"`
	ProtectionProvider *string `json:"protection_provider"`
	ProtectionURL      *string `json:"protection_url"`
	ProtectionPhone    *string `json:"protection_phone"`
	ProtectionMonths   *int    `json:"protection_months"`
}

// apiUpdate changes an incident's cause or identity-theft-protection
// offer (security), as incident update does: months shorter than a planned
// jurisdiction owes are refused, naming it, and nothing changes.
func (s *server) apiUpdate(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q updateRequest
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	up := incident.IncidentUpdate{ProtectionProvider: q.ProtectionProvider, ProtectionURL: q.ProtectionURL,
		ProtectionPhone: q.ProtectionPhone, ProtectionMonths: q.ProtectionMonths}
	if q.Cause != nil {
		c, err := incident.ParseCause(*q.Cause)
		if err != nil {
			s.fail(w, r, fmt.Errorf("cause: %w", err))
			return
		}
		up.Cause = &c
	}
	if q.ProtectionMonths != nil && *q.ProtectionMonths < 0 {
		s.fail(w, r, fmt.Errorf("%w: protection_months: %d is negative", incident.ErrInvalid, *q.ProtectionMonths))
		return
	}
	if up == (incident.IncidentUpdate{}) {
		s.fail(w, r, fmt.Errorf("%w: nothing to change: give cause, protection_provider, protection_url, protection_phone or protection_months", incident.ErrInvalid))
		return
	}
	inc, _, err := updateIncident(r.Context(), s.app.store, id, up)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

// scopeRequest is POST /api/incidents/{id}/scope's body: exactly one of
// all, courses or accounts.
type scopeRequest struct {
	All      bool     `json:"all"`
	Courses  []string `json:"courses"`
	Accounts []string `json:"accounts"`
}

func (q scopeRequest) rule() (incident.ScopeRule, error) {
	n := 0
	for _, b := range []bool{q.All, len(q.Courses) > 0, len(q.Accounts) > 0} {
		if b {
			n++
		}
	}
	if n != 1 {
		return incident.ScopeRule{}, fmt.Errorf("%w: give exactly one of all, courses or accounts", incident.ErrInvalid)
	}
	rule := incident.ScopeRule{All: q.All, Courses: q.Courses}
	if len(q.Accounts) > 0 {
		rule.Accounts, rule.AccountsFile = strings.NewReader(strings.Join(q.Accounts, "\n")+"\n"), "request"
	}
	return rule, nil
}

func (s *server) apiScope(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q scopeRequest
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	rule, err := q.rule()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var problems []string
	res, err := s.app.store.ScopeIncident(r.Context(), id, rule, func(p incident.Problem) { problems = append(problems, p.String()) })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		incident.ScopeResult
		Problems []string `json:"problems,omitempty"`
	}{res, problems})
}

func (s *server) apiPlan(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := notify.MakePlan(r.Context(), s.app.store, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := s.app.store.FindIncidentByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notify.WithProtectionOffers(p, inc) // the offer arranged, as incident plan --json shows it
	writeJSON(w, http.StatusOK, p)
}

// checkSend refuses a send the dispatcher would refuse, before starting
// it: the role, the controller, the incident's status and hold.
func (s *server) checkSend(ctx context.Context, id int64) error {
	inc, err := s.app.store.FindIncidentFor(ctx, id, incident.ActSend)
	if err != nil {
		return err
	}
	if inc.Hold != nil {
		return fmt.Errorf("%w: incident %d is under a law-enforcement hold: nothing is sent until it is released", incident.ErrConflict, id)
	}
	if inc.Status != incident.StatusPlanned && inc.Status != incident.StatusNotifying {
		return fmt.Errorf("%w: incident %d is %s: send needs a planned incident", incident.ErrConflict, id, inc.Status)
	}
	if inc.Protection != nil && inc.Protection.Months > 0 {
		p, err := notify.FindPlan(ctx, s.app.store, id)
		if err != nil {
			return err
		}
		return notify.CheckProtectionMonths(p, inc.Protection.Months)
	}
	return nil
}

func (s *server) apiSend(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The body is optional: {"retry_failed": true} first puts the emails
	// that failed for good back in the queue.
	var q struct {
		RetryFailed bool `json:"retry_failed"`
	}
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.checkSend(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	run, started := s.startSend(r.Context(), id, q.RetryFailed)
	w.Header().Set("Location", fmt.Sprintf("/api/incidents/%d", id))
	writeJSON(w, http.StatusAccepted, struct {
		Started bool    `json:"started"`
		Run     sendRun `json:"run"`
	}{started, run})
}

func (s *server) apiHold(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := s.app.store.HoldIncident(r.Context(), id, q.Reason)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (s *server) apiRelease(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inc, err := s.app.store.ReleaseIncident(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

// apiObligations streams one JSON line per affected person. The incident
// and its plan are checked before the first byte, so a refusal is still a
// proper error; a failure mid-stream ends the stream short.
func (s *server) apiObligations(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := notify.FindPlan(r.Context(), s.app.store, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	err = notify.ForEachDecision(r.Context(), s.app.store, id, func(d *law.Decision) error { return enc.Encode(d) })
	if err != nil {
		s.log.Warn("obligations stream ended early", "route", r.Pattern, "error", err.Error())
		return
	}
	bw.Flush()
}

// publishRequest is POST /api/incidents/{id}/banner's body.
type publishRequest struct {
	Headline string `json:"headline"`
	Summary  string `json:"summary"`
	Until    string `json:"until"`
}

func (s *server) apiPublish(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q publishRequest
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.publish(r.Context(), id, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// publish publishes or updates an incident's banner, as banner publish
// does, and refreshes the public snapshot.
func (s *server) publish(ctx context.Context, id int64, q publishRequest) (*banner.Result, error) {
	opt := banner.PublishOptions{Headline: q.Headline, Summary: q.Summary, PublicURL: s.cfg.PublicURL}
	if q.Until != "" {
		d, err := incident.ParseDate(q.Until)
		if err != nil {
			return nil, fmt.Errorf("%w: until: %v", incident.ErrInvalid, err)
		}
		opt.Until = d
	}
	res, err := banner.Publish(ctx, s.app.store, id, opt)
	if err != nil {
		return nil, err
	}
	s.banners.check(context.Background())
	return res, nil
}

// withdrawRequest is DELETE /api/incidents/{id}/banner's body.
type withdrawRequest struct {
	Force  bool   `json:"force"`
	Reason string `json:"reason"`
}

func (s *server) apiWithdraw(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q withdrawRequest
	if err := decode(r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := banner.Withdraw(r.Context(), s.app.store, id, banner.WithdrawOptions{Force: q.Force, Reason: q.Reason})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.banners.check(context.Background())
	writeJSON(w, http.StatusOK, res)
}

// apiExport sends a controller's proof bundle (?incident=N: one
// incident's). The bundle is written to a private temporary file first,
// so a refusal or a failure is a proper error, never half a zip.
func (s *server) apiExport(w http.ResponseWriter, r *http.Request, u *incident.User) {
	s.serveExport(w, r)
}

func (s *server) serveExport(w http.ResponseWriter, r *http.Request) {
	controller := r.PathValue("id")
	var incidentID int64
	if v := r.URL.Query().Get("incident"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.fail(w, r, fmt.Errorf("%w: incident %q is not an incident id", incident.ErrInvalid, v))
			return
		}
		incidentID = n
	}
	dir, err := os.MkdirTemp("", "breachnotice-export-*")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "proof.zip")
	if _, err := notify.ExportProof(r.Context(), s.app.store, s.app.ledger,
		ledger.ExportOptions{Controller: controller, Incident: incidentID, Out: out, Attach: banner.Archive{Q: s.app.db}}); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := os.Open(out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	name := "proof-" + controller
	if incidentID != 0 {
		name += "-incident-" + strconv.FormatInt(incidentID, 10)
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFileName(name)+`.zip"`)
	http.ServeContent(w, r, "", s.app.now(), f)
}

// safeFileName keeps letters, digits, '-', '_' and '.'.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
