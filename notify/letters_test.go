package notify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// letterStore opens a store whose journal is the delivery ledger and
// plans an incident whose people are owed letters.
func letterStore(t *testing.T) (*incident.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	led, err := ledger.New([]byte("letters-test-secret-0123456789"), st.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = led
	id := scopedIncident(t, st, `id,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
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
	lc, err := notify.LetterStats(context.Background(), st, id)
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
	res, err := notify.ExportLetters(ctx, st, id, out1, "")
	if err != nil || res.Batch != "B1-1" || res.Letters != 4 {
		t.Fatalf("export: %+v, %v", res, err)
	}
	ids := noticeIDs(t, st, id)
	m1 := zipMembers(t, out1)
	golden(t, "letters_manifest_b1", string(m1["manifest.csv"]))
	if got, want := len(m1), 5; got != want {
		t.Errorf("batch 1 has %d files (%s), want %d", got, names(m1), want)
	}
	for _, a := range []string{"l1", "l2", "l3", "l4"} {
		if pdf := m1[notify.LetterID(ids[a])+".pdf"]; !bytes.HasPrefix(pdf, []byte("%PDF-")) {
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
	res, err = notify.ExportLetters(ctx, st, id, out2, "")
	if err != nil || res.Batch != "B1-2" || res.Letters != 1 {
		t.Fatalf("second export: %+v, %v", res, err)
	}
	ids = noticeIDs(t, st, id)
	if got, want := names(zipMembers(t, out2)), notify.LetterID(ids["e1"])+".pdf manifest.csv"; got != want {
		t.Errorf("batch 2 holds %s, want %s", got, want)
	}
	res, err = notify.ExportLetters(ctx, st, id, filepath.Join(dir, "b3.zip"), "")
	if err != nil || res.Letters != 0 {
		t.Fatalf("third export: %+v, %v; want nothing", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b3.zip")); !os.IsNotExist(err) {
		t.Errorf("an empty export wrote a file")
	}

	// --again reproduces batch 1 byte for byte, even a day later.
	st.Now = func() time.Time { return time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC) }
	outA := filepath.Join(dir, "b1-again.zip")
	res, err = notify.ExportLetters(ctx, st, id, outA, "B1-1")
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
	if _, err := notify.ExportLetters(ctx, st, id, outA, "B9-9"); err == nil {
		t.Errorf("export of an unknown batch succeeded")
	}
	// Each letter is in exactly one batch.
	var multi int
	st.DB().QueryRow(`SELECT count(*) FROM notices WHERE channel='letter' AND state='exported' AND batch NOT IN ('B1-1','B1-2')`).Scan(&multi)
	if lc := stats(t, st, id); lc.States["exported"] != 5 || multi != 0 {
		t.Fatalf("after exports: %+v, %d outside the two batches", lc, multi)
	}

	// The mail house confirms; bad lines are reported, good ones commit.
	L := func(a string) string { return notify.LetterID(ids[a]) }
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
	cr, err := notify.ConfirmLetters(ctx, st, strings.NewReader(confirm), notify.LetterFileOptions{File: "mailed.csv"}, report)
	if err != nil || cr.Accepted != 2 || cr.Rejected != 6 {
		t.Fatalf("confirm: %+v, %v", cr, err)
	}
	golden(t, "letters_confirm_problems", strings.Join(problems, "\n")+"\n")
	problems = nil
	cr, err = notify.ConfirmLetters(ctx, st, strings.NewReader(L("l2")+",2026-11-28\n"+L("l3")+",2026-11-28\n"), notify.LetterFileOptions{File: "again.csv"}, report)
	if err != nil || cr.Accepted != 1 || cr.Rejected != 1 || !strings.Contains(problems[0], "again.csv:1: letter_id: "+L("l2")+" is already mailed") {
		t.Fatalf("confirm again: %+v %v %q", cr, err, problems)
	}

	// One letter comes back.
	problems = nil
	rr, err := notify.ReturnedLetters(ctx, st, strings.NewReader("letter_id,returned_at,reason\n"+L("l1")+",2026-11-29,moved away\n"+L("l1")+",2026-11-29\n"), notify.LetterFileOptions{File: "returned.csv"}, report)
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
	if _, err := notify.ExportLetters(ctx, st, id, filepath.Join(t.TempDir(), "x.zip"), ""); err == nil {
		t.Fatal("export under a law-enforcement hold succeeded")
	}
}

// The flag has its own name so it cannot clash with another golden test in
// this package: go test ./notify -run Letters -update-letters.
var updateLetters = flag.Bool("update-letters", false, "rewrite notify/testdata letters_* goldens")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *updateLetters {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./notify -run Letters -update-letters)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}
