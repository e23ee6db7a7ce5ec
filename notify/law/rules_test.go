package law

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// usCodes lists the 54 US jurisdictions the table must cover.
var usCodes = strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS
	MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI`)

var eeaCodes = strings.Fields(`AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO`)

var otherCodes = strings.Fields(`GB CA AU BR JP KR SG IN NZ CH CN ZA`)

func allCodes() []string {
	var codes []string
	for _, c := range usCodes {
		codes = append(codes, "US-"+c)
	}
	return append(append(codes, eeaCodes...), otherCodes...)
}

func TestRulesParse(t *testing.T) {
	rules, err := parseRules(rulesTSV)
	if err != nil {
		t.Fatalf("embedded rules.tsv: %v", err)
	}
	want := allCodes()
	// Two jurisdictions have a row per period: US-CA before SB 446, and
	// India's CERT-In row before the DPDP breach rule.
	if len(rules) != len(want)+2 {
		t.Errorf("got %d rules, want %d", len(rules), len(want)+2)
	}
	if n := len(RulesOn(testDay)); n != len(want) {
		t.Errorf("%d rules in force on %s, want one per code (%d)", n, testDay, len(want))
	}
	for _, code := range want {
		if _, ok := LookupOn(code, testDay); !ok {
			t.Errorf("no rule for %s", code)
		}
	}
	if _, ok := LookupOn("EU", testDay); ok {
		t.Error(`the "EU" template row must be expanded, not kept`)
	}
	for _, r := range rules {
		if r.Citation == "" || r.Source == "" || r.Name == "" || r.Checked.IsZero() {
			t.Errorf("%s: citation, source, name and checked are required", r.Code)
		}
		if r.Regulator == "" && r.RegulatorMinCount > 0 {
			t.Errorf("%s: a threshold without a regulator", r.Code)
		}
	}
}

func TestRulesParse_Rejects(t *testing.T) {
	lines := strings.Split(strings.TrimRight(rulesTSV, "\n"), "\n")
	header, row := lines[0], lines[1]
	replaceField := func(row, column, value string) string {
		f := strings.Split(row, "\t")
		f[slices.Index(strings.Split(header, "\t"), column)] = value
		return strings.Join(f, "\t")
	}
	cases := map[string]string{
		"ErrNoRows":        header,
		"ErrMissingColumn": strings.Replace(header, "email_route", "email_routes", 1) + "\n" + row,
		"ErrFieldCount":    header + "\n" + row + "\textra",
		"ErrEnum":          header + "\n" + replaceField(row, "online_credentials_trigger", "maybe"),
		"ErrCount":         header + "\n" + replaceField(row, "deadline_days", "45 days"),
		"ErrProfile":       header + "\n" + replaceField(row, "content_profile", "us-zz"),
		"ErrDuplicate":     header + "\n" + row + "\n" + row,
		"ErrOverlap": header + "\n" + replaceField(replaceField(row, "in_force_to", "2026-06-30"), "in_force_from", "2026-01-01") +
			"\n" + replaceField(row, "in_force_from", "2026-06-30"),
		"ErrOpenEnded":      header + "\n" + row + "\n" + replaceField(row, "in_force_from", "2027-01-01"),
		"ErrDate":           header + "\n" + replaceField(row, "in_force_from", "1 May 2027"),
		"ErrNoChecked":      header + "\n" + replaceField(row, "checked", ""),
		"ErrCause":          header + "\n" + replaceField(row, "cause_notice", "hacking"),
		"ErrHours":          header + "\n" + replaceField(replaceField(row, "deadline_days", "3"), "deadline_hours", "48"),
		"ErrToBeforeFrom":   header + "\n" + replaceField(replaceField(row, "in_force_to", "2026-01-01"), "in_force_from", "2026-06-30"),
		"ErrRegulatorClock": header + "\n" + replaceField(row, "regulator_clock", ""),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parseRules(src); err == nil {
				t.Errorf("parsed a malformed table")
			}
		})
	}
}

func TestRules_ContentProfiles(t *testing.T) {
	used := map[string]bool{}
	for _, r := range Rules() {
		used[r.ContentProfile] = true
		special := r.ContentRequirements != "" && !strings.HasPrefix(r.ContentRequirements, "none specified")
		if special == (r.ContentProfile == ProfileGeneric) {
			t.Errorf("%s: content %q has profile %q", r.Code, r.ContentRequirements, r.ContentProfile)
		}
	}
	for _, p := range ContentProfiles() {
		if !used[p] {
			t.Errorf("profile %q is used by no rule", p)
		}
	}
}

func TestRules_EEAAuthorities(t *testing.T) {
	seen := map[string]bool{}
	for _, code := range eeaCodes {
		r, _ := LookupOn(code, testDay)
		if r.DerivedFrom != "EU" || r.Regime != "gdpr" || r.ContentProfile != ProfileGDPR {
			t.Errorf("%s: not a GDPR row: %+v", code, r)
		}
		if !strings.Contains(r.Regulator, "for residents of") || seen[r.Regulator] {
			t.Errorf("%s: regulator %q must name the state's own authority", code, r.Regulator)
		}
		seen[r.Regulator] = true
	}
	if r, _ := LookupOn("FR", testDay); !strings.Contains(r.Regulator, "CNIL") {
		t.Errorf("FR regulator = %q", r.Regulator)
	}
}

// TestLowConfidence lists the rows counsel must confirm first.
func TestLowConfidence(t *testing.T) {
	var got []string
	for _, r := range LowConfidence() {
		got = append(got, r.Code)
		t.Logf("low confidence: %s %s (%s): %s", r.Code, r.Name, r.Citation, r.Notes)
	}
	if want := []string{"CN", "US-GU", "US-VI"}; !slices.Equal(got, want) {
		t.Errorf("LowConfidence() = %v, want %v", got, want)
	}
}

// Independent expectations, typed from breach-law.md's "General patterns"
// and the rows, not read from the parsed table.
var (
	// Fixed outer limits: 30 days (CA, CO, FL, ME, NY, WA), 45 days (AL, AZ,
	// IN, MD, NM, OH, OR, RI, TN, VT, WI), 60 days (CT, DE, LA, SD, TX);
	// KR 72 hours; BR 3 business days.
	// A row not in force on testDay is keyed "CODE@period".
	wantDeadlineDays = map[string]int{
		"US-CA": 30, "US-CO": 30, "US-FL": 30, "US-ME": 30, "US-NY": 30, "US-WA": 30,
		"US-AL": 45, "US-AZ": 45, "US-IN": 45, "US-MD": 45, "US-NM": 45, "US-OH": 45,
		"US-OR": 45, "US-RI": 45, "US-TN": 45, "US-VT": 45, "US-WI": 45,
		"US-CT": 60, "US-DE": 60, "US-LA": 60, "US-SD": 60, "US-TX": 60,
		"KR": 3, "BR": 3,
	}
	// Regulator thresholds: any resident = 1; "more than N" stored as N+1.
	wantRegulatorMin = map[string]int{
		"US-CT": 1, "US-IN": 1, "US-LA": 1, "US-MA": 1, "US-MD": 1, "US-ME": 1, "US-MT": 1,
		"US-NE": 1, "US-NH": 1, "US-NJ": 1, "US-NY": 1, "US-NC": 1, "US-VA": 1, "US-VT": 1, "US-PR": 1,
		"US-ND": 251, "US-OR": 251, "US-SD": 251, "US-TX": 250,
		"US-CA": 501, "US-CO": 500, "US-DE": 501, "US-FL": 500, "US-IL": 501, "US-IA": 501,
		"US-OK": 500, "US-PA": 501, "US-RI": 501, "US-UT": 500, "US-WA": 501,
		"US-AL": 1001, "US-AZ": 1001, "US-AR": 1001, "US-HI": 1001, "US-MO": 1001, "US-NM": 1001, "US-SC": 1001,
		"US-DC": 50,
		"GB":    1, "CA": 1, "AU": 1, "BR": 1, "JP": 1001, "KR": 1000, "SG": 500, "IN": 1, "NZ": 1, "CH": 1, "CN": 1, "ZA": 1,
		"US-CA@until 2025-12-31": 501, "IN@from 2027-05-13": 1,
	}
	// CRA notice: usually more than 1,000; exceptions per breach-law.md.
	wantCRAMin = map[string]int{
		"US-MN": 501, "US-PA": 500, "US-RI": 501, "US-NY": 5001, "US-GA": 10001, "US-TX": 10001,
		"US-MD": 1000, "US-UT": 1000, "US-SD": 1,
	}
	// 815 ILCS 530/5 lists no passport number (issue 12 review): not IL.
	wantPassport  = codeSet("AL AZ CA CO CT DE DC FL IA LA MD NC OK OR SC SD TX VT VA WA WY PR")
	wantBiometric = codeSet("AZ AR CA CO CT DE DC IL IA LA MD NE NM NY NC OK OR SD VT WA WI WY")
	wantHealth    = codeSet("AL AZ AR CA CO CT DE DC FL IL MD MO MT NV NY ND OR RI SD TX VT WA WY PR")
	wantNameDOB   = codeSet("ND WA")
	// Credentials alone (email + password, no name): the standalone states,
	// DC and MD (email-account credentials), GA and ME (no name needed).
	wantCredsAlone = codeSet("AZ CA CO CT FL IL NE NY OR SD VT WA NJ DC MD GA ME")
	// Credentials with a name (username + password + name) add the
	// with-name states; RI needs an email address, DC and MD an email account.
	wantCredsWithName = codeSet("AZ CA CO CT FL IL NE NY OR SD VT WA NJ GA ME AL DE NV PA WY PR")
	// Health insurance information with a name: the health states, and
	// PA (Act 33 of 2024) where health and medical do not count.
	wantHealthInsurance = codeSet("AL AZ AR CA CO CT DE DC FL IL MD MO MT NV NY ND OR RI SD TX VT WA WY PR PA")
	riskAnyCodes        = []string{"KR", "IN@from 2027-05-13", "ZA", "CN"}
	encryptionHarbor    = []string{"GB", "JP", "SG"} // plus every US and EEA row
)

func codeSet(states string) map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(states) {
		m["US-"+s] = true
	}
	return m
}

// TestEveryRule exercises every row: its triggers, its deadline and its
// thresholds, against the parsed row and the independent expectations.
func TestEveryRule(t *testing.T) {
	for _, r := range Rules() {
		// Each row is tested on a day it is in force: testDay, else its
		// first (or last) day.
		disc, key := testDay, r.Code
		if !r.InForce(testDay) {
			disc, key = r.InForceFrom, r.Code+"@"+r.Period()
			if disc.IsZero() {
				disc = r.InForceTo
			}
		}
		breach := func(t *testing.T, els ...incident.Element) *incident.Incident {
			return &incident.Incident{ID: 1, Discovered: disc, Elements: els, Cause: incident.CauseAccidental}
		}
		t.Run(key, func(t *testing.T) {
			us := strings.HasPrefix(r.Code, "US-")
			risk := !us && r.RiskModel != riskNone
			riskAny := slices.Contains(riskAnyCodes, key)
			notified := func(els ...incident.Element) bool {
				return decide(breach(t, els...), operator, residentOf(r.Code)).Notify
			}
			check := func(what string, got, want bool) {
				t.Helper()
				if got != want {
					t.Errorf("%s: notify = %v, want %v", what, got, want)
				}
			}
			sure := us || risk // every list and every risk regime covers these
			check("name+ssn", notified(name, ssn), sure)
			check("name+drivers_license", notified(name, dl), sure)
			check("name+gov_id", notified(name, govID), sure)
			check("name+tax_id", notified(name, taxID), sure)
			check("name+financial_account", notified(name, finAcct), sure)
			check("name+payment_card", notified(name, card), sure)
			check("name+health_insurance", notified(name, healthIns), risk || wantHealthInsurance[r.Code])
			check("name+passport", notified(name, passport), risk || wantPassport[r.Code])
			check("name+biometric", notified(name, bio), risk || wantBiometric[r.Code])
			check("name+health", notified(name, health), risk || wantHealth[r.Code])
			check("name+medical", notified(name, medical), risk || wantHealth[r.Code])
			check("name+dob", notified(name, dob), risk || wantNameDOB[r.Code])
			check("email+password", notified(email, password), risk || wantCredsAlone[r.Code])
			check("name+username+password", notified(name, username, password), risk || wantCredsWithName[r.Code])
			check("name+email+security_qa", notified(name, email, secQA), risk || wantCredsWithName[r.Code] || r.Code == "US-RI" || r.Code == "US-DC" || r.Code == "US-MD")
			check("email+ip_address+course_activity", notified(email, ip, activity), riskAny)
			check("name+postal_address+phone", notified(name, incident.ElemPostalAddress, phone), riskAny)

			harbor := (us || r.DerivedFrom == "EU" || slices.Contains(encryptionHarbor, r.Code))
			inc := encrypted(breach(t, name, ssn, password))
			if got := decide(inc, operator, residentOf(r.Code)).Notify; got == (harbor || !sure) {
				t.Errorf("encrypted name+ssn+password: notify = %v, want %v (safe harbour %s)", got, !harbor, r.EncryptionSafeHarbor)
			}

			// Deadline: statutory days where the law fixes them, else policy.
			d := decide(breach(t, name, ssn), operator, residentOf(r.Code))
			days := wantDeadlineDays[key]
			if r.DeadlineDays != days {
				t.Errorf("table deadline_days = %d, want %d", r.DeadlineDays, days)
			}
			want, kind := disc.AddDays(operator.PolicyDays), DeadlinePolicy
			if days > 0 {
				want, kind = addDays(disc, days, r.Code == "BR"), DeadlineStatutory
			}
			if !sure {
				want, kind = incident.Date{}, ""
			}
			if !d.Deadline.Equal(want.Time) || d.DeadlineKind != kind {
				t.Errorf("deadline = %s %s, want %s %s", d.Deadline, d.DeadlineKind, want, kind)
			}
			if d.ContentProfile != r.ContentProfile || d.Jurisdiction != r.Code || d.Review {
				t.Errorf("decision %+v does not match the row", d)
			}

			// Regulator threshold: count >= least.
			least := r.RegulatorMinCount
			if w, ok := wantRegulatorMin[key]; ok && least != w {
				t.Errorf("regulator_min_count = %d, want %d", least, w)
			} else if !ok && us && least != 0 {
				t.Errorf("regulator_min_count = %d, want none", least)
			}
			// Name and email, accidentally leaked: no element or cause makes
			// the report owed at any count (KR), so the count decides.
			inc = breach(t, name, email)
			if least > 0 {
				owed := func(n int) int { return n }
				if r.RegulatorCountBasis == basisPeopleOrOwed {
					// Reportable at any count once someone is at risk (JP, KR, SG).
					owed = func(int) int { return 0 }
					if !Summarize(inc, operator, r.Code, Tally{People: 1, Owed: 1}).Regulator.Required {
						t.Error("regulator not required for one person at risk")
					}
				}
				below := Summarize(inc, operator, r.Code, Tally{People: least - 1, Owed: owed(least - 1)})
				at := Summarize(inc, operator, r.Code, Tally{People: least, Owed: owed(least)})
				if below.Regulator.Required || !at.Regulator.Required {
					t.Errorf("regulator required at %d = %v, at %d = %v", least-1, below.Regulator.Required, least, at.Regulator.Required)
				}
				if at.Regulator.Due.Before(disc.Time) {
					t.Errorf("regulator due %s before discovery", at.Regulator.Due)
				}
			} else if Summarize(inc, operator, r.Code, Tally{People: 1 << 20, Owed: 1 << 20}).Regulator.Required {
				t.Error("regulator notice required without a threshold")
			}

			// CRA threshold.
			cra := r.CRAMinCount
			if w, ok := wantCRAMin[key]; ok && cra != w || !ok && cra != 0 && cra != 1001 {
				t.Errorf("cra_min_count = %d", cra)
			}
			if cra > 0 {
				below := Summarize(inc, operator, r.Code, Tally{People: cra - 1, Owed: cra - 1})
				at := Summarize(inc, operator, r.Code, Tally{People: cra, Owed: cra})
				if below.CRA.Required || !at.CRA.Required {
					t.Errorf("CRA required at %d = %v, at %d = %v", cra-1, below.CRA.Required, cra, at.CRA.Required)
				}
			}

			// Substitute notice by count: count > threshold.
			if n := r.SubstituteCount; n > 0 {
				at := Summarize(inc, operator, r.Code, Tally{People: n, Owed: n, Email: n})
				above := Summarize(inc, operator, r.Code, Tally{People: n + 1, Owed: n + 1, Email: n + 1})
				if at.Substitute.Eligible || !above.Substitute.Eligible {
					t.Errorf("substitute eligible at %d = %v, at %d = %v", n, at.Substitute.Eligible, n+1, above.Substitute.Eligible)
				}
				if above.Substitute.MinPostingDays != r.SubstitutePostingDays {
					t.Errorf("posting days = %d", above.Substitute.MinPostingDays)
				}
			}
			// Unreachable people make substitute notice available wherever
			// the table records a route.
			un := Summarize(inc, operator, r.Code, Tally{People: 1, Owed: 1, Unreachable: 1})
			if un.Substitute.Eligible != (r.SubstituteConsistsOf != "") {
				t.Errorf("substitute for an unreachable person: eligible = %v", un.Substitute.Eligible)
			}
		})
	}
}
