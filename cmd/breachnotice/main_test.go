package main

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify/email/smtptest"

	"github.com/breachnotice/breachnotice/templates/golden"
)

// cli runs breachnotice commands against one database, with a fixed
// clock: a SQLite file in a temporary directory, or with
// BREACHNOTICE_TEST_STORE=postgres a fresh database on the tests'
// throwaway PostgreSQL server (storetest).
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
	now time.Time
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "bn.db")
	if storetest.Default() == storetest.Postgres {
		db = storetest.Location(t, storetest.Postgres)
	}
	return &cli{t: t, dir: dir, now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), env: map[string]string{
		"BREACHNOTICE_DB":     db,
		"BREACHNOTICE_SECRET": "test-secret-0123456789abcdef",
	}}
}

// sqliteOnly skips a test that is about the SQLite database file itself
// when the tests run on PostgreSQL.
func sqliteOnly(t *testing.T, why string) {
	t.Helper()
	if storetest.Default() == storetest.Postgres {
		t.Skip("on PostgreSQL: " + why)
	}
}

// run runs one command and returns its stdout, stderr and exit status.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	err := a.run(context.Background(), args)
	a.close()
	code := exitCode(&stderr, err)
	return stdout.String(), stderr.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("breachnotice %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// file writes a file into the test directory and returns its path.
func (c *cli) file(name, body string) string {
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// openDB opens the test database directly, to check what a command left.
// It is closed when the test ends, if the test has not closed it (on
// PostgreSQL a pool left open holds its server connections).
func (c *cli) openDB() *sql.DB {
	c.t.Helper()
	db, err := migrations.Open(context.Background(), c.env["BREACHNOTICE_DB"])
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// seed adds an operator and a Member with one course, and a few learners.
func (c *cli) seed() {
	c.ok("controllers", "add", "--id", "op", "--name", "OpenLearn", "--from", "notice@openlearn.example",
		"--postal-address", "141 Portland St;Cambridge, MA 02139", "--contact-email", "privacy@openlearn.example")
	c.ok("controllers", "add", "--id", "nb", "--name", "Northbridge University", "--member", "--from", "privacy@nb.example", "--policy-days", "21")
	c.ok("courses", "import", c.file("courses.csv", "course_id,member_id,title\nnb-cs50,nb,Intro to CS\n"))
	c.ok("accounts", "import", c.file("accounts.csv", `id,username,name,email,locale,country,region,postal_line1,postal_line2,city,postal_code,e_consent,status
a1,ana,Ana García,ana@example.org,es-US,US,US-CA,1 Main St,,Los Angeles,90012,yes,active
a2,bo,Bo Li,bo@example.org,en,US,TX,2 Oak Ave,,Austin,78701,no,active
a3,cy,Cy Müller,cy@example.org,de,DE,,Hauptstr. 1,,Berlin,10115,false,active
`))
	c.ok("enrollments", "import", c.file("enrollments.csv", "account_id,course_id,email\na1,nb-cs50,ana@nb.example\na3,nb-cs50,\n"))
}

func TestCLI_IncidentJSON(t *testing.T) {
	c := newCLI(t)
	c.seed()
	desc := c.file("what.txt", "An attacker copied the course database.\n")
	golden.Check(t, "incident_open", c.ok("incident", "open", "--controller", "nb", "--title", "LMS database copied",
		"--discovered", "2026-11-20", "--elements", "password,name,email", "--description-file", desc,
		"--occurred-from", "2026-11-01", "--occurred-to", "2026-11-19", "--json"))
	golden.Check(t, "incident_scope", c.ok("incident", "scope", "1", "--all", "--json"))
	golden.Check(t, "incident_show", c.ok("incident", "show", "1", "--json"))
	golden.Check(t, "controllers_list", c.ok("controllers", "list", "--json"))
	golden.Check(t, "incident_plan", c.ok("incident", "plan", "1"))
	golden.Check(t, "incident_obligations", c.ok("incident", "obligations", "1", "--jsonl"))
}

func TestCLI_Errors(t *testing.T) {
	c := newCLI(t)
	c.seed()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"UnknownController", []string{"incident", "open", "--controller", "nope", "--title", "t", "--discovered", "2026-11-20", "--elements", "name"}, 1, `breachnotice: not found: no controller "nope"`},
		{"FutureDate", []string{"incident", "open", "--controller", "op", "--title", "t", "--discovered", "2027-01-01", "--elements", "name"}, 1, "discovered date 2027-01-01 is in the future"},
		{"BadDate", []string{"incident", "open", "--controller", "op", "--title", "t", "--discovered", "20-11-2026", "--elements", "name"}, 1, `--discovered: invalid: date "20-11-2026" is not YYYY-MM-DD`},
		{"UnknownElement", []string{"incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,shoe_size"}, 2, `incident open: --elements: unknown data element "shoe_size" (known: name,email,`},
		{"MissingFlags", []string{"incident", "open", "--controller", "op"}, 2, "--controller, --title, --discovered and --elements are required"},
		{"UnknownCommand", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"ScopeNotFound", []string{"incident", "scope", "99", "--all"}, 1, "no incident 99"},
		{"ScopeTwoRules", []string{"incident", "scope", "1", "--all", "--course", "x"}, 2, "exactly one of --all"},
		{"DuplicateController", []string{"controllers", "add", "--id", "op", "--name", "X", "--from", "x@example.org"}, 1, `controller "op" already exists`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := c.run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); tc.code == 1 && n > 0 {
				t.Errorf("want one line of error, got %q", errOut)
			}
		})
	}
	// Nothing was written by the failed opens.
	if out := c.ok("incident", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("failed commands wrote incidents: %s", out)
	}
}

