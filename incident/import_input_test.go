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
	"unicode"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// importer is one of the store's import methods.
type importer func(context.Context, io.Reader, incident.ImportOptions) (incident.ImportResult, error)

// importBody imports body under the name file and returns the result and
// the problem lines; the lines of a finished import must all be accounted
// for.
func importBody(t *testing.T, imp importer, file, body string) (incident.ImportResult, []string, error) {
	t.Helper()
	var problems []string
	res, err := imp(context.Background(), strings.NewReader(body), incident.ImportOptions{
		File: file, Format: incident.FormatOf(file),
		Report: func(p incident.Problem) { problems = append(problems, p.String()) },
	})
	if err == nil && res.Unaccounted() != 0 {
		t.Errorf("%s: %d lines unaccounted for: %+v", file, res.Unaccounted(), res)
	}
	return res, problems, err
}

// checkNoControls fails if s holds a control or format character: what an
// import prints must not drive the terminal.
func checkNoControls(t testing.TB, s string) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("control character %U in %q", r, s)
		}
	}
}

// Issue 11: one unbalanced quote swallowed the rest of the file.
func TestStore_ImportAccounts_StrictQuotes(t *testing.T) {
	st := storetest.Open(t)
	res, problems := importFile(t, st, "accounts_quote.csv", false)
	want := []string{
		"accounts_quote.csv:5: row: unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)",
		`accounts_quote.csv:9: row: bare " in non-quoted-field`,
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	wantRes := incident.ImportResult{File: "accounts_quote.csv", Inserted: 8, Rejected: 2, Lines: 12, Skipped: 1, Continued: 1}
	if res != wantRes {
		t.Errorf("result = %+v\n  want %+v", res, wantRes)
	}
	if res.Unaccounted() != 0 {
		t.Errorf("%d lines unaccounted for", res.Unaccounted())
	}
	for _, id := range []string{"a1", "a2", "a3", "a5", "a6", "a8", "a9", "a10"} {
		findAccount(t, st, id)
	}
	if a := findAccount(t, st, "a3"); a.Name != `Cy "C" Three` {
		t.Errorf("a3 name %q: doubled quotes", a.Name)
	}
	if a := findAccount(t, st, "a6"); a.Name != "Fay Six" {
		t.Errorf("a6 name %q: a quoted line break joins the lines", a.Name)
	}
	if n := countRows(t, st, "accounts"); n != 8 {
		t.Errorf("%d accounts, want 8", n)
	}
	if !strings.Contains(res.String(), "12 lines read, 1 header or blank, 1 inside quoted fields") {
		t.Errorf("summary %q does not account for the lines", res.String())
	}

	t.Run("Table", func(t *testing.T) {
		tests := []struct {
			name     string
			body     string
			inserted int64
			problems []string
		}{
			{"QuoteOpenToEOF", "id,country\nb1,US\n\"b2,US\nb3,US\nb4,US\n", 3,
				[]string{"q.csv:3: row: unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)"}},
			{"ExtraneousQuote", "id,country\n\"b1\"x,US\nb2,US\n", 1, []string{`q.csv:2: row: extraneous or missing " in quoted-field`}},
			{"QuotedNewlineWrongFieldCount", "id,country\n\"b1\nb2\",US,extra\nb3,US\n", 1, []string{
				"q.csv:2: row: unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)",
				"q.csv:3: row: unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)"}},
			{"CRLFAndBlank", "id,country\r\n\r\nb1,US\r\n   \r\n\"b2\",\"U\r\nS\"\r\n", 1, []string{
				`q.csv:5: country: unknown country code "U\nS" (ISO 3166-1 alpha-2 expected)`}},
			{"NoFinalNewline", "id,country\nb1,US\nb2,FR", 2, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := storetest.Open(t)
				res, problems, err := importBody(t, st.ImportAccounts, "q.csv", tc.body)
				if err != nil {
					t.Fatal(err)
				}
				if res.Inserted != tc.inserted || !reflect.DeepEqual(problems, tc.problems) {
					t.Errorf("result %+v, problems:\n%s\nwant %d inserted and\n%s", res, strings.Join(problems, "\n"), tc.inserted, strings.Join(tc.problems, "\n"))
				}
			})
		}
	})
}

