package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// relayOf is one relay of a test: a transport to srv named as incident
// show and the ledger name it.
func relayOf(t *testing.T, srv *smtptest.Server, rawURL string, weight int) notify.Relay {
	t.Helper()
	cfg, err := email.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	tr := email.NewSMTP(cfg)
	return notify.Relay{Name: tr.(interface{ Name() string }).Name(), Transport: tr, Weight: weight}
}

// sentVia reads, from the ledger, the relay of each email_sent entry, by
// notice, and fails on any entry whose detail names user info.
func sentVia(t *testing.T, e *sendEnv, secrets ...string) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	err := ledger.FindEntries(context.Background(), e.st.DB(), ledger.EntryFilter{Controller: "op"}, func(en ledger.Entry) error {
		for _, s := range secrets {
			if strings.Contains(string(en.Detail), s) {
				t.Errorf("ledger entry %d holds %q: %s", en.Index, s, en.Detail)
			}
		}
		if en.Kind != ledger.KindEmailSent {
			return nil
		}
		var d struct {
			Relay string `json:"relay"`
		}
		if err := json.Unmarshal(en.Detail, &d); err != nil {
			return err
		}
		if _, dup := out[en.Notice]; dup {
			t.Errorf("notice %d has two email_sent entries", en.Notice)
		}
		out[en.Notice] = d.Relay
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSend_RelayFailover sends through two relays, one of which goes down
// after 15 messages (its listener closes, its sessions answer 421): the
// rest go through the other, every notice is delivered exactly once, the
// counts per relay add up to what each server received, and the ledger
// names the relay of each delivery without its user info and verifies.
func TestSend_RelayFailover(t *testing.T) {
	ctx := context.Background()
	const n = 120
	e := newSendEnv(t, "")
	id := e.planned(t, population(n))
	a := smtptest.Start(t, smtptest.WithAuth("relay-user", "s3cret-relay-pass"))
	b := smtptest.Start(t, smtptest.WithRefuseAfter(15))
	ra := relayOf(t, a, "smtp://relay-user:s3cret-relay-pass@"+a.Addr()+"?tls=none", 1)
	rb := relayOf(t, b, b.URL(), 1)
	if strings.Contains(ra.Name, "relay-user") {
		t.Fatalf("relay name %q holds the user", ra.Name)
	}
	relays, err := notify.NewRelays([]notify.Relay{ra, rb}, notify.BreakerOptions{Cooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	res, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: relays, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Failed != 0 || res.Deferred != 0 || res.Remaining != 0 {
		t.Fatalf("result %+v, want %d sent, none deferred or failed", res, n)
	}
	if !b.Refusing() {
		t.Fatal("relay b never went down: the test tests nothing")
	}

	// Every notice exactly once, across both servers.
	got := map[string]string{} // Message-ID -> relay that received it
	for _, s := range []struct {
		srv  *smtptest.Server
		name string
	}{{a, ra.Name}, {b, rb.Name}} {
		for _, m := range s.srv.Messages() {
			if prev, dup := got[m.MessageID]; dup {
				t.Errorf("%s delivered twice (%s and %s)", m.MessageID, prev, s.name)
			}
			got[m.MessageID] = s.name
		}
	}
	if len(got) != n {
		t.Errorf("servers received %d distinct notices, want %d", len(got), n)
	}
	if nb := len(b.Messages()); nb < 15 || nb >= n/2 {
		t.Errorf("relay b received %d, want at least 15 and well under half once it went down", nb)
	}

	// The notices table, the ledger and the counts agree with the servers.
	rows, err := e.st.DB().Query(`SELECT id, message_id, relay FROM notices WHERE incident_id = ? AND channel = 'email'`, id)
	if err != nil {
		t.Fatal(err)
	}
	via := sentVia(t, e, "s3cret", "relay-user")
	for rows.Next() {
		var nid int64
		var mid, relay string
		if err := rows.Scan(&nid, &mid, &relay); err != nil {
			t.Fatal(err)
		}
		if got[mid] != relay || via[nid] != relay {
			t.Errorf("notice %d: server %q, notices.relay %q, ledger %q", nid, got[mid], relay, via[nid])
		}
	}
	rows.Close()
	counts, err := notify.FindRelayCounts(ctx, e.st, id)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]notify.RelayCount{}
	total := 0
	for _, c := range counts {
		byName[c.Relay] = c
		total += c.Sent
		if c.Deferred != 0 || c.Failed != 0 {
			t.Errorf("relay %s: %+v, want nothing deferred or failed (a refused message goes to the other relay)", c.Relay, c)
		}
	}
	if total != n || byName[ra.Name].Sent != len(a.Messages()) || byName[rb.Name].Sent != len(b.Messages()) {
		t.Errorf("relay counts %+v; servers got a=%d b=%d", counts, len(a.Messages()), len(b.Messages()))
	}
	if r := relays.InRotation(); len(r) != 1 || r[0] != ra.Name {
		t.Errorf("in rotation after the run: %v, want only %s", r, ra.Name)
	}
	if k, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
		t.Errorf("ledger does not verify after %d entries: %v", k, err)
	}
}

// TestSend_RelayWeights sends 300 notices through relays weighted 3 and
// 1: the first carries about three quarters.
func TestSend_RelayWeights(t *testing.T) {
	ctx := context.Background()
	const n = 300
	e := newSendEnv(t, "")
	id := e.planned(t, population(n))
	a, b := smtptest.Start(t), smtptest.Start(t)
	relays, err := notify.NewRelays([]notify.Relay{relayOf(t, a, a.URL(), 3), relayOf(t, b, b.URL(), 1)}, notify.BreakerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: relays, Concurrency: 4})
	if err != nil || res.Sent != n {
		t.Fatalf("send: %+v %v", res, err)
	}
	na, nb := a.Count(), b.Count()
	if na+nb != n {
		t.Fatalf("servers got %d+%d, want %d", na, nb, n)
	}
	if share := float64(na) / n; share < 0.65 || share > 0.85 {
		t.Errorf("relay weighted 3 of 4 carried %d of %d (%.2f), want 0.65-0.85", na, n, share)
	}
	counts, _ := notify.FindRelayCounts(ctx, e.st, id)
	if len(counts) != 2 || counts[0].Sent+counts[1].Sent != n {
		t.Errorf("relay counts %+v", counts)
	}
}

// TestSend_AllRelaysDown: with every relay refusing connections, nothing
// is failed, deferred or written to the ledger, and no attempt is counted:
// the notices wait, and a later run through a working relay sends each
// once.
func TestSend_AllRelaysDown(t *testing.T) {
	ctx := context.Background()
	const n = 30
	e := newSendEnv(t, "")
	id := e.planned(t, population(n))
	a, b := smtptest.Start(t), smtptest.Start(t)
	ra, rb := relayOf(t, a, a.URL(), 1), relayOf(t, b, b.URL(), 1)
	a.Close()
	b.Close()
	relays, err := notify.NewRelays([]notify.Relay{ra, rb}, notify.BreakerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: relays, Concurrency: 2, OnePass: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || res.Failed != 0 || res.Deferred != 0 || res.Remaining != n {
		t.Fatalf("result %+v, want nothing sent, deferred or failed and %d remaining", res, n)
	}
	if st := e.states(t, id); st["email:pending"] != n {
		t.Errorf("states %v, want %d pending", st, n)
	}
	var attempts int
	e.st.DB().QueryRow(`SELECT coalesce(sum(attempts), 0) FROM notices WHERE incident_id = ?`, id).Scan(&attempts)
	if attempts != 0 {
		t.Errorf("%d attempts counted for an outage", attempts)
	}
	if kinds, _ := e.entries(t); kinds[ledger.KindEmailDeferred]+kinds[ledger.KindEmailFailed]+kinds[ledger.KindEmailSent] != 0 {
		t.Errorf("ledger %v, want no email outcome", kinds)
	}
	if len(relays.InRotation()) != 0 || relays.Wait() <= 0 {
		t.Errorf("in rotation %v, wait %v: both relays should be out", relays.InRotation(), relays.Wait())
	}

	c := smtptest.Start(t)
	res, err = notify.Send(ctx, e.st, id, notify.SendOptions{Channel: "email", Transport: smtpTransport(t, c, 5*time.Second), Concurrency: 2})
	if err != nil || res.Sent != n || c.Count() != n {
		t.Fatalf("after the outage: %+v %v, server got %d", res, err, c.Count())
	}
	if k, err := ledger.CheckLog(ctx, e.st.DB(), "op"); err != nil {
		t.Errorf("ledger does not verify after %d entries: %v", k, err)
	}
}

// fakeRelay is a transport whose relay is up or down at the test's word:
// down, it refuses connections and answers 421 on open ones. A fake at
// the Transport seam, to drive the breakers' clock; the SMTP tests above
// use real servers.
type fakeRelay struct {
	mu   sync.Mutex
	down bool
	code int // when up: 0 delivers, 451 refuses before the content
	sent int
}

func (f *fakeRelay) set(down bool, code int) { f.mu.Lock(); f.down, f.code = down, code; f.mu.Unlock() }

func (f *fakeRelay) Open(context.Context) (notify.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	return fakeConn{f}, nil
}

type fakeConn struct{ f *fakeRelay }

func (c fakeConn) Send(context.Context, *notify.Message) notify.Result {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	switch {
	case c.f.down:
		return notify.Result{Outcome: notify.Temporary, Code: 421, Reply: "421 4.3.2 shutting down", Broken: true, Unsent: true}
	case c.f.code != 0:
		return notify.Result{Outcome: notify.Temporary, Code: c.f.code, Reply: "451 4.7.1 later", Unsent: true}
	}
	c.f.sent++
	return notify.Result{Outcome: notify.Delivered, Code: 250}
}

func (fakeConn) Close() error { return nil }

// TestRelays_Breaker walks one relay's breaker through its states: out
// after refused connections, a failed probe after the cool-down (and a
// doubled cool-down), back after a good probe, out again after answering
// 4xx to most attempts; and Unavailable when no relay is left.
func TestRelays_Breaker(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := &fakeRelay{}, &fakeRelay{}
	rs, err := notify.NewRelays([]notify.Relay{{Name: "a:25", Transport: a}, {Name: "b:25", Transport: b}},
		notify.BreakerOptions{Cooldown: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := rs.Open(ctx)
	defer conn.Close()
	send := func(want string) {
		t.Helper()
		r := conn.Send(ctx, &notify.Message{})
		if r.Outcome != notify.Delivered || r.Relay != want {
			t.Fatalf("sent %v via %q (%s), want delivered via %s", r.Outcome, r.Relay, r.Reply, want)
		}
	}
	rotation := func(want string) {
		t.Helper()
		if got := strings.Join(rs.InRotation(), " "); got != want {
			t.Fatalf("in rotation %q, want %q", got, want)
		}
	}
	advance := func(d time.Duration) { clock.mu.Lock(); clock.now = clock.now.Add(d); clock.mu.Unlock() }

	b.set(true, 0)
	for range 10 {
		r := conn.Send(ctx, &notify.Message{})
		if r.Outcome != notify.Delivered || r.Relay != "a:25" {
			t.Fatalf("with b down: %+v, want delivered via a", r)
		}
	}
	rotation("a:25")
	if a.sent != 10 {
		t.Fatalf("a sent %d, want all 10", a.sent)
	}

	advance(61 * time.Second) // cool-down over: b's probe fails, 2m more
	send("a:25")
	rotation("a:25")
	advance(61 * time.Second)
	send("a:25")
	if rs.Wait() != 0 {
		t.Fatal("a is in rotation: Wait should be 0")
	}
	b.set(false, 0)
	advance(60 * time.Second) // 2m after the failed probe
	send("b:25")              // the probe
	rotation("a:25 b:25")

	b.set(false, 451) // b answers 4xx: each message moves on to a
	for range 20 {
		send("a:25")
	}
	rotation("a:25")

	a.set(true, 0) // and now a is down too
	var r notify.Result
	for range 5 {
		r = conn.Send(ctx, &notify.Message{})
	}
	if !r.Unavailable || r.Outcome != notify.Temporary {
		t.Fatalf("with every relay out: %+v, want Unavailable", r)
	}
	rotation("")
	if w := rs.Wait(); w <= 0 || w > time.Minute {
		t.Fatalf("Wait %v, want until a's cool-down ends", w)
	}
}

// TestRelays_Names: a relay's name is host and port, never user info.
func TestRelays_Names(t *testing.T) {
	cfg, err := email.ParseURL("smtp://user%40corp:p%40ss@mx.example.org:2525?tls=starttls")
	if err != nil {
		t.Fatal(err)
	}
	name := email.NewSMTP(cfg).(interface{ Name() string }).Name()
	if name != "mx.example.org:2525" {
		t.Errorf("name %q", name)
	}
	if _, err := url.Parse("smtp://" + name); err != nil {
		t.Error(err)
	}
}
