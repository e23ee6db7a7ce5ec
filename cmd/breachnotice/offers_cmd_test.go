package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// offersIncident seeds learners of California (owed 12 months of
// protection for an SSN breach) reached by email and by letter, with
// others who are owed none, and plans incident 1.
func offersIncident(t *testing.T) *cli {
	c := newCLI(t)
	c.seed() // a1: California, email; a2 Texas; a3 Germany
	c.ok("accounts", "import", c.file("more.csv", `id,name,email,locale,country,region,postal_line1,city,postal_code,e_consent
e1,Eve Ray,eve@example.org,en,US,CA,5 Pine St,San Diego,92101,yes
e2,Finn Ode,finn@example.org,en,US,CA,6 Ash St,Fresno,93701,yes
p1,Paz Luna,,en,US,CA,1 Main St,Los Angeles,90012,no
n1,Ned Stark,ned@example.org,en,US,NY,3 Elm St,Albany,12207,yes
`))
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,ssn",
		"--protection-provider", "IdentityGuard Example", "--protection-url", "https://enroll.example.com")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	return c
}

// assigned reads offer_codes: account id -> code.
func assigned(t *testing.T, c *cli) (byPerson map[string]string, total int) {
	t.Helper()
	db := c.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT code, coalesce(account_id, '') FROM offer_codes WHERE incident_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byPerson = map[string]string{}
	for rows.Next() {
		var code, acct string
		if err := rows.Scan(&code, &acct); err != nil {
			t.Fatal(err)
		}
		total++
		if acct == "" {
			continue
		}
		if prev, dup := byPerson[acct]; dup {
			t.Errorf("%s holds two codes: %s and %s", acct, prev, code)
		}
		byPerson[acct] = code
	}
	return byPerson, total
}

func codesFile(c *cli, name string, codes ...string) string {
	return c.file(name, "code,provider,expires\n"+strings.Join(codes, "\n")+"\n")
}

