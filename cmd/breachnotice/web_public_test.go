package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
)

// Personal data of the learners the web tests seed: none of it may reach
// a public route.
var personal = []string{"ana@example.org", "bo@example.org", "cy@example.org", "ana@nb.example",
	"Ana García", "Bo Li", "Cy Müller", "learner-7731", "zed@learners.example", "Zed Quux", "1 Main St", "Hauptstr"}

// webCLI seeds two controllers, publishes a banner for a Member incident
// (1) and an operator incident (2), and leaves a third incident (3) of the
// Member planned but unpublished.
func webCLI(t *testing.T) *cli {
	t.Helper()
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("more.csv", `id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
learner-7731,zed,Zed Quux,zed@learners.example,en,US,US-NY,5 Elm St,,Albany,12207,yes,active
`))
	c.ok("enrollments", "import", c.file("more-enr.csv", "account_id,course_id\nlearner-7731,nb-cs50\n"))
	for _, inc := range []struct{ controller, title string }{
		{"nb", "LMS database copied"}, {"op", "Operator mail logs exposed"}, {"nb", "Unpublished secret title"},
	} {
		c.ok("incident", "open", "--controller", inc.controller, "--title", inc.title, "--discovered", "2026-11-20",
			"--elements", "name,email,password")
	}
	for _, id := range []string{"1", "2", "3"} {
		c.ok("incident", "scope", id, "--all")
		c.ok("incident", "plan", id)
	}
	c.ok("banner", "publish", "1")
	c.ok("banner", "publish", "2", "--headline", `Security notice <img src=x onerror=alert(1)>`)
	return c
}

// server builds the serve process's handler over the CLI's database, with
// the CLI's clock.
func (c *cli) server() *server {
	c.t.Helper()
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	c.t.Cleanup(a.close)
	ctx := context.Background()
	if _, err := a.open(ctx, dbExisting); err != nil {
		c.t.Fatal(err)
	}
	s, err := a.newServer(ctx, serverConfig{})
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, path string, header ...string) response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{w.Code, w.Result().Header, w.Body.String()}
}

