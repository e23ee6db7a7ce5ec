package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// TestSend_Workers: several senders of one incident at once, each with its
// own connection pool as separate processes would have (on PostgreSQL
// they claim with FOR UPDATE SKIP LOCKED; on SQLite the write lock orders
// them), deliver every notice exactly once between them, and the ledger
// holds one email_sent per notice and verifies.
func TestSend_Workers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, k storetest.Kind) {
		ctx := context.Background()
		e := newSendEnv(t, storetest.Location(t, k))
		const people, workers = 120, 4
		id := e.planned(t, population(people))
		srv := smtptest.Start(t)
		results := make([]notify.SendResult, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				we := newSendEnv(t, e.db) // another "process" on the same database
				results[w], errs[w] = notify.Send(ctx, we.st, id, notify.SendOptions{Channel: "email",
					Transport: smtpTransport(t, srv, 5*time.Second), Concurrency: 2, Claim: 16})
			}()
		}
		wg.Wait()
		sent := 0
		for w := range results {
			if errs[w] != nil {
				t.Fatalf("worker %d: %v", w, errs[w])
			}
			sent += results[w].Sent
		}
		if sent != people {
			t.Errorf("workers sent %d between them, want %d (results %+v)", sent, people, results)
		}
		deliveredOnce(t, srv, people)
		kinds, dups := e.entries(t)
		if kinds[ledger.KindEmailSent] != people || dups != 0 {
			t.Errorf("ledger: %v, %d possible duplicates", kinds, dups)
		}
		if _, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
			t.Errorf("ledger does not verify: %v", err)
		}
		if st := e.states(t, id); st["email:sent"] != people {
			t.Errorf("notice states %v, want %d sent", st, people)
		}
	})
}

// deliveredOnce checks that the server received want distinct messages
// (by Message-ID), none of them twice.
func deliveredOnce(t *testing.T, srv *smtptest.Server, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.MessageID]++
	}
	for mid, n := range seen {
		if n > 1 {
			t.Errorf("message %s delivered %d times", mid, n)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct messages delivered, want %d", len(seen), want)
	}
}
