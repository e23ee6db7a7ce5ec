// Package demodata writes realistic, reproducible demo files: an operator,
// three Member institutions, their courses, learners spread over every US
// state and territory and twenty other countries, and their enrollments.
//
// The files have the exact formats the importers take, and carry the
// imperfections real exports have (a few unusable emails, incomplete postal
// addresses, retired accounts, "US-TX" next to "TX"), so a demo exercises the
// same paths production data does. Output streams: a million accounts never
// sit in memory.
package demodata

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/breachnotice/breachnotice/incident"
)

// Controllers returns the demo operator and its three Members.
func Controllers() []*incident.Controller {
	return []*incident.Controller{
		{ID: "openlearn", Name: "OpenLearn Platform, Inc.", From: "security-notice@openlearn.example",
			Contact: incident.Contact{PostalAddress: "OpenLearn Platform, Inc.\n141 Portland Street\nCambridge, MA 02139\nUnited States",
				Phone: "+1 617 555 0100", Web: "https://openlearn.example/security-notice", Email: "privacy@openlearn.example",
				DPO: "Data Protection Officer, OpenLearn Europe B.V., Herengracht 1, 1015 BA Amsterdam, dpo@openlearn.example"},
			PolicyDays: 30},
		{ID: "northbridge", Name: "Northbridge University", Member: true, From: "privacy@northbridge.example",
			Contact: incident.Contact{PostalAddress: "Office of Privacy, Northbridge University\n77 College Avenue\nAustin, TX 78705\nUnited States",
				Phone: "+1 512 555 0142", Web: "https://northbridge.example/privacy", Email: "privacy@northbridge.example"},
			PolicyDays: 30},
		{ID: "lakeside", Name: "Lakeside Institute of Technology", Member: true, From: "infosec@lakeside.example",
			Contact: incident.Contact{PostalAddress: "Information Security Office, Lakeside Institute of Technology\n400 Shore Drive\nChicago, IL 60611\nUnited States",
				Phone: "+1 312 555 0199", Web: "https://lakeside.example/notice", Email: "infosec@lakeside.example"},
			PolicyDays: 21, TermsEConsent: true},
		{ID: "valdemar", Name: "Universidad Valdemar", Member: true, From: "proteccion.datos@valdemar.example",
			Contact: incident.Contact{PostalAddress: "Delegado de Protección de Datos, Universidad Valdemar\nCalle Mayor 12\n28013 Madrid\nEspaña",
				Phone: "+34 91 555 0123", Web: "https://valdemar.example/privacidad", Email: "dpd@valdemar.example",
				DPO: "Delegado de Protección de Datos, dpd@valdemar.example"},
			PolicyDays: 15},
	}
}

type country struct {
	code, locale string
	weight       int
	cities       []place
}

type place struct{ city, region, postal string }

// countries outside the US, weighted roughly like a MOOC's audience.
var countries = []country{
	{"IN", "en-IN", 8, []place{{"Bengaluru", "KA", "560001"}, {"Mumbai", "MH", "400001"}}},
	{"GB", "en-GB", 5, []place{{"London", "ENG", "SW1A 1AA"}, {"Edinburgh", "SCT", "EH1 1YZ"}}},
	{"CA", "en-CA", 4, []place{{"Toronto", "ON", "M5H 2N2"}, {"Montréal", "QC", "H2Y 1C6"}}},
	{"DE", "de-DE", 4, []place{{"Berlin", "BE", "10115"}, {"München", "BY", "80331"}}},
	{"FR", "fr-FR", 3, []place{{"Paris", "IDF", "75001"}, {"Lyon", "ARA", "69001"}}},
	{"ES", "es-ES", 4, []place{{"Madrid", "MD", "28013"}, {"Sevilla", "AN", "41001"}}},
	{"MX", "es-MX", 4, []place{{"Ciudad de México", "CMX", "06000"}, {"Guadalajara", "JAL", "44100"}}},
	{"BR", "pt-BR", 4, []place{{"São Paulo", "SP", "01001-000"}, {"Recife", "PE", "50010-000"}}},
	{"AU", "en-AU", 2, []place{{"Sydney", "NSW", "2000"}, {"Melbourne", "VIC", "3000"}}},
	{"NG", "en-NG", 2, []place{{"Lagos", "LA", "100001"}}},
	{"JP", "ja-JP", 2, []place{{"Tokyo", "13", "100-0001"}}},
	{"KR", "ko-KR", 1, []place{{"Seoul", "11", "04524"}}},
	{"IT", "it-IT", 2, []place{{"Roma", "RM", "00184"}}},
	{"NL", "nl-NL", 1, []place{{"Amsterdam", "NH", "1012 JS"}}},
	{"PL", "pl-PL", 1, []place{{"Kraków", "MA", "31-001"}}},
	{"IE", "en-IE", 1, []place{{"Dublin", "D", "D02 X285"}}},
	{"SG", "en-SG", 1, []place{{"Singapore", "", "018989"}}},
	{"ZA", "en-ZA", 1, []place{{"Cape Town", "WC", "8001"}}},
	{"NZ", "en-NZ", 1, []place{{"Wellington", "WGN", "6011"}}},
	{"CH", "de-CH", 1, []place{{"Zürich", "ZH", "8001"}}},
	{"CO", "es-CO", 2, []place{{"Bogotá", "DC", "110111"}}},
}

