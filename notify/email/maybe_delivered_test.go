package email_test

import (
	"context"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// TestSMTP_MaybeDelivered: an attempt is marked MaybeDelivered only when
// it broke after the end of the message was sent and before any reply (a
// timeout, a dropped connection); a reply code, at RCPT or after DATA,
// says for certain it was not taken.
func TestSMTP_MaybeDelivered(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name      string
		behaviour smtptest.Behaviour
		outcome   notify.Outcome
		maybe     bool
		stored    int // messages the server kept
	}{
		{"Accepted", smtptest.Accept, notify.Delivered, false, 1},
		{"Reply550AtRcpt", smtptest.Reply550, notify.Permanent, false, 0},
		{"Reply451AtData", smtptest.Reply451AtData, notify.Temporary, false, 0},
		{"Reply550AtData", smtptest.Reply550AtData, notify.Permanent, false, 0},
		{"StallAfterData", smtptest.Stall, notify.Temporary, true, 0},
		{"DropAfterData", smtptest.DropAfterData, notify.Temporary, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.WithStall(3*timeout))
			srv.Behave(func(string, int) smtptest.Behaviour { return tt.behaviour })
			conn := mustOpen(t, email.NewSMTP(mustConfig(t, srv, timeout)))
			r := conn.Send(context.Background(), newMessage(1, "ana@example.net"))
			if r.Outcome != tt.outcome || r.MaybeDelivered != tt.maybe {
				t.Errorf("Send = %+v; want %v, MaybeDelivered %v", r, tt.outcome, tt.maybe)
			}
			if r.MaybeDelivered && r.Code != 0 {
				t.Errorf("MaybeDelivered with reply code %d", r.Code)
			}
			if n := srv.Count(); n != tt.stored {
				t.Errorf("server kept %d messages, want %d", n, tt.stored)
			}
		})
	}
}