func TestWeb_PublicRoutes(t *testing.T) {
	c := webCLI(t)
	s := c.server()
	h := s.handler
	notFound := get(t, h, "/notices/nope/1").body
	jsonType, htmlType, textType := "application/json; charset=utf-8", "text/html; charset=utf-8", "text/plain; charset=utf-8"
	for _, tc := range []struct {
		name, path string
		header     []string
		status     int
		headers    map[string]string // "" value: must be absent
		contains   []string
		lacks      []string
	}{
		{name: "Health", path: "/healthz", status: 200, contains: []string{"ok"}},
		{name: "BannerJSONOperatorByDefault", path: "/banner.json", status: 200,
			headers:  map[string]string{"Content-Type": jsonType, "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"},
			contains: []string{`"controller":"op"`, `"incident":2`, `\u003cimg src=x onerror=alert(1)\u003e`, `"link":"/notices/op/2"`, `"es":{`},
			lacks:    []string{`"nb"`, "LMS database copied"}},
		{name: "BannerJSONMember", path: "/banner.json?controller=nb", status: 200,
			headers:  map[string]string{"Content-Type": jsonType, "Access-Control-Allow-Origin": "*"},
			contains: []string{`"controller":"nb"`, `"headline":"LMS database copied"`, `"since":"2026-11-28T12:00:00Z"`},
			lacks:    []string{"Unpublished secret title", `"incident":3`}},
		{name: "BannerJSONUnknownController", path: "/banner.json?controller=nope", status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": "*"}, contains: []string{`{"banners":[]}`}},
		{name: "BannerJS", path: "/banner.js", status: 200,
			headers:  map[string]string{"Content-Type": "text/javascript; charset=utf-8", "Access-Control-Allow-Origin": "*"},
			contains: []string{"textContent", "localStorage", `"es":{"label":"Importante"`, `credentials: "omit"`},
			lacks:    []string{"innerHTML", "document.cookie", "eval(", "http://", "https://HOST/banner.json\""}},
		{name: "Notice", path: "/notices/nb/1", status: 200,
			headers: map[string]string{"Content-Type": htmlType, "Content-Language": "en", "Vary": "Accept-Language",
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
			contains: []string{`<html lang="en">`, "Posted on November 28, 2026.", `data-testid="fingerprint">SHA256:`, "breachnotice/nb", "@media print",
				`href="/notices/nb/1?lang=es"`, `href="/notices/nb/1.txt?lang=en"`},
			lacks: []string{"Unpublished secret title", "data-withdrawn", "Withdrawn from", "<script"}},
		{name: "NoticeLangQuery", path: "/notices/nb/1?lang=es", status: 200,
			headers: map[string]string{"Content-Language": "es"}, contains: []string{`<html lang="es">`, "Publicado el 28 de noviembre de 2026."}},
		{name: "NoticeAcceptLanguage", path: "/notices/nb/1", header: []string{"Accept-Language", "pt;q=0.9, es-MX;q=0.8, en;q=0.1"}, status: 200,
			headers: map[string]string{"Content-Language": "es"}, contains: []string{`<html lang="es">`}},
		{name: "NoticeUnknownLangFallsBack", path: "/notices/nb/1?lang=xx", header: []string{"Accept-Language", "ja"}, status: 200,
			headers: map[string]string{"Content-Language": "en"}},
		{name: "NoticeText", path: "/notices/nb/1.txt", status: 200, headers: map[string]string{"Content-Type": textType},
			contains: []string{"Posted on November 28, 2026.", "SHA256:", "Northbridge University"}, lacks: []string{"<"}},
		{name: "OperatorNoticeEscapesHeadlineNowhere", path: "/notices/op/2", status: 200, lacks: []string{"<img"}},
		{name: "Unpublished", path: "/notices/nb/3", status: 404, headers: map[string]string{"Cache-Control": "no-store", "Content-Type": htmlType},
			contains: []string{"Page not found"}, lacks: []string{"Unpublished secret title", "nb"}},
		{name: "UnpublishedText", path: "/notices/nb/3.txt", status: 404},
		{name: "AnotherControllers", path: "/notices/op/1", status: 404},
		{name: "UnknownController", path: "/notices/nope/1", status: 404},
		{name: "NotAnID", path: "/notices/nb/01", status: 404},
		{name: "NoSuchIncident", path: "/notices/nb/99", status: 404},
		{name: "List", path: "/notices/nb", status: 200, headers: map[string]string{"Content-Type": htmlType},
			contains: []string{"Notices from Northbridge University", `href="/notices/nb/1"`, "LMS database copied"},
			lacks:    []string{"Unpublished secret title", "/notices/nb/3"}},
		{name: "ListUnknown", path: "/notices/nope", status: 404},
		{name: "ListNoNotices", path: "/notices/op2", status: 404},
		{name: "Elsewhere", path: "/anything/else", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, h, tc.path, tc.header...)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", res.status, tc.status, res.body)
			}
			if v := res.header.Values("Set-Cookie"); len(v) > 0 {
				t.Errorf("Set-Cookie %q", v)
			}
			for k, want := range tc.headers {
				if got := res.header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if res.status == 200 && tc.path != "/healthz" && res.header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if res.status == 404 && res.body != notFound {
				t.Errorf("404 body differs from an unknown controller's:\n%s", res.body)
			}
			for _, w := range tc.contains {
				if !strings.Contains(res.body, w) {
					t.Errorf("body lacks %q:\n%s", w, res.body)
				}
			}
			for _, w := range append(tc.lacks, personal...) {
				if strings.Contains(res.body, w) {
					t.Errorf("body holds %q", w)
				}
			}
		})
	}

	// Issue 9 finding 4: the page publishes the controller's signing key
	// and its fingerprint, as ledger key prints them, in both versions.
	t.Run("KeyAndFingerprint", func(t *testing.T) {
		vkey, fp := c.ledgerKey("nb")
		page, text := get(t, h, "/notices/nb/1").body, get(t, h, "/notices/nb/1.txt").body
		for _, w := range []string{`data-testid="fingerprint">` + fp + "<", `data-testid="public-key">` + vkey + "<"} {
			if !strings.Contains(page, w) {
				t.Errorf("notice page lacks %q", w)
			}
		}
		for _, w := range []string{"    " + fp + "\n", "    " + vkey + "\n"} {
			if !strings.Contains(text, w) {
				t.Errorf("text version lacks %q:\n%s", w, text)
			}
		}
	})

	t.Run("ETag304", func(t *testing.T) {
		for _, path := range []string{"/banner.json", "/banner.json?controller=nb", "/banner.js", "/notices/nb/1", "/notices/nb"} {
			first := get(t, h, path)
			etag := first.header.Get("ETag")
			res := get(t, h, path, "If-None-Match", etag)
			if res.status != http.StatusNotModified || res.body != "" || res.header.Get("ETag") != etag {
				t.Errorf("%s with If-None-Match %s: %d %q", path, etag, res.status, res.body)
			}
			if res := get(t, h, path, "If-None-Match", `"stale"`); res.status != 200 {
				t.Errorf("%s with a stale ETag: %d", path, res.status)
			}
		}
	})

	t.Run("WithdrawnElsewhereReachedBySnapshot", func(t *testing.T) {
		before := get(t, h, "/banner.json?controller=nb")
		if ok, err := s.banners.check(context.Background()); err != nil || ok {
			t.Fatalf("check with no change: %v, %v; want no reload", ok, err)
		}
		// Another process (the CLI) withdraws the banner; the server
		// notices through the change counter.
		c.ok("banner", "withdraw", "1", "--force", "--reason", "posted in error")
		if got := get(t, h, "/banner.json?controller=nb"); got.body != before.body {
			t.Fatal("the snapshot changed before the server checked")
		}
		if ok, err := s.banners.check(context.Background()); err != nil || !ok {
			t.Fatalf("check after withdraw: %v, %v; want a reload", ok, err)
		}
		after := get(t, h, "/banner.json?controller=nb")
		if after.body != "{\"banners\":[]}\n" || after.header.Get("ETag") == before.header.Get("ETag") {
			t.Errorf("after withdraw: %s (ETag %s, before %s)", after.body, after.header.Get("ETag"), before.header.Get("ETag"))
		}
		page := get(t, h, "/notices/nb/1")
		if page.status != 200 || !strings.Contains(page.body, `data-withdrawn="true"`) ||
			!strings.Contains(page.body, "Withdrawn from the homepage on November 28, 2026.") {
			t.Errorf("withdrawn notice page: %d\n%s", page.status, page.body)
		}
		if list := get(t, h, "/notices/nb"); !strings.Contains(list.body, "withdrawn November 28, 2026") {
			t.Errorf("list lacks the withdrawal:\n%s", list.body)
		}
	})
}