// Issue 14: a 10 MB name was stored, a 16 MB JSON line aborted the import.
func TestStore_ImportAccounts_Caps(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	tests := []struct {
		name     string
		file     string
		body     string
		inserted int64
		problems []string
	}{
		{"NameOverCap", "c.csv", "id,name,country\nc1,Ann,US\nc2," + strings.Repeat("é", 151) + ",US\nc3,Bo,US\n", 2,
			[]string{"c.csv:3: name: 302 bytes long: this column holds at most 300"}},
		{"NameAtCap", "c.csv", "id,name,country\nc1," + strings.Repeat("é", 150) + ",US\n", 1, nil},
		{"TenMegabyteName", "c.csv", "id,name,country\nc1,Ann,US\nc2," + big + ",US\nc3,Bo,US\n", 2,
			[]string{"c.csv:3: row: line longer than 1048576 bytes: rejected unread"}},
		{"TenMegabyteQuotedName", "c.csv", "id,name,country\nc1,Ann,US\nc2,\"" + big + "\",US\nc3,Bo,US\n", 2,
			[]string{"c.csv:3: row: line longer than 1048576 bytes: rejected unread"}},
		{"EveryColumn", "c.csv", "id,username,email,locale,region,postal_line1,postal_line2,city,postal_code,e_consent,status,country\n" +
			"c1," + strings.Repeat("u", 201) + ",,,,,,,,,,US\n" +
			"c2,," + strings.Repeat("e", 250) + "@x.org,,,,,,,,,US\n" +
			"c3,,,en-" + strings.Repeat("a", 40) + ",,,,,,,,US\n" +
			"c4,,,," + strings.Repeat("r", 101) + ",,,,,,,US\n" +
			"c5,,,,," + strings.Repeat("l", 301) + ",,,,,,US\n" +
			"c6,,,,,," + strings.Repeat("l", 301) + ",,,,,US\n" +
			"c7,,,,,,," + strings.Repeat("c", 201) + ",,,,US\n" +
			"c8,,,,,,,," + strings.Repeat("9", 31) + ",,,US\n" +
			"c9,,,,,,,,," + strings.Repeat("y", 17) + ",,US\n" +
			"c10,,,,,,,,,," + strings.Repeat("a", 17) + ",US\n" +
			"c11,,,,,,,,,,," + strings.Repeat("U", 65) + "\n" +
			strings.Repeat("i", 201) + ",,,,,,,,,,,US\n", 0, []string{
			"c.csv:2: username: 201 bytes long: this column holds at most 200",
			"c.csv:3: email: 256 bytes long: this column holds at most 254",
			"c.csv:4: locale: 43 bytes long: this column holds at most 35",
			"c.csv:5: region: 101 bytes long: this column holds at most 100",
			"c.csv:6: postal_line1: 301 bytes long: this column holds at most 300",
			"c.csv:7: postal_line2: 301 bytes long: this column holds at most 300",
			"c.csv:8: city: 201 bytes long: this column holds at most 200",
			"c.csv:9: postal_code: 31 bytes long: this column holds at most 30",
			"c.csv:10: e_consent: 17 bytes long: this column holds at most 16",
			"c.csv:11: status: 17 bytes long: this column holds at most 16",
			"c.csv:12: country: 65 bytes long: this column holds at most 64",
			"c.csv:13: id: 201 bytes long: this column holds at most 200",
		}},
		{"SpacesAroundNotCounted", "c.csv", "id,postal_code,country\nc1,   " + strings.Repeat("9", 30) + "   ,US\n", 1, nil},
		{"JSONLineOver16MB", "c.jsonl", `{"id":"j1","country":"US"}` + "\n" + `{"id":"j2","country":"US","name":"` + strings.Repeat("y", 17<<20) + `"}` + "\n" + `{"id":"j3","country":"US"}` + "\n", 2,
			[]string{"c.jsonl:2: row: line longer than 1048576 bytes: rejected unread"}},
		{"JSONNameOverCap", "c.jsonl", `{"id":"j1","country":"US","name":"` + strings.Repeat("n", 301) + `"}` + "\n", 0,
			[]string{"c.jsonl:1: name: 301 bytes long: this column holds at most 300"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.Open(t)
			res, problems, err := importBody(t, st.ImportAccounts, tc.file, tc.body)
			if err != nil {
				t.Fatalf("an import must not stop on one line: %v", err)
			}
			if res.Inserted != tc.inserted || !reflect.DeepEqual(problems, tc.problems) {
				t.Errorf("result %+v, problems:\n%s\nwant %d inserted and\n%s", res, strings.Join(problems, "\n"), tc.inserted, strings.Join(tc.problems, "\n"))
			}
			checkStoredCaps(t, st)
		})
	}
}

