package ledger

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto/sha256"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/migrations"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// mustOpenDB opens a migrated SQLite file in a temporary directory, or a
// fresh PostgreSQL database under BREACHNOTICE_TEST_STORE=postgres; path
// is the file or the URL.
func mustOpenDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := storetest.Location(t, storetest.Default())
	db, err := migrations.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// testClock ticks one second per call.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func newTestLedger(t testing.TB) (*Ledger, *testClock) {
	t.Helper()
	c := &testClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	l, err := New(testSecret, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// inTx runs fn in one transaction, committed when fn succeeds and rolled
// back when it fails; it returns fn's error, or the commit's.
func inTx(db *sql.DB, fn func(ctx context.Context, tx *sql.Tx) error) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// scratchTx begins a transaction that is rolled back when the test ends:
// what it writes is for the test's eyes only.
func scratchTx(t testing.TB, db *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

// addController inserts a controller row and creates its ledger key.
func addController(t testing.TB, db *sql.DB, l *Ledger, id string) string {
	t.Helper()
	var pub string
	err := inTx(db, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO controllers(id, name, member, from_email, created_at) VALUES (?, ?, 0, ?, ?)`,
			id, "Controller "+id, "privacy@"+id+".example", "2025-03-01T00:00:00Z"); err != nil {
			return err
		}
		var err error
		pub, err = l.CreateKey(ctx, tx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func mustAppend(t testing.TB, db *sql.DB, entries ...Entry) []Entry {
	t.Helper()
	if err := inTx(db, func(ctx context.Context, tx *sql.Tx) error { return Append(ctx, tx, entries...) }); err != nil {
		t.Fatal(err)
	}
	return entries
}

// deliveries makes n delivery entries for controller c, spread over
// incidents 1 and 2 and accounts a0..a4.
func deliveries(c string, n int, at time.Time) []Entry {
	out := make([]Entry, n)
	kinds := []Kind{KindEmailSent, KindEmailDeferred, KindLetterQueued, KindLetterMailed}
	juris := []string{"US-CA", "US-MA", "DE"}
	for i := range out {
		k := kinds[i%len(kinds)]
		ch := "email"
		if k == KindLetterQueued || k == KindLetterMailed {
			ch = "letter"
		}
		out[i] = Entry{
			Controller: c, At: at.Add(time.Duration(i) * time.Minute), Kind: k,
			Incident: int64(1 + i%2), Account: fmt.Sprintf("a%d", i%5), Notice: int64(100 + i%7), Channel: ch,
			PossibleDuplicate: i%11 == 3,
			Detail:            json.RawMessage(fmt.Sprintf(`{ "jurisdiction": %q, "deadline": "2025-03-02", "message_id": "<m%d@example>" }`, juris[i%3], i)),
		}
	}
	return out
}

func TestEntry_Canonical(t *testing.T) {
	e := Entry{Controller: "op", Index: 7, At: time.Date(2025, 3, 1, 10, 0, 0, 500, time.FixedZone("X", 3600)),
		Kind: KindEmailSent, Incident: 3, Account: "a\"1\n", Notice: 9, Channel: "email", PossibleDuplicate: true,
		Detail: json.RawMessage(`{"smtp":"250 ok"}`)}
	want := `{"controller":"op","index":7,"at":"2025-03-01T09:00:00.0000005Z","kind":"email_sent","incident":3,"account":"a\"1\n","notice":9,"channel":"email","possible_duplicate":true,"detail":{"smtp":"250 ok"}}`
	if got := string(e.Canonical()); got != want {
		t.Fatalf("Canonical =\n%s\nwant\n%s", got, want)
	}
	back, canonical, err := parseEntry([]byte(want))
	if err != nil || !canonical {
		t.Fatalf("parseEntry(canonical) = %v, %v", canonical, err)
	}
	if back.Account != e.Account || !back.At.Equal(e.At) || back.Notice != 9 {
		t.Fatalf("round trip lost data: %+v", back)
	}
	for _, s := range []string{
		`{"controller":"op", "index":7,"at":"2025-03-01T09:00:00Z","kind":"email_sent"}`,
		`{"index":7,"controller":"op","at":"2025-03-01T09:00:00Z","kind":"email_sent"}`,
		`{"controller":"op","index":7,"at":"2025-03-01T10:00:00+01:00","kind":"email_sent"}`,
		`{"controller":"op","index":7,"at":"2025-03-01T09:00:00Z","kind":"email_sent","extra":1}`,
		`{"controller":"\u006fp","index":7,"at":"2025-03-01T09:00:00Z","kind":"email_sent"}`,
	} {
		if _, canonical, err := parseEntry([]byte(s)); err != nil || canonical {
			t.Errorf("parseEntry(%s) canonical = %v, %v; want false", s, canonical, err)
		}
	}
}

func TestAppend(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")

	t.Run("Indexes", func(t *testing.T) {
		es := mustAppend(t, db, deliveries("op", 100, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))...)
		for i, e := range es {
			if e.Index != int64(i+1) {
				t.Fatalf("entry %d got index %d", i, e.Index)
			}
		}
		if n, err := TreeSize(ctx, db, "op"); err != nil || n != 101 {
			t.Fatalf("TreeSize = %d, %v; want 101", n, err)
		}
	})
	t.Run("TreeMatchesTlog", func(t *testing.T) {
		// Recompute the tree independently with an in-memory tlog store.
		var stored []tlog.Hash
		r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			for i, x := range ix {
				out[i] = stored[x]
			}
			return out, nil
		})
		var n int64
		err := FindEntries(ctx, db, EntryFilter{Controller: "op"}, func(e Entry) error {
			hs, err := tlog.StoredHashes(n, e.Canonical(), r)
			stored = append(stored, hs...)
			n++
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := tlog.TreeHash(n, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tlog.TreeHash(n, &hashReader{ctx: ctx, q: db, logID: 1})
		if err != nil || got != want {
			t.Fatalf("stored tree hash %v, %v; want %v", got, err, want)
		}
		if size, err := CheckLog(ctx, db, "op"); err != nil || size != n {
			t.Fatalf("CheckLog = %d, %v", size, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, e := range map[string]Entry{
			"NoTime":      {Controller: "op", Kind: KindEmailSent},
			"BadKind":     {Controller: "op", Kind: "emailed", At: time.Now()},
			"DetailArray": {Controller: "op", Kind: KindEmailSent, At: time.Now(), Detail: json.RawMessage(`[1]`)},
			"DetailJunk":  {Controller: "op", Kind: KindEmailSent, At: time.Now(), Detail: json.RawMessage(`{"a":`)},
		} {
			err := inTx(db, func(ctx context.Context, tx *sql.Tx) error { return Append(ctx, tx, e) })
			if !errors.Is(err, incident.ErrInvalid) {
				t.Errorf("%s: Append = %v, want ErrInvalid", name, err)
			}
		}
		err := inTx(db, func(ctx context.Context, tx *sql.Tx) error {
			return Append(ctx, tx, Entry{Controller: "nobody", Kind: KindEmailSent, At: time.Now()})
		})
		if !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("unknown controller: Append = %v, want ErrNotFound", err)
		}
	})
	t.Run("AppendOnly", func(t *testing.T) {
		if _, err := db.ExecContext(ctx, `DELETE FROM ledger_runs`); err == nil {
			t.Fatal("delete of ledger entries succeeded")
		}
		if _, err := db.ExecContext(ctx, `UPDATE ledger_runs SET records = x''`); err == nil {
			t.Fatal("update of a ledger entry succeeded")
		}
	})
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	pub := addController(t, db, l, "op")
	if !strings.HasPrefix(pub, "breachnotice/op+") {
		t.Fatalf("public key %q", pub)
	}
	var first Entry
	err := FindEntries(ctx, db, EntryFilter{Controller: "op", To: 1}, func(e Entry) error { first = e; return nil })
	if err != nil || first.Kind != KindControllerCreated || !strings.Contains(string(first.Detail), pub) {
		t.Fatalf("first entry %+v, %v", first, err)
	}
	t.Run("RecordChecksKind", func(t *testing.T) {
		tx := scratchTx(t, db)
		if err := l.Record(ctx, tx, incident.Event{Controller: "op", Kind: "plan_maed"}); err == nil || !strings.Contains(err.Error(), "unknown event kind") {
			t.Errorf("Record of an unknown kind = %v", err)
		}
		if err := l.Record(ctx, tx, incident.Event{Controller: "op", Kind: incident.EventPlanMade}); err != nil {
			t.Errorf("Record(plan_made) = %v", err)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		tx := scratchTx(t, db)
		if _, err := l.CreateKey(ctx, tx, "op"); !errors.Is(err, incident.ErrConflict) {
			t.Fatalf("second CreateKey = %v", err)
		}
	})
	t.Run("WrongSecret", func(t *testing.T) {
		other, err := New([]byte("another secret of enough length"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Checkpoint(ctx, db, "op"); !errors.Is(err, incident.ErrInvalid) {
			t.Fatalf("Checkpoint with wrong secret = %v", err)
		}
	})
	t.Run("ShortSecret", func(t *testing.T) {
		if _, err := New([]byte("short"), nil); !errors.Is(err, incident.ErrInvalid) {
			t.Fatalf("New(short) = %v", err)
		}
	})
	t.Run("Journal", func(t *testing.T) {
		if _, err := db.ExecContext(ctx, `INSERT INTO controllers(id, name, member, from_email, created_at) VALUES ('m1', 'M', 1, 'a@b.example', '2025-01-01T00:00:00Z')`); err != nil {
			t.Fatal(err)
		}
		var j incident.Journal = l
		tx := scratchTx(t, db)
		if err := j.Record(ctx, tx, incident.Event{Controller: "m1", Kind: incident.EventControllerCreated, Detail: map[string]any{"name": "M"}}); err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, tx, incident.Event{Controller: "m1", Kind: incident.EventIncidentOpened, Incident: 4}); err != nil {
			t.Fatal(err)
		}
		if n, _ := TreeSize(ctx, tx, "m1"); n != 2 {
			t.Fatalf("tree size %d after two events", n)
		}
		if _, err := PublicKey(ctx, tx, "m1"); err != nil {
			t.Fatal(err)
		}
	})
}

// setup makes two controllers with deliveries and returns the ledger.
func setup(t testing.TB) (*sql.DB, *Ledger) {
	t.Helper()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")
	addController(t, db, l, "m1")
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mustAppend(t, db, deliveries("op", 40, at)...)
	mustAppend(t, db, deliveries("m1", 25, at)...)
	return db, l
}

func TestExportVerify(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	cli := incident.Actor{Name: "cli", Role: "cli"}
	dir := t.TempDir()

	cp, err := l.Checkpoint(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != 41 {
		t.Fatalf("checkpoint size %d, want 41", cp.Size)
	}
	again, err := l.Checkpoint(ctx, db, "op")
	if err != nil || again.Size != cp.Size || again.Note != cp.Note {
		t.Fatalf("second checkpoint %+v, %v: want the first unchanged", again, err)
	}

	t.Run("Whole", func(t *testing.T) {
		out := filepath.Join(dir, "op.zip")
		s, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: cli})
		if err != nil {
			t.Fatal(err)
		}
		if s.Entries != 41 || s.TreeSize != 41 {
			t.Fatalf("export summary %+v", s)
		}
		v, err := Verify(ctx, out, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Entries != 41 || v.Controller != "op" || !strings.HasPrefix(v.String(), "ok: controller op, whole log: 41 entries") {
			t.Fatalf("verify summary %q", v)
		}
		pub, _ := PublicKey(ctx, db, "op")
		if _, err := Verify(ctx, out, pub); err != nil {
			t.Fatalf("Verify with the pinned key: %v", err)
		}
		var rep report
		if err := json.Unmarshal(readMember(t, out, fileSummary), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Counts.ByKind["email_sent"] != 10 || rep.Counts.ByJurisdiction["DE"] != 13 || rep.Counts.Deadlines.Deliveries != 20 {
			t.Fatalf("summary counts %+v", rep.Counts)
		}
		if pdf := readMember(t, out, fileSummaryPDF); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatal("summary.pdf is not a PDF")
		}
	})
	t.Run("AfterAppend", func(t *testing.T) {
		// Export takes a fresh checkpoint, consistent with the last one.
		mustAppend(t, db, deliveries("op", 3, time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC))...)
		out := filepath.Join(dir, "op2.zip")
		s, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: cli})
		if err != nil {
			t.Fatal(err)
		}
		if s.TreeSize != 45 { // 41 + the checkpoint entry + 3
			t.Fatalf("tree size %d, want 45", s.TreeSize)
		}
		if _, err := Verify(ctx, out, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Incident", func(t *testing.T) {
		out := filepath.Join(dir, "op-inc1.zip")
		if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Incident: 1, Out: out, Actor: cli}); err != nil {
			t.Fatal(err)
		}
		s, err := Verify(ctx, out, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Incident != 1 || s.Entries != 22 {
			t.Fatalf("incident summary %+v", s)
		}
		for _, e := range bundleEntries(t, out) {
			if e.Incident != 1 {
				t.Fatalf("incident 1 bundle holds %+v", e)
			}
		}
	})
	t.Run("Prove", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := l.Prove(ctx, db, cli, "m1", "a2", &buf); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "m1-a2.zip")
		if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Verify(ctx, out, "")
		if err != nil {
			t.Fatal(err)
		}
		es := bundleEntries(t, out)
		if s.Account != "a2" || s.Entries != 5 || len(es) != 5 {
			t.Fatalf("prove summary %+v, %d entries", s, len(es))
		}
		for _, e := range es {
			if e.Account != "a2" || e.Controller != "m1" {
				t.Fatalf("proof of a2 holds %+v", e)
			}
		}
		if raw := readMember(t, out, fileCSV); bytes.Contains(raw, []byte(",a1,")) {
			t.Fatal("entries.csv discloses another account")
		}
	})
	t.Run("ProveErrNotFound", func(t *testing.T) {
		if _, err := l.Prove(ctx, db, cli, "m1", "nobody", io.Discard); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("Prove of an account without entries = %v", err)
		}
	})
	t.Run("SingleLeafMatchesRecordProof", func(t *testing.T) {
		// For one entry, the subtree hashes are its tlog record proof.
		var buf bytes.Buffer
		db2, _ := mustOpenDB(t)
		addController(t, db2, l, "solo")
		mustAppend(t, db2, deliveries("solo", 12, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))[:12]...)
		mustAppend(t, db2, Entry{Controller: "solo", At: time.Now(), Kind: KindEmailSent, Account: "only"})
		if _, err := l.Prove(ctx, db2, cli, "solo", "only", &buf); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "solo.zip")
		os.WriteFile(out, buf.Bytes(), 0o600)
		var sub []tlog.Hash
		for _, line := range bytes.Split(bytes.TrimSpace(readMember(t, out, fileSubtrees)), []byte("\n")) {
			var s subtree
			json.Unmarshal(line, &s)
			sub = append(sub, s.Hash)
		}
		var p recordProof
		json.Unmarshal(bytes.TrimSpace(readMember(t, out, fileProofs)), &p)
		if len(sub) != len(p.Proof) {
			t.Fatalf("%d subtree hashes, record proof has %d", len(sub), len(p.Proof))
		}
		for _, h := range p.Proof {
			found := false
			for _, s := range sub {
				found = found || s == h
			}
			if !found {
				t.Fatalf("record proof hash %v not among the subtree hashes", h)
			}
		}
	})
	t.Run("ErrNotFoundOtherController", func(t *testing.T) {
		member := incident.Actor{Name: "m", Role: incident.RoleMember, Controller: "m1"}
		out := filepath.Join(dir, "nope.zip")
		_, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: member})
		if !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("member export of another controller = %v", err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatal("refused export left a file")
		}
		if _, err := l.Prove(ctx, db, member, "op", "a1", io.Discard); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("member prove of another controller = %v", err)
		}
		if _, err := l.Export(ctx, db, ExportOptions{Controller: "m1", Out: out, Actor: member}); err != nil {
			t.Fatalf("member export of its own controller: %v", err)
		}
		leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
		if len(leftovers) != 0 {
			t.Fatalf("temporary files left: %v", leftovers)
		}
	})
}

func readMember(t testing.TB, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	r, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bundleEntries(t testing.TB, path string) []Entry {
	t.Helper()
	var out []Entry
	for _, line := range bytes.Split(bytes.TrimSpace(readMember(t, path, fileEntries)), []byte("\n")) {
		e, _, err := parseEntry(line)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// member is one file of a bundle, in zip order.
type member struct {
	name string
	data []byte
}

func readBundle(t testing.TB, path string) []member {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []member
	for _, f := range zr.File {
		out = append(out, member{f.Name, readMember(t, path, f.Name)})
	}
	return out
}

func writeBundle(t testing.TB, path string, ms []member) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reseal recomputes manifest.json's sums and signs it with signer, as an
// insider holding the key could.
func reseal(t testing.TB, ms []member, signer note.Signer) []member {
	t.Helper()
	var m manifest
	for _, x := range ms {
		if x.name == fileManifest {
			json.Unmarshal(x.data, &m)
		}
	}
	data := map[string][]byte{}
	for _, x := range ms {
		data[x.name] = x.data
	}
	for i, f := range m.Files {
		sum := sha256.Sum256(data[f.Name])
		m.Files[i].SHA256 = hex.EncodeToString(sum[:])
		m.Files[i].Size = int64(len(data[f.Name]))
	}
	text, _ := json.MarshalIndent(m, "", "  ")
	text = append(text, '\n')
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]member, 0, len(ms))
	for _, x := range ms {
		switch x.name {
		case fileManifest:
			x.data = text
		case fileManifestSig:
			x.data = signed[len(text)+1:]
		}
		out = append(out, x)
	}
	return out
}

func editMember(ms []member, name string, fn func([]byte) []byte) []member {
	out := make([]member, len(ms))
	for i, m := range ms {
		if m.name == name {
			m.data = fn(append([]byte{}, m.data...))
		}
		out[i] = m
	}
	return out
}

func editLines(ms []member, name string, fn func([][]byte) [][]byte) []member {
	return editMember(ms, name, func(b []byte) []byte {
		lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		lines = fn(lines)
		return append(bytes.Join(lines, []byte("\n")), '\n')
	})
}

func TestVerify_Tamper(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: good, Actor: incident.Actor{Role: "cli"}}); err != nil {
		t.Fatal(err)
	}
	signer, pub, err := l.signer(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	// A second, valid key for the same controller name, as a forger would make.
	forgedSkey, forgedVkey, err := note.GenerateKey(nil, KeyName("op"))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := note.NewSigner(forgedSkey)
	orig := readBundle(t, good)
	flipByte := func(lines [][]byte) [][]byte {
		// entry 5: change one byte of its account id
		lines[5] = bytes.Replace(lines[5], []byte(`"account":"a4"`), []byte(`"account":"a5"`), 1)
		return lines
	}

	tests := []struct {
		name   string
		mutate func([]member) []member
		pin    string
		want   string // in the error message
	}{
		{"ByteOfEntry", func(ms []member) []member { return editLines(ms, fileEntries, flipByte) },
			"", "entries.jsonl: SHA-256 or size differs from manifest.json"},
		{"ByteOfEntryResealed", func(ms []member) []member { return reseal(t, editLines(ms, fileEntries, flipByte), signer) },
			"", "entry 5 (entries.jsonl): not included in the signed tree"},
		{"ByteOfEntryResealedNoProofs", func(ms []member) []member {
			ms = editLines(ms, fileEntries, flipByte)
			var out []member
			for _, m := range ms {
				if m.name != fileProofs {
					out = append(out, m)
				}
			}
			return reseal(t, editMember(out, fileManifest, func(b []byte) []byte {
				var m manifest
				json.Unmarshal(b, &m)
				var fs []manifestFile
				for _, f := range m.Files {
					if f.Name != fileProofs {
						fs = append(fs, f)
					}
				}
				m.Files = fs
				b, _ = json.Marshal(m)
				return b
			}), signer)
		}, "", "entries.jsonl: the entries and subtree hashes give root"},
		{"DeleteEntry", func(ms []member) []member {
			return reseal(t, editLines(ms, fileEntries, func(l [][]byte) [][]byte { return append(l[:7:7], l[8:]...) }), signer)
		}, "", "entry 7 (entries.jsonl): missing, though proofs.jsonl line 8 proves it"},
		{"DeleteEntryAndCount", func(ms []member) []member {
			ms = editLines(ms, fileEntries, func(l [][]byte) [][]byte { return append(l[:7:7], l[8:]...) })
			ms = editMember(ms, fileManifest, func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"entries": 41`), []byte(`"entries": 40`), 1)
			})
			return reseal(t, ms, signer)
		}, "", "entry 7 (entries.jsonl): missing, though proofs.jsonl line 8 proves it"},
		{"SwapEntries", func(ms []member) []member {
			return reseal(t, editLines(ms, fileEntries, func(l [][]byte) [][]byte { l[3], l[4] = l[4], l[3]; return l }), signer)
		}, "", "entry 3 (entries.jsonl): out of order: line 5 follows entry 4"},
		{"TruncateTail", func(ms []member) []member {
			return editMember(ms, fileEntries, func(b []byte) []byte { return b[:len(b)-300] })
		}, "", "entries.jsonl: size differs from manifest.json: the zip declares 9048 bytes, manifest.json 9348"},
		{"TruncateTailResealed", func(ms []member) []member {
			ms = editLines(ms, fileEntries, func(l [][]byte) [][]byte { return l[:38] })
			ms = editLines(ms, fileProofs, func(l [][]byte) [][]byte { return l[:38] })
			ms = editMember(ms, fileManifest, func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"entries": 41`), []byte(`"entries": 38`), 1)
			})
			return reseal(t, ms, signer)
		}, "", "entry 38 (entries.jsonl): missing: neither entries.jsonl nor subtrees.jsonl accounts for entries [38, 40)"},
		{"EditManifest", func(ms []member) []member {
			return editMember(ms, fileManifest, func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"entries": 41`), []byte(`"entries": 42`), 1)
			})
		}, "", "manifest.sig: manifest.json is not signed by public_key"},
		{"EditCSV", func(ms []member) []member {
			return reseal(t, editMember(ms, fileCSV, func(b []byte) []byte { return bytes.Replace(b, []byte("a4"), []byte("a9"), 1) }), signer)
		}, "", "entries.csv: does not match entries.jsonl"},
		{"EditSummary", func(ms []member) []member {
			return reseal(t, editMember(ms, fileSummary, func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"missed": 0`), []byte(`"missed": 1`), 1)
			}), signer)
		}, "", "summary.json: counts differ"},
		{"ExtraFile", func(ms []member) []member {
			return append(ms, member{"notes.txt", []byte("hi")})
		}, "", "notes.txt: not listed in manifest.json"},
		{"ReplaceKey", func(ms []member) []member {
			return editMember(ms, filePublicKey, func([]byte) []byte { return []byte(forgedVkey + "\n") })
		}, "", "manifest.sig: manifest.json is not signed by public_key"},
		{"ReplaceKeyPinned", func(ms []member) []member {
			return editMember(ms, filePublicKey, func([]byte) []byte { return []byte(forgedVkey + "\n") })
		}, pub, "public_key: key " + keyID(forgedVkey) + " is not the pinned key"},
		{"ForgedResealed", func(ms []member) []member {
			// Everything re-signed with another key: only entry 0, which
			// records the real key, and the checkpoint give it away.
			ms = editMember(ms, filePublicKey, func([]byte) []byte { return []byte(forgedVkey + "\n") })
			return reseal(t, ms, forged)
		}, "", "checkpoint: not signed by public_key"},
		{"ForgedPinned", func(ms []member) []member {
			ms = editMember(ms, filePublicKey, func([]byte) []byte { return []byte(forgedVkey + "\n") })
			return reseal(t, ms, forged)
		}, pub, "is not the pinned key"},
	}
	if _, err := Verify(ctx, good, pub); err != nil {
		t.Fatalf("untouched bundle: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".zip")
			writeBundle(t, path, tt.mutate(orig))
			_, err := Verify(ctx, path, tt.pin)
			if err == nil {
				t.Fatal("Verify succeeded on a tampered bundle")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify error\n%v\nwant it to contain\n%s", err, tt.want)
			}
			if !errors.Is(err, incident.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestCheckpoint_Consistency(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	if _, err := l.Checkpoint(ctx, db, "op"); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, db, deliveries("op", 30, time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))...)
	// Rewrite history: replace the stored hash of the subtree of entries
	// 0..31 (level 5, node 0, stored with entry 31).
	drop := `DROP TRIGGER ledger_runs_no_update`
	if migrations.IsPostgres(db) {
		drop += ` ON ledger_runs`
	}
	if _, err := db.ExecContext(ctx, drop); err != nil {
		t.Fatal(err)
	}
	r := &hashReader{ctx: ctx, q: db, logID: 1}
	x := tlog.StoredHashIndex(5, 0)
	if _, err := r.ReadHashes([]int64{x}); err != nil {
		t.Fatal(err)
	}
	off := tlog.HashSize * (x - tlog.StoredHashIndex(0, r.first))
	var hashes []byte
	if err := db.QueryRowContext(ctx, `SELECT hashes FROM ledger_runs WHERE id = ?`, runID(1, r.first)).Scan(&hashes); err != nil {
		t.Fatal(err)
	}
	rand.Read(hashes[off : off+tlog.HashSize])
	if _, err := db.ExecContext(ctx, `UPDATE ledger_runs SET hashes = ? WHERE id = ?`, hashes, runID(1, r.first)); err != nil {
		t.Fatal(err)
	}
	_, err := l.Checkpoint(ctx, db, "op")
	if !errors.Is(err, incident.ErrConflict) || !strings.Contains(err.Error(), "signed at size 41") {
		t.Fatalf("Checkpoint over rewritten history = %v", err)
	}
	if _, err := CheckLog(ctx, db, "op"); err == nil || !strings.Contains(err.Error(), "entry 31") {
		t.Fatalf("CheckLog = %v, want it to name entry 31", err)
	}
	// The other controller's log is untouched.
	if _, err := l.Checkpoint(ctx, db, "m1"); err != nil {
		t.Fatal(err)
	}
}

func TestParseCanonical(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 0, 0, 123000000, time.UTC)
	for _, e := range []Entry{
		{Controller: "op", Index: 1, At: at, Kind: KindEmailSent},
		{Controller: "op/ü", Index: 2, At: at, Kind: KindLetterMailed, Incident: 9, Account: "tab\there \"q\" back\\slash \x01 😀 \u2028", Notice: 3, Channel: "letter", PossibleDuplicate: true,
			Detail: json.RawMessage(`{"a":{"b":["}",{"c":"\"{"}]},"jurisdiction":"US-CA","n":1.5e3,"deadline":"2025-03-02","x":"\u00e9\ud83d\ude00"}`)},
		{Controller: "op", Index: 1 << 39, At: at, Kind: KindCheckpoint, Detail: json.RawMessage(`{"tree_size":5}`)},
	} {
		line := e.Canonical()
		fast, err := parseCanonical(line)
		if err != nil {
			t.Fatalf("parseCanonical(%s): %v", line, err)
		}
		var slow Entry
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatal(err)
		}
		if !fast.At.Equal(slow.At) {
			t.Fatalf("at %v, encoding/json %v", fast.At, slow.At)
		}
		fast.At, slow.At = time.Time{}, time.Time{}
		fb, _ := json.Marshal(fast)
		sb, _ := json.Marshal(slow)
		if !bytes.Equal(fb, sb) {
			t.Fatalf("parseCanonical\n%s\nencoding/json\n%s", fb, sb)
		}
		if _, canonical, err := parseEntry(line); !canonical || err != nil {
			t.Fatalf("parseEntry(%s) = %v, %v", line, canonical, err)
		}
	}
	var got []string
	topLevelStrings([]byte(`{"a":{"jurisdiction":"no"},"jurisdiction":"US-CA", "x":[1,"]"],"deadline":"2025-03-02","public_key":7}`), detailKeys,
		func(k, v string) { got = append(got, k+"="+v) })
	if strings.Join(got, ",") != "jurisdiction=US-CA,deadline=2025-03-02" {
		t.Fatalf("topLevelStrings found %v", got)
	}
}

func TestMigration_DownUp(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")
	if err := migrations.DownTo(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	if n, err := TreeSize(ctx, db, "op"); err != nil || n != 0 {
		t.Fatalf("tree size after down and up = %d, %v", n, err)
	}
}
