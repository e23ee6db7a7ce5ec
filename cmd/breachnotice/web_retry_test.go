package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestWeb_RetryFailed: emails a relay refused for good are shown on the
// incident page with a retry form; the API's send with
// {"retry_failed": true} puts them back in the queue and delivers them,
// each with an email_retried ledger entry, audited as the user who asked;
// an unknown field in the body is refused; with nothing failed the form is
// gone. The admin form's action runs the same retry.
func TestWeb_RetryFailed(t *testing.T) {
	e := newAdminEnv(t)
	srv := smtptest.Start(t)
	var refuse atomic.Bool
	refuse.Store(true)
	srv.Behave(func(string, int) smtptest.Behaviour {
		if refuse.Load() {
			return smtptest.Reply550
		}
		return smtptest.Accept
	})
	e.s.cfg.Send.outbox, e.s.cfg.Send.smtp = "", urlList{srv.URL()}

	for _, step := range []struct{ path, body string }{{"/api/incidents/5/scope", `{"all":true}`}, {"/api/incidents/5/plan", ""}, {"/api/incidents/5/send", ""}} {
		if res := e.as(t, "security", "POST", step.path, step.body); res.Code >= 300 {
			t.Fatalf("%s: %d %s", step.path, res.Code, res.Body)
		}
	}
	e.s.adm.runs.wg.Wait()
	type view struct {
		Send    *sendRun                  `json:"send"`
		Notices map[string]map[string]int `json:"notices"`
	}
	get := func() view {
		t.Helper()
		var v view
		res := e.as(t, "security", "GET", "/api/incidents/5", "")
		if err := json.Unmarshal(res.Body.Bytes(), &v); err != nil || v.Send == nil {
			t.Fatalf("incident 5: %d %v %s", res.Code, err, res.Body)
		}
		return v
	}
	v := get()
	failed := v.Notices["email"]["failed"]
	if failed == 0 || v.Notices["email"]["sent"] != 0 {
		t.Fatalf("after a send refused with 550: notices %v", v.Notices)
	}
	page := e.as(t, "security", "GET", "/admin/incidents/5", "").Body.String()
	if !strings.Contains(page, `data-testid="retry-form"`) || !strings.Contains(page, strconv.Itoa(failed)+" emails failed for good") {
		t.Errorf("incident page lacks the retry form for %d failed emails", failed)
	}
	if page := e.as(t, "legal", "GET", "/admin/incidents/5", "").Body.String(); strings.Contains(page, `data-testid="retry-form"`) {
		t.Errorf("legal, who may not send, is offered the retry form")
	}

	// The admin form runs the same retry: refused again, they fail again.
	res := e.as(t, "security", "POST", "/admin/incidents/5/retry-failed", "")
	if res.Code != 303 || !strings.Contains(res.Header().Get("Location"), "done=sending") {
		t.Fatalf("admin retry form: %d %s", res.Code, res.Header().Get("Location"))
	}
	e.s.adm.runs.wg.Wait()
	if v := get(); v.Notices["email"]["failed"] != failed || v.Send.Result == nil || v.Send.Result.Retried != failed || v.Send.By != "security:sec" {
		t.Errorf("after the admin retry: notices %v, run %+v", v.Notices, *v.Send)
	}

	if res := e.as(t, "security", "POST", "/api/incidents/5/send", `{"retry":true}`); res.Code != 400 || !strings.Contains(res.Body.String(), "retry") {
		t.Errorf("send with an unknown field: %d %s, want 400 naming it", res.Code, res.Body)
	}
	refuse.Store(false)
	if res := e.as(t, "security", "POST", "/api/incidents/5/send", `{"retry_failed":true}`); res.Code != 202 {
		t.Fatalf("send retry_failed: %d %s", res.Code, res.Body)
	}
	e.s.adm.runs.wg.Wait()
	v = get()
	if r := v.Send.Result; r == nil || v.Send.Error != "" || r.Retried != failed || r.Sent != failed || r.FailedTotal != 0 {
		t.Errorf("retry run: %+v", *v.Send)
	}
	if v.Notices["email"]["sent"] != failed || v.Notices["email"]["failed"] != 0 || srv.Count() != failed {
		t.Errorf("after the retry: notices %v, relay accepted %d; want %d sent", v.Notices, srv.Count(), failed)
	}
	db := e.c.openDB()
	defer db.Close()
	retried := 0
	err := ledger.FindEntries(context.Background(), db, ledger.EntryFilter{Controller: "nb"}, func(en ledger.Entry) error {
		if en.Kind == ledger.KindEmailRetried && en.Incident == 5 {
			retried++
		}
		return nil
	})
	if err != nil || retried != 2*failed {
		t.Errorf("%d email_retried entries (%v), want %d (two retries)", retried, err, 2*failed)
	}
	var audited int
	if err := db.QueryRow(`SELECT count(*) FROM audit WHERE action = 'incident.retry_failed' AND object = 'incident:5' AND actor LIKE '%sec%'`).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("%d incident.retry_failed audit rows by sec (%v), want 2 (the form's and the API's)", audited, err)
	}
	if page := e.as(t, "security", "GET", "/admin/incidents/5", "").Body.String(); strings.Contains(page, `data-testid="retry-form"`) {
		t.Errorf("the retry form stays with nothing failed")
	}
}
