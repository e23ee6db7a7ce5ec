package notify_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// plannedOn is planned with a fixed discovery date.
func (e *sendEnv) plannedOn(t testing.TB, accounts string, discovered incident.Date) int64 {
	t.Helper()
	ctx := context.Background()
	if err := e.st.CreateController(ctx, &incident.Controller{ID: "op", Name: "OpenLearn", From: "notice@openlearn.example",
		TermsEConsent: true}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.st.ImportAccounts(ctx, strings.NewReader(accounts), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	inc, err := e.st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: "Database copied", Discovered: discovered,
		Elements: []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, e.st, inc.ID); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// TestWatchDeadlines: with a fixed clock, the Californian deadline
// (discovered 2026-11-20, due 2026-12-20) alerts once when it comes within
// 7 days, not again an hour later, again a day before, and once more as
// missed with the people still outstanding; each alert is an email to the
// security contact through a real SMTP server, a row incident show reads
// and a deadline_alert ledger entry.
func TestWatchDeadlines(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.plannedOn(t, population(30), incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err := e.st.SetSecurityEmail(ctx, "op", "soc@openlearn.example"); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	opt := notify.WatchOptions{WarnDays: 7, Transport: smtpTransport(t, srv, 5*time.Second)}
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	for _, step := range []struct {
		now       time.Time
		threshold string // "" = no alert
	}{
		{at(1, 9), ""},
		{at(13, 9), "7d"},
		{at(13, 10), ""},
		{at(16, 9), ""},
		{at(19, 0), "1d"},
		{at(19, 23), ""},
		{at(21, 9), "missed"},
		{at(22, 9), ""},
	} {
		before := srv.Count()
		res, err := notify.WatchDeadlines(ctx, e.st, step.now, opt)
		if err != nil {
			t.Fatalf("%s: %v", step.now, err)
		}
		if step.threshold == "" {
			if res.Alerts != 0 || srv.Count() != before {
				t.Errorf("%s: %d alerts, %d emails, want none", step.now, res.Alerts, srv.Count()-before)
			}
			continue
		}
		if res.Alerts != 1 || res.Emails != 1 || srv.Count() != before+1 {
			t.Fatalf("%s: %+v, %d emails, want one %s alert emailed", step.now, res, srv.Count()-before, step.threshold)
		}
		m := srv.Messages()[srv.Count()-1]
		body := decodedBody(t, m.Data)
		if strings.Join(m.To, ",") != "soc@openlearn.example" || !strings.Contains(body, "US-CA") || !strings.Contains(body, "30 people not yet notified") {
			t.Errorf("%s: alert to %v:\n%s", step.now, m.To, body)
		}
		if step.threshold == "missed" && (!strings.Contains(body, "Deadline MISSED") || !strings.Contains(body, "MISSED: US-CA, notice to individuals, was due 2026-12-20 (1 day ago)")) {
			t.Errorf("missed deadline not reported as missed:\n%s", body)
		}
		if strings.Contains(body, "ca0001") || strings.Contains(body, "Learner") {
			t.Errorf("the alert names a person:\n%s", body)
		}
	}
	pr, err := notify.FindProgress(ctx, e.st, id, at(22, 9), 7)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range pr.Alerts {
		got = append(got, a.Jurisdiction+"/"+a.Duty+"/"+a.Due.String()+"/"+a.Threshold)
		if !a.Emailed || a.Outstanding != 30 {
			t.Errorf("alert %+v", a)
		}
	}
	if want := "US-CA/individuals/2026-12-20/7d US-CA/individuals/2026-12-20/1d US-CA/individuals/2026-12-20/missed"; strings.Join(got, " ") != want {
		t.Errorf("alerts %q, want %q", got, want)
	}
	kinds, _ := e.entries(t)
	if kinds[ledger.KindDeadlineAlert] != 3 {
		t.Errorf("%d deadline_alert entries, want 3", kinds[ledger.KindDeadlineAlert])
	}
	if _, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
		t.Error(err)
	}
}

// TestWatchDeadlines_LateStartAndNoContact: a watch that first runs after
// the deadline passed raises only "missed" (not the thresholds it slept
// through); without a contact the alert is recorded, not emailed; once the
// notices are out no alert is raised.
func TestWatchDeadlines_LateStartAndNoContact(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	e.plannedOn(t, population(3), incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	srv := smtptest.Start(t)
	opt := notify.WatchOptions{Transport: smtpTransport(t, srv, 5*time.Second)}
	res, err := notify.WatchDeadlines(ctx, e.st, time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC), opt)
	if err != nil || res.Alerts != 1 || res.Missed != 1 || res.Emails != 0 || res.NoContact != 1 || srv.Count() != 0 {
		t.Fatalf("late start without contact: %+v %v, %d emails", res, err, srv.Count())
	}
	res, err = notify.WatchDeadlines(ctx, e.st, time.Date(2026, 12, 25, 1, 0, 0, 0, time.UTC), opt)
	if err != nil || res.Alerts != 0 {
		t.Fatalf("second watch: %+v %v", res, err)
	}

	// A second incident, notified in time: no alert at any point.
	e2 := newSendEnv(t, "")
	id2 := e2.plannedOn(t, population(3), incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if _, err := notify.Send(ctx, e2.st, id2, notify.SendOptions{Channel: "email", Transport: opt.Transport,
		Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}); err != nil {
		t.Fatal(err)
	}
	for _, day := range []int{14, 19, 21} {
		if res, err := notify.WatchDeadlines(ctx, e2.st, time.Date(2026, 12, day, 0, 0, 0, 0, time.UTC), opt); err != nil || res.Alerts != 0 {
			t.Errorf("day %d after the notices went out: %+v %v", day, res, err)
		}
	}
}

// decodedBody is a text/plain quoted-printable message's body, decoded.
func decodedBody(t testing.TB, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get("Subject") + "\n" + string(b)
}
