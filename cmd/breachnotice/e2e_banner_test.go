//go:build e2e

// The homepage banner in a real browser: Debian's chromium, driven by
// chromedp, loads a page of another origin that includes banner.js under a
// strict CSP, and axe-core (the npm package) checks the pages it shows.
// .ci/run installs both; locally:
//
//	apt-get install chromium
//	npm install --prefix "$HOME/.cache/breachnotice/npm" axe-core@4.14.1
//	go test -tags e2e -run E2E_Banner ./cmd/breachnotice
//
// BREACHNOTICE_AXE names axe.min.js elsewhere; BREACHNOTICE_SCREENSHOTS a
// directory that keeps the screenshots (default: a temporary one).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// xssHeadline is a headline an attacker (or a careless operator) might
// write: banner.js must show it as text.
const xssHeadline = `Security notice <img src=x onerror="document.documentElement.dataset.pwned='yes'">`

// chromiumPath finds Debian's chromium or fails saying how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	t.Fatal("chromium not found: apt-get install chromium (.ci/run does)")
	return ""
}

// axeSource reads axe.min.js: BREACHNOTICE_AXE, else the npm cache .ci/run
// installs it into.
func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("BREACHNOTICE_AXE")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "breachnotice", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core not found (%v): npm install --prefix \"$HOME/.cache/breachnotice/npm\" axe-core@4.14.1 (.ci/run does), or set BREACHNOTICE_AXE to axe.min.js", err)
	}
	return string(b)
}

// startServe runs `breachnotice serve` on a loopback port over the CLI's
// database and returns its base URL; it stops with the test.
func startServe(t *testing.T, c *cli) string {
	t.Helper()
	var stdout, stderr syncBuffer
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	now := c.now // the CLI's clock: what it publishes is live for the server
	a.now = func() time.Time { return now }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--outbox", filepath.Join(t.TempDir(), "outbox")})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
		a.close()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("serve did not start: %s %s", stdout.String(), stderr.String())
	return ""
}

// hostSite is a site of another origin that embeds the banner: /strict
// under a CSP that allows our origin for scripts and connections and
// nothing else (no inline script or style, no image), reporting
// violations to /csp-report; /plain the same page without a CSP, where an
// injected onerror would run.
type hostSite struct {
	*httptest.Server
	mu      sync.Mutex
	reports []string
}

func newHostSite(t *testing.T, ours string) *hostSite {
	h := &hostSite{}
	page := func(lang string) string {
		return `<!DOCTYPE html>
<html lang="` + lang + `">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>OpenLearn: courses for everyone</title></head>
<body>
<header><p>OpenLearn</p></header>
<main>
<div id="breachnotice-banner"></div>
<h1>Learn something new today</h1>
<p>Hundreds of free courses from universities around the world.</p>
<p><a href="/courses">Browse the courses</a></p>
</main>
<script src="` + ours + `/banner.js" data-controller="op" defer></script>
</body>
</html>
`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /strict", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+ours+"; connect-src "+ours+
			"; base-uri 'none'; form-action 'none'; report-uri /csp-report")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		lang := r.URL.Query().Get("lang")
		if lang == "" {
			lang = "en"
		}
		io.WriteString(w, page(lang))
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page("en"))
	})
	mux.HandleFunc("POST /csp-report", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		h.mu.Lock()
		h.reports = append(h.reports, string(b))
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	// The CSP allows our origin: the host must be another one.
	h.Server = httptest.NewServer(mux)
	t.Cleanup(h.Close)
	return h
}

func (h *hostSite) cspReports() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.reports...)
}

