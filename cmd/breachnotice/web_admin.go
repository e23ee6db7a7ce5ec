package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/templates"
)

// The admin UI: server-rendered templ pages under /admin/, usable without
// JavaScript. Forms post to the same origin (CrossOriginProtection refuses
// any other) and redirect to a page that says what was done.

func (s *server) mountAdmin(mux *http.ServeMux) {
	css := docOf([]byte(templates.AdminCSS))
	mux.Handle("GET /admin/admin.css", s.secure(adminCSP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		serveDoc(w, r, css)
	})))
	mux.Handle("GET /admin/login", s.secure(adminCSP, http.HandlerFunc(s.handleLoginForm)))
	mux.Handle("POST /admin/login", s.secure(adminCSP, http.HandlerFunc(s.handleLogin)))
	mux.Handle("POST /admin/logout", s.secure(adminCSP, http.HandlerFunc(s.handleLogout)))
	for pattern, h := range map[string]userHandler{
		"GET /admin/{$}":                                 s.pageIncidents,
		"GET /admin/incidents/new":                       s.pageOpen,
		"POST /admin/incidents":                          s.postOpen,
		"GET /admin/incidents/{id}":                      s.pageIncident,
		"POST /admin/incidents/{id}/{action}":            s.postIncident,
		"POST /admin/incidents/{id}/banner/withdraw":     s.postWithdraw,
		"GET /admin/incidents/{id}/obligations":          s.apiObligations,
		"GET /admin/controllers/{$}":                     s.pageControllers,
		"GET /admin/controllers/{id}/ledger":             s.pageLedger,
		"POST /admin/controllers/{id}/ledger/checkpoint": s.postCheckpoint,
		"GET /admin/controllers/{id}/ledger/export":      s.apiExport,
		"GET /admin/audit":                               s.pageAudit,
		"GET /admin/users":                               s.pageUsers,
		"POST /admin/users":                              s.postUser,
		"POST /admin/users/{id}/{action}":                s.postUserAction,
		// Anything else under /admin/: the login page for the anonymous,
		// 404 for a user ("GET /" is the public face's).
		"GET /admin/":  s.pageNotFound,
		"POST /admin/": s.pageNotFound,
	} {
		mux.Handle(pattern, s.admin(h))
	}
}

// render writes a page with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Warn("render failed", "route", r.Pattern, "error", err.Error())
	}
}

// layout is the frame of a logged-in page: the navigation offers what the
// user's role may see.
func (s *server) layout(r *http.Request, u *incident.User, title, current string) templates.Layout {
	a := u.Actor()
	l := templates.Layout{Title: title, User: u.Name, Role: string(u.Role)}
	if u.Controller != "" {
		l.Role += " of " + u.Controller
	}
	add := func(href, label string) {
		l.Nav = append(l.Nav, templates.NavItem{Href: href, Label: label, Current: href == current})
	}
	add("/admin/", "Incidents")
	if u.Role == incident.RoleMember {
		add("/admin/controllers/"+u.Controller+"/ledger", "Ledger")
	} else {
		add("/admin/controllers/", "Ledgers")
	}
	if a.Can(incident.ActAudit, "") == nil {
		add("/admin/audit", "Audit log")
	}
	if a.Can(incident.ActUsers, "") == nil {
		add("/admin/users", "Users")
	}
	l.Flash = flashText(r.URL.Query().Get("done"))
	return l
}

// flashes are the confirmations a redirect after a form may show: fixed
// texts chosen by key, so that no request text is echoed.
var flashes = map[string]string{
	"opened": "Incident opened.", "scoped": "Scope resolved.", "planned": "Plan made.",
	"sending": "Sending started; this page follows its progress.", "running": "A send of this incident is already running.",
	"held": "Sending is on hold.", "released": "Hold released.", "published": "Banner published.",
	"withdrawn": "Banner withdrawn.", "user-added": "User added.", "user-disabled": "User disabled.",
	"token": "New token issued.", "signed": "Checkpoint signed.",
}