func TestCLI_ImportExitStatus(t *testing.T) {
	c := newCLI(t)
	c.seed()
	bad := c.file("bad.csv", "id,email,country,e_consent\nb1,b1@example.org,US,yes\nb2,b2@example.org,US,perhaps\nb3,bad-address,FR,no\n")
	out, errOut, code := c.run("accounts", "import", bad)
	if code != 1 {
		t.Errorf("exit %d with a rejected row, want 1", code)
	}
	wantErr := bad + `:3: e_consent: "perhaps" is not a boolean (true/false/yes/no/1/0)` + "\n" +
		bad + ":4: email: unusable (missing '@' or a part around it): account kept, email flagged; a letter may be owed instead (warning)\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	if want := bad + ": 2 inserted, 0 updated, 1 rejected, 1 warnings; 4 lines read, 1 header or blank\n"; out != want {
		t.Errorf("summary %q, want %q", out, want)
	}
	// --strict imports nothing; a clean re-import exits 0 and updates.
	c.run("accounts", "import", "--strict", c.file("bad2.csv", "id,country\nz1,US\nz2,XX\n"))
	if out := c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn", "--json"); !strings.Contains(out, `"status": "open"`) {
		t.Fatal(out)
	}
	if out := c.ok("incident", "scope", "1", "--all", "--json"); !strings.Contains(out, `"affected": 5`) {
		t.Errorf("strict import with a bad row wrote accounts: %s", out)
	}
	if out := c.ok("accounts", "import", c.file("good.csv", "id,country\nb1,US\n")); !strings.Contains(out, "0 inserted, 1 updated, 0 rejected") {
		t.Errorf("re-import: %s", out)
	}
}

