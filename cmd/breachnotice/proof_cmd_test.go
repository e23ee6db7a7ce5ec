package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates/golden"
)

// TestCLI_ProofOfNotice plays issue 17's first use end to end on the
// command line, as of 2026-11-28: a breach discovered on 2026-11-20 (the
// GDPR authority's 72 hours are long gone), emails written to the outbox,
// a letter exported and not yet mailed, a retired learner unreachable.
//
//   - incident show says who is notified by which channel and why the
//     others are outstanding, and marks the overdue deadline (golden);
//   - the retired learner has a notice_unreachable ledger entry and is the
//     one substitute-notice case;
//   - the proof bundle's summary flags the German authority's deadline as
//     missed and overdue and counts people, not entries;
//   - every .eml in the outbox and every PDF handed to the mail house is
//     found in the bundle by ledger verify --notice; a changed one is not.
func TestCLI_ProofOfNotice(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("accounts", "import", c.file("more.csv", `id,name,email,country,region,postal_line1,city,postal_code,e_consent,status
a4,Ned,ned@example.org,US,NY,1 Main St,Albany,12207,,active
a5,Cyd,cyd@example.org,US,CA,2 Main St,Los Angeles,90012,yes,retired
`))
	c.ok("incident", "open", "--controller", "op", "--title", "Backup exposed", "--discovered", "2026-11-20", "--elements", "name,email,password")
	c.ok("incident", "scope", "1", "--all")
	c.ok("incident", "plan", "1")
	// Before sending, obligations says the unreachable are recorded when
	// sending starts; afterwards, when they were.
	if out, errOut, code := c.run("incident", "obligations", "1"); code != 0 || strings.Contains(out, "unreachable_recorded_at") ||
		!strings.Contains(errOut, "1 people owed notice are unreachable (substitute notice owed): they are recorded in the ledger (notice_unreachable) when sending starts") {
		t.Errorf("obligations before send: exit %d\n%s", code, errOut)
	}
	outbox := filepath.Join(c.dir, "outbox")
	c.ok("incident", "send", "1", "--outbox", outbox)
	out, errOut, _ := c.run("incident", "obligations", "1")
	for _, line := range strings.Split(out, "\n") {
		if recorded := strings.Contains(line, `"unreachable_recorded_at":"2026-11-28T12:00:00Z"`); recorded != strings.HasPrefix(line, `{"account_id":"a5"`) {
			t.Errorf("obligations after send: %s", line)
		}
	}
	if !strings.Contains(errOut, "1 recorded in the ledger") {
		t.Errorf("obligations after send: %s", errOut)
	}
	letters := filepath.Join(c.dir, "letters.zip")
	c.ok("letters", "export", "1", "--out", letters)

	golden.Check(t, "incident_show_progress", c.ok("incident", "show", "1"))
	var shown struct {
		Progress notify.Progress `json:"progress"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "1", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	p := shown.Progress
	if p.LettersUnmailed != 1 || p.Substitute != 1 || p.NotifiedByEmail != p.Notified || p.NotifiedByLetter != 0 ||
		p.Outstanding != p.LettersUnmailed+p.EmailsPending+p.Substitute+p.NoNoticeYet {
		t.Errorf("show --json progress: %+v", p)
	}

	// The retired learner: recorded once, listed once.
	list := c.ok("ledger", "list", "--controller", "op")
	if n := strings.Count(list, "notice_unreachable"); n != 1 || !strings.Contains(list, "a5") {
		t.Errorf("ledger list: %d notice_unreachable entries:\n%s", n, list)
	}
	if sub := c.ok("incident", "substitute", "1"); !strings.Contains(sub, "a5\tUS-CA\tretired") {
		t.Errorf("incident substitute:\n%s", sub)
	}

	bundle := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", bundle)
	members := zipMembers(t, bundle)
	var rep struct {
		Counts ledger.Counts `json:"counts"`
	}
	if err := json.Unmarshal(members["summary.json"], &rep); err != nil {
		t.Fatal(err)
	}
	var de *ledger.DeadlineOutcome
	for i, o := range rep.Counts.DeadlineOutcomes {
		if o.Jurisdiction == "DE" && o.Duty == ledger.DutyRegulator {
			de = &rep.Counts.DeadlineOutcomes[i]
		}
	}
	if de == nil || de.State != ledger.OutcomeMissed || !de.Overdue || de.Due != "2026-11-23" || de.DaysLeft != -5 {
		t.Errorf("summary: DE regulator outcome %+v, want missed and overdue by 5 days", de)
	}
	if sc := rep.Counts.SubstituteCases; len(sc) != 1 || sc[0].Account != "a5" || sc[0].Reason != ledger.ReasonUnreachable {
		t.Errorf("summary substitute_cases %+v, want a5 (retired)", sc)
	}
	if pp := rep.Counts.People; pp.Owed != int64(p.Owed) || pp.Notified != int64(p.Notified) || pp.LettersUnmailed != 1 || pp.Substitute != 1 {
		t.Errorf("summary people %+v, show says %+v", pp, p)
	}

	// Every delivered notice is found in the bundle by its SHA-256.
	emls, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(emls) == 0 || len(emls) != p.NotifiedByEmail {
		t.Fatalf("%d .eml files in the outbox, %d people notified by email", len(emls), p.NotifiedByEmail)
	}
	var files []string
	files = append(files, emls...)
	pdfs := 0
	for name, b := range zipMembers(t, letters) {
		if strings.HasSuffix(name, ".pdf") {
			files = append(files, c.file(name, string(b)))
			pdfs++
		}
	}
	if pdfs != 1 {
		t.Fatalf("%d PDFs in the letters batch, want 1", pdfs)
	}
	args := []string{"ledger", "verify", bundle, "--json"}
	for _, f := range files {
		args = append(args, "--notice", f)
	}
	var res struct {
		Notices []struct {
			File     string            `json:"file"`
			SHA256   string            `json:"sha256"`
			Recorded []ledger.Recorded `json:"recorded"`
		} `json:"notices"`
	}
	if err := json.Unmarshal([]byte(c.ok(args...)), &res); err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notices {
		b, _ := os.ReadFile(n.File)
		sum := sha256.Sum256(b)
		want := ledger.KindEmailSent
		if strings.HasSuffix(n.File, ".pdf") {
			want = ledger.KindLetterExported
		}
		if len(n.Recorded) != 1 || n.Recorded[0].SHA256 != hex.EncodeToString(sum[:]) || n.Recorded[0].Entry.Kind != want ||
			n.Recorded[0].Stripped != 0 {
			t.Errorf("%s: recorded %+v, want one %s entry with SHA-256 %x", filepath.Base(n.File), n.Recorded, want, sum)
		}
	}
	if len(res.Notices) != len(files) {
		t.Errorf("%d notices reported, %d given", len(res.Notices), len(files))
	}

	// A changed notice is not found, and verify says so with a failure.
	b, _ := os.ReadFile(emls[0])
	changed := c.file("changed.eml", strings.Replace(string(b), "\r\n\r\n", "\r\n\r\nP.S. all is well.\r\n", 1))
	out, errOut, code := c.run("ledger", "verify", bundle, "--notice", changed)
	if code == 0 || !strings.Contains(errOut, "no entry of the bundle records "+changed) || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("verify --notice of a changed file: exit %d\n%s%s", code, out, errOut)
	}

	// The German filing is recorded, two days late: the deadline is no
	// longer overdue but stays missed, in show and in a new bundle.
	c.ok("regulators", "sent", "1", "DE", "--at", "2026-11-25")
	show := c.ok("incident", "show", "1")
	if !strings.Contains(show, "deadlines missed (done after the due date):") || !strings.Contains(show, "sent 2026-11-25") ||
		strings.Contains(show, "OVERDUE") {
		t.Errorf("show after the late filing:\n%s", show)
	}
	c.ok("ledger", "export", "--controller", "op", "--incident", "1", "--out", bundle)
	var rep2 struct {
		Counts ledger.Counts `json:"counts"`
	}
	if err := json.Unmarshal(zipMembers(t, bundle)["summary.json"], &rep2); err != nil {
		t.Fatal(err)
	}
	for _, o := range rep2.Counts.DeadlineOutcomes {
		if o.Jurisdiction == "DE" && o.Duty == ledger.DutyRegulator && (o.State != ledger.OutcomeMissed || o.Overdue || o.FiledOn != "2026-11-25") {
			t.Errorf("summary after the late filing: %+v", o)
		}
	}
}
