package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/templates/golden"
)

// TestCLI_SendRetryFailed: incident send exits 3 and counts the emails
// that failed for good; --retry-failed re-sends them, says how many may
// have been delivered before, and flags only those re-sends as possible
// duplicates (a relay's refusal is certain, a connection dropped after the
// end of the message is not). Its lines on sending and failures are held
// in goldens.
func TestCLI_SendRetryFailed(t *testing.T) {
	tests := []struct {
		name      string
		behaviour smtptest.Behaviour
		copies    int // messages the relay kept for ana@ in the end
	}{
		{"refused", smtptest.Reply550, 1},
		{"maybe_delivered", smtptest.DropAfterData, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			srv, failing := c.plannedWithFailingAna(t, tc.behaviour)
			var b strings.Builder
			send := func(wantCode int, extra ...string) {
				args := append([]string{"incident", "send", "1", "--channel", "email", "--smtp", srv.URL(), "--max-attempts", "1"}, extra...)
				out, errOut, code := c.run(args...)
				// Only the lines on sending and failures: the warnings of
				// other checks (banner, translations) have tests of their own.
				fmt.Fprintf(&b, "$ breachnotice %s\n", strings.Join(append([]string{"incident", "send", "1"}, extra...), " "))
				for _, line := range strings.SplitAfter(out+errOut, "\n") {
					if strings.HasPrefix(line, "incident 1: ") || strings.Contains(line, "failed for good") {
						b.WriteString(line)
					}
				}
				fmt.Fprintf(&b, "[exit %d]\n", code)
				if code != wantCode {
					t.Errorf("%v: exit %d, want %d", extra, code, wantCode)
				}
			}
			send(3)
			send(3) // a plain re-run leaves the failed ones alone
			failing.Store(false)
			send(0, "--retry-failed")
			send(0, "--retry-failed") // nothing left to retry
			golden.Check(t, "send_retry_"+tc.name, b.String())
			n := 0
			for _, m := range srv.Messages() {
				if strings.HasPrefix(m.To[0], "ana@") {
					n++
				}
			}
			if n != tc.copies {
				t.Errorf("the relay kept %d copies for ana@, want %d", n, tc.copies)
			}
		})
	}
}