var (
	firstNames = []string{"James", "Mary", "José", "Zoë", "Aoife", "Siobhán", "Mohammed", "Priya", "Chloé", "Łukasz",
		"Jürgen", "Ngozi", "Hiroshi", "Min-jun", "Sofía", "João", "Anaïs", "Björn", "Olivia", "Liam", "Noah", "Emma",
		"Ava", "Lucas", "Mateo", "Camila", "Aarav", "Fatima", "Wei", "Chiara", "Dmitri", "Ingrid", "Kofi", "Amara"}
	lastNames = []string{"Smith", "García", "O'Brien", "Müller", "Nguyen", "Kowalski", "Dubois", "Rossi", "Silva",
		"Okafor", "Tanaka", "Kim", "Patel", "Johnson", "Williams", "Brown", "Hernández", "López", "Martínez",
		"van der Berg", "Ó Súilleabháin", "Fernández-Castillo", "Nakamura", "Andersson", "D'Angelo", "Zhang", "Mensah"}
	streets = []string{"Main Street", "Oak Avenue", "Maple Drive", "Calle del Sol", "Rue de la Paix", "Hauptstraße",
		"High Street", "Elm Street", "Avenida Paulista", "Sunset Boulevard", "Church Road", "Station Road"}
)

// usCity gives a plausible city and ZIP code per state or territory.
var usCity = map[string]place{
	"AL": {"Birmingham", "", "35203"}, "AK": {"Anchorage", "", "99501"}, "AZ": {"Phoenix", "", "85004"},
	"AR": {"Little Rock", "", "72201"}, "CA": {"Los Angeles", "", "90012"}, "CO": {"Denver", "", "80202"},
	"CT": {"Hartford", "", "06103"}, "DE": {"Wilmington", "", "19801"}, "FL": {"Miami", "", "33130"},
	"GA": {"Atlanta", "", "30303"}, "HI": {"Honolulu", "", "96813"}, "ID": {"Boise", "", "83702"},
	"IL": {"Chicago", "", "60601"}, "IN": {"Indianapolis", "", "46204"}, "IA": {"Des Moines", "", "50309"},
	"KS": {"Wichita", "", "67202"}, "KY": {"Louisville", "", "40202"}, "LA": {"New Orleans", "", "70112"},
	"ME": {"Portland", "", "04101"}, "MD": {"Baltimore", "", "21202"}, "MA": {"Boston", "", "02108"},
	"MI": {"Detroit", "", "48226"}, "MN": {"Minneapolis", "", "55401"}, "MS": {"Jackson", "", "39201"},
	"MO": {"St. Louis", "", "63101"}, "MT": {"Billings", "", "59101"}, "NE": {"Omaha", "", "68102"},
	"NV": {"Las Vegas", "", "89101"}, "NH": {"Manchester", "", "03101"}, "NJ": {"Newark", "", "07102"},
	"NM": {"Albuquerque", "", "87102"}, "NY": {"New York", "", "10007"}, "NC": {"Charlotte", "", "28202"},
	"ND": {"Fargo", "", "58102"}, "OH": {"Columbus", "", "43215"}, "OK": {"Oklahoma City", "", "73102"},
	"OR": {"Portland", "", "97204"}, "PA": {"Philadelphia", "", "19107"}, "RI": {"Providence", "", "02903"},
	"SC": {"Charleston", "", "29401"}, "SD": {"Sioux Falls", "", "57104"}, "TN": {"Nashville", "", "37219"},
	"TX": {"Austin", "", "78701"}, "UT": {"Salt Lake City", "", "84111"}, "VT": {"Burlington", "", "05401"},
	"VA": {"Richmond", "", "23219"}, "WA": {"Seattle", "", "98104"}, "WV": {"Charleston", "", "25301"},
	"WI": {"Milwaukee", "", "53202"}, "WY": {"Cheyenne", "", "82001"}, "DC": {"Washington", "", "20001"},
	"PR": {"San Juan", "", "00901"}, "GU": {"Hagåtña", "", "96910"}, "VI": {"Charlotte Amalie", "", "00802"},
	"AS": {"Pago Pago", "", "96799"}, "MP": {"Saipan", "", "96950"},
}

