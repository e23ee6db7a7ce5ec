//go:build e2e

// The admin UI in a real browser (Debian's chromium through chromedp, with
// the harness of e2e_banner_test.go): a security user logs in, opens an
// incident, scopes, plans, sends to mailpit and publishes the banner; legal
// downloads the proof bundle, which verifies. axe-core checks every page;
// screenshots at 1280 and 375 px go to BREACHNOTICE_SCREENSHOTS.
//
//	go test -tags e2e -run E2E_Admin ./cmd/breachnotice
package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

func TestE2E_AdminInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	axe := axeSource(t)
	shots := os.Getenv("BREACHNOTICE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	smtpURL, api := startMailpit(t)

	c := newCLI(t)
	c.seed()
	c.env["BREACHNOTICE_SMTP"] = smtpURL
	const secPW, legPW = "security-lead-password", "legal-counsel-password"
	for _, u := range []struct{ name, role, pw string }{{"sec", "security", secPW}, {"leg", "legal", legPW}} {
		if _, errOut, code := c.runIn(u.pw+"\n", "users", "add", "--name", u.name, "--role", u.role, "--password-stdin"); code != 0 {
			t.Fatalf("users add %s: %s", u.name, errOut)
		}
	}
	base := startServe(t, c)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelTimeout()

	// page checks the page in place: axe-core, then screenshots at both
	// widths, back at desktop width.
	page := func(name string) {
		t.Helper()
		runAxe(t, ctx, axe, name)
		screenshot(t, ctx, shots, "admin-"+name+"-1280", "", 1280, 900)
		screenshot(t, ctx, shots, "admin-"+name+"-375", "", 375, 812)
		do(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))
	}
	text := func(sel string) string {
		t.Helper()
		return eval[string](t, ctx, `(document.querySelector('`+sel+`') || {textContent: ""}).textContent`)
	}
	// submit clicks a form's button and waits for the page that follows to
	// say flash (or fails with the error it shows).
	submit := func(form, flash string) {
		t.Helper()
		eval[string](t, ctx, `(document.querySelector('[data-testid="flash"]') || {}).textContent = ""`)
		do(t, ctx, form, chromedp.Click(chromedp.CSS(`[data-testid="`+form+`"] button`)))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if got := text(`[data-testid="flash"]`); got == flash {
				return
			}
			if e := text(`[data-testid="error"]`); e != "" || time.Now().After(deadline) {
				t.Fatalf("%s: error %q, flash %q", form, e, text(`[data-testid="flash"]`))
			}
		}
	}
	login := func(name, pw string) {
		t.Helper()
		do(t, ctx, "log in as "+name, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#name"), name), chromedp.SendKeys(chromedp.CSS("#password"), pw),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="who"]`)))
	}

	do(t, ctx, "anonymous", chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/admin/login" {
		t.Errorf("anonymous /admin/ went to %s", loc)
	}
	page("login")
	login("sec", secPW)
	page("incidents-empty")

	do(t, ctx, "open form", chromedp.Click(chromedp.CSS(`[data-testid="open-link"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-form"]`)))
	page("open")
	eval[string](t, ctx, `document.getElementById("controller").value = "nb"`)
	eval[string](t, ctx, `document.getElementById("cause").value = "accidental"`)
	do(t, ctx, "open an incident", chromedp.SendKeys(chromedp.CSS("#title"), "Gradebook exported by mistake"),
		chromedp.Click(chromedp.CSS("#el-name")), chromedp.Click(chromedp.CSS("#el-email")), chromedp.Click(chromedp.CSS("#el-password")),
		chromedp.Click(chromedp.CSS(`[data-testid="open-form"] button`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="title"]`)))
	if got := text(`[data-testid="flash"]`); got != "Incident opened." {
		t.Errorf("flash %q", got)
	}
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/incidents/")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("incident page %q", id)
	}
	submit("scope-form", "Scope resolved.")
	submit("plan-form", "Plan made.")
	if !strings.Contains(text(`[data-testid="scope"]`), "2 affected") { // a1 and a3 are enrolled in nb's course
		t.Errorf("scope %q", text(`[data-testid="scope"]`))
	}
	page("incident-planned")

	submit("send-form", "Sending started; this page follows its progress.")
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(text(`[data-testid="send-run"]`), "finished"); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("send did not finish: %q", text(`[data-testid="send-run"]`))
		}
		do(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="title"]`)))
	}
	run := text(`[data-testid="send-run"]`)
	msgs := mailpitMessages(t, api)
	if len(msgs) == 0 || !strings.Contains(run, strconv.Itoa(len(msgs))+" sent") {
		t.Errorf("send run %q; mailpit holds %d messages", run, len(msgs))
	}

	submit("publish-form", "Banner published.")
	if got := text(`[data-testid="banner"]`); !strings.Contains(got, "since") {
		t.Errorf("banner state %q after publishing (error %q)", got, text(`[data-testid="error"]`))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('[data-testid="delivery"] rect').length`); n == 0 {
		t.Error("no delivery chart")
	}
	page("incident-sent")
	do(t, ctx, "incidents", chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="incidents"]`)))
	page("incidents")
	do(t, ctx, "audit", chromedp.Navigate(base+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit"]`)))
	page("audit")
	do(t, ctx, "users", chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="users"]`)))
	page("users")
	do(t, ctx, "log out", chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS("#password")))

	// Legal reads the ledger and downloads the incident's proof bundle,
	// which verifies offline.
	login("leg", legPW)
	if n := eval[int](t, ctx, `document.querySelectorAll('[data-testid="open-link"]').length`); n != 0 {
		t.Error("legal is offered to open an incident")
	}
	do(t, ctx, "ledger", chromedp.Navigate(base+"/admin/controllers/nb/ledger"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="export-form"]`)))
	page("ledger")
	downloads := t.TempDir()
	do(t, ctx, "allow downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))
	eval[string](t, ctx, `document.getElementById("export-incident").value = "`+id+`"`)
	do(t, ctx, "download the bundle", chromedp.Click(chromedp.CSS(`[data-testid="export-form"] button`)))
	var p string
	for deadline := time.Now().Add(30 * time.Second); p == ""; time.Sleep(200 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(downloads, "*.zip")); len(m) == 1 {
			p = m[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no bundle downloaded")
		}
	}
	if filepath.Base(p) != "proof-nb-incident-"+id+".zip" {
		t.Errorf("downloaded %s", filepath.Base(p))
	}
	sum, err := ledger.Verify(context.Background(), p, text(`[data-testid="fingerprint"]`))
	if err != nil {
		t.Fatalf("the downloaded bundle does not verify: %v", err)
	}
	if sum.Entries == 0 {
		t.Errorf("bundle summary %+v", sum)
	}
	do(t, ctx, "incident as legal", chromedp.Navigate(base+"/admin/incidents/"+id), chromedp.WaitVisible(chromedp.CSS(`[data-testid="obligations"]`)))
	if n := eval[int](t, ctx, `document.querySelectorAll('[data-testid="actions"]').length`); n != 0 {
		t.Error("legal is offered incident actions")
	}
	page("incident-legal")
}
