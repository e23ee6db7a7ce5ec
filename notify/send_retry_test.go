package notify_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestSend_RetryFailedDuplicates: a notice's attempts keep one
// Message-ID, and a re-send is flagged possible_duplicate only when an
// earlier attempt may have been delivered (it broke after the end of the
// message was sent, before the relay replied), whether the re-send is a
// retry of a deferral or an incident send --retry-failed of a notice that
// failed for good. A notice refused with a reply code is re-sent unflagged.
func TestSend_RetryFailedDuplicates(t *testing.T) {
	tests := []struct {
		name string
		// first is the relay's behaviour on attempt n of the first run;
		// after it the relay accepts everything.
		first       func(attempt int) smtptest.Behaviour
		maxAttempts int
		// retry runs a second send with RetryFailed.
		retry bool
		// wantFirst is the notice's state after the first run.
		wantFirst string
		// wantFlags is, per email entry in ledger order, whether it is
		// flagged possible_duplicate.
		wantFlags []bool
		// wantRetried and wantRetriedMaybe are the second run's counts.
		wantRetried, wantRetriedMaybe int
		// wantCopies is how many copies the relay kept.
		wantCopies int
	}{
		{"RefusedThenRetried", func(int) smtptest.Behaviour { return smtptest.Reply550 }, 8, true,
			notify.StateFailed, []bool{false, false}, 1, 0, 1},
		{"GaveUpOnRepliesThenRetried", func(int) smtptest.Behaviour { return smtptest.Reply451AtData }, 2, true,
			notify.StateFailed, []bool{false, false, false}, 1, 0, 1},
		{"DroppedAfterDataGaveUpThenRetried", func(int) smtptest.Behaviour { return smtptest.DropAfterData }, 2, true,
			notify.StateFailed, []bool{false, true, true}, 1, 1, 3},
		{"DroppedAfterDataThenSent", func(a int) smtptest.Behaviour {
			if a == 1 {
				return smtptest.DropAfterData
			}
			return smtptest.Accept
		}, 8, false, notify.StateSent, []bool{false, true}, 0, 0, 2},
		{"RepliedAtDataThenSent", func(a int) smtptest.Behaviour {
			if a == 1 {
				return smtptest.Reply451AtData
			}
			return smtptest.Accept
		}, 8, false, notify.StateSent, []bool{false, false}, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newSendEnv(t, "")
			id := e.planned(t, "id,name,email,country,region,postal_line1,city,postal_code\nca1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012\n")
			srv := smtptest.Start(t)
			var firstRun atomic.Bool
			firstRun.Store(true)
			srv.Behave(func(_ string, attempt int) smtptest.Behaviour {
				if firstRun.Load() {
					return tc.first(attempt)
				}
				return smtptest.Accept
			})
			clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
			opt := notify.SendOptions{Channel: "email", Transport: smtpTransport(t, srv, 2*time.Second),
				Concurrency: 1, RetryBase: time.Minute, MaxAttempts: tc.maxAttempts, Now: clock.Now, Sleep: clock.Sleep}
			if _, err := notify.Send(ctx, e.st, id, opt); err != nil {
				t.Fatal(err)
			}
			var state string
			e.st.DB().QueryRow(`SELECT state FROM notices WHERE channel = 'email'`).Scan(&state)
			if state != tc.wantFirst {
				t.Fatalf("after the first run the notice is %q, want %q", state, tc.wantFirst)
			}
			if tc.retry {
				firstRun.Store(false)
				opt.RetryFailed = true
				res, err := notify.Send(ctx, e.st, id, opt)
				if err != nil {
					t.Fatal(err)
				}
				if res.Retried != tc.wantRetried || res.RetriedMaybeDelivered != tc.wantRetriedMaybe || res.FailedTotal != 0 {
					t.Errorf("retry run %+v; want %d retried, %d of them maybe delivered, none failed", res, tc.wantRetried, tc.wantRetriedMaybe)
				}
				e.st.DB().QueryRow(`SELECT state FROM notices WHERE channel = 'email'`).Scan(&state)
				if state != notify.StateSent {
					t.Errorf("after --retry-failed the notice is %q, want sent", state)
				}
			}

			// The email entries in order, their flags, and the retry's.
			var flags []bool
			ids := map[string]bool{}
			retried := 0
			err := ledger.FindEntries(ctx, e.st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(en ledger.Entry) error {
				switch en.Kind {
				case ledger.KindEmailSent, ledger.KindEmailDeferred, ledger.KindEmailFailed:
					flags = append(flags, en.PossibleDuplicate)
					var d struct {
						MessageID string `json:"message_id"`
					}
					json.Unmarshal(en.Detail, &d)
					ids[d.MessageID] = true
				case ledger.KindEmailRetried:
					retried++
					var d struct {
						Maybe bool `json:"maybe_delivered"`
					}
					json.Unmarshal(en.Detail, &d)
					if d.Maybe != (tc.wantRetriedMaybe > 0) {
						t.Errorf("email_retried detail %s: maybe_delivered %v, want %v", en.Detail, d.Maybe, tc.wantRetriedMaybe > 0)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flags, tc.wantFlags) {
				t.Errorf("email entries flagged possible_duplicate %v, want %v", flags, tc.wantFlags)
			}
			if retried != tc.wantRetried {
				t.Errorf("%d email_retried entries, want %d", retried, tc.wantRetried)
			}
			if len(ids) != 1 {
				t.Errorf("the attempts carry %d Message-IDs %v, want one", len(ids), ids)
			}
			msgs := srv.Messages()
			if len(msgs) != tc.wantCopies {
				t.Errorf("the relay kept %d copies, want %d", len(msgs), tc.wantCopies)
			}
			for _, m := range msgs {
				if !ids[m.MessageID] {
					t.Errorf("the relay got Message-ID %q, the ledger names %v", m.MessageID, ids)
				}
			}
		})
	}
}