// axeViolation is what the test reports of an axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe injects axe-core into the current page and runs it on the whole
// document.
func runAxe(t *testing.T, ctx context.Context, src, where string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatalf("%s: inject axe-core: %v", where, err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", where, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe %s (%s): %s\n  %s", where, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

// axNames returns the accessible names of the nodes of a role in the
// current page, as the browser computes them for assistive technology.
func axNames(t *testing.T, ctx context.Context, role string) []string {
	t.Helper()
	names, err := chromedp.Run(ctx, chromedp.Action[[]string](func(ctx context.Context, tg *chromedp.Target) ([]string, error) {
		doc, err := cdp.Call(ctx, tg, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			return nil, err
		}
		res, err := cdp.Call(ctx, tg, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{BackendNodeID: doc.Root.BackendNodeID, Role: role})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, n := range res.Nodes {
			if n.Ignored || n.Name == nil {
				continue
			}
			var s string
			if err := json.Unmarshal(n.Name.Value, &s); err != nil {
				return nil, fmt.Errorf("name %s: %w", n.Name.Value, err)
			}
			out = append(out, s)
		}
		return out, nil
	}))
	if err != nil {
		t.Fatalf("accessibility tree (%s): %v", role, err)
	}
	return names
}

// eval evaluates a JavaScript expression in the current page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// do runs browser steps that must succeed.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves a PNG of the element sel (or of the viewport when sel
// is "") at the given viewport width.
func screenshot(t *testing.T, ctx context.Context, dir, name, sel string, width, height int64) {
	t.Helper()
	var vopts []chromedp.EmulateViewportOption
	if width < 600 {
		vopts = append(vopts, chromedp.EmulateMobile)
	}
	do(t, ctx, "viewport "+name, chromedp.EmulateViewport(width, height, vopts...), chromedp.Sleep(200*time.Millisecond))
	var png []byte
	var err error
	if sel == "" {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	} else {
		png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	// WCAG 1.4.10 (reflow): nothing scrolls sideways, even at 375 px (a
	// mobile browser would zoom the whole page out to fit it).
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > int(width) {
		over := eval[[]string](t, ctx, `[...document.querySelectorAll("body *")].filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0).map(e => e.tagName + "." + e.className + ": " + e.textContent.slice(0, 60))`)
		t.Errorf("%s: the page is %d px wide in a %d px viewport; overflowing:\n%s", name, w, width, strings.Join(over, "\n"))
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// TestE2E_BannerInBrowser: a site of another origin includes banner.js
// under a strict CSP; the banner shows as a labelled region with its
// headline as text (an injected img stays text and its onerror never
// runs), its link opens the notice page, its dismissal survives a reload
// and a second incident shows again. axe-core finds no violation on the
// host page with the banner nor on the notice page. Screenshots of both at
// 1280 and 375 px wide go to BREACHNOTICE_SCREENSHOTS.
func TestE2E_BannerInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeSource(t)
	shots := os.Getenv("BREACHNOTICE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	c := newCLI(t)
	c.seed()
	for _, title := range []string{"Operator mail logs exposed", "Course forum messages exposed"} {
		c.ok("incident", "open", "--controller", "op", "--title", title, "--discovered", "2026-11-20", "--elements", "name,email,password")
	}
	for _, id := range []string{"1", "2"} {
		c.ok("incident", "scope", id, "--all")
		c.ok("incident", "plan", id)
	}
	c.ok("banner", "publish", "1", "--headline", xssHeadline, "--until", "2027-01-15")
	ours := startServe(t, c)
	host := newHostSite(t, ours)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses its sandbox to root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	// A visitor's browser may keep banner.json for its max-age (60 s), so
	// a new banner reaches it within a minute; the test does not wait.
	do(t, ctx, "disable the cache", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))

	first, second := "#breachnotice-op-1", "#breachnotice-op-2"
	do(t, ctx, "open the host page", chromedp.Navigate(host.URL+"/strict"), chromedp.WaitVisible(chromedp.CSS(first)))

	t.Run("AccessibleRegion", func(t *testing.T) {
		want := "Important " + xssHeadline
		if names := axNames(t, ctx, "region"); len(names) != 1 || names[0] != want {
			t.Errorf("regions %q, want one named %q", names, want)
		}
		if names := axNames(t, ctx, "button"); len(names) != 1 || names[0] != "Dismiss this notice" {
			t.Errorf("buttons %q, want one named %q", names, "Dismiss this notice")
		}
		if names := axNames(t, ctx, "link"); !slices.Contains(names, "Read the notice") {
			t.Errorf("links %q lack %q", names, "Read the notice")
		}
		if got := eval[string](t, ctx, `document.querySelector("`+first+` h2").textContent`); got != "Important" {
			t.Errorf("banner heading %q", got)
		}
	})

	t.Run("HeadlineIsText", func(t *testing.T) {
		for _, path := range []string{"/strict", "/plain"} {
			do(t, ctx, path, chromedp.Navigate(host.URL+path), chromedp.WaitVisible(chromedp.CSS(first)), chromedp.Sleep(300*time.Millisecond))
			if n := eval[int](t, ctx, `document.querySelectorAll("img").length`); n != 0 {
				t.Errorf("%s: %d img elements: the headline was parsed as HTML", path, n)
			}
			if got := eval[string](t, ctx, `document.getElementById("`+first[1:]+`-heading").textContent`); got != xssHeadline {
				t.Errorf("%s: headline %q, want the text %q", path, got, xssHeadline)
			}
			if got := eval[string](t, ctx, `document.documentElement.dataset.pwned || "no"`); got != "no" {
				t.Errorf("%s: the headline's onerror ran", path)
			}
			if got := eval[string](t, ctx, `document.cookie`); got != "" {
				t.Errorf("%s: cookie %q set", path, got)
			}
		}
		do(t, ctx, "back to /strict", chromedp.Navigate(host.URL+"/strict"), chromedp.WaitVisible(chromedp.CSS(first)))
	})

	t.Run("Language", func(t *testing.T) {
		do(t, ctx, "Spanish host page", chromedp.Navigate(host.URL+"/strict?lang=es"), chromedp.WaitVisible(chromedp.CSS(first)))
		if names := axNames(t, ctx, "button"); len(names) != 1 || names[0] != "Cerrar este aviso" {
			t.Errorf("buttons %q on a Spanish page", names)
		}
		href := eval[string](t, ctx, `document.querySelector("`+first+` a").href`)
		if href != ours+"/notices/op/1?lang=es" {
			t.Errorf("Spanish link %q", href)
		}
		do(t, ctx, "back to /strict", chromedp.Navigate(host.URL+"/strict"), chromedp.WaitVisible(chromedp.CSS(first)))
	})

	t.Run("AxeHostPage", func(t *testing.T) {
		runAxe(t, ctx, axe, "host page with the banner")
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(first)))
	})

	screenshot(t, ctx, shots, "banner-1280", first, 1280, 900)
	screenshot(t, ctx, shots, "host-page-1280", "", 1280, 900)
	screenshot(t, ctx, shots, "banner-375", first, 375, 812)
	screenshot(t, ctx, shots, "host-page-375", "", 375, 812)
	do(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	t.Run("LinkOpensNotice", func(t *testing.T) {
		do(t, ctx, "click the link", chromedp.Click(chromedp.CSS(first+" a")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="title"]`)))
		if loc := eval[string](t, ctx, `location.href`); loc != ours+"/notices/op/1" {
			t.Errorf("the link opened %q, want %q", loc, ours+"/notices/op/1")
		}
		title := eval[string](t, ctx, `document.querySelector('[data-testid="title"]').textContent`)
		status := eval[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`)
		if title == "" || !strings.Contains(status, "Posted on November 28, 2026.") || !strings.Contains(status, "Shown on the homepage until January 15, 2027.") {
			t.Errorf("notice page: title %q, status %q", title, status)
		}
		if got := eval[string](t, ctx, `document.cookie`); got != "" {
			t.Errorf("notice page sets cookie %q", got)
		}
		runAxe(t, ctx, axe, "notice page")
		screenshot(t, ctx, shots, "notice-1280", "", 1280, 900)
		screenshot(t, ctx, shots, "notice-375", "", 375, 812)
		do(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("DismissalSurvivesReload", func(t *testing.T) {
		do(t, ctx, "dismiss", chromedp.Navigate(host.URL+"/strict"), chromedp.WaitVisible(chromedp.CSS(first)),
			chromedp.Click(chromedp.CSS(first+" button")), chromedp.WaitNotPresent(chromedp.CSS(first)))
		if got := eval[string](t, ctx, `localStorage.getItem("breachnotice.dismissed.op.1") || ""`); got != "1" {
			t.Errorf("dismissal stored as %q", got)
		}
		do(t, ctx, "reload", chromedp.Reload())
		waitBannerFetched(t, ctx, ours)
		if n := eval[int](t, ctx, `document.querySelectorAll(".breachnotice-banner").length`); n != 0 {
			t.Errorf("%d banners after a reload, want the dismissed one gone", n)
		}
	})

	t.Run("SecondIncidentShows", func(t *testing.T) {
		c.ok("banner", "publish", "2")
		waitServed(t, ours+"/banner.json?controller=op", `"incident":2`)
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(second)))
		if n := eval[int](t, ctx, `document.querySelectorAll("`+first+`").length`); n != 0 {
			t.Error("the dismissed banner came back with the second incident's")
		}
		want := "Important Course forum messages exposed"
		if names := axNames(t, ctx, "region"); len(names) != 1 || names[0] != want {
			t.Errorf("regions %q, want one named %q", names, want)
		}
	})

	if reports := host.cspReports(); len(reports) > 0 {
		t.Errorf("the host page's CSP reported %d violations:\n%s", len(reports), strings.Join(reports, "\n"))
	}
	t.Logf("screenshots in %s", shots)
}

// waitBannerFetched waits until banner.js has fetched banner.json and had
// time to show what it would.
func waitBannerFetched(t *testing.T, ctx context.Context, ours string) {
	t.Helper()
	expr := `performance.getEntriesByType("resource").some(e => e.name.startsWith("` + ours + `/banner.json") && e.responseEnd > 0)`
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if eval[bool](t, ctx, expr) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("banner.js never fetched banner.json")
		}
	}
	do(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
}

// waitServed waits until url serves a body holding want: the server's
// snapshot catches up with a change another process made within its poll.
func waitServed(t *testing.T, url, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(b), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never served %q", url, want)
		}
	}
}
