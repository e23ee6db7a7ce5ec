package law

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
)

//go:embed rules.tsv
var rulesTSV string

// Rule is one jurisdiction's breach-notification law, as the rules table
// states it. Its fields are plain values: a copy is independent of the table.
type Rule struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Citation string `json:"citation"`
	// Regime names the law: "us-state", "gdpr", "uk-gdpr", "pipeda", ...
	Regime string `json:"regime"`
	// DerivedFrom is "EU" for the member-state rows expanded from the GDPR row.
	DerivedFrom string `json:"derived_from,omitempty"`

	// InForceFrom is the first day the row applies (zero: its start is not
	// recorded, so it applies to any earlier date); InForceTo the last
	// (zero: no end known). A jurisdiction may have several rows, one per
	// period; the engine applies the row in force on the discovery date.
	InForceFrom incident.Date `json:"in_force_from"`
	InForceTo   incident.Date `json:"in_force_to"`
	// Review, when set, says why counsel must look at this row first even
	// though the engine plans a duty from it.
	Review string `json:"review,omitempty"`
	// Checked is the date the row was last checked against its sources.
	Checked incident.Date `json:"checked"`
	// ComplaintAuthority is where a resident may lodge a complaint, where
	// the row names one (the EEA rows: GDPR Art. 77).
	ComplaintAuthority string `json:"complaint_authority,omitempty"`

	// Triggers. Values are "yes", "no", "unknown", or "risk" where notice
	// turns on risk rather than on a list of elements.
	CredentialsTrigger string `json:"credentials_trigger"` // yes, partial, no
	CredentialsNote    string `json:"credentials_note,omitempty"`
	// CredentialsScope is standalone, with_name, email_account,
	// email_account_with_name, none, or risk.
	CredentialsScope string `json:"credentials_scope"`
	// CredentialsNotice is "", electronic (a credential-only breach may be
	// noticed electronically) or electronic_not_compromised (and never to
	// the compromised email account).
	CredentialsNotice      string `json:"credentials_notice,omitempty"`
	CredentialsSpecialRule string `json:"credentials_special_rule,omitempty"`
	NameDOBTrigger         string `json:"name_dob_trigger"`
	BiometricTrigger       string `json:"biometric_trigger"`
	GovIDTrigger           string `json:"gov_id_trigger"`
	PassportTrigger        string `json:"passport_trigger"`
	HealthTrigger          string `json:"health_trigger"`
	// HealthInsuranceTrigger: health insurance information linked with a
	// name (yes, no; risk for the risk-based rows).
	HealthInsuranceTrigger string `json:"health_insurance_trigger"`
	// NameEquivalents lists the elements that stand in for a name
	// (comma-separated), or "*" where no name is needed at all.
	NameEquivalents string `json:"name_equivalents,omitempty"`
	OtherTriggers   string `json:"other_triggers,omitempty"`

	EncryptionSafeHarbor   string `json:"encryption_safe_harbor"` // yes, no, partial
	KeyCompromiseException string `json:"key_compromise_exception,omitempty"`
	RiskOfHarmException    bool   `json:"risk_of_harm_exception"`
	RiskOfHarmStandard     string `json:"risk_of_harm_standard,omitempty"`
	// RiskModel is elements (US lists), high_risk, any, or none (no
	// individual-notice duty: the row owes a regulator report only).
	RiskModel string `json:"risk_model"`
	// CauseNotice lists the causes that make any exposure notifiable to
	// individuals (JP: a leak with wrongful purpose).
	CauseNotice []incident.Cause `json:"cause_notice,omitempty"`

	// DeadlineDays is the individual-notice outer limit; 0 = none fixed.
	DeadlineDays int `json:"deadline_days,omitempty"`
	// DeadlineHours, where set, is the limit in hours from discovery
	// (DeadlineDays is then the same limit in whole days, or 0).
	DeadlineHours        int    `json:"deadline_hours,omitempty"`
	DeadlineBusinessDays bool   `json:"deadline_business_days,omitempty"`
	DeadlineClock        string `json:"deadline_clock,omitempty"`
	DeadlineText         string `json:"deadline_text,omitempty"`

	Regulator string `json:"regulator,omitempty"`
	// RegulatorMinCount: notice when count >= this; 0 = no regulator notice.
	RegulatorMinCount     int `json:"regulator_min_count,omitempty"`
	RegulatorDeadlineDays int `json:"regulator_deadline_days,omitempty"`
	// RegulatorDeadlineHours, where set, is the report's limit in hours
	// from discovery.
	RegulatorDeadlineHours int `json:"regulator_deadline_hours,omitempty"`
	// RegulatorFirstDays or RegulatorFirstHours set an earlier first report
	// (JP's preliminary report, India's CERT-In report before the Board's
	// detailed one), described by RegulatorFirstText.
	RegulatorFirstDays  int    `json:"regulator_first_days,omitempty"`
	RegulatorFirstHours int    `json:"regulator_first_hours,omitempty"`
	RegulatorFirstText  string `json:"regulator_first_text,omitempty"`
	// RegulatorWrongfulDays replaces RegulatorDeadlineDays when the cause
	// is known to be one of RegulatorCauses (JP: 60 days for a
	// wrongful-purpose leak); an unknown cause keeps the shorter limit.
	RegulatorWrongfulDays int `json:"regulator_wrongful_days,omitempty"`
	// RegulatorCauses make the report owed at any count (KR: outside
	// unauthorised access); RegulatorElements do the same when any of them
	// is exposed (KR: sensitive or unique-identification data).
	RegulatorCauses   []incident.Cause   `json:"regulator_causes,omitempty"`
	RegulatorElements []incident.Element `json:"regulator_elements,omitempty"`
	// RegulatorEncryptionExempt: data encrypted with the key safe owes no
	// report, whatever the count (GDPR Art. 33(1), APPI).
	RegulatorEncryptionExempt bool `json:"regulator_encryption_exempt,omitempty"`
	RegulatorBusinessDays     bool `json:"regulator_business_days,omitempty"`
	// RegulatorClock is discovery, after_consumer, with_consumer,
	// discovery_or_consumer, policy, or "" where there is no regulator duty.
	RegulatorClock string `json:"regulator_clock,omitempty"`
	// RegulatorCountBasis is owed, people or people_or_owed: which count
	// RegulatorMinCount is tested against.
	RegulatorCountBasis   string `json:"regulator_count_basis"`
	RegulatorDeadlineText string `json:"regulator_deadline_text,omitempty"`
	RegulatorSubmission   string `json:"regulator_submission,omitempty"`

	// CRAMinCount: consumer-reporting-agency notice when owed >= this; 0 = none.
	CRAMinCount int `json:"cra_min_count,omitempty"`

	NoticeWritten   bool   `json:"notice_written"`
	NoticeEmail     bool   `json:"notice_email"`
	NoticePhone     bool   `json:"notice_phone"`
	NoticeEmailRule string `json:"notice_email_rule,omitempty"`
	// EmailRoute is any, esign, esign_account_only, esign_or_primary,
	// primary_only, online_business, relationship or prior_channel.
	EmailRoute string `json:"email_route"`

	SubstituteCostUSD     int    `json:"substitute_cost_usd,omitempty"`
	SubstituteCount       int    `json:"substitute_count,omitempty"`
	SubstituteConsistsOf  string `json:"substitute_consists_of,omitempty"`
	SubstitutePostingDays int    `json:"substitute_posting_days,omitempty"`

	ContentRequirements string `json:"content_requirements,omitempty"`
	ContentProfile      string `json:"content_profile"`
	OtherObligations    string `json:"other_obligations,omitempty"`

	Source     string `json:"source"`
	Confidence string `json:"confidence"` // high, medium, low
	Notes      string `json:"notes,omitempty"`
	EngineNote string `json:"engine_note,omitempty"`
}

