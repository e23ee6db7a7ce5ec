package incident_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// importFile imports a testdata file and returns the result and the
// problem lines as the CLI prints them.
func importFile(t *testing.T, st *incident.Store, name string, strict bool) (incident.ImportResult, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var problems []string
	res, err := st.ImportAccounts(context.Background(), f, incident.ImportOptions{
		File: name, Format: incident.FormatOf(name), Strict: strict,
		Report: func(p incident.Problem) { problems = append(problems, p.String()) },
	})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return res, problems
}

func findAccount(t *testing.T, st *incident.Store, id string) *incident.Account {
	t.Helper()
	var a incident.Account
	var usable, consent int
	var status string
	err := st.DB().QueryRow(`SELECT id, username, name, email, email_usable, locale, country, region, postal_line1,
		postal_line2, city, postal_code, e_consent, status FROM accounts WHERE id=?`, id).Scan(&a.ID, &a.Username,
		&a.Name, &a.Email, &usable, &a.Locale, &a.Country, &a.Region, &a.PostalLine1, &a.PostalLine2, &a.City,
		&a.PostalCode, &consent, &status)
	if err != nil {
		t.Fatalf("account %s: %v", id, err)
	}
	a.EmailUsable, a.EConsent, a.Status = usable == 1, consent == 1, incident.AccountStatus(status)
	return &a
}

