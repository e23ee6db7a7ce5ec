package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// The admin UI and the API: who is asking, and what they may see. A
// request is authenticated here (a session cookie under /admin/, a bearer
// token under /api/) and carries its user's actor into the store, which
// decides what it may do (incident.Actor.Can). Handlers never check roles
// for access; they only choose which actions to offer.

// sessionCookie names the admin UI's session cookie.
const sessionCookie = "bn_session"

// Session limits: a session ends 30 minutes after its last request, and
// 12 hours after the login whatever happens.
var defaultSessionLimits = incident.SessionLimits{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

// Login attempt limits: failures counted over loginWindow, per account
// name and per client address.
const (
	loginWindow        = 15 * time.Minute
	loginPerAccount    = 5
	loginPerAddress    = 20
	maxFormBytes       = 64 << 10
	adminCSP           = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	apiCSP             = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
	wwwAuthenticate    = `Bearer realm="breachnotice"`
	errUnauthenticated = "missing or invalid bearer token"
)

// adminState is what the admin UI and the API keep in the serve process.
type adminState struct {
	limits  incident.SessionLimits
	cop     *http.CrossOriginProtection
	limiter *loginLimiter
	runs    *sendRuns
}

func newAdminState(now func() time.Time) *adminState {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, r, http.StatusForbidden, "cross-origin request refused")
	}))
	return &adminState{limits: defaultSessionLimits, cop: cop, limiter: newLoginLimiter(now), runs: newSendRuns()}
}

// httpStatus maps the domain's error kinds to HTTP statuses: the one place
// this is decided (exitCode is its command-line twin). Not found and
// another controller's data are both ErrNotFound, hence the same 404.
func httpStatus(err error) int {
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, incident.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, incident.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, incident.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, incident.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorText is what a response says about err: the domain's message for
// the kinds a user can act on, nothing of an internal error's.
func errorText(err error) string {
	if httpStatus(err) == http.StatusInternalServerError {
		return "internal error"
	}
	return err.Error()
}

// isAPI reports whether r is an API request (JSON errors).
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// writeStatus writes an error response: {"error": msg} for the API, a
// plain line for the admin UI.
func writeStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// fail writes err's status and message, and logs an internal error (its
// message only: domain errors name no person).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := httpStatus(err)
	if st == http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	writeStatus(w, r, st, errorText(err))
}

// secure sets the headers every admin and API response carries, then
// refuses a cross-origin state-changing request (CrossOriginProtection)
// before anything else runs.
func (s *server) secure(csp string, h http.Handler) http.Handler {
	protected := s.adm.cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		protected.ServeHTTP(w, r)
	})
}

// userHandler serves a request on behalf of an authenticated user; its
// context carries the user's actor.
type userHandler func(w http.ResponseWriter, r *http.Request, u *incident.User)

// api authenticates an API request by its bearer token: none, or one that
// is unknown, revoked or a disabled user's, is 401.
func (s *server) api(h userHandler) http.Handler {
	return s.secure(apiCSP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var u *incident.User
		var err error
		if ok {
			u, err = s.app.store.UserByToken(r.Context(), strings.TrimSpace(token))
		}
		if !ok || err != nil {
			w.Header().Set("WWW-Authenticate", wwwAuthenticate)
			writeStatus(w, r, http.StatusUnauthorized, errUnauthenticated)
			return
		}
		h(w, r.WithContext(incident.WithActor(r.Context(), u.Actor())), u)
	}))
}

// admin authenticates an admin UI request by its session cookie; without
// a live session, a GET is redirected to the login page and anything else
// refused.
func (s *server) admin(h userHandler) http.Handler {
	return s.secure(adminCSP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := s.sessionUser(r)
		if u == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			writeStatus(w, r, http.StatusUnauthorized, "not logged in")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		h(w, r.WithContext(incident.WithActor(r.Context(), u.Actor())), u)
	}))
}

// sessionUser returns the user of the request's live session, or nil.
func (s *server) sessionUser(r *http.Request) *incident.User {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	u, err := s.app.store.SessionUser(r.Context(), c.Value, s.adm.limits)
	if err != nil {
		return nil
	}
	return u
}

// secureCookies reports whether cookies must be Secure: served over TLS,
// or behind a proxy that the public reaches over https.
func (s *server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

func (s *server) setSession(w http.ResponseWriter, r *http.Request, sid string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/admin/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
}

// clientAddr is the request's remote address without its port. Headers
// such as X-Forwarded-For are not trusted: anyone can set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter counts failed logins per key over loginWindow.
type loginLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	failures map[string][]time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, failures: map[string][]time.Time{}}
}

// recent returns key's failures within the window, pruning older ones.
func (l *loginLimiter) recent(key string) int {
	cut := l.now().Add(-loginWindow)
	fs := l.failures[key]
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	if i == len(fs) {
		delete(l.failures, key)
		return 0
	}
	l.failures[key] = fs[i:]
	return len(fs) - i
}

// blocked reports whether another attempt for account from addr must be
// refused without checking the password.
func (l *loginLimiter) blocked(account, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recent("account:"+account) >= loginPerAccount || l.recent("addr:"+addr) >= loginPerAddress
}

// fail records a failed attempt.
func (l *loginLimiter) fail(account, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) > 100000 { // bounded memory under a flood of names
		for k := range l.failures {
			l.recent(k)
		}
	}
	l.failures["account:"+account] = append(l.failures["account:"+account], now)
	l.failures["addr:"+addr] = append(l.failures["addr:"+addr], now)
}

// succeed forgets an account's failures.
func (l *loginLimiter) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, "account:"+account)
}
