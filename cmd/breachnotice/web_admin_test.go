package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// The roles the web tests act as, in the order each route is tried: those
// that may change nothing first, so that only security's requests change
// what later requests see.
var webRoles = []string{"anonymous", "disabled", "memberB", "memberA", "legal", "security"}

// webUser is one seeded user and its credentials.
type webUser struct {
	name, password, token, cookie string
}

// adminEnv is webCLI's database with a second Member (sb, with incident 4),
// an open incident 5 of nb, one user per role, and a server whose log is
// kept.
type adminEnv struct {
	c     *cli
	s     *server
	log   *syncBuffer
	users map[string]*webUser
	// secrets are every password and token issued: none may show up in a
	// log, the audit table or a later response.
	secrets []string
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	c := webCLI(t)
	c.ok("controllers", "add", "--id", "sb", "--name", "Southbridge College", "--member", "--from", "privacy@sb.example")
	c.ok("courses", "import", c.file("sb-courses.csv", "course_id,member_id,title\nsb-101,sb,Statistics\n"))
	c.ok("enrollments", "import", c.file("sb-enr.csv", "account_id,course_id\na2,sb-101\n"))
	c.ok("incident", "open", "--controller", "sb", "--title", "Southbridge gradebook leak", "--discovered", "2026-11-21", "--elements", "name,email")
	c.ok("incident", "scope", "4", "--all")
	c.ok("incident", "plan", "4")
	c.ok("incident", "open", "--controller", "nb", "--title", "Northbridge phishing", "--discovered", "2026-11-25", "--elements", "name,email,password")
	e := &adminEnv{c: c, log: &syncBuffer{}, users: map[string]*webUser{}}
	for _, u := range []struct{ role, name, rolename, controller string }{
		{"security", "sec", "security", ""}, {"legal", "leg", "legal", ""}, {"memberA", "ma", "member", "nb"},
		{"memberB", "mb", "member", "sb"}, {"disabled", "dis", "security", ""},
	} {
		pw := "pw-" + u.name + "-correct-horse"
		args := []string{"users", "add", "--name", u.name, "--role", u.rolename, "--password-stdin", "--json"}
		if u.controller != "" {
			args = append(args, "--controller", u.controller)
		}
		out, errOut, code := c.runIn(pw+"\n", args...)
		if code != 0 {
			t.Fatalf("users add %s: %s", u.name, errOut)
		}
		var added struct{ Token string }
		json.Unmarshal([]byte(out), &added)
		e.users[u.role] = &webUser{name: u.name, password: pw, token: added.Token}
		e.secrets = append(e.secrets, pw, added.Token)
	}
	e.s = e.server(t)
	for role, u := range e.users {
		u.cookie = e.login(t, u.name, u.password, "192.0.2.1:1234")
		if u.cookie == "" {
			t.Fatalf("%s could not log in", role)
		}
		e.secrets = append(e.secrets, strings.TrimPrefix(u.cookie, sessionCookie+"="))
	}
	c.ok("users", "disable", "dis")
	return e
}

func (e *adminEnv) server(t *testing.T) *server {
	t.Helper()
	c := e.c
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	t.Cleanup(a.close)
	ctx := context.Background()
	if _, err := a.open(ctx, dbExisting); err != nil {
		t.Fatal(err)
	}
	send := defaultSendFlags()
	send.outbox = filepath.Join(c.dir, "outbox")
	s, err := a.newServer(ctx, serverConfig{Log: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})), Send: send})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.adm.runs.stop)
	return s
}

