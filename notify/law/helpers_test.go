package law

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// Element shorthands for tests.
const (
	name      = incident.ElemName
	email     = incident.ElemEmail
	username  = incident.ElemUsername
	password  = incident.ElemPassword
	secQA     = incident.ElemSecurityQA
	phone     = incident.ElemPhone
	dob       = incident.ElemDOB
	govID     = incident.ElemGovID
	ssn       = incident.ElemSSN
	dl        = incident.ElemDriversLicense
	passport  = incident.ElemPassport
	finAcct   = incident.ElemFinancialAccount
	card      = incident.ElemPaymentCard
	bio       = incident.ElemBiometric
	health    = incident.ElemHealth
	medical   = incident.ElemMedical
	taxID     = incident.ElemTaxID
	healthIns = incident.ElemHealthInsurance
	ip        = incident.ElemIPAddress
	activity  = incident.ElemCourseActivity
)

// testDay is the discovery date of breach(): Monday 2026-03-02.
var testDay = mustDateQuiet("2026-03-02")

func mustDate(t testing.TB, s string) incident.Date {
	t.Helper()
	d, err := incident.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// breach is an unencrypted incident discovered on Monday 2026-03-02.
func breach(t testing.TB, els ...incident.Element) *incident.Incident {
	return &incident.Incident{ID: 1, Discovered: mustDate(t, "2026-03-02"), Elements: els}
}

func encrypted(inc *incident.Incident) *incident.Incident {
	c := *inc
	c.Encrypted = true
	return &c
}

// resident is an active learner with a usable email (distinct from the
// login address), a complete postal address and no e-consent.
func resident(country, region string, opts ...func(*incident.Affected)) *incident.Affected {
	a := &incident.Affected{
		Account: incident.Account{
			ID: "acct-1", Name: "Ada Lovelace", Email: "ada@example.org", EmailUsable: true,
			Country: country, Region: region, PostalLine1: "1 Main St", City: "Town", PostalCode: "12345",
			Status: incident.AccountActive,
		},
		NoticeEmail: "ada.notice@example.org", NoticeEmailUsable: true,
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func consent(a *incident.Affected)  { a.EConsent = true }
func noPostal(a *incident.Affected) { a.PostalLine1 = "" }
func noEmail(a *incident.Affected)  { a.NoticeEmail, a.NoticeEmailUsable = "", false }
func retired(a *incident.Affected)  { a.Status = incident.AccountRetired }
func loginAddress(a *incident.Affected) {
	a.NoticeEmail = a.Email // the notice would go to the leaked login address
}

var operator = &incident.Controller{ID: "op", Name: "Operator", PolicyDays: 20}

var termsConsent = &incident.Controller{ID: "op", Name: "Operator", PolicyDays: 20, TermsEConsent: true}

func hasRule(d Decision, rule string) bool {
	return slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Rule == rule })
}

func ruleIDs(rs []Reason) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.Rule
	}
	return strings.Join(ids, " ")
}

func decide(inc *incident.Incident, c *incident.Controller, a *incident.Affected) Decision {
	return NewPlanner(inc, c).Decide(a)
}

// residentOf makes a resident of a table code.
func residentOf(code string, opts ...func(*incident.Affected)) *incident.Affected {
	if r, ok := strings.CutPrefix(code, "US-"); ok {
		return resident("US", r, opts...)
	}
	return resident(code, "", opts...)
}
