package notify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// BenchmarkSetBased times the set-based statements over an incident's
// affected set (SETBASED_N learners, default 100,000), each run on a fresh
// incident of the same copy: the plan's count (incident.ForEachAffectedPlace),
// the language gaps (GROUP BY over incident.AffectedPeople), and a letter
// send (the unreachable people, then QueueLetters' windows: INSERT ...
// SELECT over AffectedPeople, with ledger entries). It measures the seam
// between incident's tables and notify's SQL.
func BenchmarkSetBased(b *testing.B) {
	n := benchEnvInt("SETBASED_N", 100_000)
	ctx := context.Background()
	dir := b.TempDir()
	files, err := demodata.Write(ctx, filepath.Join(dir, "data"), demodata.Options{Accounts: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	db, err := migrations.Open(ctx, filepath.Join(dir, "set.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := incident.NewStore(db)
	if st.Journal, err = ledger.New([]byte("set-based-bench-secret-0123456789"), nil); err != nil {
		b.Fatal(err)
	}
	if _, err := demodata.Load(ctx, st, files, func(incident.Problem) {}); err != nil {
		b.Fatal(err)
	}
	var plan, gaps, letters time.Duration
	queued := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "openlearn", Title: "Course database copied",
			Discovered: incident.Date{Time: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)},
			Elements:   []incident.Element{incident.ElemName, incident.ElemSSN}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		if _, err := notify.MakePlan(ctx, st, inc.ID); err != nil {
			b.Fatal(err)
		}
		plan += time.Since(t)
		t = time.Now()
		if _, err := notify.LanguageGaps(ctx, st, inc.ID); err != nil {
			b.Fatal(err)
		}
		gaps += time.Since(t)
		t = time.Now()
		res, err := notify.Send(ctx, st, inc.ID, notify.SendOptions{Channel: notify.ChannelLetter})
		if err != nil {
			b.Fatal(err)
		}
		letters += time.Since(t)
		queued += res.LettersQueued
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(plan), "plan_s")
	b.ReportMetric(per(gaps), "gaps_s")
	b.ReportMetric(per(letters), "letters_s")
	b.ReportMetric(float64(queued)/float64(b.N), "letters")
}
