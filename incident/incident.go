// Package incident holds breachnotice's domain nouns (controllers, accounts,
// courses, enrollments, incidents and their affected sets) and the SQLite store
// that keeps them.
//
// A Controller holds one copy of learner data: the operator's copy holds every
// account; a Member's copy holds the accounts enrolled in that Member's
// courses. An Incident is a breach of exactly one controller's copy. Its
// affected set is resolved inside that copy and stored one row per account,
// so every later stage (law, delivery, ledger) reads rows, never re-derives
// the scope.
//
// The package imports nothing else from the project.
package incident

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error kinds, checked with errors.Is and mapped to exit codes and HTTP
// statuses once, at the edge.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid")
	ErrConflict    = errors.New("conflict")
	ErrForbidden   = errors.New("forbidden")
	ErrUnavailable = errors.New("unavailable")
)

// Element is a kind of personal data an incident may expose.
type Element string

// The data elements an incident can name. The law engine decides, per
// jurisdiction, which combinations are notifiable.
const (
	ElemName           Element = "name"
	ElemEmail          Element = "email"
	ElemUsername       Element = "username"
	ElemPassword       Element = "password"
	ElemSecurityQA     Element = "security_qa"
	ElemPostalAddress  Element = "postal_address"
	ElemPhone          Element = "phone"
	ElemDOB            Element = "dob"
	ElemGovID          Element = "gov_id"
	ElemSSN            Element = "ssn"
	ElemDriversLicense Element = "drivers_license"
	ElemPassport       Element = "passport"
	// ElemTaxID is a taxpayer identification number (ITIN, TIN, EIN).
	ElemTaxID            Element = "tax_id"
	ElemFinancialAccount Element = "financial_account"
	ElemPaymentCard      Element = "payment_card"
	ElemBiometric        Element = "biometric"
	ElemHealth           Element = "health"
	ElemMedical          Element = "medical"
	// ElemHealthInsurance is a health insurance policy or subscriber number
	// or other health insurance information.
	ElemHealthInsurance Element = "health_insurance"
	ElemIPAddress       Element = "ip_address"
	ElemCourseActivity  Element = "course_activity"
)

// Elements lists every known data element in a fixed order.
var Elements = []Element{
	ElemName, ElemEmail, ElemUsername, ElemPassword, ElemSecurityQA,
	ElemPostalAddress, ElemPhone, ElemDOB, ElemGovID, ElemSSN,
	ElemDriversLicense, ElemPassport, ElemTaxID, ElemFinancialAccount, ElemPaymentCard,
	ElemBiometric, ElemHealth, ElemMedical, ElemHealthInsurance, ElemIPAddress, ElemCourseActivity,
}

// ParseElements parses a comma-separated element list, rejecting unknown
// names and returning the elements in canonical order without duplicates.
func ParseElements(s string) ([]Element, error) {
	seen := map[Element]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" {
			continue
		}
		e := Element(f)
		if !e.Valid() {
			if near := Nearest(e, Elements); near != "" {
				return nil, fmt.Errorf("%w: unknown data element %q (did you mean %q?)", ErrInvalid, f, near)
			}
			return nil, fmt.Errorf("%w: unknown data element %q (known: %s)", ErrInvalid, f, JoinElements(Elements))
		}
		seen[e] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no data elements given", ErrInvalid)
	}
	out := make([]Element, 0, len(seen))
	for _, e := range Elements {
		if seen[e] {
			out = append(out, e)
		}
	}
	return out, nil
}