// TestCLI_ImportWrongFile imports an enrollments file as accounts: it is
// refused whole, naming the file and the missing column, and nothing
// changes (issue 17.1).
func TestCLI_ImportWrongFile(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.ok("accounts", "import", "--json", c.file("same.csv", "id,country\na1,US\n"))
	wrong := c.file("enrollments2.csv", "account_id,course_id,email\na1,nb-cs50,other@nb.example\na2,nb-cs50,\n")
	out, errOut, code := c.run("accounts", "import", wrong)
	want := "breachnotice: " + wrong + `:1: header: missing required column "country": nothing imported (accounts files need the columns id,country; this header has "account_id","course_id","email")` + "\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, out, errOut, want)
	}
	db := c.openDB()
	defer db.Close()
	var name, email, country string
	if err := db.QueryRow(`SELECT name, email, country FROM accounts WHERE id='a1'`).Scan(&name, &email, &country); err != nil {
		t.Fatal(err)
	}
	if name != "Ana García" || email != "ana@example.org" || country != "US" {
		t.Errorf("a1 = %q %q %q: the refused file changed it", name, email, country)
	}
	golden.Check(t, "accounts_import_json", strings.ReplaceAll(before, c.dir, "DIR"))
}

// TestCLI_ScopeFileUnbalancedQuote scopes from an id list whose second id
// opens a quote that never closes: the scope fails, naming the line, and
// exits 1 (it scoped 1 of 5 and exited 0).
func TestCLI_ScopeFileUnbalancedQuote(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	ids := c.file("ids.csv", "a1\n\"a2\na3\n")
	out, errOut, code := c.run("incident", "scope", "1", "--accounts-file", ids)
	if code != 1 || out != "" || !strings.Contains(errOut, ids+":2: row: unbalanced quote") ||
		!strings.Contains(errOut, ids+": 1 lines cannot be read (listed above): scope not changed") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out := c.ok("incident", "show", "1", "--json"); !strings.Contains(out, `"status": "open"`) {
		t.Errorf("the failed scope changed the incident: %s", out)
	}
}

