package incident_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// The fuzz targets run with their committed corpora in every go test; to
// search for new inputs:
//
//	go test ./incident -run '^$' -fuzz FuzzImportAccountsCSV -fuzztime 120s
//	go test ./incident -run '^$' -fuzz FuzzImportAccountsJSONL -fuzztime 120s
//	go test ./incident -run '^$' -fuzz FuzzScopeAccountsFile -fuzztime 120s

// physicalLines counts the lines of b as an editor does: a last line
// without a newline counts, a byte order mark is not content.
func physicalLines(b []byte) int64 {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	n := int64(bytes.Count(b, []byte{'\n'}))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// addTestdata seeds f with the testdata files whose names end in ext.
func addTestdata(f *testing.F, ext string, also ...string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"+ext))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	for _, s := range also {
		f.Add([]byte(s), true)
	}
}

// fuzzImport checks one import of body: it never panics, every line is
// accounted for, nothing printed holds a control character, no stored
// value exceeds its cap, and strict mode stores nothing when it rejects.
func fuzzImport(t *testing.T, st *incident.Store, format incident.Format, body []byte, strict bool) {
	if _, err := st.DB().Exec(`DELETE FROM accounts`); err != nil {
		t.Fatal(err)
	}
	var problems []incident.Problem
	res, err := st.ImportAccounts(context.Background(), bytes.NewReader(body), incident.ImportOptions{
		File: "f", Format: format, Strict: strict, Report: func(p incident.Problem) { problems = append(problems, p) }})
	if err != nil {
		checkNoControls(t, err.Error())
		if format == incident.FormatJSONL {
			t.Fatalf("a JSON lines import stopped: %v", err)
		}
		if countRows(t, st, "accounts") != 0 {
			t.Fatalf("a refused file stored accounts: %v", err)
		}
		return
	}
	if res.Unaccounted() != 0 || res.Lines != physicalLines(body) {
		t.Fatalf("lines: %d in the input, %+v (%d unaccounted)", physicalLines(body), res, res.Unaccounted())
	}
	var rejected, warnings int64
	for _, p := range problems {
		checkNoControls(t, p.String())
		if p.Warning {
			warnings++
		} else {
			rejected++
		}
		if p.Line < 1 || int64(p.Line) > res.Lines {
			t.Fatalf("problem on line %d of %d: %s", p.Line, res.Lines, p)
		}
	}
	if rejected != res.Rejected || warnings != res.Warnings {
		t.Fatalf("%d rejections and %d warnings reported, result %+v", rejected, warnings, res)
	}
	checkNoControls(t, res.String())
	stored := int64(countRows(t, st, "accounts"))
	switch {
	case res.RolledBack && stored != 0:
		t.Fatalf("strict import rolled back but stored %d accounts", stored)
	case !res.RolledBack && stored != res.Inserted:
		t.Fatalf("%d accounts stored, %d inserted", stored, res.Inserted)
	}
	checkStoredCaps(t, st)
}

func FuzzImportAccountsCSV(f *testing.F) {
	addTestdata(f, ".csv",
		"id,country\n\"a1,US\nb1,US\n",
		"id,country,name\na1,US,\"x\r\ny\"\r\n\r\n",
		"\ufeffid,country\na1,US\na1,FR\n",
		"id,country\n\"\"\"\",US\n\"a\n\"\n,\n",
		"account_id,course_id,email\na1,c1,x@example.org\n",
		"id,country,\x1b[31m\n")
	st := storetest.Open(f)
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		fuzzImport(t, st, incident.FormatCSV, body, strict)
	})
}

func FuzzImportAccountsJSONL(f *testing.F) {
	addTestdata(f, ".jsonl",
		`{"id":"a1","country":"US","name":"\u001b[2J"}`+"\n",
		`{"id":1,"country":null}`+"\n\n"+`[1]`+"\n"+`null`+"\n",
		`{"id":"a1","account_id":"a2","country":"US"}`,
		`{"id":"a1","country":"US","email":"x@bücher.example"}`+"\r\n"+`{"id":"a1","country":"DE"}`+"\n")
	st := storetest.Open(f)
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		fuzzImport(t, st, incident.FormatJSONL, body, strict)
	})
}

func FuzzScopeAccountsFile(f *testing.F) {
	for _, s := range []string{
		"account_id\na1\na3\nghost\n\na5\na1\n",
		"a1\n\"a2\na3\na4\na5\n",
		"\ufeffid,name\r\na1,x\r\n\"a2\",\"two\r\nlines\"\r\n",
		"a\x1b[31m\n\"\"\n,\n",
	} {
		f.Add([]byte(s))
	}
	st := storetest.Open(f)
	ctx := context.Background()
	if err := st.CreateController(ctx, &incident.Controller{ID: "m1", Name: "Member One", Member: true, From: "privacy@m1.example"}); err != nil {
		f.Fatal(err)
	}
	if _, err := st.ImportCourses(ctx, strings.NewReader("course_id,member_id\nc1,m1\n"), incident.ImportOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := st.ImportAccounts(ctx, strings.NewReader("id,country\na1,US\na2,US\na3,DE\na5,US\n"), incident.ImportOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := st.ImportEnrollments(ctx, strings.NewReader("account_id,course_id\na1,c1\na2,c1\na5,c1\n"), incident.ImportOptions{}); err != nil {
		f.Fatal(err)
	}
	inc, err := st.CreateIncident(context.Background(), incident.NewIncident{ControllerID: "m1", Title: "t", Discovered: discovered,
		Elements: []incident.Element{incident.ElemName}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems []incident.Problem
		res, err := st.ScopeIncident(context.Background(), inc.ID, incident.ScopeRule{Accounts: bytes.NewReader(body), AccountsFile: "ids"},
			func(p incident.Problem) { problems = append(problems, p) })
		rejected := 0
		for _, p := range problems {
			checkNoControls(t, p.String())
			if !p.Warning {
				rejected++
			}
		}
		if err != nil {
			checkNoControls(t, err.Error())
			if !errors.Is(err, incident.ErrInvalid) || rejected == 0 {
				t.Fatalf("scope failed without a rejected line: %v %q", err, problems)
			}
			return
		}
		if rejected != 0 {
			t.Fatalf("scope succeeded with rejected lines: %q", problems)
		}
		if n := physicalLines(body); res.Lines != n || res.Lines != res.Skipped+res.Continued+res.Affected+res.NotInCopy+res.Repeated {
			t.Fatalf("lines: %d in the input, %+v", n, res)
		}
		if int64(len(problems)) != res.NotInCopy {
			t.Fatalf("%d problems for %d ids not in the copy", len(problems), res.NotInCopy)
		}
	})
}
