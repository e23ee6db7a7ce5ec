package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestSweep: the retry sweep sends, in one pass that returns, the
// deferred notices whose retry time has come, and takes over a lease
// whose run died, re-sending that message with the same Message-ID and
// flagging it possible_duplicate; what is not due yet stays for the next
// sweep; an incident on hold is left alone.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	e := newSendEnv(t, "")
	id := e.plannedOn(t, population(10), incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	srv := smtptest.Start(t)
	// The first attempt to ca0000..ca0004 gets 451: they are deferred.
	srv.Behave(func(rcpt string, attempt int) smtptest.Behaviour {
		if attempt == 1 && rcpt < "ca0005" {
			return smtptest.Reply451
		}
		return smtptest.Accept
	})
	tr := smtpTransport(t, srv, 5*time.Second)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	// incident send, stopped once only deferred notices remain (its Sleep
	// refuses to wait).
	res, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: tr, Concurrency: 2, RetryBase: 10 * time.Minute,
		Now: func() time.Time { return t0 }, Sleep: func(context.Context, time.Duration) error { return context.Canceled }})
	if err != nil || res.Sent != 5 || res.Remaining != 5 {
		t.Fatalf("send: %+v %v, want 5 sent and 5 deferred", res, err)
	}
	// One deferred notice was claimed by a run on another host that died:
	// its lease runs to t0+2m.
	var dead int64
	e.st.DB().QueryRow(`SELECT id FROM notices WHERE account_id = 'ca0004'`).Scan(&dead)
	if _, err := e.st.DB().Exec(`UPDATE notices SET state = 'sending', lease_owner = 'elsewhere/1/x', lease_until = ? WHERE id = ?`,
		t0.Add(2*time.Minute).Format("2006-01-02T15:04:05.000000000Z07:00"), dead); err != nil {
		t.Fatal(err)
	}
	opt := notify.SendOptions{Transport: tr, Concurrency: 2, RetryBase: 10 * time.Minute}

	// A minute later nothing is due: the sweep returns at once.
	start := time.Now()
	sw, err := notify.Sweep(ctx, e.st, t0.Add(time.Minute), opt)
	if err != nil || sw.Sent != 0 || sw.Remaining != 5 || srv.Count() != 5 {
		t.Fatalf("sweep at t0+1m: %+v %v, server got %d", sw, err, srv.Count())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the sweep waited %v instead of returning", d)
	}
	// Twenty minutes later every retry is due (backoff 5-15 min) and the
	// dead lease has expired.
	sw, err = notify.Sweep(ctx, e.st, t0.Add(20*time.Minute), opt)
	if err != nil || sw.Sent != 5 || sw.Duplicates != 1 || sw.Remaining != 0 || sw.Incidents != 1 {
		t.Fatalf("sweep at t0+20m: %+v %v", sw, err)
	}
	want := notify.MessageID(id, dead, "openlearn.example")
	n := 0
	for _, m := range srv.Messages() {
		if strings.Join(m.To, ",") == "ca0004@example.org" {
			n++
			if m.MessageID != want {
				t.Errorf("taken-over notice sent as %s, want its own %s", m.MessageID, want)
			}
		}
	}
	if n != 1 {
		t.Errorf("ca0004 received %d messages, want 1", n)
	}
	kinds, dups := e.entries(t)
	if kinds[ledger.KindEmailSent] != 10 || dups != 1 {
		t.Errorf("ledger: %v, %d flagged possible_duplicate; want 10 sent, 1 flagged", kinds, dups)
	}
	if sw, err := notify.Sweep(ctx, e.st, t0.Add(21*time.Minute), opt); err != nil || sw.Incidents != 0 {
		t.Errorf("sweep with nothing left: %+v %v", sw, err)
	}

	// On hold: not swept.
	e2 := newSendEnv(t, "")
	id2 := e2.plannedOn(t, population(3), incident.Date{Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	srv.Behave(func(string, int) smtptest.Behaviour { return smtptest.Reply451 })
	if _, err := notify.Send(ctx, e2.st, id2, notify.SendOptions{Channel: "email", Transport: tr, RetryBase: time.Minute,
		Now: func() time.Time { return t0 }, Sleep: func(context.Context, time.Duration) error { return context.Canceled }}); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.st.HoldIncident(ctx, id2, "FBI"); err != nil {
		t.Fatal(err)
	}
	srv.Behave(func(string, int) smtptest.Behaviour { return smtptest.Accept })
	if sw, err := notify.Sweep(ctx, e2.st, t0.Add(time.Hour), opt); err != nil || sw.Incidents != 0 || sw.Sent != 0 {
		t.Errorf("sweep of an incident on hold: %+v %v", sw, err)
	}
}
