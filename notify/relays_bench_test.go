package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// BenchmarkSendRelays measures what spreading a run over two relays
// costs: N notices through one discarding loopback sink, then N others
// (another database) through two such sinks behind notify.Relays with
// equal weights, C connections each time, and reports both rates and CPU
// times per message.
//
//	go test ./notify -run '^$' -bench SendRelays -benchtime 1x   # SEND_BENCH_N=20000 SEND_BENCH_C=8
func BenchmarkSendRelays(b *testing.B) {
	n := benchEnvInt("SEND_BENCH_N", 20000)
	conc := benchEnvInt("SEND_BENCH_C", 8)
	one := smtptest.Start(b, smtptest.WithDiscard())
	x, y := smtptest.Start(b, smtptest.WithDiscard()), smtptest.Start(b, smtptest.WithDiscard())
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		single, double := newSendEnv(b, ""), newSendEnv(b, "")
		id1, id2 := single.planned(b, population(n)), double.planned(b, population(n))
		relays, err := notify.NewRelays([]notify.Relay{
			{Name: x.Addr(), Transport: smtpTransport(b, x, 30*time.Second)},
			{Name: y.Addr(), Transport: smtpTransport(b, y, 30*time.Second)}}, notify.BreakerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		run := func(e *sendEnv, id int64, tr notify.Transport) (float64, float64) {
			start, cpu := time.Now(), cpuTime()
			res, err := notify.Send(context.Background(), e.st, id, notify.SendOptions{Channel: "email", Transport: tr, Concurrency: conc})
			if err != nil || res.Sent != n {
				b.Fatalf("send: %+v %v", res, err)
			}
			return float64(n) / time.Since(start).Seconds(), float64((cpuTime() - cpu).Microseconds()) / float64(n)
		}
		r1, c1 := run(single, id1, smtpTransport(b, one, 30*time.Second))
		r2, c2 := run(double, id2, relays)
		if x.Count() == 0 || y.Count() == 0 {
			b.Fatalf("relays got %d and %d", x.Count(), y.Count())
		}
		b.ReportMetric(r1, "one_relay_msgs/s")
		b.ReportMetric(r2, "two_relays_msgs/s")
		b.ReportMetric(r2/r1, "ratio")
		b.ReportMetric(c1, "one_relay_cpu_us/msg")
		b.ReportMetric(c2, "two_relays_cpu_us/msg")
	}
}
