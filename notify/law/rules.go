package law

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// NameEquivalents lists the elements that stand in for a name
	// (comma-separated), or "*" where no name is needed at all.
	NameEquivalents string `json:"name_equivalents,omitempty"`
	OtherTriggers   string `json:"other_triggers,omitempty"`

	EncryptionSafeHarbor   string `json:"encryption_safe_harbor"` // yes, no, partial
	KeyCompromiseException string `json:"key_compromise_exception,omitempty"`
	RiskOfHarmException    bool   `json:"risk_of_harm_exception"`
	RiskOfHarmStandard     string `json:"risk_of_harm_standard,omitempty"`
	// RiskModel is elements (US lists), high_risk or any.
	RiskModel string `json:"risk_model"`

	// DeadlineDays is the individual-notice outer limit; 0 = none fixed.
	DeadlineDays         int    `json:"deadline_days,omitempty"`
	DeadlineBusinessDays bool   `json:"deadline_business_days,omitempty"`
	DeadlineClock        string `json:"deadline_clock,omitempty"`
	DeadlineText         string `json:"deadline_text,omitempty"`

	Regulator string `json:"regulator,omitempty"`
	// RegulatorMinCount: notice when count >= this; 0 = no regulator notice.
	RegulatorMinCount     int  `json:"regulator_min_count,omitempty"`
	RegulatorDeadlineDays int  `json:"regulator_deadline_days,omitempty"`
	RegulatorBusinessDays bool `json:"regulator_business_days,omitempty"`
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
	rules  []Rule
	byCode map[string]int
}

func mustLoad() ruleTable {
	rules, err := parseRules(rulesTSV)
	if err != nil {
		panic(err) // a malformed embedded table is a build defect
	}
	t := ruleTable{rules: rules, byCode: make(map[string]int, len(rules))}
	for i, r := range rules {
		t.byCode[r.Code] = i
	}
	return t
}

// Rules returns every jurisdiction's rule, sorted by code.
func Rules() []Rule { return slices.Clone(table.rules) }

// Lookup returns the rule for a jurisdiction code ("US-TX", "DE").
func Lookup(code string) (Rule, bool) {
	i, ok := table.byCode[code]
	if !ok {
		return Rule{}, false
	}
	return table.rules[i], true
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
	"online_credentials_trigger": {"yes", "partial", "no"},
	"name_dob_trigger":           {"yes", "no", "unknown"},
	"biometric_trigger":          {"yes", "no", "unknown"},
	"gov_id_number_trigger":      {"yes", "no", "unknown"},
	"passport_trigger":           {"yes", "no", "unknown"},
	"encryption_safe_harbor":     {"yes", "no", "partial"},
	"key_compromise_exception":   {"yes", "no", "unknown", ""},
	"risk_of_harm_exception":     {"yes", "no"},
	"notice_written":             {"yes", "no"},
	"notice_email":               {"yes", "no"},
	"notice_phone":               {"yes", "no"},
	"confidence":                 {ConfidenceHigh, ConfidenceMedium, ConfidenceLow},
	"regime":                     {"us-state", "gdpr", "uk-gdpr", "pipeda", "au-privacy-act", "lgpd", "appi", "pipa", "pdpa", "dpdp", "nz-privacy-act", "fadp", "pipl", "popia"},
	"credentials_scope":          {scopeStandalone, scopeWithName, scopeEmailAccount, scopeEmailAccountWithName, scopeNone, scopeRisk},
	"credentials_notice":         {"", credNoticeElectronic, credNoticeNotCompromised},
	"health_trigger":             {"yes", "no", "risk"},
	"email_route":                {routeAny, routeESign, routeESignAccountOnly, routeESignOrPrimary, routePrimaryOnly, routeOnlineBusiness, routeRelationship, routePriorChannel},
	"deadline_unit":              {"calendar", "business"},
	"regulator_clock":            {"", clockDiscovery, clockAfterConsumer, clockWithConsumer, clockDiscoveryOrConsumer, clockPolicy},
	"regulator_day_unit":         {"calendar", "business"},
	"regulator_count_basis":      {basisOwed, basisPeople, basisPeopleOrOwed},
	"risk_model":                 {riskElements, riskHigh, riskAny},
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
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Code, b.Code) })
	for i := 1; i < len(out); i++ {
		if out[i].Code == out[i-1].Code {
			return nil, fmt.Errorf("%w: duplicate code %s", errTable, out[i].Code)
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
	r := Rule{
		Code:                   get("code"),
		Name:                   get("jurisdiction"),
		Citation:               get("citation"),
		Regime:                 get("regime"),
		CredentialsTrigger:     get("online_credentials_trigger"),
		CredentialsNote:        get("online_credentials_note"),
		CredentialsScope:       get("credentials_scope"),
		CredentialsNotice:      get("credentials_notice"),
		CredentialsSpecialRule: get("online_credentials_special_rule"),
		NameDOBTrigger:         get("name_dob_trigger"),
		BiometricTrigger:       get("biometric_trigger"),
		GovIDTrigger:           get("gov_id_number_trigger"),
		PassportTrigger:        get("passport_trigger"),
		HealthTrigger:          get("health_trigger"),
		NameEquivalents:        get("name_equivalents"),
		OtherTriggers:          get("other_relevant_triggers"),
		EncryptionSafeHarbor:   get("encryption_safe_harbor"),
		KeyCompromiseException: get("key_compromise_exception"),
		RiskOfHarmException:    get("risk_of_harm_exception") == "yes",
		RiskOfHarmStandard:     get("risk_of_harm_standard"),
		RiskModel:              get("risk_model"),
		DeadlineDays:           num("deadline_days"),
		DeadlineBusinessDays:   get("deadline_unit") == "business",
		DeadlineClock:          get("deadline_clock"),
		DeadlineText:           get("deadline_text"),
		Regulator:              get("regulator"),
		RegulatorMinCount:      num("regulator_min_count"),
		RegulatorDeadlineDays:  num("regulator_deadline_days"),
		RegulatorBusinessDays:  get("regulator_day_unit") == "business",
		RegulatorClock:         get("regulator_clock"),
		RegulatorCountBasis:    get("regulator_count_basis"),
		RegulatorDeadlineText:  get("regulator_deadline_text"),
		RegulatorSubmission:    get("regulator_submission"),
		CRAMinCount:            num("cra_min_count"),
		NoticeWritten:          get("notice_written") == "yes",
		NoticeEmail:            get("notice_email") == "yes",
		NoticePhone:            get("notice_phone") == "yes",
		NoticeEmailRule:        get("notice_email_rule"),
		EmailRoute:             get("email_route"),
		SubstituteCostUSD:      num("substitute_cost_usd"),
		SubstituteCount:        num("substitute_count"),
		SubstituteConsistsOf:   get("substitute_consists_of"),
		SubstitutePostingDays:  num("substitute_posting_days"),
		ContentRequirements:    get("content_requirements"),
		ContentProfile:         get("content_profile"),
		OtherObligations:       get("other_obligations"),
		Source:                 get("source"),
		Confidence:             get("confidence"),
		Notes:                  get("notes"),
		EngineNote:             get("engine_note"),
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
	case r.RegulatorDeadlineDays == 0 && (r.RegulatorClock == clockDiscovery || r.RegulatorClock == clockAfterConsumer || r.RegulatorClock == clockDiscoveryOrConsumer):
		return fmt.Errorf("regulator_clock %s needs regulator_deadline_days", r.RegulatorClock)
	case !slices.Contains(ContentProfiles(), r.ContentProfile):
		return fmt.Errorf("unknown content_profile %q", r.ContentProfile)
	}
	return nil
}