// checkStoredCaps fails if a stored account column is longer than its
// cap.
func checkStoredCaps(t testing.TB, st *incident.Store) {
	t.Helper()
	caps := map[string]int{"id": 200, "username": 200, "name": 300, "email": 254, "locale": 35, "country": 2,
		"region": 100, "postal_line1": 300, "postal_line2": 300, "city": 200, "postal_code": 30}
	for col, max := range caps {
		var n int
		if err := st.DB().QueryRow(`SELECT COALESCE(MAX(octet_length(` + col + `)), 0) FROM accounts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > max {
			t.Errorf("a stored %s is %d bytes long, over its cap of %d", col, n, max)
		}
	}
}

// Issue 15: unknown header names and JSON keys were echoed raw.
func TestStore_ImportAccounts_UnknownColumnsQuoted(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"accounts_escape.csv", []string{
			`accounts_escape.csv:1: "\x1b[2J\x1b[31mred": unknown column, ignored (known: id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status)`,
			`accounts_escape.csv:1: "notes": unknown column, ignored (known: id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status)`,
		}},
		{"accounts_escape.jsonl", []string{`accounts_escape.jsonl:1: "\x1b]0;pwned\a": unknown key, ignored`}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			st := storetest.Open(t)
			res, problems := importFile(t, st, tc.file, false)
			if !reflect.DeepEqual(problems, tc.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(problems, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, p := range problems {
				checkNoControls(t, p)
			}
			if res.Inserted != 1 || res.Warnings != int64(len(tc.want)) {
				t.Errorf("result %+v", res)
			}
		})
	}
	t.Run("ProblemStringEscapes", func(t *testing.T) {
		p := incident.Problem{File: "a\x1b[31m.csv", Line: 2, Field: "f\u202e", Reason: "r\u009b\xff"}
		if got, want := p.String(), `a\x1b[31m.csv:2: f\u202e: r\u009b\xff`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// Issue 10 (part): email domains are stored in A-labels.
func TestStore_ImportAccounts_IDNEmail(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	res, problems, err := importBody(t, st.ImportAccounts, "idn.csv", "id,email,country\n"+
		"i1,ana@Bücher.example,DE\n"+
		"i2,jörg@bücher.example,DE\n"+
		"i3,x@xn--a.example,DE\n"+
		"i4,ascii@Example.ORG,DE\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`idn.csv:4: email: unusable (domain xn--a.example is not a valid internationalised domain name: idna: invalid label "\u0080"): account kept, email flagged; a letter may be owed instead`}
	if !reflect.DeepEqual(problems, want) || res.Inserted != 4 {
		t.Errorf("result %+v, problems:\n%s", res, strings.Join(problems, "\n"))
	}
	for _, tc := range []struct {
		id, email string
		usable    bool
	}{
		{"i1", "ana@xn--bcher-kva.example", true},
		{"i2", "jörg@xn--bcher-kva.example", true},
		{"i3", "x@xn--a.example", false},
		{"i4", "ascii@example.org", true},
	} {
		if a := findAccount(t, st, tc.id); a.Email != tc.email || a.EmailUsable != tc.usable {
			t.Errorf("%s: email %q usable %v, want %q %v", tc.id, a.Email, a.EmailUsable, tc.email, tc.usable)
		}
	}
	// An enrollment's notice address too.
	if _, problems, err := importBody(t, st.ImportEnrollments, "e.csv", "account_id,course_id,email\ni1,c1,Ana@Bücher.example\ni3,c1,x@xn--a.example\n"); err != nil || len(problems) != 1 {
		t.Fatalf("%v %q", err, problems)
	}
	var email string
	var usable int
	if err := st.DB().QueryRow(`SELECT email, email_usable FROM enrollments WHERE account_id='i1'`).Scan(&email, &usable); err != nil {
		t.Fatal(err)
	}
	if email != "Ana@xn--bcher-kva.example" || usable != 1 {
		t.Errorf("enrollment email %q usable %d", email, usable)
	}
	if err := st.DB().QueryRow(`SELECT email_usable FROM enrollments WHERE account_id='i3'`).Scan(&usable); err != nil || usable != 0 {
		t.Errorf("an invalid IDN domain must flag the enrollment's email: usable %d %v", usable, err)
	}
}

// Issue 17.1: an enrollments file imported as accounts blanked names,
// countries and addresses.
func TestStore_ImportAccounts_Columns(t *testing.T) {
	full := "id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status\n" +
		"a1,ana,Ana One,a1@example.org,es-US,US,CA,1 Main St,Apt 2,Los Angeles,90012,yes,retired\n" +
		"a2,bo,Bo Two,a2@example.org,en,US,TX,2 Oak Ave,,Austin,78701,no,active\n"

	t.Run("ErrWrongFile", func(t *testing.T) {
		st := storetest.Open(t)
		importBody(t, st.ImportAccounts, "accounts.csv", full)
		before := *findAccount(t, st, "a1")
		res, problems := importFileErr(t, st, "enrollments_as_accounts.csv")
		if res.err == nil || res.err.Error() != `enrollments_as_accounts.csv:1: header: missing required column "country": nothing imported (accounts files need the columns id,country; this header has "account_id","course_id","email")` {
			t.Errorf("err = %v", res.err)
		}
		if len(problems) != 0 {
			t.Errorf("problems %q", problems)
		}
		if after := *findAccount(t, st, "a1"); after != before {
			t.Errorf("a rejected file changed a1:\n%+v\n%+v", before, after)
		}
	})

	t.Run("AbsentColumnsKeepStoredValues", func(t *testing.T) {
		tests := []struct {
			name, body string
			want       func(a *incident.Account)
			reach      int
		}{
			{"EmailOnly", "id,email,country\na1,new@example.org,US\n", func(a *incident.Account) { a.Email = "new@example.org" },
				incident.ReachConsent | incident.ReachRetired | incident.ReachEmail | incident.ReachPostal | incident.ReachSameAddress},
			{"CountryBlankedIncompletePostal", "id,country\na1,\n", func(a *incident.Account) { a.Country = "" },
				incident.ReachConsent | incident.ReachRetired | incident.ReachEmail | incident.ReachSameAddress},
			{"UnusableEmailAndConsent", "id,country,email,e_consent\na1,US,nope,no\n", func(a *incident.Account) {
				a.Email, a.EmailUsable, a.EConsent = "nope", false, false
			}, incident.ReachRetired | incident.ReachPostal | incident.ReachSameAddress},
			{"CityBlanked", "id,country,city,status\na1,US,,active\n", func(a *incident.Account) { a.City, a.Status = "", incident.AccountActive },
				incident.ReachConsent | incident.ReachEmail | incident.ReachSameAddress},
			{"JSONKeys", "{\"id\":\"a1\",\"country\":\"US\",\"name\":\"Ana Uno\"}\n", func(a *incident.Account) { a.Name = "Ana Uno" },
				incident.ReachConsent | incident.ReachRetired | incident.ReachEmail | incident.ReachPostal | incident.ReachSameAddress},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := storetest.Open(t)
				importBody(t, st.ImportAccounts, "accounts.csv", full)
				want := *findAccount(t, st, "a1")
				tc.want(&want)
				file := "update.csv"
				if strings.HasPrefix(tc.body, "{") {
					file = "update.jsonl"
				}
				res, _, err := importBody(t, st.ImportAccounts, file, tc.body)
				if err != nil || res.Updated != 1 {
					t.Fatalf("%+v %v", res, err)
				}
				if got := *findAccount(t, st, "a1"); got != want {
					t.Errorf("after update:\n got %+v\nwant %+v", got, want)
				}
				var reach int
				if err := st.DB().QueryRow(`SELECT reach FROM accounts WHERE id='a1'`).Scan(&reach); err != nil {
					t.Fatal(err)
				}
				if reach != tc.reach {
					t.Errorf("reach %05b, want %05b", reach, tc.reach)
				}
			})
		}
	})

	t.Run("EveryUnknownColumnWarned", func(t *testing.T) {
		st := storetest.Open(t)
		_, problems, err := importBody(t, st.ImportAccounts, "u.csv", "id,country,course_id,shoe_size,email\nu1,US,c1,44,u1@example.org\n")
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) != 2 || !strings.Contains(problems[0], `"course_id": unknown column`) || !strings.Contains(problems[1], `"shoe_size": unknown column`) {
			t.Errorf("problems %q", problems)
		}
	})

	t.Run("JSONRowWithoutCountryRejected", func(t *testing.T) {
		st := storetest.Open(t)
		res, problems, err := importBody(t, st.ImportAccounts, "e.jsonl", `{"account_id":"a1","course_id":"c1","email":"x@example.org"}`+"\n"+`{"id":"a2","country":null}`+"\n")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`e.jsonl:1: "course_id": unknown key, ignored`,
			`e.jsonl:1: country: no "country" key: every row of an accounts file holds id,country (null when unknown)`,
		}
		if !reflect.DeepEqual(problems, want) || res.Inserted != 1 || res.Rejected != 1 {
			t.Errorf("result %+v problems:\n%s", res, strings.Join(problems, "\n"))
		}
	})

	t.Run("ErrCoursesAndEnrollmentsRequiredColumns", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		for _, tc := range []struct {
			imp       importer
			file, msg string
		}{
			{st.ImportCourses, "c.csv", `c.csv:1: header: missing required column "member_id": nothing imported (courses files need the columns course_id,member_id; this header has "course_id","title")`},
			{st.ImportEnrollments, "e.csv", `e.csv:1: header: missing required column "course_id": nothing imported (enrollments files need the columns account_id,course_id; this header has "account_id","title")`},
		} {
			_, _, err := importBody(t, tc.imp, tc.file, "course_id,title\nc1,New Title\n")
			if tc.file == "e.csv" {
				_, _, err = importBody(t, tc.imp, tc.file, "account_id,title\na1,x\n")
			}
			if err == nil || err.Error() != tc.msg {
				t.Errorf("err = %v\nwant %s", err, tc.msg)
			}
		}
	})

	t.Run("CoursesAndEnrollmentsKeepAbsentColumns", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		if res, _, err := importBody(t, st.ImportCourses, "c.csv", "course_id,member_id\nc1,m1\n"); err != nil || res.Updated != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		var title string
		st.DB().QueryRow(`SELECT title FROM courses WHERE id='c1'`).Scan(&title)
		if title != "Course One" {
			t.Errorf("course title %q: a file without titles keeps them", title)
		}
		if res, _, err := importBody(t, st.ImportEnrollments, "e.csv", "account_id,course_id\na1,c1\n"); err != nil || res.Updated != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		var email string
		st.DB().QueryRow(`SELECT email FROM enrollments WHERE account_id='a1' AND course_id='c1'`).Scan(&email)
		if email != "a1@m1.example" {
			t.Errorf("enrollment email %q: a file without emails keeps them", email)
		}
	})
}

type importErr struct {
	incident.ImportResult
	err error
}

// importFileErr imports a testdata file that may fail as a whole.
func importFileErr(t *testing.T, st *incident.Store, name string) (importErr, []string) {
	t.Helper()
	body, err := testdata(name)
	if err != nil {
		t.Fatal(err)
	}
	res, problems, err := importBody(t, st.ImportAccounts, name, body)
	return importErr{res, err}, problems
}

// Issue 11: a scope file of 5 ids with an unbalanced quote scoped 1 and
// exited 0.
func TestStore_ScopeIncident_AccountsFileStrict(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrUnbalancedQuote", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "op")
		body, err := testdata("scope_quote.csv")
		if err != nil {
			t.Fatal(err)
		}
		var problems []string
		_, err = st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Accounts: strings.NewReader(body), AccountsFile: "scope_quote.csv"},
			func(p incident.Problem) { problems = append(problems, p.String()) })
		if !errors.Is(err, incident.ErrInvalid) || !strings.Contains(err.Error(), "scope_quote.csv: 1 lines cannot be read (listed above): scope not changed") {
			t.Errorf("err = %v", err)
		}
		want := []string{"scope_quote.csv:3: row: unbalanced quote: the quoted field opened on this line does not close into a valid row (the lines after it are read on their own)"}
		if !reflect.DeepEqual(problems, want) {
			t.Errorf("problems %q", problems)
		}
		got, _ := st.FindIncidentByID(ctx, inc.ID)
		if got.Status != incident.StatusOpen || len(affected(t, st, inc.ID)) != 0 {
			t.Errorf("a failed scope changed the incident: %+v", got)
		}
	})

	t.Run("LinesAccounted", func(t *testing.T) {
		st := storetest.Open(t)
		seed(t, st)
		inc := openIncident(t, st, "op")
		body := "\ufeffid,name\r\na1,x\r\n\r\n\"a2\",\"two\r\nlines\"\r\nghost\r\na1\r\na5\r\n"
		var problems []string
		res, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Accounts: strings.NewReader(body), AccountsFile: "ids.csv"},
			func(p incident.Problem) { problems = append(problems, p.String()) })
		if err != nil {
			t.Fatal(err)
		}
		want := incident.ScopeResult{Incident: inc.ID, Rule: "accounts-file:ids.csv", Affected: 3, NotInCopy: 1,
			Lines: 8, Skipped: 2, Continued: 1, Repeated: 1}
		if res != want {
			t.Errorf("result %+v\n  want %+v", res, want)
		}
		if res.Lines != res.Skipped+res.Continued+res.Affected+res.NotInCopy+res.Repeated {
			t.Errorf("lines unaccounted for: %+v", res)
		}
		if want := []string{`ids.csv:6: account_id: "ghost" is not in the copy of op: not added to the affected set`}; !reflect.DeepEqual(problems, want) {
			t.Errorf("problems %q", problems)
		}
	})

	t.Run("ErrBadLines", func(t *testing.T) {
		for _, tc := range []struct{ name, body, want string }{
			{"LongID", "a1\n" + strings.Repeat("i", 201) + "\n", "ids.csv:2: row: id 201 bytes long: ids hold at most 200"},
			{"BareQuote", "a1\na\"2\"\n", `ids.csv:2: row: bare " in non-quoted-field`},
			{"NoID", "a1\n,a2\n", "ids.csv:2: row: no id in the first column"},
			{"InvalidUTF8", "a1\na\xff\n", "ids.csv:2: row: invalid UTF-8"},
			{"LongLine", "a1\n" + strings.Repeat("i", 2<<20) + "\n", "ids.csv:2: row: line longer than 1048576 bytes: rejected unread"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st := storetest.Open(t)
				seed(t, st)
				inc := openIncident(t, st, "op")
				var problems []string
				_, err := st.ScopeIncident(ctx, inc.ID, incident.ScopeRule{Accounts: strings.NewReader(tc.body), AccountsFile: "ids.csv"},
					func(p incident.Problem) { problems = append(problems, p.String()) })
				if !errors.Is(err, incident.ErrInvalid) || len(problems) != 1 || problems[0] != tc.want {
					t.Errorf("err %v, problems %q, want %q", err, problems, tc.want)
				}
			})
		}
	})
}