// usStates lists the US states and territories, most populous first.
var usStates = []string{"CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ", "MA",
	"TN", "IN", "MO", "MD", "WI", "CO", "MN", "SC", "AL", "LA", "KY", "OR", "OK", "CT", "UT", "IA", "NV", "AR", "MS",
	"KS", "NM", "NE", "ID", "WV", "HI", "NH", "ME", "MT", "RI", "DE", "SD", "ND", "AK", "DC", "VT", "WY", "PR", "GU",
	"VI", "AS", "MP"}

// Options configures the generator.
type Options struct {
	Accounts int
	Seed     uint64
}

// Files names the generated files inside a directory.
type Files struct {
	Courses, Accounts, Enrollments string
}

// Write generates the three CSV files into dir (created if needed, mode
// 0700), each written to a temporary name and renamed, and returns their
// paths. The files look like personal data and are treated as such: mode
// 0600.
func Write(ctx context.Context, dir string, opt Options) (Files, error) {
	if opt.Accounts < 1 {
		return Files{}, fmt.Errorf("demo data: --accounts must be at least 1")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("demo data: %w", err)
	}
	f := Files{
		Courses:     filepath.Join(dir, "courses.csv"),
		Accounts:    filepath.Join(dir, "accounts.csv"),
		Enrollments: filepath.Join(dir, "enrollments.csv"),
	}
	courses := courseList()
	if err := writeFile(f.Courses, func(w *csv.Writer) error {
		w.Write([]string{"course_id", "member_id", "title"})
		for _, c := range courses {
			w.Write([]string{c.ID, c.MemberID, c.Title})
		}
		return nil
	}); err != nil {
		return f, err
	}
	if err := writeFile(f.Accounts, func(w *csv.Writer) error {
		return WriteAccounts(ctx, w, opt)
	}); err != nil {
		return f, err
	}
	err := writeFile(f.Enrollments, func(w *csv.Writer) error {
		r := rand.New(rand.NewPCG(opt.Seed, 2))
		w.Write([]string{"account_id", "course_id", "email"})
		for i := 0; i < opt.Accounts; i++ {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			id := AccountID(i)
			n := 1 + r.IntN(3)
			first := r.IntN(len(courses))
			for k := 0; k < n; k++ {
				c := courses[(first+k*7)%len(courses)]
				email := ""
				if r.IntN(10) < 3 {
					email = fmt.Sprintf("learner%d+%s@%s.example", i, c.MemberID, c.MemberID)
				}
				w.Write([]string{id, c.ID, email})
			}
		}
		return nil
	})
	return f, err
}

func courseList() []incident.Course {
	titles := []string{"Introduction to Computer Science", "Data Science Foundations", "Financial Accounting",
		"Climate and Society", "Introducción a la Programación", "Machine Learning", "Public Health Essentials",
		"Statistics and Probability", "Constitutional Law", "Spanish for Beginners"}
	var out []incident.Course
	for _, m := range []string{"northbridge", "lakeside", "valdemar"} {
		for i, t := range titles {
			out = append(out, incident.Course{ID: fmt.Sprintf("%s-%02d", m, i+1), MemberID: m, Title: t})
		}
	}
	return out
}

// AccountID is the id of the i-th generated account.
func AccountID(i int) string { return "u" + strconv.Itoa(1000000+i) }