// login posts the login form and returns the session cookie ("" when
// refused).
func (e *adminEnv) login(t *testing.T, name, password, addr string) string {
	t.Helper()
	res := e.do(t, "POST", "/admin/login", url.Values{"name": {name}, "password": {password}}.Encode(), addr)
	for _, c := range res.Result().Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// do sends a request; header is pairs of names and values.
func (e *adminEnv) do(t *testing.T, method, path, body, addr string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if addr != "" {
		r.RemoteAddr = addr
	}
	if body != "" && strings.HasPrefix(path, "/admin/") {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.s.handler.ServeHTTP(w, r)
	return w
}

// as sends a request as role: its bearer token to /api/, its session
// cookie to /admin/.
func (e *adminEnv) as(t *testing.T, role, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	if u := e.users[role]; u != nil {
		if strings.HasPrefix(path, "/api/") {
			header = append(header, "Authorization", "Bearer "+u.token)
		} else {
			header = append(header, "Cookie", u.cookie)
		}
	}
	return e.do(t, method, path, body, "", header...)
}

// expect is one role's expected response.
type expect struct {
	status   int
	contains []string
	lacks    []string
}

// routeCase is one route tried as every role. A role missing from want
// gets deflt.
type routeCase struct {
	name, method, path, body string
	want                     map[string]expect
}

const (
	nbTitle  = "LMS database copied"
	opTitle  = "Operator mail logs exposed"
	sbTitle  = "Southbridge gradebook leak"
	zipMagic = "PK\x03\x04"
)

// anon is what anonymous and disabled users get: 401 from the API, the
// login page from an admin GET, 401 from an admin POST.
func anon(method, path string) expect {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return expect{status: 401, contains: []string{`"error": "missing or invalid bearer token"`}, lacks: []string{nbTitle, opTitle, sbTitle}}
	case method == "GET":
		return expect{status: 303, lacks: []string{nbTitle, opTitle, sbTitle}}
	}
	return expect{status: 401, lacks: []string{nbTitle, opTitle, sbTitle}}
}

// hidden is a member's answer about another controller's data: 404 and no
// byte of it.
func hidden(secret ...string) expect {
	return expect{status: 404, lacks: append([]string{zipMagic, "ana@", "zed@", "Zed Quux", `"jurisdiction"`}, secret...)}
}

func refused() expect { return expect{status: 403, contains: []string{"may not"}} }

func ok(status int, contains ...string) expect { return expect{status: status, contains: contains} }

// TestWeb_RoutesByRole: every admin and API route as every role: status,
// what the body must hold and must not. A member probing another
// controller's incident, obligations, ledger, export or banner gets 404
// and none of it; a role that may not act gets 403; no token, a bad one or
// a disabled user's gets 401 (the API) or the login page (the UI).
func TestWeb_RoutesByRole(t *testing.T) {
	e := newAdminEnv(t)
	incidentJSON := `{"controller":"nb","title":"Opened by API","discovered":"2026-11-27","elements":["name","email"],"cause":"malicious"}`
	cases := []routeCase{
		{"ListIncidents", "GET", "/api/incidents", "", map[string]expect{
			"memberB": {status: 200, contains: []string{sbTitle}, lacks: []string{nbTitle, opTitle}},
			"memberA": {status: 200, contains: []string{nbTitle, "Unpublished secret title"}, lacks: []string{opTitle, sbTitle}},
			"legal":   ok(200, nbTitle, opTitle, sbTitle), "security": ok(200, nbTitle, opTitle, sbTitle)}},
		{"IncidentOfA", "GET", "/api/incidents/1", "", map[string]expect{
			"memberB": hidden(nbTitle), "memberA": ok(200, nbTitle, `"progress"`, `"deadlines"`), "legal": ok(200, nbTitle), "security": ok(200, nbTitle)}},
		{"IncidentOfOperator", "GET", "/api/incidents/2", "", map[string]expect{
			"memberB": hidden(opTitle), "memberA": hidden(opTitle), "legal": ok(200, opTitle), "security": ok(200, opTitle)}},
		{"NoIncident", "GET", "/api/incidents/99", "", map[string]expect{
			"memberB": hidden(), "memberA": hidden(), "legal": hidden(), "security": hidden()}},
		{"ObligationsOfA", "GET", "/api/incidents/1/obligations", "", map[string]expect{
			"memberB": hidden(nbTitle), "memberA": ok(200, `"jurisdiction"`), "legal": ok(200, `"jurisdiction"`), "security": ok(200, `"jurisdiction"`)}},
		{"ExportOfA", "GET", "/api/controllers/nb/ledger/export", "", map[string]expect{
			"memberB": hidden("Northbridge"), "memberA": ok(200, zipMagic), "legal": ok(200, zipMagic), "security": ok(200, zipMagic)}},
		{"ExportOfOperatorIncident", "GET", "/api/controllers/op/ledger/export?incident=2", "", map[string]expect{
			"memberB": hidden(), "memberA": hidden(), "legal": ok(200, zipMagic), "security": ok(200, zipMagic)}},
		{"OpenIncident", "POST", "/api/incidents", incidentJSON, map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(201, `"title": "Opened by API"`, `"status": "open"`, `"cause": "malicious"`)}},
		{"Scope", "POST", "/api/incidents/5/scope", `{"all":true}`, map[string]expect{
			"memberB": hidden("Northbridge phishing"), "memberA": refused(), "legal": refused(), "security": ok(200, `"affected": 3`)}},
		{"Plan", "POST", "/api/incidents/5/plan", "", map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(200, `"jurisdictions"`)}},
		{"Hold", "POST", "/api/incidents/5/hold", `{"reason":"FBI field office"}`, map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(200, `"reason": "FBI field office"`)}},
		{"SendOnHold", "POST", "/api/incidents/5/send", "", map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(409, "law-enforcement hold")}},
		{"Release", "POST", "/api/incidents/5/release", "", map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(200, `"hold": null`)}},
		{"PublishBanner", "POST", "/api/incidents/5/banner", `{"headline":"Notice about our phishing incident"}`, map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(200, "Notice about our phishing incident")}},
		{"WithdrawTooEarly", "DELETE", "/api/incidents/5/banner", "", map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(409, "must stay up until")}},
		{"BadBody", "POST", "/api/incidents/5/hold", `{"reasn":"typo"}`, map[string]expect{
			"memberB": ok(400, "unknown field"), "memberA": ok(400), "legal": ok(400), "security": ok(400, "unknown field")}},
		{"Send", "POST", "/api/incidents/5/send", "", map[string]expect{
			"memberB": hidden(), "memberA": refused(), "legal": refused(), "security": ok(202, `"started": true`)}},
		{"WithdrawOperatorBanner", "DELETE", "/api/incidents/2/banner", `{"force":true,"reason":"posted in error"}`, map[string]expect{
			"memberB": hidden(opTitle), "memberA": hidden(opTitle), "legal": refused(), "security": ok(200, `"forced": true`)}},
		{"UnknownAPIRoute", "GET", "/api/nothing", "", map[string]expect{
			"anonymous": ok(404, `"error"`), "disabled": ok(404), "memberB": ok(404), "memberA": ok(404), "legal": ok(404), "security": ok(404)}},
		{"OpenAPI", "GET", "/api/openapi.json", "", map[string]expect{
			"anonymous": ok(200, `"openapi": "3.1.0"`), "disabled": ok(200), "memberB": ok(200), "memberA": ok(200), "legal": ok(200), "security": ok(200)}},

		{"AdminIncidents", "GET", "/admin/", "", map[string]expect{
			"memberB":  {status: 200, contains: []string{sbTitle, "mb (member of sb)"}, lacks: []string{nbTitle, opTitle, "Open an incident", "Audit log", "Users"}},
			"memberA":  {status: 200, contains: []string{nbTitle}, lacks: []string{opTitle, sbTitle, "Open an incident"}},
			"legal":    {status: 200, contains: []string{nbTitle, opTitle, sbTitle, "Audit log"}, lacks: []string{"Open an incident", ">Users<"}},
			"security": ok(200, nbTitle, opTitle, sbTitle, "Open an incident", ">Users<")}},
		{"AdminIncidentOfA", "GET", "/admin/incidents/1", "", map[string]expect{
			"memberB":  hidden(nbTitle),
			"memberA":  {status: 200, contains: []string{nbTitle, `data-testid="obligations"`, `data-testid="timeline"`, `<th scope="col">Protection</th>`}, lacks: []string{"send-form", "hold-form", "publish-form"}},
			"legal":    {status: 200, contains: []string{nbTitle, `data-testid="obligations"`}, lacks: []string{"send-form", "hold-form"}},
			"security": ok(200, nbTitle, "send-form", "hold-form", "withdraw-form", `data-testid="duties"`)}},
		{"AdminIncidentOfOperator", "GET", "/admin/incidents/2", "", map[string]expect{
			"memberB": hidden(opTitle), "memberA": hidden(opTitle), "legal": ok(200, opTitle), "security": ok(200, opTitle)}},
		{"AdminObligationsOfA", "GET", "/admin/incidents/1/obligations", "", map[string]expect{
			"memberB": hidden(), "memberA": ok(200, `"jurisdiction"`), "legal": ok(200), "security": ok(200)}},
		{"AdminLedgerOfA", "GET", "/admin/controllers/nb/ledger", "", map[string]expect{
			"memberB": hidden("Northbridge", "SHA256:"),
			"memberA": {status: 200, contains: []string{"Ledger of Northbridge University", "SHA256:", `data-testid="checkpoints"`}, lacks: []string{"sign-form"}},
			"legal":   ok(200, "Northbridge University", "sign-form"), "security": ok(200, "Northbridge University", "sign-form")}},
		{"AdminExportOfA", "GET", "/admin/controllers/nb/ledger/export?incident=1", "", map[string]expect{
			"memberB": hidden(), "memberA": ok(200, zipMagic), "legal": ok(200, zipMagic), "security": ok(200, zipMagic)}},
		{"AdminLedgers", "GET", "/admin/controllers/", "", map[string]expect{
			"memberB": ok(303), "memberA": ok(303), "legal": ok(200, "Southbridge College", "Northbridge University"), "security": ok(200, "Southbridge College")}},
		{"AdminSignCheckpointOfA", "POST", "/admin/controllers/nb/ledger/checkpoint", "", map[string]expect{
			"memberB": hidden("Northbridge"), "memberA": refused(), "legal": ok(303), "security": ok(303)}},
		{"AdminAudit", "GET", "/admin/audit", "", map[string]expect{
			"memberB": refused(), "memberA": refused(), "legal": ok(200, "incident.open", "user.add", "ledger.checkpoint"), "security": ok(200, "user.login")}},
		{"AdminUsers", "GET", "/admin/users", "", map[string]expect{
			"memberB": refused(), "memberA": refused(), "legal": refused(), "security": ok(200, `data-testid="users"`, "leg", "add-user")}},
		{"AdminOpenForm", "GET", "/admin/incidents/new", "", map[string]expect{
			"memberB": refused(), "memberA": refused(), "legal": refused(), "security": ok(200, `name="elements" value="ssn"`, `<option value="unknown" selected>not yet known</option>`)}},
		{"AdminHoldOfA", "POST", "/admin/incidents/1/hold", "reason=police", map[string]expect{
			"memberB": hidden(nbTitle), "memberA": refused(), "legal": refused(), "security": ok(303)}},
		{"AdminReleaseOfA", "POST", "/admin/incidents/1/release", "", map[string]expect{
			"memberB": hidden(nbTitle), "memberA": refused(), "legal": refused(), "security": ok(303)}},
		{"AdminWithdrawOfA", "POST", "/admin/incidents/1/banner/withdraw", "reason=posted+in+error", map[string]expect{
			"memberB": hidden(nbTitle), "memberA": refused(), "legal": refused(), "security": ok(303)}},
		{"AdminAddUser", "POST", "/admin/users", "name=newbie&role=legal", map[string]expect{
			"memberB": refused(), "memberA": refused(), "legal": refused(), "security": ok(201, `data-testid="new-token"`, "bn_")}},
		{"AdminUnknownPage", "GET", "/admin/nothing", "", map[string]expect{
			"memberB": ok(404), "memberA": ok(404), "legal": ok(404), "security": ok(404)}},
		{"AdminLoginPage", "GET", "/admin/login", "", map[string]expect{
			"anonymous": ok(200, `action="/admin/login"`, `type="password"`), "disabled": ok(200, "Log in"),
			"memberB": ok(303), "memberA": ok(303), "legal": ok(303), "security": ok(303)}},
	}
	for _, tc := range cases {
		for _, role := range webRoles {
			t.Run(tc.name+"/"+role, func(t *testing.T) {
				want, ok := tc.want[role]
				if !ok {
					want = anon(tc.method, tc.path)
				}
				res := e.as(t, role, tc.method, tc.path, tc.body)
				body := res.Body.String()
				if res.Code != want.status {
					t.Fatalf("%s %s as %s: status %d, want %d\n%s", tc.method, tc.path, role, res.Code, want.status, short(body, 400))
				}
				for _, s := range want.contains {
					if !strings.Contains(body, s) {
						t.Errorf("body lacks %q:\n%s", s, short(body, 600))
					}
				}
				for _, s := range want.lacks {
					if strings.Contains(body, s) {
						t.Errorf("body holds %q:\n%s", s, short(body, 600))
					}
				}
				if strings.HasPrefix(tc.path, "/api/") && res.Code >= 400 {
					var msg struct{ Error string }
					if err := json.Unmarshal(res.Body.Bytes(), &msg); err != nil || msg.Error == "" {
						t.Errorf("API error body %q: want {\"error\": \"...\"}", body)
					}
				}
				if res.Code == 303 && role != "anonymous" && role != "disabled" {
					return
				}
				if res.Code == 303 {
					if loc := res.Header().Get("Location"); loc != "/admin/login" {
						t.Errorf("redirected to %q, want /admin/login", loc)
					}
				}
				if csp := res.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
					t.Errorf("CSP %q", csp)
				}
			})
		}
	}
	e.s.adm.runs.wg.Wait()
	e.checkSecrets(t)
}