func testdata(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	return string(b), err
}

// TestStore_ImportAccounts_ValuesStoredExactly imports values holding
// quotes, backslashes, escape-like text and characters outside ASCII: the
// writer hands rows to SQLite as JSON, and each must be stored byte for
// byte as validated.
func TestStore_ImportAccounts_ValuesStoredExactly(t *testing.T) {
	st := storetest.Open(t)
	body := "id,username,name,email,postal_line1,postal_line2,city,postal_code,country,region\n" +
		`"q""1",a\u0041b,"O""Brien \ Zoë 😀 </x> [1,2]",zoë@münchen.example,"1 ""Rue"", \n",\\,Łódź,"{""k"":1}",PL,` + "\n"
	res, problems, err := importBody(t, st.ImportAccounts, "v.csv", body)
	if err != nil || res.Inserted != 1 {
		t.Fatalf("%+v %v %q", res, err, problems)
	}
	a := findAccount(t, st, `q"1`)
	want := incident.Account{ID: `q"1`, Username: `a\u0041b`, Name: `O"Brien \ Zoë 😀 </x> [1,2]`,
		Email: "zoë@xn--mnchen-3ya.example", EmailUsable: true, Country: "PL",
		PostalLine1: `1 "Rue", \n`, PostalLine2: `\\`, City: "Łódź", PostalCode: `{"k":1}`, Status: incident.AccountActive}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("stored\n%+v\nwant\n%+v", *a, want)
	}
	// Lengths around the sizes where the encoding of a value's length
	// changes (11, 255 bytes), up to the caps.
	var b strings.Builder
	b.WriteString("id,name,postal_line1,postal_line2,city,country\n")
	lens := []int{0, 1, 11, 12, 254, 255, 256, 300}
	for i, n := range lens {
		fmt.Fprintf(&b, "len%d,%s,%s,%s,%s,FR\n", i, strings.Repeat("n", n), strings.Repeat("é", n/2), strings.Repeat("l", min(n, 300)), strings.Repeat("c", min(n, 200)))
	}
	if res, problems, err := importBody(t, st.ImportAccounts, "lens.csv", b.String()); err != nil || res.Inserted != int64(len(lens)) {
		t.Fatalf("%+v %v %q", res, err, problems)
	}
	for i, n := range lens {
		a := findAccount(t, st, fmt.Sprintf("len%d", i))
		if a.Name != strings.Repeat("n", n) || a.PostalLine1 != strings.Repeat("é", n/2) || a.PostalLine2 != strings.Repeat("l", n) ||
			a.City != strings.Repeat("c", min(n, 200)) || a.Country != "FR" {
			t.Errorf("len%d: stored %+v", i, a)
		}
	}
}