func TestCLI_LedgerRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	zip := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "nb", "--incident", "1", "--out", zip)
	out := c.ok("ledger", "verify", zip)
	if !strings.HasPrefix(out, "ok: controller nb, incident 1: 3 entries") {
		t.Errorf("verify: %q", out)
	}
	// The affected count in one entry changed: verify fails, exit 1.
	rewriteZip(t, zip, "entries.jsonl", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"affected":2`), []byte(`"affected":1`), 1)
	})
	_, errOut, code := c.run("ledger", "verify", zip)
	if code != 1 || !strings.Contains(errOut, "verify proof.zip") {
		t.Errorf("tampered bundle: exit %d, %q", code, errOut)
	}
	// Until deliveries exist no entry names a learner: prove says so.
	if _, errOut, code := c.run("ledger", "prove", "--controller", "nb", "--account", "a1"); code != 1 ||
		!strings.Contains(errOut, `no entries for account "a1"`) {
		t.Errorf("prove without entries: exit %d, %q", code, errOut)
	}
}

// TestCLI_ImportWhileScoping runs an import in a child process while this
// one scopes and re-scopes the same database: WAL and busy_timeout must let
// both finish without "database is locked".
func TestCLI_ImportWhileScoping(t *testing.T) {
	if os.Getenv("BN_CHILD_IMPORT") != "" {
		return
	}
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	var big strings.Builder
	big.WriteString("id,name,email,country,region\n")
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&big, "x%d,Learner %d,l%d@example.org,US,TX\n", i, i, i)
	}
	path := c.file("big.csv", big.String())

	bin := buildBinary(t, c.dir)
	cmd := exec.Command(bin, "accounts", "import", path)
	cmd.Env = c.procEnv()
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	scopes := 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child import failed: %v\n%s", err, childOut.String())
			}
			running = false
		default:
			c.ok("incident", "scope", "1", "--all")
			scopes++
		}
	}
	if !strings.Contains(childOut.String(), "60000 inserted") {
		t.Errorf("child import: %s", childOut.String())
	}
	out := c.ok("incident", "scope", "1", "--all", "--json")
	if !strings.Contains(out, `"affected": 60003`) || scopes == 0 {
		t.Errorf("after import: %s (%d scopes ran during it)", out, scopes)
	}
}

// rewriteZip replaces one file of a zip with edit(its content).
func rewriteZip(t *testing.T, path, name string, edit func([]byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			nb := edit(b)
			if bytes.Equal(nb, b) {
				t.Fatalf("edit changed nothing in %s", name)
			}
			b, found = nb, true
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zr.Close()
	zw.Close()
	if !found {
		t.Fatalf("no %s in %s", name, path)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLI_SendStopsCleanlyOnSIGTERM sends SIGTERM to a running incident
// send: it stops claiming, lets the messages in flight finish, records
// them, says how many remain and exits 130; a second run finishes the job
// without sending anyone a second copy.
func TestCLI_SendStopsCleanlyOnSIGTERM(t *testing.T) {
	c := newCLI(t)
	const n = 1500
	c.plannedWithLearners("s", n)

	srv := smtptest.Start(t)
	srv.Behave(func(string, int) smtptest.Behaviour { time.Sleep(3 * time.Millisecond); return smtptest.Accept })
	bin := buildBinary(t, c.dir)
	env := c.procEnv()
	cmd := exec.Command(bin, "incident", "send", "1", "--channel", "email", "--smtp", srv.URL(), "--concurrency", "2")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); srv.Count() < 100 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("incident send did not stop within 15 s of SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "email notices remain") {
		t.Fatalf("after SIGTERM: exit %d, stderr %q", code, stderr.String())
	}
	var sending, sent int
	db := c.openDB()
	db.QueryRow(`SELECT count(*) FROM notices WHERE state='sending'`).Scan(&sending)
	db.QueryRow(`SELECT count(*) FROM notices WHERE state='sent'`).Scan(&sent)
	db.Close()
	received := srv.Count()
	if sending != 0 || sent != received || received >= n {
		t.Errorf("after SIGTERM: %d notices left in flight, %d recorded sent, %d received by the server (of %d)", sending, sent, received, n)
	}

	cmd = exec.Command(bin, "incident", "send", "1", "--channel", "email", "--smtp", srv.URL(), "--concurrency", "4")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.MessageID]++
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("%s delivered %d times after a clean stop", id, k)
		}
	}
	var owed int
	db = c.openDB()
	db.QueryRow(`SELECT count(*) FROM notices WHERE channel='email'`).Scan(&owed)
	db.QueryRow(`SELECT count(*) FROM notices WHERE channel='email' AND state='sent'`).Scan(&sent)
	db.Close()
	if len(seen) != owed || sent != owed || owed < n {
		t.Errorf("%d distinct notices delivered, %d recorded sent, of %d email notices (%d seeded learners)", len(seen), sent, owed, n)
	}
	// incident show reports the delivery.
	if out := c.ok("incident", "show", "1", "--json"); !strings.Contains(out, fmt.Sprintf(`"sent": %d`, owed)) {
		t.Errorf("incident show does not report %d emails sent:\n%s", owed, out)
	}
	t.Logf("SIGTERM after %d messages: stopped with them all recorded sent and none in flight; the second run sent the other %d", received, owed-received)
}

// plannedWithLearners adds n Californian learners (ids and addresses
// PREFIX0000@example.org and up) to the seed data and plans incident 1
// over every account.
func (c *cli) plannedWithLearners(prefix string, n int) {
	c.seed()
	var big strings.Builder
	big.WriteString("id,name,email,country,region,postal_line1,city,postal_code\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&big, "%s%04d,Learner %d,%s%04d@example.org,US,CA,%d Main St,Los Angeles,90012\n", prefix, i, i, prefix, i, i+1)
	}
	c.ok("accounts", "import", c.file("many.csv", big.String()))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
}

// buildBinary builds breachnotice into dir and returns its path, for the
// tests that run it as separate processes (signals, several senders).
func buildBinary(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "breachnotice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// procEnv is the environment of a separate breachnotice process on the
// test's store, with the secret every process on it shares.
func (c *cli) procEnv() []string {
	return append(os.Environ(), "BREACHNOTICE_DB="+c.env["BREACHNOTICE_DB"], "BREACHNOTICE_SECRET="+c.env["BREACHNOTICE_SECRET"])
}
