package notify

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// Contact is one contact block a US notice may print (a nationwide credit
// bureau, the FTC, a state office), with where its details come from and
// when they were last checked: contacts.tsv, one row each.
type Contact struct {
	Agency templates.Agency
	// Jurisdiction is "US" for the national ones, else the state's code.
	Jurisdiction string
	Source       string
	Checked      incident.Date
	Note         string
}

//go:embed contacts.tsv
var contactsTSV string

var (
	contacts = mustContacts(contactsTSV)

	// usAgencies are the nationwide ones every US notice may print; the
	// profile decides which are printed.
	usAgencies = agenciesOf(contacts, "US")

	// agenciesByCode is every US jurisdiction with its own offices: the
	// nationwide ones, then the state's (for the jurisdictions whose
	// content requirements name the attorney general or, for New York,
	// state agencies, as a contact).
	agenciesByCode = func() map[string][]templates.Agency {
		m := map[string][]templates.Agency{}
		for _, c := range contacts {
			if c.Jurisdiction != "US" && m[c.Jurisdiction] == nil {
				all := make([]templates.Agency, 0, len(usAgencies)+2)
				m[c.Jurisdiction] = append(append(all, usAgencies...), agenciesOf(contacts, c.Jurisdiction)...)
			}
		}
		return m
	}()
)

// Contacts returns every contact block, in contacts.tsv's order.
func Contacts() []Contact { return append([]Contact(nil), contacts...) }

func agenciesOf(cs []Contact, jurisdiction string) []templates.Agency {
	var out []templates.Agency
	for _, c := range cs {
		if c.Jurisdiction == jurisdiction {
			out = append(out, c.Agency)
		}
	}
	return out
}

func mustContacts(src string) []Contact {
	cs, err := parseContacts(src)
	if err != nil {
		panic(err) // a malformed embedded table is a build defect
	}
	return cs
}

// contactKinds maps contacts.tsv's kind column to the templates' kinds.
var contactKinds = map[string]string{"cra": templates.AgencyCRA, "ftc": templates.AgencyFTC, "state": templates.AgencyState}

// parseContacts parses contacts.tsv: id, kind (cra, ftc, state),
// jurisdiction, name, postal_address ("\n" between lines), phone, web,
// source, checked (YYYY-MM-DD), note. A row without a source or a checked
// date is refused: every block a notice prints says where it comes from.
func parseContacts(src string) ([]Contact, error) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	const header = "id\tkind\tjurisdiction\tname\tpostal_address\tphone\tweb\tsource\tchecked\tnote"
	if len(lines) == 0 || lines[0] != header {
		return nil, fmt.Errorf("notify: contacts.tsv line 1: header is not %q", header)
	}
	var out []Contact
	seen := map[string]bool{}
	for n, line := range lines[1:] {
		f := strings.Split(line, "\t")
		fail := func(field, msg string) error {
			return fmt.Errorf("notify: contacts.tsv line %d field %s: %s", n+2, field, msg)
		}
		if len(f) != 10 {
			return nil, fail("*", fmt.Sprintf("%d fields, want 10", len(f)))
		}
		kind, ok := contactKinds[f[1]]
		if !ok {
			return nil, fail("kind", fmt.Sprintf("%q is not cra, ftc or state", f[1]))
		}
		c := Contact{Jurisdiction: f[2], Source: strings.TrimSpace(f[7]), Note: f[9], Agency: templates.Agency{
			ID: f[0], Kind: kind, Name: f[3], PostalAddress: strings.ReplaceAll(f[4], `\n`, "\n"), Phone: f[5], Web: f[6]}}
		switch {
		case c.Agency.ID == "" || c.Agency.Name == "":
			return nil, fail("id, name", "required")
		case c.Jurisdiction != "US" && !strings.HasPrefix(c.Jurisdiction, "US-"):
			return nil, fail("jurisdiction", fmt.Sprintf("%q is not US or US-XX", c.Jurisdiction))
		case c.Source == "":
			return nil, fail("source", "required: where the details come from")
		case seen[c.Jurisdiction+"/"+c.Agency.ID]:
			return nil, fail("id", "duplicate "+c.Agency.ID+" for "+c.Jurisdiction)
		}
		var err error
		if c.Checked, err = incident.ParseDate(f[8]); err != nil {
			return nil, fail("checked", "required, the date the details were last checked: "+err.Error())
		}
		seen[c.Jurisdiction+"/"+c.Agency.ID] = true
		out = append(out, c)
	}
	return out, nil
}
