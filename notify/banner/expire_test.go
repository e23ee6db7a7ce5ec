package banner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// plannedIncidents opens a store whose journal is the ledger and plans n
// incidents of the operator exposing Californians' names and SSNs (a
// 30-day website posting, US-CA).
func plannedIncidents(t *testing.T, n int) (*incident.Store, []int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	led, err := ledger.New([]byte("banner-test-secret-0123456789"), st.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	elems := []incident.Element{incident.ElemName, incident.ElemSSN}
	ids := []int64{storetest.ScopedIncident(t, st, `id,name,email,country,region,postal_line1,city,postal_code,e_consent,status
c1,Ana,ana@example.org,US,CA,1 Main St,Los Angeles,90012,true,active
c2,Ben,,US,CA,2 Main St,Fresno,93650,false,active
`, elems...)}
	for i := 1; i < n; i++ {
		inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "op", Title: fmt.Sprintf("incident %d", i+1),
			Discovered: storetest.Discovered, Elements: elems})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	for _, id := range ids {
		if _, err := notify.MakePlan(ctx, st, id); err != nil {
			t.Fatal(err)
		}
	}
	return st, ids
}

func date(s string) incident.Date {
	d, err := incident.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestExpire: Expire withdraws a banner once its last day and the posting
// the law requires are both over, never before, never twice, with a
// banner_withdrawn entry whose reason is "expired"; the snapshot then
// drops it and its notice page says it was withdrawn.
func TestExpire(t *testing.T) {
	ctx := context.Background()
	st, ids := plannedIncidents(t, 5)
	// Published 2026-11-28 12:00 UTC (storetest.Now): US-CA requires the
	// posting until 2026-12-28 12:00.
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	for id, until := range map[int64]string{a: "2026-12-31", b: "", c: "2026-12-28", d: "2027-06-30", e: "2026-12-31"} {
		opt := banner.PublishOptions{}
		if until != "" {
			opt.Until = date(until)
		}
		res, err := banner.Publish(ctx, st, id, opt)
		if err != nil {
			t.Fatalf("publish %d: %v", id, err)
		}
		if res.Banner.RequiredDays != 30 || res.Banner.RequiredBy != "US-CA" {
			t.Fatalf("banner %d requires %d days by %q, want 30 by US-CA", id, res.Banner.RequiredDays, res.Banner.RequiredBy)
		}
	}
	if _, err := banner.Withdraw(ctx, st, d, banner.WithdrawOptions{Force: true, Reason: "published by mistake"}); err != nil {
		t.Fatal(err)
	}
	// A last day before the required posting ends, which Publish refuses:
	// as a row an older version or a hand edit could leave.
	if _, err := st.DB().ExecContext(ctx, `UPDATE banners SET until = '2026-12-01' WHERE incident_id = ?`, e); err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		now     string
		want    int
		expired []int64 // withdrawn by Expire so far
	}{
		{"2026-11-29T00:00:00Z", 0, nil},
		{"2026-12-05T00:00:00Z", 0, nil},                // e's last day passed, its posting is still required
		{"2026-12-28T11:59:59Z", 0, nil},                // one second of e's required posting left
		{"2026-12-28T12:00:00Z", 1, []int64{e}},         // over
		{"2026-12-28T12:00:00Z", 0, []int64{e}},         // idempotent
		{"2026-12-28T23:59:59Z", 0, []int64{e}},         // c shows through its last day
		{"2026-12-29T01:00:00+01:00", 1, []int64{c, e}}, // 00:00 UTC: c's last day is over
		{"2026-12-31T23:59:59Z", 0, []int64{c, e}},      // a shows through its last day
		{"2027-01-01T00:00:00Z", 1, []int64{a, c, e}},   // a's is over
		{"2027-01-01T00:00:00.5Z", 0, []int64{a, c, e}}, // a fraction of a second later: nothing more
		{"2030-01-01T00:00:00Z", 0, []int64{a, c, e}},   // b has no last day; d was withdrawn by hand
		{"2030-01-01T01:00:00Z", 0, []int64{a, c, e}},   // the next hourly run
		{"2026-11-28T12:00:00Z", 0, []int64{a, c, e}},   // a clock gone back withdraws nothing
	} {
		now, err := time.Parse(time.RFC3339Nano, step.now)
		if err != nil {
			t.Fatal(err)
		}
		n, err := banner.Expire(ctx, st, now)
		if err != nil || n != step.want {
			t.Fatalf("Expire(%s) = %d, %v; want %d", step.now, n, err, step.want)
		}
		for _, id := range ids {
			got := expiredEntries(t, st, id)
			want := 0
			for _, x := range step.expired {
				if x == id {
					want = 1
				}
			}
			if len(got) != want {
				t.Fatalf("after Expire(%s): incident %d has %d expired entries, want %d", step.now, id, len(got), want)
			}
		}
	}

	// What Expire wrote, and what is served after it.
	snap, err := banner.Load(ctx, st, time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	served := string(snap.BannerJSON("op").Body)
	for _, id := range ids {
		bn, err := banner.FindBanner(ctx, st.DB(), id)
		if err != nil {
			t.Fatal(err)
		}
		live := strings.Contains(served, fmt.Sprintf(`"incident":%d,`, id))
		page, ok := snap.Notice("op", id)
		if !ok {
			t.Fatalf("incident %d's notice page is gone", id)
		}
		html := string(page.HTML["en"].Body)
		switch id {
		case b:
			if !live || !bn.Withdrawn.IsZero() {
				t.Errorf("banner %d without a last day: live %v, withdrawn %v", id, live, bn.Withdrawn)
			}
		case d:
			if live || bn.Reason != "published by mistake" || !bn.Forced {
				t.Errorf("banner %d withdrawn by hand: %+v", id, bn)
			}
		default:
			es := expiredEntries(t, st, id)
			if live || bn.Reason != banner.ExpiredReason || bn.Forced || bn.State(time.Now()) != "withdrawn" {
				t.Errorf("expired banner %d: live %v, %+v", id, live, bn)
			}
			if !bn.Withdrawn.Equal(es[0].At) || !strings.Contains(html, "Withdrawn from the homepage on") {
				t.Errorf("banner %d withdrawn at %v, entry at %v; page withdrawn: %v", id, bn.Withdrawn, es[0].At,
					strings.Contains(html, "Withdrawn from the homepage on"))
			}
		}
	}
}

// expiredEntries returns incident id's banner_withdrawn entries whose
// reason is "expired" and which are not forced.
func expiredEntries(t *testing.T, st *incident.Store, id int64) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	err := ledger.FindEntries(context.Background(), st.DB(), ledger.EntryFilter{Controller: "op", Incident: id}, func(e ledger.Entry) error {
		if e.Kind != ledger.KindBannerWithdrawn {
			return nil
		}
		var d banner.Detail
		if err := json.NewDecoder(bytes.NewReader(e.Detail)).Decode(&d); err != nil {
			return err
		}
		if d.Reason == banner.ExpiredReason && !d.Forced {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