// Confidence levels of a row, as the research defines them.
const (
	ConfidenceHigh   = "high"
	ConfidenceMedium = "medium"
	ConfidenceLow    = "low"
)

// table is the parsed rules table: sorted by code, never written after init.
var table = mustLoad()

type ruleTable struct {
	rules []Rule
	// byCode holds each code's rows, oldest first.
	byCode map[string][]int
}

func mustLoad() ruleTable {
	rules, err := parseRules(rulesTSV)
	if err != nil {
		panic(err) // a malformed embedded table is a build defect
	}
	t := ruleTable{rules: rules, byCode: make(map[string][]int, len(rules))}
	for i, r := range rules {
		t.byCode[r.Code] = append(t.byCode[r.Code], i)
	}
	return t
}

// Rules returns every row of the table, every period of every
// jurisdiction, sorted by code and then by start.
func Rules() []Rule { return slices.Clone(table.rules) }

// InForce reports whether the row applies on date d.
func (r *Rule) InForce(d incident.Date) bool {
	return (r.InForceFrom.IsZero() || !d.Before(r.InForceFrom.Time)) && (r.InForceTo.IsZero() || !d.After(r.InForceTo.Time))
}

// Dated reports whether the row has a start or an end recorded, so that
// which of a jurisdiction's rows applied is worth saying.
func (r *Rule) Dated() bool { return !r.InForceFrom.IsZero() || !r.InForceTo.IsZero() }