// checkSecrets: no password, token or session id in the log, the audit
// table or the database's users and sessions tables.
func (e *adminEnv) checkSecrets(t *testing.T) {
	t.Helper()
	db := e.c.openDB()
	defer db.Close()
	var dump strings.Builder
	hex := "hex(%s)"
	if migrations.IsPostgres(db) {
		hex = "encode(%s, 'hex')"
	}
	for _, q := range []string{`SELECT actor || action || object || detail FROM audit`,
		`SELECT name || password_hash || coalesce(` + fmt.Sprintf(hex, "token_hash") + `, '') FROM users`,
		`SELECT ` + fmt.Sprintf(hex, "id_hash") + ` FROM sessions`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			dump.WriteString(s + "\n")
		}
		rows.Close()
	}
	for _, s := range e.secrets {
		if strings.Contains(e.log.String(), s) {
			t.Errorf("the server log holds a secret")
		}
		if strings.Contains(dump.String(), s) {
			t.Errorf("the database holds a secret in the clear")
		}
	}
}

// TestWeb_SendFromAPI: a send started by the API runs the dispatcher in
// the server, the incident shows its result, and a CLI run afterwards
// sends nothing twice.
func TestWeb_SendFromAPI(t *testing.T) {
	e := newAdminEnv(t)
	for _, step := range []struct{ path, body string }{{"/api/incidents/5/scope", `{"all":true}`}, {"/api/incidents/5/plan", ""}, {"/api/incidents/5/send", ""}} {
		if res := e.as(t, "security", "POST", step.path, step.body); res.Code >= 300 {
			t.Fatalf("%s: %d %s", step.path, res.Code, res.Body)
		}
	}
	// A second send while the first runs (or after) never runs twice at
	// once; wait for the run, then read the incident.
	e.s.adm.runs.wg.Wait()
	res := e.as(t, "security", "GET", "/api/incidents/5", "")
	var v struct {
		Send    *sendRun                  `json:"send"`
		Notices map[string]map[string]int `json:"notices"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &v); err != nil || v.Send == nil || v.Send.Running || v.Send.Result == nil {
		t.Fatalf("incident after send: %v %s", err, res.Body)
	}
	if v.Send.Error != "" || v.Send.Result.Sent == 0 || v.Notices["email"]["sent"] != v.Send.Result.Sent || v.Send.By != "security:sec" {
		t.Errorf("send run %+v, notices %v", *v.Send, v.Notices)
	}
	emls, _ := filepath.Glob(filepath.Join(e.c.dir, "outbox", "*.eml"))
	if len(emls) != v.Send.Result.Sent {
		t.Errorf("%d .eml files for %d sent", len(emls), v.Send.Result.Sent)
	}
	out := e.c.ok("incident", "send", "5", "--outbox", filepath.Join(e.c.dir, "outbox"))
	if !strings.Contains(out, "0 sent") {
		t.Errorf("CLI send after the web's: %q", out)
	}
	page := e.as(t, "security", "GET", "/admin/incidents/5", "").Body.String()
	for _, want := range []string{"Send finished", `data-testid="delivery"`, "email (", `class="s-sent"`} {
		if !strings.Contains(page, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
}

// TestWeb_CrossOrigin: a state-changing request from another origin is
// refused before it does anything, with a valid session or token.
func TestWeb_CrossOrigin(t *testing.T) {
	e := newAdminEnv(t)
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		res := e.as(t, "security", "POST", "/admin/incidents/1/hold", "reason=csrf", h...)
		if res.Code != 403 {
			t.Errorf("admin form with %s: %d, want 403", h[0], res.Code)
		}
		res = e.as(t, "security", "POST", "/api/incidents/1/hold", `{"reason":"csrf"}`, h...)
		if res.Code != 403 || !strings.Contains(res.Body.String(), `"error"`) {
			t.Errorf("API with %s: %d %s, want 403", h[0], res.Code, res.Body)
		}
		res = e.do(t, "POST", "/admin/logout", "", "", append(h, "Cookie", e.users["security"].cookie)...)
		if res.Code != 403 {
			t.Errorf("logout with %s: %d, want 403", h[0], res.Code)
		}
	}
	if body := e.as(t, "security", "GET", "/api/incidents/1", "").Body.String(); !strings.Contains(body, `"hold": null`) {
		t.Errorf("a refused cross-origin hold held the incident: %s", short(body, 300))
	}
	if res := e.as(t, "security", "POST", "/admin/incidents/1/hold", "reason=police", "Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"); res.Code != 303 {
		t.Errorf("same-origin form: %d, want 303", res.Code)
	}
}

// TestWeb_Sessions: the cookie's attributes, logout, idle and absolute
// expiry, and the login limits per account and per address.
func TestWeb_Sessions(t *testing.T) {
	e := newAdminEnv(t)
	res := e.do(t, "POST", "/admin/login", "name=leg&password=pw-leg-correct-horse", "198.51.100.7:1")
	set := res.Header().Get("Set-Cookie")
	for _, want := range []string{"bn_session=bns_", "Path=/admin/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q: Secure over plain HTTP", set)
	}
	t.Run("SecureOverTLS", func(t *testing.T) {
		r := httptest.NewRequest("POST", "https://example.org/admin/login", strings.NewReader("name=leg&password=pw-leg-correct-horse"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.s.handler.ServeHTTP(w, r)
		if set := w.Header().Get("Set-Cookie"); !strings.Contains(set, "Secure") {
			t.Errorf("over TLS: Set-Cookie %q lacks Secure", set)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		cookie := e.login(t, "leg", "pw-leg-correct-horse", "")
		if res := e.do(t, "POST", "/admin/logout", "", "", "Cookie", cookie); res.Code != 303 || !strings.Contains(res.Header().Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout: %d %q", res.Code, res.Header().Get("Set-Cookie"))
		}
		if res := e.do(t, "GET", "/admin/", "", "", "Cookie", cookie); res.Code != 303 {
			t.Errorf("after logout: %d, want the login page", res.Code)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		start := e.c.now
		defer func() { e.c.now = start }()
		cookie := e.login(t, "leg", "pw-leg-correct-horse", "")
		e.c.now = start.Add(29 * time.Minute)
		if res := e.do(t, "GET", "/admin/", "", "", "Cookie", cookie); res.Code != 200 {
			t.Fatalf("29 idle minutes: %d", res.Code)
		}
		e.c.now = e.c.now.Add(31 * time.Minute)
		if res := e.do(t, "GET", "/admin/", "", "", "Cookie", cookie); res.Code != 303 {
			t.Errorf("31 idle minutes: %d, want the login page", res.Code)
		}
		cookie = e.login(t, "leg", "pw-leg-correct-horse", "")
		for i := 0; i < 25; i++ { // busy for 12.5 hours
			e.c.now = e.c.now.Add(30 * time.Minute)
			if res := e.do(t, "GET", "/admin/", "", "", "Cookie", cookie); res.Code != 200 {
				if e.c.now.Sub(start) < 12*time.Hour {
					t.Fatalf("after %s: %d", e.c.now.Sub(start), res.Code)
				}
				return
			}
		}
		t.Error("a session outlived its 12-hour absolute limit")
	})
	t.Run("LimitPerAccount", func(t *testing.T) {
		for i := 0; i < loginPerAccount; i++ {
			if res := e.do(t, "POST", "/admin/login", "name=ma&password=wrong-password-x", "203.0.113.1:1"); res.Code != 401 {
				t.Fatalf("failure %d: %d", i, res.Code)
			}
		}
		res := e.do(t, "POST", "/admin/login", "name=ma&password=pw-ma-correct-horse", "203.0.113.99:1")
		if res.Code != 429 || res.Header().Get("Set-Cookie") != "" {
			t.Errorf("right password after %d failures, other address: %d, want 429 and no session", loginPerAccount, res.Code)
		}
		if e.login(t, "mb", "pw-mb-correct-horse", "203.0.113.1:1") == "" {
			t.Error("another account from the same address is refused")
		}
	})
	t.Run("LimitPerAddress", func(t *testing.T) {
		for i := 0; i < loginPerAddress; i++ {
			e.do(t, "POST", "/admin/login", "name=nobody"+string(rune('a'+i))+"&password=x", "203.0.113.50:1")
		}
		if e.login(t, "mb", "pw-mb-correct-horse", "203.0.113.50:2") != "" {
			t.Error("the address is not limited")
		}
		if e.login(t, "mb", "pw-mb-correct-horse", "203.0.113.51:1") == "" {
			t.Error("another address is limited too")
		}
	})
	t.Run("WrongPasswordSaysNoMore", func(t *testing.T) {
		a := e.do(t, "POST", "/admin/login", "name=sec&password=wrong-password-y", "203.0.113.70:1").Body.String()
		b := e.do(t, "POST", "/admin/login", "name=nosuchuser&password=wrong-password-y", "203.0.113.70:1").Body.String()
		if strings.Replace(a, `value="sec"`, "", 1) != strings.Replace(b, `value="nosuchuser"`, "", 1) {
			t.Error("a wrong password and an unknown name answer differently")
		}
	})
	e.checkSecrets(t)
}

// tokenRe matches an API token.
var tokenRe = regexp.MustCompile(`bn_[A-Za-z0-9_-]{43}`)

// TestWeb_SecretsShownOnce: a token issued on the users page is in that
// response only: not in the page afterwards, not in the API, not in the
// log.
func TestWeb_SecretsShownOnce(t *testing.T) {
	e := newAdminEnv(t)
	res := e.as(t, "security", "POST", "/admin/users", "name=newcomer&role=member&controller=nb&password=a-long-enough-password")
	m := tokenRe.FindString(res.Body.String())
	if res.Code != 201 || m == "" {
		t.Fatalf("add user: %d", res.Code)
	}
	e.secrets = append(e.secrets, m, "a-long-enough-password")
	res = e.as(t, "security", "POST", "/admin/users/6/token", "")
	m2 := tokenRe.FindString(res.Body.String())
	if res.Code != 200 || m2 == "" || m2 == m {
		t.Fatalf("new token: %d", res.Code)
	}
	e.secrets = append(e.secrets, m2)
	for _, p := range []string{"/admin/users", "/admin/audit", "/api/incidents"} {
		if body := e.as(t, "security", "GET", p, "").Body.String(); tokenRe.MatchString(body) {
			t.Errorf("%s shows a token", p)
		}
	}
	// The old token is revoked, the new one works and is a member's.
	if res := e.do(t, "GET", "/api/incidents", "", "", "Authorization", "Bearer "+m); res.Code != 401 {
		t.Errorf("revoked token: %d", res.Code)
	}
	if res := e.do(t, "GET", "/api/incidents", "", "", "Authorization", "Bearer "+m2); res.Code != 200 || strings.Contains(res.Body.String(), opTitle) {
		t.Errorf("new member token: %d", res.Code)
	}
	e.checkSecrets(t)
	if b, err := os.ReadFile(e.c.env["BREACHNOTICE_DB"]); err == nil && bytes.Contains(b, []byte(m2)) {
		t.Error("the database file holds a token")
	}
}

// TestOpenAPI_Routes: the OpenAPI document describes exactly the API's
// routes.
func TestOpenAPI_Routes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{"GET /api/openapi.json": true}
	for pattern := range (&server{}).apiRoutes() {
		served[pattern] = true
	}
	for p := range served {
		if !documented[p] {
			t.Errorf("route %s is not in the OpenAPI document", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("the OpenAPI document describes %s, which is not served", p)
		}
	}
}

// TestWeb_DeadlineAlerts: the alerts the scheduler's deadline watch raised
// are marked on the admin incident page, as incident show marks them, for
// whoever may see the incident and for no one else.
func TestWeb_DeadlineAlerts(t *testing.T) {
	e := newAdminEnv(t)
	page := func(role string) string {
		res := e.as(t, role, "GET", "/admin/incidents/1", "")
		if res.Code != 200 {
			t.Fatalf("%s: GET /admin/incidents/1: %d", role, res.Code)
		}
		return res.Body.String()
	}
	if strings.Contains(page("security"), "Deadline alerts raised") {
		t.Fatal("alerts shown before the deadline watch ran")
	}
	out := e.c.ok("jobs", "run", "deadline-watch", "--now", "2027-03-01T09:00:00Z", "--outbox", filepath.Join(e.c.dir, "alerts"))
	if !strings.Contains(out, "missed") {
		t.Fatalf("deadline watch raised no missed alert: %s", out)
	}
	for _, role := range []string{"security", "legal"} {
		body := page(role)
		for _, w := range []string{`data-testid="alerts"`, "Deadline alerts raised", "<td>missed</td>"} {
			if !strings.Contains(body, w) {
				t.Errorf("%s: incident page lacks %q", role, w)
			}
		}
	}
	if res := e.as(t, "memberB", "GET", "/admin/incidents/1", ""); res.Code != 404 || strings.Contains(res.Body.String(), "Deadline alerts") {
		t.Errorf("memberB sees incident 1's alerts: %d", res.Code)
	}
}

// TestWeb_OpenFormCause: the open-an-incident form takes the cause of the
// breach, as incident open --cause does, and a cause it does not know is
// refused with the form kept.
func TestWeb_OpenFormCause(t *testing.T) {
	e := newAdminEnv(t)
	form := url.Values{"controller": {"nb"}, "title": {"Laptop left on a train"}, "discovered": {"2026-11-27"},
		"elements": {"name", "email"}, "cause": {"lost_device"}}
	if res := e.as(t, "security", "POST", "/admin/incidents", form.Encode()); res.Code != 303 {
		t.Fatalf("open with cause: %d %s", res.Code, res.Body)
	}
	if out := e.c.ok("incident", "show", "6", "--json"); !strings.Contains(out, `"cause": "lost_device"`) {
		t.Errorf("incident 6 does not keep the cause:\n%s", out)
	}
	form.Set("cause", "hackers")
	res := e.as(t, "security", "POST", "/admin/incidents", form.Encode())
	if body := res.Body.String(); res.Code != 400 || !strings.Contains(body, "unknown cause") || !strings.Contains(body, "Laptop left on a train") {
		t.Errorf("unknown cause: %d\n%s", res.Code, body)
	}
}

// TestWeb_BouncesAndOffers: the incident page and GET /api/incidents/{id}
// count an incident's bounces by outcome and list them (notice, status,
// outcome, how matched; never the address), count its protection codes
// (assigned, remaining) and what each relay carried; a Member sees its own
// controller's, and another Member's incident is 404 on both.
func TestWeb_BouncesAndOffers(t *testing.T) {
	e := newAdminEnv(t)
	c := e.c
	srv := smtptest.Start(t)
	c.ok("incident", "send", "1", "--channel", "email", "--smtp", srv.URL())
	var zed smtptest.Received
	for _, m := range srv.Messages() {
		if m.To[0] == "zed@learners.example" {
			zed = m
		}
	}
	if zed.MessageID == "" {
		t.Fatalf("incident 1 sent no email to zed: %v", srv.Messages())
	}
	if out := c.ok("bounces", "import", c.file("zed.eml", bounceFrom(t, "postfix.eml", zed))); !strings.Contains(out, "1 bounced") {
		t.Fatalf("bounces import: %s", out)
	}
	c.ok("incident", "open", "--controller", "nb", "--title", "Northbridge SSNs", "--discovered", "2026-11-26", "--elements", "name,ssn")
	c.ok("incident", "scope", "6", "--all")
	c.ok("incident", "plan", "6")
	c.ok("offers", "import", "6", c.file("codes.csv", "code\nC-0001\nC-0002\nC-0003\nC-0004\nC-0005\n"))
	var assigned int
	db := c.openDB()
	defer db.Close()
	db.QueryRow(`SELECT count(*) FROM offer_codes WHERE incident_id = 6 AND account_id IS NOT NULL`).Scan(&assigned)
	if assigned == 0 {
		t.Fatal("offers import assigned no code: the test tests nothing")
	}
	relay := srv.Addr()
	offers := fmt.Sprintf("%d assigned, %d remaining.", assigned, 5-assigned)
	cases := []routeCase{
		{"IncidentPageBounces", "GET", "/admin/incidents/1", "", map[string]expect{
			"memberB": hidden(nbTitle),
			"memberA": {status: 200, contains: []string{`data-testid="bounce-list"`, "<td>5.1.1</td>", "1 letter queued", relay}, lacks: []string{"zed@", "No bounces"}},
			"legal":   ok(200, `data-testid="bounce-list"`, "<td>5.1.1</td>"), "security": ok(200, `data-testid="bounce-list"`, "return-path")}},
		{"APIIncidentBounces", "GET", "/api/incidents/1", "", map[string]expect{
			"memberB": hidden(nbTitle),
			"memberA": {status: 200, contains: []string{`"bounce_list"`, `"status":"5.1.1"`, `"letter_queued":1`, `"relay":"` + relay + `"`}, lacks: []string{"zed@"}},
			"legal":   ok(200, `"bounce_list"`), "security": ok(200, `"bounce_list"`)}},
		{"IncidentPageOffers", "GET", "/admin/incidents/6", "", map[string]expect{
			"memberB":  hidden("Northbridge SSNs"),
			"memberA":  {status: 200, contains: []string{`data-testid="offers"`, offers, "No bounces."}, lacks: []string{"C-0001"}},
			"security": ok(200, offers)}},
		{"APIIncidentOffers", "GET", "/api/incidents/6", "", map[string]expect{
			"memberB": hidden("Northbridge SSNs"),
			"memberA": {status: 200, contains: []string{fmt.Sprintf(`"offers":{"assigned":%d,"remaining":%d}`, assigned, 5-assigned)}, lacks: []string{"C-0001", `"bounce_list"`}},
			"legal":   ok(200, `"offers"`)}},
	}
	for _, tc := range cases {
		for _, role := range []string{"memberB", "memberA", "legal", "security"} {
			want, ok := tc.want[role]
			if !ok {
				continue
			}
			res := e.as(t, role, tc.method, tc.path, tc.body)
			body := res.Body.String()
			var compact bytes.Buffer
			if json.Compact(&compact, res.Body.Bytes()) == nil {
				body = compact.String() // API answers, compared without their indentation
			}
			if res.Code != want.status {
				t.Errorf("%s as %s: %d, want %d", tc.name, role, res.Code, want.status)
			}
			for _, s := range want.contains {
				if !strings.Contains(body, s) {
					t.Errorf("%s as %s: lacks %q\n%s", tc.name, role, s, body)
				}
			}
			for _, s := range want.lacks {
				if strings.Contains(body, s) {
					t.Errorf("%s as %s: shows %q", tc.name, role, s)
				}
			}
		}
	}
}