// Nearest returns the name in known that name was most likely meant to be,
// for a "did you mean" hint: the closest within two edits (insertions,
// deletions or substitutions of a letter, and fewer edits than name has
// letters), else the shortest that name begins (two letters or more). It
// returns "" when none is that close. The command line uses it for flags
// and command names too, so the rule is the same everywhere.
func Nearest[S ~string](name S, known []S) S {
	n := []rune(strings.ToLower(string(name)))
	var best S
	bestD := 3
	for _, k := range known {
		if d := editDistance(n, []rune(strings.ToLower(string(k)))); d < bestD && d < len(n) {
			best, bestD = k, d
		}
	}
	if bestD <= 2 || len(n) < 2 {
		return best
	}
	for _, k := range known {
		if strings.HasPrefix(strings.ToLower(string(k)), string(n)) && (best == "" || len(k) < len(best)) {
			best = k
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b []rune) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Valid reports whether e is a known element.
func (e Element) Valid() bool {
	for _, k := range Elements {
		if k == e {
			return true
		}
	}
	return false
}

// JoinElements joins elements with commas.
func JoinElements(es []Element) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return strings.Join(s, ",")
}

// Contact is the contact block a controller's notices print.
type Contact struct {
	PostalAddress string `json:"postal_address,omitempty"` // lines separated by "\n"
	Phone         string `json:"phone,omitempty"`
	Web           string `json:"web,omitempty"`
	Email         string `json:"email,omitempty"` // where recipients send questions
	DPO           string `json:"dpo,omitempty"`   // GDPR data protection officer contact
}

// Controller holds one copy of learner data: the operator or a Member.
type Controller struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Member bool   `json:"member"`
	// From is the sender address of the controller's notices.
	From    string  `json:"from"`
	Contact Contact `json:"contact"`
	// PolicyDays is the controller's own target, in days from discovery, where
	// the law says only "without unreasonable delay".
	PolicyDays int `json:"policy_days"`
	// TermsEConsent records that the controller's terms of service count as
	// consent to electronic notice (E-SIGN), for every account of its copy.
	TermsEConsent bool      `json:"terms_e_consent"`
	CreatedAt     time.Time `json:"created_at"`
}

// DefaultPolicyDays is the policy target where a controller sets none.
const DefaultPolicyDays = 30

// Kind names the kind of copy the controller holds.
func (c *Controller) Kind() string {
	if c.Member {
		return "member"
	}
	return "operator"
}

// AccountStatus is active or retired.
type AccountStatus string

// Account statuses. A retired account has no reachable contact data.
const (
	AccountActive  AccountStatus = "active"
	AccountRetired AccountStatus = "retired"
)

// Account is a learner.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// EmailUsable is false when the address could not be parsed; the account is
	// kept because the person may still be owed a letter.
	EmailUsable bool   `json:"email_usable"`
	Locale      string `json:"locale,omitempty"`
	// Country is ISO 3166-1 alpha-2; Region the subdivision code without the
	// country prefix ("TX", not "US-TX").
	Country     string        `json:"country,omitempty"`
	Region      string        `json:"region,omitempty"`
	PostalLine1 string        `json:"postal_line1,omitempty"`
	PostalLine2 string        `json:"postal_line2,omitempty"`
	City        string        `json:"city,omitempty"`
	PostalCode  string        `json:"postal_code,omitempty"`
	EConsent    bool          `json:"e_consent"`
	Status      AccountStatus `json:"status"`
}

// PostalComplete reports whether the account's postal address is complete
// enough to print a letter: line 1, city, postal code and country each hold
// more than white space (as strings.TrimSpace sees it: tabs and no-break
// spaces are white space). It is the one definition: PostalCompleteSQL is
// the same test for SQL, and a test holds the two together.
func (a *Account) PostalComplete() bool {
	return strings.TrimSpace(a.PostalLine1) != "" && strings.TrimSpace(a.City) != "" &&
		strings.TrimSpace(a.PostalCode) != "" && strings.TrimSpace(a.Country) != ""
}

// PostalCompleteSQL is PostalComplete as an SQL expression over the
// accounts columns of t, a table name or alias. SQLite's trim(X, Y) trims
// exactly the runes of Y, so Y is every rune unicode.IsSpace reports
// (PostgreSQL spells it btrim).
func PostalCompleteSQL(t string) string {
	return postalCompleteSQL(func(col string) string { return t + "." + col })
}

// postalCompleteSQL is PostalCompleteSQL with each accounts column written
// by col, for an expression whose columns come from different tables (an
// upsert reads some from the row it writes, the others from the stored
// row).
func postalCompleteSQL(col func(name string) string) string {
	const space = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
	has := func(name string) string { return "trim(" + col(name) + ", '" + space + "') <> ''" }
	return "(" + has("postal_line1") + " AND " + has("city") + " AND " + has("postal_code") + " AND " + has("country") + ")"
}

// Jurisdiction is the residence code used by the law engine: "US-TX" for a
// US subdivision, otherwise the country code ("DE", "GB"); "" when unknown.
func (a *Account) Jurisdiction() string {
	if a.Country == "" {
		return ""
	}
	if a.Region != "" && (a.Country == "US") {
		return a.Country + "-" + a.Region
	}
	return a.Country
}

// Course belongs to a Member.
type Course struct {
	ID       string `json:"id"`
	MemberID string `json:"member_id"`
	Title    string `json:"title"`
}

// Status is where an incident is in its life.
type Status string