// Period says when the row is in force, for reasons and listings:
// "from 2027-05-13", "2022-04-28 to 2027-05-12", "until 2025-12-31" or
// "no dates recorded".
func (r *Rule) Period() string {
	switch {
	case !r.InForceFrom.IsZero() && !r.InForceTo.IsZero():
		return r.InForceFrom.String() + " to " + r.InForceTo.String()
	case !r.InForceFrom.IsZero():
		return "from " + r.InForceFrom.String()
	case !r.InForceTo.IsZero():
		return "until " + r.InForceTo.String()
	}
	return "no dates recorded"
}

// RulesOn returns the rows in force on date d, one per jurisdiction at
// most, sorted by code.
func RulesOn(d incident.Date) []Rule {
	var out []Rule
	for i := range table.rules {
		if table.rules[i].InForce(d) {
			out = append(out, table.rules[i])
		}
	}
	return out
}

// LookupOn returns a jurisdiction's row in force on date d ("US-TX",
// "DE"), and false when the code has no row or none in force then.
func LookupOn(code string, d incident.Date) (Rule, bool) {
	for _, i := range table.byCode[code] {
		if table.rules[i].InForce(d) {
			return table.rules[i], true
		}
	}
	return Rule{}, false
}

// Periods returns every row of one jurisdiction, oldest first.
func Periods(code string) []Rule {
	var out []Rule
	for _, i := range table.byCode[code] {
		out = append(out, table.rules[i])
	}
	return out
}

// LowConfidence returns the rows the research marks low confidence: counsel
// must confirm them before the engine's output is relied on.
func LowConfidence() []Rule {
	var out []Rule
	for _, r := range table.rules {
		if r.Confidence == ConfidenceLow {
			out = append(out, r)
		}
	}
	return out
}

var errTable = errors.New("law: rules table")

// enumerations the parser accepts, by column.
var allowed = map[string][]string{
	"online_credentials_trigger":  {"yes", "partial", "no"},
	"name_dob_trigger":            {"yes", "no", "unknown"},
	"biometric_trigger":           {"yes", "no", "unknown"},
	"gov_id_number_trigger":       {"yes", "no", "unknown"},
	"passport_trigger":            {"yes", "no", "unknown"},
	"encryption_safe_harbor":      {"yes", "no", "partial"},
	"key_compromise_exception":    {"yes", "no", "unknown", ""},
	"risk_of_harm_exception":      {"yes", "no"},
	"notice_written":              {"yes", "no"},
	"notice_email":                {"yes", "no"},
	"notice_phone":                {"yes", "no"},
	"confidence":                  {ConfidenceHigh, ConfidenceMedium, ConfidenceLow},
	"regime":                      {"us-state", "gdpr", "uk-gdpr", "pipeda", "au-privacy-act", "lgpd", "appi", "pipa", "pdpa", "dpdp", "cert-in", "nz-privacy-act", "fadp", "pipl", "popia"},
	"credentials_scope":           {scopeStandalone, scopeWithName, scopeEmailAccount, scopeEmailAccountWithName, scopeNone, scopeRisk},
	"credentials_notice":          {"", credNoticeElectronic, credNoticeNotCompromised},
	"health_trigger":              {"yes", "no", "risk"},
	"health_insurance_trigger":    {"yes", "no", "risk"},
	"regulator_encryption_exempt": {"yes", "no"},
	"email_route":                 {routeAny, routeESign, routeESignAccountOnly, routeESignOrPrimary, routePrimaryOnly, routeOnlineBusiness, routeRelationship, routePriorChannel},
	"deadline_unit":               {"calendar", "business"},
	"regulator_clock":             {"", clockDiscovery, clockAfterConsumer, clockWithConsumer, clockDiscoveryOrConsumer, clockPolicy},
	"regulator_day_unit":          {"calendar", "business"},
	"regulator_count_basis":       {basisOwed, basisPeople, basisPeopleOrOwed},
	"risk_model":                  {riskElements, riskHigh, riskAny, riskNone},
}