func flashText(key string) string { return flashes[key] }

// pageError shows a refused action: a plain 404 page when the thing is not
// found (or another controller's), else the message with its status.
func (s *server) pageError(w http.ResponseWriter, r *http.Request, u *incident.User, err error) {
	st := httpStatus(err)
	if st == http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	l := s.layout(r, u, http.StatusText(st), "")
	l.Flash, l.Error = "", errorText(err)
	if st == http.StatusNotFound {
		l.Error = "Not found."
	}
	s.render(w, r, st, templates.AdminMessage(l))
}

func (s *server) pageNotFound(w http.ResponseWriter, r *http.Request, u *incident.User) {
	s.pageError(w, r, u, incident.ErrNotFound)
}

func (s *server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if s.sessionUser(r) != nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, templates.AdminLogin(templates.LoginPage{}))
}

// handleLogin checks a name and password. Failures are counted per account
// and per address; past either limit the password is not even checked.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	addr := clientAddr(r)
	if s.adm.limiter.blocked(name, addr) {
		s.render(w, r, http.StatusTooManyRequests, templates.AdminLogin(templates.LoginPage{Name: name,
			Error: fmt.Sprintf("Too many failed attempts: try again in %d minutes.", int(loginWindow/time.Minute))}))
		return
	}
	u, err := s.app.store.CheckLogin(r.Context(), name, password)
	if err != nil {
		s.adm.limiter.fail(name, addr)
		s.render(w, r, http.StatusUnauthorized, templates.AdminLogin(templates.LoginPage{Name: name, Error: "Wrong name or password."}))
		return
	}
	s.adm.limiter.succeed(name)
	sid, err := s.app.store.CreateSession(r.Context(), u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setSession(w, r, sid, int(s.adm.limits.Absolute/time.Second))
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (s *server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.app.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setSession(w, r, "", -1)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (s *server) pageIncidents(w http.ResponseWriter, r *http.Request, u *incident.User) {
	ctx := r.Context()
	incs, err := s.app.store.FindIncidents(ctx, incident.IncidentFilter{})
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p := templates.IncidentsPage{Layout: s.layout(r, u, "Incidents", "/admin/"), CanOpen: u.Actor().Can(incident.ActOpen, "") == nil}
	for _, inc := range incs {
		row := templates.IncidentRow{ID: strconv.FormatInt(inc.ID, 10), Href: fmt.Sprintf("/admin/incidents/%d", inc.ID),
			Controller: inc.ControllerID, Title: inc.Title, Status: string(inc.Status), Affected: strconv.FormatInt(inc.Affected, 10),
			Owed: "-", NextDeadline: "-", Hold: inc.Hold != nil}
		if pr, err := notify.FindProgress(ctx, s.app.store, inc.ID, s.app.now(), notify.DefaultWarnDays); err == nil {
			row.Owed = strconv.Itoa(pr.Owed)
			row.NextDeadline = nextDeadline(pr)
		} else if !errors.Is(err, incident.ErrNotFound) {
			s.pageError(w, r, u, err)
			return
		}
		p.Rows = append(p.Rows, row)
	}
	s.render(w, r, http.StatusOK, templates.AdminIncidents(p))
}

// nextDeadline is the earliest deadline with work outstanding.
func nextDeadline(p *notify.Progress) string {
	best := ""
	var due incident.Date
	for _, d := range p.Deadlines {
		if d.State == notify.DeadlineMet || d.Due.IsZero() {
			continue
		}
		if best == "" || d.Due.Before(due.Time) {
			due = d.Due
			best = fmt.Sprintf("%s (%s %s, %s)", d.Due, d.Jurisdiction, d.Duty, strings.ReplaceAll(d.State, "_", " "))
		}
	}
	if best == "" {
		return "-"
	}
	return best
}

func (s *server) openPage(r *http.Request, u *incident.User) (templates.OpenPage, error) {
	p := templates.OpenPage{Layout: s.layout(r, u, "Open an incident", ""), Today: s.app.now().UTC().Format(time.DateOnly)}
	cs, err := s.app.store.FindControllers(r.Context())
	if err != nil {
		return p, err
	}
	for _, c := range cs {
		p.Controllers = append(p.Controllers, templates.Option{Value: c.ID, Label: c.Name + " (" + c.ID + ")", Selected: c.ID == r.PostFormValue("controller")})
	}
	picked := map[string]bool{}
	for _, e := range r.PostForm["elements"] {
		picked[e] = true
	}
	for _, e := range incident.Elements {
		p.Elements = append(p.Elements, templates.Option{Value: string(e), Label: strings.ReplaceAll(string(e), "_", " "), Selected: picked[string(e)]})
	}
	cause := r.PostFormValue("cause")
	if cause == "" {
		cause = string(incident.CauseUnknown)
	}
	for _, c := range incident.Causes {
		label := strings.ReplaceAll(string(c), "_", " ")
		if c == incident.CauseUnknown {
			label = "not yet known"
		}
		p.Causes = append(p.Causes, templates.Option{Value: string(c), Label: label, Selected: string(c) == cause})
	}
	return p, nil
}

func (s *server) pageOpen(w http.ResponseWriter, r *http.Request, u *incident.User) {
	if err := u.Actor().Can(incident.ActOpen, ""); err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p, err := s.openPage(r, u)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p.Discovered = p.Today
	s.render(w, r, http.StatusOK, templates.AdminOpen(p))
}

func (s *server) postOpen(w http.ResponseWriter, r *http.Request, u *incident.User) {
	r.ParseForm()
	o := openRequest{Controller: r.PostFormValue("controller"), Title: r.PostFormValue("title"),
		Description: strings.TrimSpace(r.PostFormValue("description")), Discovered: r.PostFormValue("discovered"),
		Elements: r.PostForm["elements"], Encrypted: r.PostFormValue("encrypted") != "", Cause: r.PostFormValue("cause")}
	n, err := o.newIncident()
	var inc *incident.Incident
	if err == nil {
		inc, err = s.app.store.CreateIncident(r.Context(), n)
	}
	if err != nil {
		if st := httpStatus(err); st == http.StatusForbidden || st == http.StatusInternalServerError {
			s.pageError(w, r, u, err)
			return
		}
		p, perr := s.openPage(r, u)
		if perr != nil {
			s.pageError(w, r, u, perr)
			return
		}
		p.Error, p.Title, p.Discovered, p.Description = errorText(err), o.Title, o.Discovered, o.Description
		s.render(w, r, httpStatus(err), templates.AdminOpen(p))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?done=opened", inc.ID), http.StatusSeeOther)
}

func (s *server) pageControllers(w http.ResponseWriter, r *http.Request, u *incident.User) {
	if u.Role == incident.RoleMember {
		http.Redirect(w, r, "/admin/controllers/"+u.Controller+"/ledger", http.StatusSeeOther)
		return
	}
	cs, err := s.app.store.FindControllers(r.Context())
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p := templates.ControllersPage{Layout: s.layout(r, u, "Ledgers", "/admin/controllers/")}
	for _, c := range cs {
		p.Rows = append(p.Rows, templates.ControllerRow{ID: c.ID, Name: c.Name, Kind: c.Kind(), Href: "/admin/controllers/" + c.ID + "/ledger"})
	}
	s.render(w, r, http.StatusOK, templates.AdminControllers(p))
}

func (s *server) pageAudit(w http.ResponseWriter, r *http.Request, u *incident.User) {
	es, err := s.app.store.FindAudit(r.Context(), 200)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p := templates.AuditPage{Layout: s.layout(r, u, "Audit log", "/admin/audit")}
	for _, e := range es {
		p.Rows = append(p.Rows, templates.AuditRow{At: e.At.UTC().Format("2006-01-02 15:04:05"), Actor: e.Actor, Action: e.Action, Object: e.Object, Detail: short(e.Detail, 200)})
	}
	s.render(w, r, http.StatusOK, templates.AdminAudit(p))
}