// Incident statuses, in the only order they move.
const (
	StatusOpen      Status = "open"
	StatusScoped    Status = "scoped"
	StatusPlanned   Status = "planned"
	StatusNotifying Status = "notifying"
	StatusClosed    Status = "closed"
)

var statusOrder = map[Status]int{StatusOpen: 0, StatusScoped: 1, StatusPlanned: 2, StatusNotifying: 3, StatusClosed: 4}

// CanMove reports whether an incident may move from s to next. Status only
// moves forward one step at a time, except that re-scoping a scoped or
// planned incident brings it back to scoped (its plan is then stale),
// re-planning a planned incident keeps it planned, a send started while
// another is running keeps it notifying, and any incident not yet closed may
// close (whether work is outstanding is the closer's check: see
// Store.CloseIncident).
func (s Status) CanMove(next Status) bool {
	from, ok1 := statusOrder[s]
	to, ok2 := statusOrder[next]
	if !ok1 || !ok2 {
		return false
	}
	switch {
	case to == from+1:
		return true
	case next == StatusScoped && (s == StatusScoped || s == StatusPlanned):
		return true
	case next == StatusPlanned && s == StatusPlanned:
		return true
	case next == StatusNotifying && s == StatusNotifying:
		// A second send run joins the one in progress.
		return true
	case next == StatusClosed && s != StatusClosed:
		return true
	}
	return false
}

// Hold is a law-enforcement hold: it delays sending, never the bookkeeping
// of deadlines.
type Hold struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// DateLayout is how dates are written on the command line and in output.
const DateLayout = "2006-01-02"

// Date is a calendar date (no time of day) that marshals as YYYY-MM-DD.
type Date struct{ time.Time }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, s)
	}
	return Date{t}, nil
}

// String formats the date as YYYY-MM-DD ("" for the zero date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// AddDays returns the date n calendar days later.
func (d Date) AddDays(n int) Date { return Date{d.AddDate(0, 0, n)} }

// MarshalJSON writes "YYYY-MM-DD", or null for the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Incident is a breach of one controller's copy.
type Incident struct {
	ID           int64  `json:"id"`
	ControllerID string `json:"controller"`
	Title        string `json:"title"`
	Description  string `json:"description,omitempty"`
	Discovered   Date   `json:"discovered"`
	// DiscoveredAt is the discovery's time of day with its zone, where it
	// was given; zero for a date alone (see DiscoveryInstant).
	DiscoveredAt time.Time `json:"discovered_at,omitzero"`
	// Cause is how the breach came about; CauseUnknown until known.
	Cause        Cause     `json:"cause"`
	OccurredFrom Date      `json:"occurred_from"`
	OccurredTo   Date      `json:"occurred_to"`
	Elements     []Element `json:"elements"`
	// Encrypted means the exposed data was encrypted and its key was not taken.
	Encrypted bool   `json:"encrypted"`
	Status    Status `json:"status"`
	Hold      *Hold  `json:"hold"`
	Scope     string `json:"scope,omitempty"` // the scope rule, as given
	Affected  int64  `json:"affected"`        // size of the affected set
	// Protection is the identity-theft-protection offer arranged for the
	// people the law owes one; nil until one is set.
	Protection *Protection `json:"protection,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// Protection is the identity-theft-protection (credit monitoring) offer an
// incident's notices print where the law owes one: who provides it and how
// to enrol, and for how long when longer than the law's minimum. Which
// people are owed it, and the minimum months, are the law's (notify/law
// ProtectionFor). Per-person enrolment codes are not kept here.
type Protection struct {
	Provider string `json:"provider,omitempty"`
	URL      string `json:"url,omitempty"` // enrolment page, http(s)
	Phone    string `json:"phone,omitempty"`
	// Months the offer runs for; 0 means the months each jurisdiction's
	// law owes. The caller checks it against the law (notify
	// CheckProtectionMonths): the store only bounds it.
	Months int `json:"months,omitempty"`
}

// IsZero reports whether nothing is set.
func (p Protection) IsZero() bool { return p == Protection{} }

// Has reports whether the incident exposed element e.
func (inc *Incident) Has(e Element) bool {
	for _, x := range inc.Elements {
		if x == e {
			return true
		}
	}
	return false
}

// Affected is one account of an incident's affected set, with the address
// its email notice goes to (for a Member's copy, the address tied to the
// enrollment when there is one).
type Affected struct {
	Account
	NoticeEmail       string `json:"notice_email,omitempty"`
	NoticeEmailUsable bool   `json:"notice_email_usable"`
}