// Engine vocabulary (see the Rule field comments).
const (
	scopeStandalone           = "standalone"
	scopeWithName             = "with_name"
	scopeEmailAccount         = "email_account"
	scopeEmailAccountWithName = "email_account_with_name"
	scopeNone                 = "none"
	scopeRisk                 = "risk"

	credNoticeElectronic     = "electronic"
	credNoticeNotCompromised = "electronic_not_compromised"

	routeAny              = "any"
	routeESign            = "esign"
	routeESignAccountOnly = "esign_account_only"
	routeESignOrPrimary   = "esign_or_primary"
	routePrimaryOnly      = "primary_only"
	routeOnlineBusiness   = "online_business"
	routeRelationship     = "relationship"
	routePriorChannel     = "prior_channel"

	clockDiscovery           = "discovery"
	clockAfterConsumer       = "after_consumer"
	clockWithConsumer        = "with_consumer"
	clockDiscoveryOrConsumer = "discovery_or_consumer"
	clockPolicy              = "policy"

	basisOwed         = "owed"
	basisPeople       = "people"
	basisPeopleOrOwed = "people_or_owed"

	riskElements = "elements"
	riskHigh     = "high_risk"
	riskAny      = "any"
	riskNone     = "none"
)

// parseRules parses the embedded table and expands the EU row per member
// state. It checks every enumerated column and the row invariants the engine
// relies on.
func parseRules(src string) ([]Rule, error) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%w: no rows", errTable)
	}
	header := strings.Split(lines[0], "\t")
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	for _, name := range requiredColumns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("%w: missing column %q", errTable, name)
		}
	}
	var out []Rule
	for n, line := range lines[1:] {
		lineNo := n + 2
		f := strings.Split(line, "\t")
		if len(f) != len(header) {
			return nil, fmt.Errorf("%w: line %d: %d fields, want %d", errTable, lineNo, len(f), len(header))
		}
		r, err := parseRow(f, col)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d (%s): %w", errTable, lineNo, f[col["code"]], err)
		}
		if r.Code == "EU" {
			out = append(out, expandEEA(r)...)
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Rule) int {
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return a.InForceFrom.Compare(b.InForceFrom.Time)
	})
	for i := 1; i < len(out); i++ {
		prev, cur := &out[i-1], &out[i]
		if cur.Code != prev.Code {
			continue
		}
		// Rows of one code must follow each other in time: the earlier
		// one ends before the later one starts.
		if prev.InForceTo.IsZero() || cur.InForceFrom.IsZero() || !prev.InForceTo.Before(cur.InForceFrom.Time) {
			return nil, fmt.Errorf("%w: duplicate code %s: its rows (%s; %s) overlap in time", errTable, cur.Code, prev.Period(), cur.Period())
		}
	}
	return out, nil
}

var requiredColumns = []string{
	"code", "jurisdiction", "citation", "online_credentials_trigger", "online_credentials_note",
	"name_dob_trigger", "biometric_trigger", "gov_id_number_trigger", "passport_trigger",
	"other_relevant_triggers", "encryption_safe_harbor", "key_compromise_exception",
	"risk_of_harm_exception", "risk_of_harm_standard", "deadline_days", "deadline_clock",
	"deadline_text", "regulator", "regulator_min_count", "regulator_deadline_days",
	"regulator_deadline_text", "regulator_submission", "cra_min_count", "notice_written",
	"notice_email", "notice_email_rule", "notice_phone", "substitute_cost_usd",
	"substitute_count", "substitute_consists_of", "substitute_posting_days",
	"online_credentials_special_rule", "content_requirements", "other_obligations", "source",
	"confidence", "notes",
	"regime", "credentials_scope", "credentials_notice", "health_trigger", "name_equivalents",
	"email_route", "deadline_unit", "regulator_clock", "regulator_day_unit",
	"regulator_count_basis", "risk_model", "content_profile", "engine_note",
	"in_force_from", "in_force_to", "review", "checked", "deadline_hours", "regulator_deadline_hours",
	"regulator_first_days", "regulator_first_hours", "regulator_first_text", "regulator_wrongful_days",
	"cause_notice", "regulator_causes", "regulator_elements", "regulator_encryption_exempt", "health_insurance_trigger",
}

