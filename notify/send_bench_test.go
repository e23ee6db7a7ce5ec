package notify_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
	"github.com/wneessen/go-mail"
)

func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkSendVsPlain measures, against one loopback SMTP sink that
// discards what it receives, N messages from plain go-mail over C reused
// connections, then N notices from the dispatcher with C connections (each
// rendered, sent, and committed with its ledger entry), and reports both
// rates and their ratio, and the process's CPU time per message of each.
//
//	go test ./notify -run '^$' -bench SendVsPlain -benchtime 1x   # SEND_BENCH_N=20000 SEND_BENCH_C=8
func BenchmarkSendVsPlain(b *testing.B) {
	n := benchEnvInt("SEND_BENCH_N", 20000)
	conc := benchEnvInt("SEND_BENCH_C", 8)
	srv := smtptest.Start(b, smtptest.WithDiscard())
	host, portS, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portS)

	// The notices: n Californians, planned, before the clock starts.
	e := newSendEnv(b, "")
	id := e.planned(b, population(n))
	// Plain go-mail sends the same bytes: one notice rendered once, reused
	// for every message, so the comparison measures what breachnotice adds
	// (rendering per person, leases, state, ledger), not message size.
	ctx := context.Background()
	inc, _ := e.st.FindIncidentByID(ctx, id)
	c, _ := e.st.FindControllerByID(ctx, "op")
	af, err := e.st.FindAffected(ctx, id, "ca0001")
	if err != nil {
		b.Fatal(err)
	}
	rendered, err := templates.RenderEmail(ctx, notify.NoticeFor(inc, c, af, law.NewPlanner(inc, c).Decide(af)))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cpuTime()
		var wg sync.WaitGroup
		per := n / conc
		errs := make(chan error, conc)
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				c, err := mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithoutNoop())
				if err != nil {
					errs <- err
					return
				}
				if err := c.DialWithContext(context.Background()); err != nil {
					errs <- err
					return
				}
				defer c.Close()
				for k := 0; k < per; k++ {
					m := mail.NewMsg()
					m.FromFormat(rendered.FromName, "notice@openlearn.example")
					m.AddToFormat(rendered.ToName, fmt.Sprintf("plain%d-%d@example.org", w, k))
					m.Subject(rendered.Subject)
					m.SetMessageIDWithValue(fmt.Sprintf("plain-%d-%d@openlearn.example", w, k))
					m.SetBodyString(mail.TypeTextPlain, rendered.Text)
					m.AddAlternativeString(mail.TypeTextHTML, rendered.HTML)
					if err := c.Send(m); err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		plain := float64(per*conc) / time.Since(start).Seconds()
		plainCPU := float64((cpuTime() - cpu).Microseconds()) / float64(per*conc)

		before := srv.Count()
		start, cpu = time.Now(), cpuTime()
		res, err := notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email",
			Transport: smtpTransport(b, srv, 30*time.Second), Concurrency: conc})
		if err != nil {
			b.Fatal(err)
		}
		ours := float64(res.Sent) / time.Since(start).Seconds()
		oursCPU := float64((cpuTime() - cpu).Microseconds()) / float64(n)
		if res.Sent != n || srv.Count()-before != n {
			b.Fatalf("sent %d, server got %d, want %d", res.Sent, srv.Count()-before, n)
		}
		kinds, _ := e.entries(b)
		if kinds[ledger.KindEmailSent] != n {
			b.Fatalf("ledger has %d email_sent, want %d", kinds[ledger.KindEmailSent], n)
		}
		b.ReportMetric(plain, "plain_msgs/s")
		b.ReportMetric(ours, "breachnotice_msgs/s")
		b.ReportMetric(ours/plain, "ratio")
		// CPU time per message, of this process (client and sink alike):
		// what the rates come from, and steadier than them on a loaded
		// machine.
		b.ReportMetric(plainCPU, "plain_cpu_us/msg")
		b.ReportMetric(oursCPU, "breachnotice_cpu_us/msg")
	}
}
