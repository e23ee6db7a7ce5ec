package notify

import (
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/notify/law"
)

// TestContacts_SourceAndChecked: every contact block a notice prints (the
// credit bureaus, the FTC, the state offices, and the regulators and
// complaint authorities of the rules rows) carries a source and the date
// it was last checked; a table row lacking either is refused.
func TestContacts_SourceAndChecked(t *testing.T) {
	known := map[string]Contact{}
	for _, c := range Contacts() {
		if c.Source == "" || c.Checked.IsZero() {
			t.Errorf("%s/%s: source %q, checked %s", c.Jurisdiction, c.Agency.ID, c.Source, c.Checked)
		}
		known[c.Jurisdiction+"/"+c.Agency.Name] = c
	}
	for _, r := range law.Rules() {
		if r.Source == "" || r.Checked.IsZero() {
			t.Errorf("rules row %s (%s): the regulator block has no source or checked date", r.Code, r.Period())
		}
		for _, a := range agenciesFor(r.Code) {
			_, national := known["US/"+a.Name]
			if _, state := known[r.Code+"/"+a.Name]; !national && !state {
				t.Errorf("%s prints %s, which contacts.tsv does not hold", r.Code, a.Name)
			}
		}
	}
	lines := strings.Split(strings.TrimRight(contactsTSV, "\n"), "\n")
	blank := func(row string, field int) string {
		f := strings.Split(row, "\t")
		f[field] = ""
		return strings.Join(f, "\t")
	}
	for name, src := range map[string]string{
		"NoSource":  lines[0] + "\n" + blank(lines[1], 7),
		"NoChecked": lines[0] + "\n" + blank(lines[1], 8),
		"BadKind":   lines[0] + "\n" + strings.Replace(lines[1], "\tcra\t", "\tbureau\t", 1),
	} {
		if _, err := parseContacts(src); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: parsed, or the error names no line: %v", name, err)
		}
	}
}

// TestContacts_Issue12 holds the cards the issue 12 review corrected.
func TestContacts_Issue12(t *testing.T) {
	find := func(code, id string) Contact {
		for _, c := range Contacts() {
			if c.Jurisdiction == code && c.Agency.ID == id {
				return c
			}
		}
		t.Fatalf("no %s/%s", code, id)
		return Contact{}
	}
	// TransUnion: the address state regulators list (mass.gov, Arkansas
	// AG), not P.O. Box 160, Woodlyn, PA 19094; the conflict is noted.
	if c := find("US", "transunion"); !strings.Contains(c.Agency.PostalAddress, "P.O. Box 2000\nChester, PA 19016") ||
		!strings.Contains(c.Source, "mass.gov") || !strings.Contains(c.Note, "Woodlyn") {
		t.Errorf("TransUnion: %+v", c)
	}
	// Maryland AG: the Identity Theft Unit's own number, on the office's
	// current site.
	if c := find("US-MD", "ag"); c.Agency.Phone != "1-410-576-6491" || !strings.Contains(c.Agency.Name, "Identity Theft Unit") ||
		c.Agency.Web != "oag.maryland.gov" {
		t.Errorf("US-MD: %+v", c.Agency)
	}
	// Iowa AG: the number and ZIP the AG's pages give.
	if c := find("US-IA", "ag"); c.Agency.Phone != "1-888-777-4590" || !strings.Contains(c.Agency.PostalAddress, "50319-0106") {
		t.Errorf("US-IA: %+v", c.Agency)
	}
	// The notices print them.
	inc, c := contentIncident(), contentController()
	for code, want := range map[string]string{"US-MD": "410-576-6491", "US-IA": "888-777-4590", "US-TX": "Chester, PA 19016"} {
		a := resident(code, "en")
		n := NoticeFor(inc, c, a, law.Decide(inc, c, a))
		var all []string
		for _, ag := range n.Agencies {
			all = append(all, ag.Phone, ag.PostalAddress)
		}
		if !strings.Contains(strings.Join(all, "\n"), want) {
			t.Errorf("%s notice agencies lack %s: %v", code, want, all)
		}
	}
}
