package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// BenchmarkSendWorkers_Postgres sends one incident's notices from 1, 2
// and 4 senders at once on one PostgreSQL database, each with its own
// connection pool and the same per-sender concurrency, to a loopback SMTP
// sink that answers each message after 20 ms (a relay's latency). It
// reports emails/s and checks that every notice was delivered once.
// BN_WORKERS_PEOPLE sets the number of notices (default 3000).
//
//	go test ./notify -run '^$' -bench SendWorkers_Postgres -benchtime 1x
func BenchmarkSendWorkers_Postgres(b *testing.B) {
	people := benchEnvInt("BN_WORKERS_PEOPLE", 3000)
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := newSendEnv(b, storetest.Location(b, storetest.Postgres))
				id := e.planned(b, population(people))
				srv := smtptest.Start(b, smtptest.WithDiscard(), smtptest.WithLatency(20*time.Millisecond))
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				errs := make([]error, workers)
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						we := newSendEnv(b, e.db)
						_, errs[w] = notify.Send(context.Background(), we.st, id, notify.SendOptions{Channel: "email",
							Transport: smtpTransport(b, srv, 10*time.Second), Concurrency: 8})
					}()
				}
				wg.Wait()
				el := time.Since(start)
				b.StopTimer()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				kinds, dups := e.entries(b)
				if got := srv.Count(); got != people || kinds[ledger.KindEmailSent] != people || dups != 0 {
					b.Fatalf("%d delivered, %d email_sent entries, %d possible duplicates; want %d, %d, 0", got, kinds[ledger.KindEmailSent], dups, people, people)
				}
				b.ReportMetric(float64(people)/el.Seconds(), "emails/s")
				b.StartTimer()
			}
		})
	}
}