func countRows(t *testing.T, st *incident.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStore_ImportAccounts(t *testing.T) {
	t.Run("RealWorldCSV", func(t *testing.T) {
		// BOM, CRLF, a quoted field holding a comma, one holding a newline,
		// doubled quotes, blank trailing lines.
		st := storetest.Open(t)
		res, problems := importFile(t, st, "accounts_real.csv", false)
		if res.Inserted != 3 || res.Rejected != 0 || res.Warnings != 1 {
			t.Fatalf("result = %+v, problems %q", res, problems)
		}
		want := []string{"accounts_real.csv:5: email: unusable (missing '@' or a part around it): account kept, email flagged; a letter may be owed instead"}
		if !reflect.DeepEqual(problems, want) {
			t.Errorf("problems:\n got %q\nwant %q", problems, want)
		}
		u1 := findAccount(t, st, "u1")
		if u1.Name != "García, Ana" || !u1.EConsent || u1.Country != "ES" || u1.Region != "MD" || !u1.EmailUsable {
			t.Errorf("u1 = %+v", u1)
		}
		u2 := findAccount(t, st, "u2")
		if u2.Name != "Bob Smith" {
			t.Errorf("u2 name = %q: CR/LF must be removed from names", u2.Name)
		}
		if u2.Region != "TX" || u2.PostalLine2 != `Apt "4"` || u2.Status != incident.AccountActive || u2.EConsent {
			t.Errorf("u2 = %+v", u2)
		}
		u3 := findAccount(t, st, "u3")
		if u3.EmailUsable || u3.Email != "not-an-email" || u3.Status != incident.AccountRetired || u3.Region != "TX" {
			t.Errorf("u3 = %+v: an unusable email is kept and flagged", u3)
		}
	})

	t.Run("Rejections", func(t *testing.T) {
		st := storetest.Open(t)
		res, problems := importFile(t, st, "accounts_bad.csv", false)
		want := []string{
			"accounts_bad.csv:3: id: missing: a row without an id cannot be identified",
			`accounts_bad.csv:4: e_consent: "maybe" is not a boolean (true/false/yes/no/1/0)`,
			`accounts_bad.csv:5: status: unknown status "deleted" (active or retired)`,
			`accounts_bad.csv:6: country: unknown country code "XX" (ISO 3166-1 alpha-2 expected)`,
			`accounts_bad.csv:7: id: id "a1" repeated in the file (the first row was kept)`,
			`accounts_bad.csv:8: email: unusable (domain "example" is not a full domain name): account kept, email flagged; a letter may be owed instead`,
			`accounts_bad.csv:9: region: unknown US state or territory "ZZ": kept, residence will be reviewed`,
			"accounts_bad.csv:10: row: 4 fields, header has 7",
		}
		if !reflect.DeepEqual(problems, want) {
			t.Errorf("problems:\n got %s\nwant %s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		if res.Inserted != 3 || res.Rejected != 6 || res.Warnings != 2 {
			t.Errorf("result = %+v, want 3 inserted (a1, a5, a6), 6 rejected, 2 warnings", res)
		}
		if a1 := findAccount(t, st, "a1"); a1.Name != "Alice" {
			t.Errorf("a repeated id must keep the first row, got %q", a1.Name)
		}
		if a5 := findAccount(t, st, "a5"); a5.EmailUsable {
			t.Errorf("a5's email must be flagged unusable")
		}
	})

	t.Run("InvalidUTF8", func(t *testing.T) {
		st := storetest.Open(t)
		res, problems := importFile(t, st, "accounts_utf8.csv", false)
		if want := []string{"accounts_utf8.csv:3: name: invalid UTF-8"}; !reflect.DeepEqual(problems, want) {
			t.Errorf("problems = %q, want %q", problems, want)
		}
		if res.Inserted != 1 || res.Rejected != 1 {
			t.Errorf("result = %+v", res)
		}
	})

	t.Run("Strict", func(t *testing.T) {
		st := storetest.Open(t)
		res, problems := importFile(t, st, "accounts_bad.csv", true)
		if !res.RolledBack || res.Rejected != 6 || len(problems) != 8 {
			t.Errorf("result = %+v, %d problems: strict still reports every problem", res, len(problems))
		}
		if n := countRows(t, st, "accounts"); n != 0 {
			t.Errorf("strict import with rejections wrote %d accounts, want 0", n)
		}
		res, _ = importFile(t, st, "accounts_real.csv", true)
		if res.RolledBack || res.Inserted != 3 {
			t.Errorf("strict import of a good file: %+v", res)
		}
	})

	t.Run("ReimportUpdates", func(t *testing.T) {
		st := storetest.Open(t)
		importFile(t, st, "accounts_real.csv", false)
		res, _ := importFile(t, st, "accounts_real.csv", false)
		if res.Inserted != 0 || res.Updated != 3 {
			t.Errorf("re-import = %+v, want 0 inserted, 3 updated", res)
		}
		if n := countRows(t, st, "accounts"); n != 3 {
			t.Errorf("accounts = %d after re-import, want 3", n)
		}
		// An updated row changes the stored account.
		_, err := st.ImportAccounts(context.Background(), strings.NewReader("id,email,country,region\nu1,ana@new.example,US,US-CA\n"),
			incident.ImportOptions{File: "update.csv"})
		if err != nil {
			t.Fatal(err)
		}
		if u1 := findAccount(t, st, "u1"); u1.Email != "ana@new.example" || u1.Region != "CA" || u1.Country != "US" {
			t.Errorf("after update u1 = %+v", u1)
		}
	})

	t.Run("JSONL", func(t *testing.T) {
		st := storetest.Open(t)
		res, problems := importFile(t, st, "accounts.jsonl", false)
		want := []string{
			"accounts.jsonl:3: email: unusable (domain \"example\" is not a full domain name): account kept, email flagged; a letter may be owed instead",
			`accounts.jsonl:4: e_consent: "perhaps" is not a boolean (true/false/yes/no/1/0)`,
			"accounts.jsonl:6: row: not a JSON object: invalid character 'o' in literal null (expecting 'u')",
		}
		if !reflect.DeepEqual(problems, want) {
			t.Errorf("problems:\n got %s\nwant %s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
		}
		if res.Inserted != 3 || res.Rejected != 2 || res.Warnings != 1 {
			t.Errorf("result = %+v", res)
		}
		j1 := findAccount(t, st, "j1")
		if j1.Name != "Jo Anne" || j1.Country != "US" || j1.Region != "NY" || !j1.EConsent {
			t.Errorf("j1 = %+v", j1)
		}
		if a := findAccount(t, st, "42"); a.Country != "FR" {
			t.Errorf("numeric id = %+v", a)
		}
	})

	t.Run("ErrNoHeaderID", func(t *testing.T) {
		st := storetest.Open(t)
		_, err := st.ImportAccounts(context.Background(), strings.NewReader("name,email\nA,a@example.org\n"),
			incident.ImportOptions{File: "noid.csv"})
		if err == nil || !strings.Contains(err.Error(), `noid.csv:1: header: missing required columns "id", "country": nothing imported`) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestStore_ImportAccounts_RepeatAcrossChunks repeats ids far apart in a
// file, past the writer's chunk of rows: the repeats are rejected with
// their lines, the first rows kept, and the counts stay exact.
func TestStore_ImportAccounts_RepeatAcrossChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name,country\n")
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(&b, "r%04d,Person %d,FR\n", i, i)
	}
	b.WriteString("r0007,Again,DE\nr2001,Again,DE\n") // lines 2502 and 2503
	for _, strict := range []bool{false, true} {
		st := storetest.Open(t)
		var problems []string
		res, err := st.ImportAccounts(context.Background(), strings.NewReader(b.String()), incident.ImportOptions{
			File: "big.csv", Strict: strict, Report: func(p incident.Problem) { problems = append(problems, p.String()) }})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`big.csv:2502: id: id "r0007" repeated in the file (the first row was kept)`,
			`big.csv:2503: id: id "r2001" repeated in the file (the first row was kept)`,
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("strict=%v problems:\n%s", strict, strings.Join(problems, "\n"))
		}
		if strict {
			if !res.RolledBack || countRows(t, st, "accounts") != 0 {
				t.Errorf("strict: %+v, %d accounts", res, countRows(t, st, "accounts"))
			}
			continue
		}
		if res.Inserted != 2500 || res.Rejected != 2 || countRows(t, st, "accounts") != 2500 {
			t.Errorf("result %+v, %d accounts", res, countRows(t, st, "accounts"))
		}
		if a := findAccount(t, st, "r0007"); a.Country != "FR" {
			t.Errorf("r0007 country %q: the first row must be kept", a.Country)
		}
	}
}

// TestStore_ImportAccounts_MixedNewAndKnown imports a file whose chunks
// mix accounts the store holds with new ones and a repeat: each row is
// counted once, as inserted or updated, and an update keeps the columns
// the file lacks.
func TestStore_ImportAccounts_MixedNewAndKnown(t *testing.T) {
	st := storetest.Open(t)
	var first strings.Builder
	first.WriteString("id,name,city,country\n")
	for i := 0; i < 1500; i += 2 {
		fmt.Fprintf(&first, "m%04d,Old %d,Lyon,FR\n", i, i)
	}
	if res, _, err := importBody(t, st.ImportAccounts, "first.csv", first.String()); err != nil || res.Inserted != 750 {
		t.Fatalf("first import: %+v, %v", res, err)
	}
	var second strings.Builder
	second.WriteString("id,name,country\n")
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(&second, "m%04d,New %d,FR\n", i, i)
	}
	second.WriteString("m0004,Again,DE\n")
	res, problems, err := importBody(t, st.ImportAccounts, "second.csv", second.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 1750 || res.Updated != 750 || res.Rejected != 1 || countRows(t, st, "accounts") != 2500 {
		t.Errorf("result %+v, %d accounts; problems %q", res, countRows(t, st, "accounts"), problems)
	}
	if a := findAccount(t, st, "m0004"); a.Name != "New 4" || a.City != "Lyon" || a.Country != "FR" {
		t.Errorf("m0004 = %+v: want the name updated, the city kept, the repeat ignored", a)
	}
	if a := findAccount(t, st, "m0005"); a.Name != "New 5" || a.City != "" {
		t.Errorf("m0005 = %+v", a)
	}
}

// TestStore_ImportAccounts_KnownThenNewChunks imports, in chunks of 500
// rows, a file that starts with accounts the store holds and goes on with
// new ones, then repeats an id of each kind: on PostgreSQL the chunks of
// known accounts go through the staging table and the upsert, the new
// ones are copied straight in, and a repeat of a row copied straight in
// is still caught. The counts, the problem lines and the stored values
// are the same on both stores, and --strict leaves the store as it was.
func TestStore_ImportAccounts_KnownThenNewChunks(t *testing.T) {
	var first strings.Builder
	first.WriteString("id,name,city,country\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&first, "k%04d,Old %d,Lyon,FR\n", i, i)
	}
	var second strings.Builder
	second.WriteString("id,name,country\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&second, "k%04d,New %d,FR\n", i, i)
	}
	second.WriteString("k2100,Again,DE\nk0005,Again,DE\n") // lines 3002 and 3003
	for _, strict := range []bool{false, true} {
		st := storetest.Open(t)
		if res, _, err := importBody(t, st.ImportAccounts, "first.csv", first.String()); err != nil || res.Inserted != 1000 {
			t.Fatalf("first import: %+v, %v", res, err)
		}
		var problems []string
		res, err := st.ImportAccounts(context.Background(), strings.NewReader(second.String()), incident.ImportOptions{
			File: "second.csv", Strict: strict, BatchSize: 500,
			Report: func(p incident.Problem) { problems = append(problems, p.String()) }})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`second.csv:3002: id: id "k2100" repeated in the file (the first row was kept)`,
			`second.csv:3003: id: id "k0005" repeated in the file (the first row was kept)`,
		}
		if strings.Join(problems, "\n") != strings.Join(want, "\n") {
			t.Errorf("strict=%v problems:\n%s", strict, strings.Join(problems, "\n"))
		}
		if res.Inserted != 2000 || res.Updated != 1000 || res.Rejected != 2 || res.Unaccounted() != 0 {
			t.Errorf("strict=%v result %+v", strict, res)
		}
		if strict {
			if !res.RolledBack || countRows(t, st, "accounts") != 1000 || findAccount(t, st, "k0005").Name != "Old 5" {
				t.Errorf("strict: %+v, %d accounts", res, countRows(t, st, "accounts"))
			}
			continue
		}
		if n := countRows(t, st, "accounts"); n != 3000 {
			t.Errorf("%d accounts, want 3000", n)
		}
		if a := findAccount(t, st, "k0005"); a.Name != "New 5" || a.City != "Lyon" || a.Country != "FR" {
			t.Errorf("k0005 = %+v: want the name updated, the city kept, the repeat ignored", a)
		}
		if a := findAccount(t, st, "k2100"); a.Name != "New 2100" || a.Country != "FR" {
			t.Errorf("k2100 = %+v: the first row must be kept", a)
		}
	}
}

// failAfter reads r, then fails instead of reporting its end.
type failAfter struct{ r io.Reader }

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = errors.New("disk went away")
	}
	return n, err
}

// TestStore_ImportAccounts_ReadErrorKeepsCommitted fails the input after
// 1,200 rows with transactions of 500: the import returns the error, the
// two transactions committed before it stay, nothing of the third is
// written.
func TestStore_ImportAccounts_ReadErrorKeepsCommitted(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name,country\n")
	for i := 0; i < 1200; i++ {
		fmt.Fprintf(&b, "f%04d,Person %d,FR\n", i, i)
	}
	st := storetest.Open(t)
	_, err := st.ImportAccounts(context.Background(), failAfter{strings.NewReader(b.String())},
		incident.ImportOptions{File: "cut.csv", BatchSize: 500})
	if err == nil || !strings.Contains(err.Error(), "disk went away") {
		t.Fatalf("import of a failing input: %v", err)
	}
	if n := countRows(t, st, "accounts"); n != 1000 {
		t.Errorf("%d accounts stored, want the 1000 of the two committed transactions", n)
	}
}
