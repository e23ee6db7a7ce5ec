package email_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
)

// benchConns is the number of connections, each reused for many messages,
// as the dispatcher's workers do.
const benchConns = 8

// runConcurrent spreads b.N messages over benchConns goroutines, each with
// the sender its open function returns, and reports messages per second.
func runConcurrent(b *testing.B, srv *smtptest.Server, open func() (send func(i int64) error, closeFn func())) {
	b.Helper()
	senders := make([]func(int64) error, benchConns)
	closers := make([]func(), benchConns)
	for i := range benchConns {
		senders[i], closers[i] = open()
	}
	defer func() {
		for _, c := range closers {
			c()
		}
	}()

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	b.ResetTimer()
	start := time.Now()
	for _, send := range senders {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := send(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if got := srv.Count(); got < b.N {
		b.Fatalf("server counted %d messages, want at least %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkSMTPPlain is the baseline: go-mail alone, one mail.Msg built
// and sent per message over 8 reused connections.
func BenchmarkSMTPPlain(b *testing.B) {
	srv := smtptest.Start(b, smtptest.WithDiscard())
	port := portOf(b, srv.Addr())
	runConcurrent(b, srv, func() (func(int64) error, func()) {
		client, err := mail.NewClient("127.0.0.1", mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS),
			mail.WithoutNoop(), mail.WithHELO("bench.test"))
		if err != nil {
			b.Fatal(err)
		}
		if err := client.DialWithContext(context.Background()); err != nil {
			b.Fatal(err)
		}
		send := func(i int64) error {
			m := newMessage(i, "person@example.net")
			msg := mail.NewMsg()
			if err := msg.FromFormat(m.FromName, m.From); err != nil {
				return err
			}
			if err := msg.AddToFormat(m.ToName, m.To); err != nil {
				return err
			}
			msg.Subject(m.Subject)
			msg.SetGenHeader(mail.HeaderMessageID, m.MessageID)
			msg.SetDate()
			msg.SetBodyString(mail.TypeTextPlain, m.Text)
			msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
			return client.Send(msg)
		}
		return send, func() { _ = client.Close() }
	})
}

// BenchmarkSMTPTransport is the same load through notify.Conn.
func BenchmarkSMTPTransport(b *testing.B) {
	srv := smtptest.Start(b, smtptest.WithDiscard())
	tr := email.NewSMTP(mustConfig(b, srv, 10*time.Second))
	runConcurrent(b, srv, func() (func(int64) error, func()) {
		conn, err := tr.Open(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		send := func(i int64) error {
			if r := conn.Send(context.Background(), newMessage(i, "person@example.net")); r.Outcome != notify.Delivered {
				return fmt.Errorf("message %d: %+v", i, r)
			}
			return nil
		}
		return send, func() { _ = conn.Close() }
	})
}

// BenchmarkOutbox measures the outbox: one synced file per message.
func BenchmarkOutbox(b *testing.B) {
	conn, err := email.NewOutbox(b.TempDir()).Open(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		if r := conn.Send(context.Background(), newMessage(int64(i), "person@example.net")); r.Outcome != notify.Delivered {
			b.Fatalf("message %d: %+v", i, r)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