// TestCLI_Offers: each Californian gets one code, once; too few codes
// assign nothing; a second import serves only those still without one;
// every email and letter prints its own person's code and no other; the
// ledger records offer_assigned with the code's hash and verifies; the
// export is private and complete.
func TestCLI_Offers(t *testing.T) {
	c := offersIncident(t)
	owed := []string{"a1", "e1", "e2", "p1"}

	// Bad files: a clear error naming the file, line and field; nothing stored.
	for _, tc := range []struct{ name, body, want string }{
		{"dup.csv", "code\nAAA111\nBBB222\nAAA111\n", "dup.csv line 4 field code: duplicate of line 2"},
		{"header.csv", "id,provider\nAAA111,X\n", `header.csv line 1 field 1: header "id", want "code"`},
		{"expires.csv", "code,provider,expires\nAAA111,X,31/12/2027\n", `expires.csv line 2 field expires: "31/12/2027": want YYYY-MM-DD`},
		{"space.csv", "code\nAAA 111\n", `space.csv line 2 field code: "AAA 111": printable ASCII without spaces only`},
		{"fields.csv", "code,provider\nAAA111\n", "fields.csv line 2: wrong number of fields"},
		{"empty.csv", "code\nAAA111\n\"\"\n", "empty.csv line 3 field code: empty"},
	} {
		_, errOut, code := c.run("offers", "import", "1", c.file(tc.name, tc.body))
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q; want %q", tc.name, code, errOut, tc.want)
		}
	}

	// Too few: refused, nothing assigned or stored.
	_, errOut, code := c.run("offers", "import", "1", codesFile(c, "three.csv", "C-1,,", "C-2,,", "C-3,,"))
	if code != 1 || !strings.Contains(errOut, "too few codes: 4 people owed a protection offer have no code") {
		t.Errorf("three codes for four people: exit %d, %q", code, errOut)
	}
	if got, total := assigned(t, c); len(got) != 0 || total != 0 {
		t.Errorf("after a refused import: %v assigned, %d stored", got, total)
	}

	// Enough: one code each, the spare kept.
	out := c.ok("offers", "import", "1", codesFile(c, "five.csv", "C-1,Acme ID,2027-03-31", "C-2,,", "C-3,,", "C-4,,", "C-5,,"))
	if !strings.Contains(out, "5 codes read (5 new, 0 already imported); 4 people owed a protection offer were waiting, 4 codes assigned, 1 spare") {
		t.Errorf("import: %q", out)
	}
	first, total := assigned(t, c)
	if len(first) != 4 || total != 5 {
		t.Fatalf("assigned %v of %d stored, want the 4 Californians", first, total)
	}
	seen := map[string]string{}
	for _, p := range owed {
		code := first[p]
		if code == "" {
			t.Errorf("%s has no code", p)
		}
		if other, dup := seen[code]; dup {
			t.Errorf("code %s given to %s and %s", code, other, p)
		}
		seen[code] = p
	}

	// The same file again changes nothing; a code of another incident is refused.
	out = c.ok("offers", "import", "1", filepath.Join(c.dir, "five.csv"))
	if !strings.Contains(out, "5 already imported); 0 people owed a protection offer were waiting, 0 codes assigned, 1 spare") {
		t.Errorf("re-import: %q", out)
	}
	// A new Californian joins the plan: only she gets a code, the spare one.
	c.ok("accounts", "import", c.file("late.csv", "id,name,email,locale,country,region,e_consent\ne3,Gia Tan,gia@example.org,en,US,CA,yes\n"))
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	out = c.ok("offers", "import", "1", codesFile(c, "more.csv", "C-6,,"))
	if !strings.Contains(out, "1 people owed a protection offer were waiting, 1 codes assigned, 1 spare") {
		t.Errorf("second import: %q", out)
	}
	second, total := assigned(t, c)
	if len(second) != 5 || total != 6 || second["e3"] != "C-5" {
		t.Errorf("after the second import: %v of %d stored; want e3 to hold the spare C-5", second, total)
	}
	for p, code := range first {
		if second[p] != code {
			t.Errorf("%s: code changed from %s to %s", p, code, second[p])
		}
	}
	owed = append(owed, "e3")
	codeOf := second

	// Every email prints its own person's code, and only that one.
	outbox := filepath.Join(c.dir, "outbox")
	c.ok("incident", "send", "1", "--channel", "email", "--outbox", outbox)
	emls, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	byAddr := map[string]string{"ana@nb.example": "a1", "eve@example.org": "e1", "finn@example.org": "e2", "gia@example.org": "e3", "ned@example.org": "n1", "ana@example.org": "a1"}
	checked := 0
	for _, f := range emls {
		to, body := readEML(t, f)
		p, ok := byAddr[to]
		if !ok {
			continue
		}
		for code, holder := range invert(codeOf) {
			if has := strings.Contains(body, code); has != (holder == p) {
				t.Errorf("email to %s (%s): contains code %s of %s: %v", to, p, code, holder, has)
			}
		}
		if want := codeOf[p]; want != "" {
			checked++
			if !strings.Contains(body, "enter the code "+want) && !strings.Contains(body, "el código "+want) {
				t.Errorf("email to %s lacks the enrolment instructions with %s", to, want)
			}
		}
	}
	if checked != 4 {
		t.Errorf("%d emails with a code checked, want 4 (a1, e1, e2, e3) of %d", checked, len(emls))
	}

	// The letter prints Paz's code (pdftotext, where installed).
	c.ok("incident", "send", "1", "--channel", "letter")
	zipPath := filepath.Join(c.dir, "b1.zip")
	c.ok("letters", "export", "1", "--out", zipPath)
	if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		var manifest [][]string
		pdfs := map[string][]byte{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if f.Name == "manifest.csv" {
				manifest, _ = csv.NewReader(strings.NewReader(string(b))).ReadAll()
			} else {
				pdfs[f.Name] = b
			}
		}
		zr.Close()
		found := false
		for _, row := range manifest[1:] {
			pdf := filepath.Join(c.dir, row[0]+".pdf")
			os.WriteFile(pdf, pdfs[row[0]+".pdf"], 0o644)
			txt, err := exec.Command(pdftotext, pdf, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(string(txt)), " ")
			for code, holder := range invert(codeOf) {
				if has := strings.Contains(flat, "code "+code+"."); has != (holder == row[1]) {
					t.Errorf("letter %s to %s: contains code %s of %s: %v", row[0], row[1], code, holder, has)
				}
			}
			if row[1] == "p1" {
				found = strings.Contains(flat, "visit https://enroll.example.com and enter the code "+codeOf["p1"])
			}
		}
		if !found {
			t.Errorf("no letter to p1 with its code %s", codeOf["p1"])
		}
	} else {
		t.Log("pdftotext not installed: the letters' text is not checked")
	}

	// The ledger: offer_assigned per person with the code's hash, verified.
	entries := c.ok("ledger", "list", "--controller", "op", "--jsonl")
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(entries), "\n") {
		var e struct {
			Kind    string
			Account string
			Detail  struct {
				CodeSHA256 string `json:"code_sha256"`
			}
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if e.Kind == "offer_assigned" {
			if _, dup := got[e.Account]; dup {
				t.Errorf("two offer_assigned entries for %s", e.Account)
			}
			got[e.Account] = e.Detail.CodeSHA256
		}
	}
	for _, p := range owed {
		sum := sha256.Sum256([]byte(codeOf[p]))
		if got[p] != hex.EncodeToString(sum[:]) {
			t.Errorf("ledger offer_assigned of %s: %q, want the SHA-256 of %s", p, got[p], codeOf[p])
		}
	}
	if len(got) != len(owed) || strings.Contains(entries, "C-1") {
		t.Errorf("ledger: %d offer_assigned entries (want %d), or a code in clear", len(got), len(owed))
	}
	bundle := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", bundle)
	if v := c.ok("ledger", "verify", bundle); !strings.HasPrefix(v, "ok: ") {
		t.Errorf("verify: %q", v)
	}

	// The export: the provider's file, mode 0600, one row per assignment.
	exp := filepath.Join(c.dir, "assignments.csv")
	if out := c.ok("offers", "export", "1", "--out", exp); !strings.Contains(out, "5 assignments written") {
		t.Errorf("export: %q", out)
	}
	fi, err := os.Stat(exp)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export mode %v, want 0600", fi.Mode().Perm())
	}
	f, _ := os.Open(exp)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 6 || strings.Join(recs[0], ",") != "code,account_id,name,email,assigned_at" {
		t.Fatalf("export: %v %v", recs, err)
	}
	for _, r := range recs[1:] {
		if codeOf[r[1]] != r[0] || r[4] == "" {
			t.Errorf("export row %v: %s holds %s", r, r[1], codeOf[r[1]])
		}
		if r[1] == "e1" && (r[2] != "Eve Ray" || r[3] != "eve@example.org") {
			t.Errorf("export row %v: want Eve Ray, eve@example.org", r)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(c.dir, ".assignments.csv.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	audit := c.ok("audit", "--json")
	for _, want := range []string{"offers.import", "offers.export"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if strings.Contains(audit, "C-1") {
		t.Error("a code in the audit log")
	}

	// Another incident cannot take a code already imported for this one.
	c.ok("incident", "open", "--controller", "op", "--title", "t2", "--discovered", "2026-11-21", "--elements", "name,ssn")
	c.ok("incident", "scope", "2", "--all")
	c.ok("incident", "plan", "2")
	_, errOut, code = c.run("offers", "import", "2", codesFile(c, "reuse.csv", "Z-1,,", "C-3,,"))
	if code != 1 || !strings.Contains(errOut, "reuse.csv line 3 field code: already imported for incident 1") {
		t.Errorf("a code of incident 1 for incident 2: exit %d, %q", code, errOut)
	}
}

// TestCLI_OffersNoneOwed: an incident whose law owes no protection refuses
// codes.
func TestCLI_OffersNoneOwed(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	_, errOut, code := c.run("offers", "import", "1", codesFile(c, "c.csv", "C-1,,"))
	if code != 1 || !strings.Contains(errOut, "no one is owed a protection offer") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

func invert(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[v] = k
	}
	return out
}

// readEML returns a message's recipient address and its decoded text and
// HTML parts.
func readEML(t *testing.T, path string) (string, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	decodePart(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, &sb)
	return to.Address, sb.String()
}

func decodePart(t *testing.T, ctype, cte string, r io.Reader, sb *strings.Builder) {
	mt, params, _ := mime.ParseMediaType(ctype)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			decodePart(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, sb)
		}
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, _ := io.ReadAll(r)
	sb.Write(b)
	sb.WriteString("\n")
}
