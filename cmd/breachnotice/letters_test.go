package main

import (
	"archive/zip"
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/templates/golden"
)

// letters runs a "letters" sub-command through cmdLetters, as run does
// once the command table lists it.
func (c *cli) letters(args ...string) (string, string, int) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	a.now = func() time.Time { return c.now }
	err := a.cmdLetters(context.Background(), args)
	a.close()
	code := exitCode(&stderr, err)
	return stdout.String(), stderr.String(), code
}

func (c *cli) lettersOK(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.letters(args...)
	if code != 0 {
		c.t.Fatalf("breachnotice letters %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// letterIncident seeds controllers and learners owed letters (the three
// added here have no email address; one seeded learner is owed one too), opens, scopes and plans incident 1 and queues its
// letters.
func letterIncident(t *testing.T) *cli {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("paper.csv", `id,name,locale,country,region,postal_line1,city,postal_code
p1,Ana García,es-US,US,CA,1 Main St,Los Angeles,90012
p2,Seán O'Brien,en,US,TX,2 Oak Ave,Austin,78701
p3,Zoë Łukasiewicz,en,US,NY,3 Elm St,Albany,12207
`))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	c.ok("incident", "send", "1", "--channel", "letter")
	return c
}

func TestCLI_Letters(t *testing.T) {
	c := letterIncident(t)
	golden.Check(t, "letters_list", c.lettersOK("list", "1", "--json"))
	zipPath := filepath.Join(c.dir, "b1.zip")
	out := c.lettersOK("export", "1", "--out", zipPath)
	if !strings.HasPrefix(out, "batch B1-1: 4 letters") {
		t.Errorf("export: %q", out)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range zr.File {
		files = append(files, f.Name)
	}
	zr.Close()
	if len(files) != 5 || files[4] != "manifest.csv" {
		t.Errorf("zip holds %v", files)
	}
	if out := c.lettersOK("export", "1", "--out", filepath.Join(c.dir, "b2.zip")); !strings.Contains(out, "no queued letters") {
		t.Errorf("second export: %q", out)
	}
	if out := c.lettersOK("export", "1", "--out", filepath.Join(c.dir, "again.zip"), "--again", "B1-1"); !strings.HasPrefix(out, "batch B1-1 written again: 4 letters") {
		t.Errorf("export --again: %q", out)
	}
	id := strings.TrimSuffix(files[0], ".pdf")
	mailed := c.file("mailed.csv", "letter_id,mailed_at,tracking\n"+id+",2026-11-28,T1\nL999,2026-11-28\n")
	out, errOut, code := c.letters("confirm", mailed)
	if code != 1 || out != mailed+": 1 mailed, 1 rejected\n" || errOut != mailed+":3: letter_id: unknown letter L999\n" {
		t.Errorf("confirm: exit %d, %q, %q", code, out, errOut)
	}
	returned := c.file("returned.csv", id+",2026-11-28,moved\n")
	if out := c.lettersOK("returned", returned); out != returned+": 1 returned, 0 rejected\n" {
		t.Errorf("returned: %q", out)
	}
	golden.Check(t, "letters_list_after", c.lettersOK("list", "1"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "1"}, 2, "--out FILE.zip is required"},
		{[]string{"export", "x", "--out", "y.zip"}, 2, `"x" is not an incident ID`},
		{[]string{"export", "1", "--out", filepath.Join(c.dir, "z.zip"), "--again", "B7-7"}, 1, `no letter batch "B7-7"`},
		{[]string{"list", "99"}, 1, "no incident 99"},
		{[]string{"frob"}, 2, `unknown sub-command "frob"`},
		{[]string{"confirm", filepath.Join(c.dir, "missing.csv")}, 1, "no such file"},
	} {
		_, errOut, code := c.letters(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("letters %s: exit %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
	}
}

// TestCLI_LettersRegistered needs the "letters" entry in commands().
func TestCLI_LettersRegistered(t *testing.T) {
	c := letterIncident(t)
	if out := c.ok("letters", "list", "1"); !strings.Contains(out, "queued") {
		t.Errorf("letters list: %q", out)
	}
}

// zipLetters exports incident id's queued letters to a new zip and
// returns their letter ids.
func (c *cli) zipLetters(id, name string) []string {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	c.lettersOK("export", id, "--out", path)
	zr, err := zip.OpenReader(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer zr.Close()
	var ids []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".pdf") {
			ids = append(ids, strings.TrimSuffix(f.Name, ".pdf"))
		}
	}
	return ids
}

// Issue 9, finding 12: a confirmation file naming letters of two
// controllers is refused whole unless --controller scopes it; then the
// other controller's letters read as unknown. Free text is cut, with a
// warning.
func TestCLI_LettersControllers(t *testing.T) {
	c := letterIncident(t)
	op := c.zipLetters("1", "op.zip")
	c.ok("enrollments", "import", c.file("more.csv", "account_id,course_id\np1,nb-cs50\np2,nb-cs50\n"))
	c.ok("incident", "open", "--controller", "nb", "--title", "t2", "--discovered", "2026-11-20", "--elements", "name,ssn")
	c.ok("incident", "scope", "2", "--all")
	c.ok("incident", "plan", "2")
	c.ok("incident", "send", "2", "--channel", "letter")
	nb := c.zipLetters("2", "nb.zip")
	if len(op) == 0 || len(nb) == 0 {
		t.Fatalf("letters: op %v, nb %v", op, nb)
	}
	mixed := c.file("mixed.csv", "letter_id,mailed_at\n"+op[0]+",2026-11-28\n"+nb[0]+",2026-11-28\n")

	out, errOut, code := c.letters("confirm", mixed)
	want := "breachnotice: invalid: " + mixed + ": letters of 2 controllers (nb on line 3; op on line 2): nothing applied: " +
		"scope the file to one controller (--controller ID)\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("mixed: exit %d, %q, %q\nwant %q", code, out, errOut, want)
	}
	if out := c.lettersOK("list", "1", "--json"); !strings.Contains(out, `"exported": 4`) {
		t.Errorf("a refused file changed letters: %s", out)
	}

	out, errOut, code = c.letters("confirm", mixed, "--controller", "nb")
	if code != 1 || out != mixed+": 1 mailed, 1 rejected\n" || errOut != mixed+":2: letter_id: unknown letter "+op[0]+"\n" {
		t.Errorf("--controller nb: exit %d, %q, %q", code, out, errOut)
	}
	if _, errOut, code := c.letters("confirm", mixed, "--controller", "nope"); code != 1 || !strings.Contains(errOut, `no controller "nope"`) {
		t.Errorf("--controller nope: exit %d, %q", code, errOut)
	}

	returned := c.file("returned.csv", op[1]+",2026-11-28,\""+strings.Repeat("moved ", 200)+"\"\n")
	out, errOut, code = c.letters("returned", returned, "--controller", "op")
	if code != 0 || out != returned+": 1 returned, 0 rejected, 1 warnings\n" ||
		errOut != returned+":1: reason: longer than 500 characters: cut to 500 (warning)\n" {
		t.Errorf("returned: exit %d, %q, %q", code, out, errOut)
	}
}