func parseRow(f []string, col map[string]int) (Rule, error) {
	var errs []error
	get := func(name string) string {
		v := strings.TrimSpace(f[col[name]])
		if vals, ok := allowed[name]; ok && !slices.Contains(vals, v) {
			errs = append(errs, fmt.Errorf("column %s: value %q not one of %q", name, v, vals))
		}
		return v
	}
	num := func(name string) int {
		v := get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("column %s: %q is not a count", name, v))
		}
		return n
	}
	date := func(name string) incident.Date {
		v := get(name)
		if v == "" {
			return incident.Date{}
		}
		d, err := incident.ParseDate(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %s: %q is not YYYY-MM-DD", name, v))
		}
		return d
	}
	causes := func(name string) []incident.Cause {
		var out []incident.Cause
		for _, f := range strings.Split(get(name), ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			c, err := incident.ParseCause(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("column %s: %w", name, err))
			}
			out = append(out, c)
		}
		return out
	}
	elements := func(name string) []incident.Element {
		v := get(name)
		if v == "" {
			return nil
		}
		es, err := incident.ParseElements(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %s: %w", name, err))
		}
		return es
	}
	r := Rule{
		InForceFrom:               date("in_force_from"),
		InForceTo:                 date("in_force_to"),
		Review:                    get("review"),
		Checked:                   date("checked"),
		DeadlineHours:             num("deadline_hours"),
		RegulatorDeadlineHours:    num("regulator_deadline_hours"),
		RegulatorFirstDays:        num("regulator_first_days"),
		RegulatorFirstHours:       num("regulator_first_hours"),
		RegulatorFirstText:        get("regulator_first_text"),
		RegulatorWrongfulDays:     num("regulator_wrongful_days"),
		CauseNotice:               causes("cause_notice"),
		RegulatorCauses:           causes("regulator_causes"),
		RegulatorElements:         elements("regulator_elements"),
		RegulatorEncryptionExempt: get("regulator_encryption_exempt") == "yes",
		HealthInsuranceTrigger:    get("health_insurance_trigger"),
		Code:                      get("code"),
		Name:                      get("jurisdiction"),
		Citation:                  get("citation"),
		Regime:                    get("regime"),
		CredentialsTrigger:        get("online_credentials_trigger"),
		CredentialsNote:           get("online_credentials_note"),
		CredentialsScope:          get("credentials_scope"),
		CredentialsNotice:         get("credentials_notice"),
		CredentialsSpecialRule:    get("online_credentials_special_rule"),
		NameDOBTrigger:            get("name_dob_trigger"),
		BiometricTrigger:          get("biometric_trigger"),
		GovIDTrigger:              get("gov_id_number_trigger"),
		PassportTrigger:           get("passport_trigger"),
		HealthTrigger:             get("health_trigger"),
		NameEquivalents:           get("name_equivalents"),
		OtherTriggers:             get("other_relevant_triggers"),
		EncryptionSafeHarbor:      get("encryption_safe_harbor"),
		KeyCompromiseException:    get("key_compromise_exception"),
		RiskOfHarmException:       get("risk_of_harm_exception") == "yes",
		RiskOfHarmStandard:        get("risk_of_harm_standard"),
		RiskModel:                 get("risk_model"),
		DeadlineDays:              num("deadline_days"),
		DeadlineBusinessDays:      get("deadline_unit") == "business",
		DeadlineClock:             get("deadline_clock"),
		DeadlineText:              get("deadline_text"),
		Regulator:                 get("regulator"),
		RegulatorMinCount:         num("regulator_min_count"),
		RegulatorDeadlineDays:     num("regulator_deadline_days"),
		RegulatorBusinessDays:     get("regulator_day_unit") == "business",
		RegulatorClock:            get("regulator_clock"),
		RegulatorCountBasis:       get("regulator_count_basis"),
		RegulatorDeadlineText:     get("regulator_deadline_text"),
		RegulatorSubmission:       get("regulator_submission"),
		CRAMinCount:               num("cra_min_count"),
		NoticeWritten:             get("notice_written") == "yes",
		NoticeEmail:               get("notice_email") == "yes",
		NoticePhone:               get("notice_phone") == "yes",
		NoticeEmailRule:           get("notice_email_rule"),
		EmailRoute:                get("email_route"),
		SubstituteCostUSD:         num("substitute_cost_usd"),
		SubstituteCount:           num("substitute_count"),
		SubstituteConsistsOf:      get("substitute_consists_of"),
		SubstitutePostingDays:     num("substitute_posting_days"),
		ContentRequirements:       get("content_requirements"),
		ContentProfile:            get("content_profile"),
		OtherObligations:          get("other_obligations"),
		Source:                    get("source"),
		Confidence:                get("confidence"),
		Notes:                     get("notes"),
		EngineNote:                get("engine_note"),
	}
	if err := checkRule(&r); err != nil {
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

// checkRule checks the invariants the engine relies on.
func checkRule(r *Rule) error {
	us := strings.HasPrefix(r.Code, "US-")
	switch {
	case r.Code == "":
		return errors.New("empty code")
	case r.Checked.IsZero():
		return errors.New("checked (the date the row was last checked against its sources) is required")
	case !r.InForceFrom.IsZero() && !r.InForceTo.IsZero() && r.InForceTo.Before(r.InForceFrom.Time):
		return fmt.Errorf("in_force_to %s is before in_force_from %s", r.InForceTo, r.InForceFrom)
	case r.DeadlineHours > 0 && r.DeadlineDays > 0 && r.DeadlineDays*24 != r.DeadlineHours:
		return fmt.Errorf("deadline_hours %d is not deadline_days %d", r.DeadlineHours, r.DeadlineDays)
	case r.RegulatorDeadlineHours > 0 && r.RegulatorDeadlineDays > 0 && r.RegulatorDeadlineDays*24 != r.RegulatorDeadlineHours:
		return fmt.Errorf("regulator_deadline_hours %d is not regulator_deadline_days %d", r.RegulatorDeadlineHours, r.RegulatorDeadlineDays)
	case r.RegulatorDeadlineHours > 0 && r.RegulatorClock != clockDiscovery:
		return errors.New("regulator_deadline_hours needs regulator_clock discovery")
	case us != (r.HealthInsuranceTrigger != "risk"):
		return errors.New("health_insurance_trigger is yes or no exactly for US rows (risk otherwise)")
	case us != (r.RiskModel == riskElements):
		return errors.New("risk_model must be elements exactly for US rows")
	case us && (r.CredentialsScope == scopeRisk || r.HealthTrigger == "risk"):
		return errors.New("a US row needs an element-based credentials_scope and health_trigger")
	case !us && (r.CredentialsScope != scopeRisk || r.HealthTrigger != "risk"):
		return errors.New("a risk-based row takes credentials_scope and health_trigger \"risk\"")
	case (r.CredentialsTrigger == "no") != (r.CredentialsScope == scopeNone):
		return errors.New("credentials_scope none exactly when online_credentials_trigger is no")
	case (r.RegulatorClock == "") != (r.Regulator == "" || r.RegulatorMinCount == 0):
		return errors.New("regulator_clock is set exactly when a regulator and its minimum count are")
	case r.RegulatorDeadlineDays == 0 && r.RegulatorDeadlineHours == 0 && (r.RegulatorClock == clockDiscovery || r.RegulatorClock == clockAfterConsumer || r.RegulatorClock == clockDiscoveryOrConsumer):
		return fmt.Errorf("regulator_clock %s needs regulator_deadline_days", r.RegulatorClock)
	case !slices.Contains(ContentProfiles(), r.ContentProfile):
		return fmt.Errorf("unknown content_profile %q", r.ContentProfile)
	}
	return nil
}