// TestWeb_Expiry: a banner whose last day has passed leaves banner.json at
// the next check, with no change counted in the database.
func TestWeb_Expiry(t *testing.T) {
	c := webCLI(t)
	p := bannerPosting(t, c, 2)
	until := p.RequiredUntil.AddDate(0, 0, 1).Format(time.DateOnly)
	c.ok("banner", "publish", "2", "--until", until)
	s := c.server()
	if got := get(t, s.handler, "/banner.json"); !strings.Contains(got.body, `"until":"`+until+`"`) {
		t.Fatalf("banner.json: %s", got.body)
	}
	c.now = p.RequiredUntil.AddDate(0, 0, 3)
	s.banners.now = func() time.Time { return c.now }
	if ok, err := s.banners.check(context.Background()); err != nil || !ok {
		t.Fatalf("check after expiry: %v, %v", ok, err)
	}
	if got := get(t, s.handler, "/banner.json"); got.body != "{\"banners\":[]}\n" {
		t.Errorf("expired banner still served: %s", got.body)
	}
	if got := get(t, s.handler, "/notices/op/2"); got.status != 200 {
		t.Errorf("expired banner's notice page: %d", got.status)
	}
}

// bannerPosting returns incident id's posting as banner.Posting reports it.
func bannerPosting(t *testing.T, c *cli, id int64) *banner.PostingStatus {
	t.Helper()
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(k string) string { return c.env[k] })
	defer a.close()
	st, err := a.open(context.Background(), dbExisting)
	if err != nil {
		t.Fatal(err)
	}
	p, err := banner.Posting(context.Background(), st, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// bannerEntries returns incident id's banner ledger entries and their
// details.
func bannerEntries(t *testing.T, c *cli, controller string, id int64) ([]ledger.Entry, []banner.Detail) {
	t.Helper()
	db := c.openDB()
	defer db.Close()
	var es []ledger.Entry
	var ds []banner.Detail
	err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: controller, Incident: id}, func(e ledger.Entry) error {
		if e.Channel != banner.Channel {
			return nil
		}
		var d banner.Detail
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			return err
		}
		es, ds = append(es, e), append(ds, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return es, ds
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestBanner_PostingMinimum: the banner stays up as long as the plan's
// longest website posting; the ledger records each step with the hashes of
// the bytes served.
func TestBanner_PostingMinimum(t *testing.T) {
	c := webCLI(t)
	p := bannerPosting(t, c, 1)
	if p.Days == 0 || p.Jurisdiction == "" || !p.Published || !p.Since.Equal(c.now) || !p.RequiredUntil.Equal(c.now.AddDate(0, 0, p.Days)) {
		t.Fatalf("posting %+v", p)
	}
	t.Logf("posting: %s", p)

	// The hashes of banner_published are those of the bytes served.
	s := c.server()
	es, ds := bannerEntries(t, c, "nb", 1)
	if len(es) != 1 || es[0].Kind != ledger.KindBannerPublished {
		t.Fatalf("entries %+v", es)
	}
	checkServed(t, s.handler, ds[0], "nb", 1)

	early := p.RequiredUntil.AddDate(0, 0, -2).Format(time.DateOnly)
	_, errOut, code := c.run("banner", "publish", "1", "--until", early)
	if code != 1 || !strings.Contains(errOut, "--until "+early+" is too early: "+p.Jurisdiction+" requires the posting to stay up") {
		t.Errorf("--until too early: exit %d, %q", code, errOut)
	}
	_, errOut, code = c.run("banner", "withdraw", "1")
	if code != 1 || !strings.Contains(errOut, "must stay up until") || !strings.Contains(errOut, "required by "+p.Jurisdiction) {
		t.Errorf("early withdraw: exit %d, %q", code, errOut)
	}
	if _, errOut, code = c.run("banner", "withdraw", "1", "--force"); code != 2 || !strings.Contains(errOut, "--force needs --reason") {
		t.Errorf("--force alone: exit %d, %q", code, errOut)
	}

	// An update changes the served bytes: banner_updated with new hashes;
	// publishing the same again records nothing.
	until := p.RequiredUntil.Format(time.DateOnly)
	c.ok("banner", "publish", "1", "--until", until, "--headline", "LMS database copied: what to do")
	if out := c.ok("banner", "publish", "1"); !strings.Contains(out, "banner unchanged (revision 2)") {
		t.Errorf("republish: %s", out)
	}
	s = c.server()
	es, ds = bannerEntries(t, c, "nb", 1)
	if len(es) != 2 || es[1].Kind != ledger.KindBannerUpdated || ds[1].Until != until || ds[1].Revision != 2 {
		t.Fatalf("after update: %+v %+v", es, ds)
	}
	checkServed(t, s.handler, ds[1], "nb", 1)

	// A forced withdrawal is recorded as forced, with the reason.
	out := c.ok("banner", "withdraw", "1", "--force", "--reason", "the incident was a false alarm")
	if !strings.Contains(out, "withdrawn early, forced") {
		t.Errorf("withdraw: %s", out)
	}
	es, ds = bannerEntries(t, c, "nb", 1)
	if len(es) != 3 || es[2].Kind != ledger.KindBannerWithdrawn || !ds[2].Forced || ds[2].Reason != "the incident was a false alarm" {
		t.Fatalf("withdrawn entry %+v %+v", es, ds)
	}
	s = c.server()
	for name, want := range ds[2].Pages { // the withdrawn page, as served
		lang, format, _ := strings.Cut(name, ".")
		path := "/notices/nb/1?lang=" + lang
		if format == "txt" {
			path = "/notices/nb/1.txt?lang=" + lang
		}
		if got := sha(get(t, s.handler, path).body); got != want {
			t.Errorf("%s: served %s, ledger %s", path, got, want)
		}
	}
	if _, errOut, code = c.run("banner", "withdraw", "1", "--force", "--reason", "again"); code != 1 || !strings.Contains(errOut, "already withdrawn") {
		t.Errorf("second withdraw: exit %d, %q", code, errOut)
	}
	if _, errOut, code = c.run("banner", "publish", "1"); code != 1 || !strings.Contains(errOut, "stays withdrawn") {
		t.Errorf("publish after withdraw: exit %d, %q", code, errOut)
	}

	// After the required posting, withdrawing needs no force and is not
	// recorded as forced.
	c.now = bannerPosting(t, c, 2).RequiredUntil
	c.ok("banner", "withdraw", "2")
	_, ds = bannerEntries(t, c, "op", 2)
	if last := ds[len(ds)-1]; last.Forced || last.Reason != "" {
		t.Errorf("on-time withdrawal recorded %+v", last)
	}

	list := c.ok("banner", "list")
	for _, w := range []string{"withdrawn (forced)", "LMS database copied: what to do", "withdrawn  "} {
		if !strings.Contains(list, w) {
			t.Errorf("banner list lacks %q:\n%s", w, list)
		}
	}
	var rows []struct {
		Incident int64  `json:"incident"`
		State    string `json:"state"`
	}
	if err := json.Unmarshal([]byte(c.ok("banner", "list", "--json")), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("banner list --json: %v %+v", err, rows)
	}
}

// checkServed checks that the ledger detail's hashes are those of the
// bytes the server serves: the banner's object inside /banner.json, and
// each language's page, HTML and text.
func checkServed(t *testing.T, h http.Handler, d banner.Detail, controller string, id int64) {
	t.Helper()
	var doc struct {
		Banners []json.RawMessage `json:"banners"`
	}
	body := get(t, h, "/banner.json?controller="+controller).body
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range doc.Banners {
		if bytes.Contains(b, []byte(`"incident":`+jsonInt(id)+`,`)) {
			found = true
			if got := sha(string(b)); got != d.BannerSHA256 {
				t.Errorf("banner object sha256 %s, ledger %s", got, d.BannerSHA256)
			}
		}
	}
	if !found {
		t.Errorf("banner %d not served: %s", id, body)
	}
	if len(d.Pages) != 2*len(templates.Languages()) {
		t.Errorf("pages %v: want every catalogue language (%v), html and txt", d.Pages, templates.Languages())
	}
	for name, want := range d.Pages {
		lang, format, _ := strings.Cut(name, ".")
		path := banner.NoticePath(controller, id)
		if format == "txt" {
			path += ".txt"
		}
		if got := sha(get(t, h, path+"?lang="+lang).body); got != want {
			t.Errorf("%s?lang=%s: served sha256 %s, ledger %s", path, lang, got, want)
		}
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