// WriteAccounts writes the header and opt.Accounts account rows to w.
func WriteAccounts(ctx context.Context, w *csv.Writer, opt Options) error {
	r := rand.New(rand.NewPCG(opt.Seed, 1))
	totalWeight := 0
	for _, c := range countries {
		totalWeight += c.weight
	}
	w.Write([]string{"id", "username", "name", "email", "locale", "country", "region", "postal_line1",
		"postal_line2", "city", "postal_code", "e_consent", "status"})
	row := make([]string, 13)
	for i := 0; i < opt.Accounts; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		row[0] = AccountID(i)
		row[1] = fmt.Sprintf("learner%d", i)
		row[2] = first + " " + last
		row[3] = fmt.Sprintf("learner%d@mail%d.example", i, i%7)
		var pl place
		switch {
		case i < len(usStates): // every state and territory at least once
			st := usStates[i]
			pl, row[4], row[5], row[6] = usCity[st], "en-US", "US", st
		case r.IntN(100) < 55:
			st := usStates[r.IntN(len(usStates))]
			pl, row[4], row[5], row[6] = usCity[st], "en-US", "US", st
			if st == "PR" || r.IntN(10) == 0 {
				row[4] = "es-US"
			}
			if r.IntN(5) == 0 {
				row[6] = "US-" + st // both spellings occur in real exports
			}
		default:
			n := r.IntN(totalWeight)
			var c country
			for _, c = range countries {
				if n < c.weight {
					break
				}
				n -= c.weight
			}
			pl = c.cities[r.IntN(len(c.cities))]
			row[4], row[5], row[6] = c.locale, c.code, pl.region
		}
		row[7] = fmt.Sprintf("%d %s", 1+r.IntN(9999), streets[r.IntN(len(streets))])
		row[8] = ""
		if r.IntN(8) == 0 {
			row[8] = fmt.Sprintf("Apt %d", 1+r.IntN(400))
		}
		row[9], row[10] = pl.city, pl.postal
		row[11] = strconv.FormatBool(r.IntN(10) < 4)
		row[12] = "active"
		switch k := r.IntN(1000); {
		case k < 5: // a typo'd address: kept, flagged unusable
			row[3] = fmt.Sprintf("learner%d@mail%d", i, i%7)
		case k < 15: // no email on file
			row[3] = ""
		case k < 45: // an incomplete postal address
			row[7], row[10] = "", ""
		case k < 55: // retired: no reachable contact data
			row[1], row[2], row[3], row[7], row[8], row[9], row[10] = "retired"+strconv.Itoa(i), "", "", "", "", "", ""
			row[12] = "retired"
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, fill func(w *csv.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; say so rather than rely on it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 256<<10)
	w := csv.NewWriter(bw)
	if err := fill(w); err != nil {
		tmp.Close()
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("demo data %s: %w", path, err)
	}
	return nil
}

// Loaded says what Load did.
type Loaded struct {
	// Controllers lists the demo controllers Load created (existing ones
	// are kept as they are).
	Controllers []*incident.Controller
	// Imports are the results of the courses, accounts and enrollments
	// imports, in that order.
	Imports []incident.ImportResult
}

// Load creates the demo controllers that do not exist yet and imports the
// demo files into st. report receives every rejection and warning.
func Load(ctx context.Context, st *incident.Store, f Files, report func(incident.Problem)) (Loaded, error) {
	var out Loaded
	for _, c := range Controllers() {
		if err := st.CreateController(ctx, c); err != nil {
			if errors.Is(err, incident.ErrConflict) {
				continue
			}
			return out, err
		}
		out.Controllers = append(out.Controllers, c)
	}
	for _, step := range []struct {
		path string
		imp  func(context.Context, io.Reader, incident.ImportOptions) (incident.ImportResult, error)
	}{{f.Courses, st.ImportCourses}, {f.Accounts, st.ImportAccounts}, {f.Enrollments, st.ImportEnrollments}} {
		in, err := os.Open(step.path)
		if err != nil {
			return out, fmt.Errorf("demo data: %w", err)
		}
		res, err := step.imp(ctx, in, incident.ImportOptions{File: step.path, Format: incident.FormatCSV, Report: report})
		in.Close()
		if err != nil {
			return out, err
		}
		out.Imports = append(out.Imports, res)
	}
	return out, nil
}
