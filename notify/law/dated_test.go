package law

import (
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

func on(t testing.TB, day string, cause incident.Cause, els ...incident.Element) *incident.Incident {
	return &incident.Incident{ID: 1, Discovered: mustDate(t, day), Elements: els, Cause: cause}
}

// TestRegulator_Issue12 holds the regulator duties the issue 12 review
// corrected, each citing its source.
func TestRegulator_Issue12(t *testing.T) {
	mal, acc, unk := incident.CauseMalicious, incident.CauseAccidental, incident.CauseUnknown
	cases := []struct {
		name     string
		inc      *incident.Incident
		code     string
		tally    Tally
		required bool
		due      string // regulator due date ("" = not checked)
		dueAt    string // RFC 3339 ("" = none: a day-based report)
		first    string // first report's due date ("" = none)
		rule     string
	}{
		// APPI Art. 26, PPC Rules Art. 7: strong encryption excludes every
		// category, the count category included.
		{"JP/PPC-Rules-7/encrypted-5000-no-report", encrypted(on(t, "2026-03-02", mal, name, email)), "JP",
			Tally{People: 5000}, false, "", "", "", "JP/regulator/encryption"},
		// PPC Rules: preliminary report promptly (about 3-5 days, planned
		// at 3), final within 30 days; 60 for a wrongful-purpose case.
		{"JP/PPC-Rules-8/malicious-60-days", on(t, "2026-03-02", mal, name, email), "JP",
			Tally{People: 40, Owed: 40}, true, "2026-05-01", "", "2026-03-05", "JP/regulator/threshold"},
		{"JP/PPC-Rules-8/unknown-cause-30-days", on(t, "2026-03-02", unk, name, email), "JP",
			Tally{People: 40, Owed: 40}, true, "2026-04-01", "", "2026-03-05", "JP/regulator/threshold"},
		{"JP/count-1001-accidental", on(t, "2026-03-02", acc, email), "JP",
			Tally{People: 1001, Owed: 1001}, true, "2026-04-01", "", "2026-03-05", "JP/regulator/threshold"},
		// PIPA Art. 34(3), Enforcement Decree Arts. 39-40: 1,000 or more
		// people, or sensitive or unique-ID data, or outside unauthorised
		// access; 72 hours.
		{"KR/PIPA-34/accidental-999-not-reported", on(t, "2026-03-02", acc, name, email), "KR",
			Tally{People: 999, Owed: 999}, false, "", "", "", "KR/regulator/threshold"},
		{"KR/PIPA-34/accidental-1000-reported", on(t, "2026-03-02", acc, name, email), "KR",
			Tally{People: 1000, Owed: 1000}, true, "2026-03-05", "2026-03-05T00:00:00Z", "", "KR/regulator/threshold"},
		{"KR/PIPA-34/unique-id-any-count", on(t, "2026-03-02", acc, name, passport), "KR",
			Tally{People: 3, Owed: 3}, true, "2026-03-05", "2026-03-05T00:00:00Z", "", "KR/regulator/elements"},
		{"KR/PIPA-34/outside-access-any-count", on(t, "2026-03-02", mal, name, email), "KR",
			Tally{People: 3, Owed: 3}, true, "2026-03-05", "2026-03-05T00:00:00Z", "", "KR/regulator/cause"},
		{"KR/PIPA-34/unknown-cause-stricter", on(t, "2026-03-02", unk, name, email), "KR",
			Tally{People: 3, Owed: 3}, true, "", "", "", "KR/regulator/cause"},
		// CERT-In Directions of 2022-04-28: within 6 hours, in force now.
		{"IN/CERT-In/2026-12-01/6-hours", on(t, "2026-12-01", acc, name, email), "IN",
			Tally{People: 2}, true, "2026-12-01", "2026-12-01T06:00:00Z", "", "IN/regulator/threshold"},
		// DPDP Rules r. 7 from 2027-05-13: the Board within 72 hours, after
		// CERT-In's 6.
		{"IN/DPDP-r7/2027-06-01/72-hours", on(t, "2027-06-01", acc, name, email), "IN",
			Tally{People: 2, Owed: 2}, true, "2027-06-04", "2027-06-04T00:00:00Z", "2027-06-01", "IN/regulator/threshold"},
		// GDPR Art. 33(1): 72 hours.
		{"DE/GDPR-33/72-hours", on(t, "2026-03-02", acc, name, email), "DE",
			Tally{People: 2}, true, "2026-03-05", "2026-03-05T00:00:00Z", "", "DE/regulator/threshold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ob := Summarize(tc.inc, operator, tc.code, tc.tally)
			n := ob.Regulator
			if n.Required != tc.required || tc.due != "" && n.Due.String() != tc.due {
				t.Fatalf("regulator = %+v; want required %v due %s\nreasons %+v", n, tc.required, tc.due, ob.Reasons)
			}
			if got := ""; tc.dueAt != "" {
				if n.DueAt != nil {
					got = n.DueAt.Format(time.RFC3339)
				}
				if got != tc.dueAt {
					t.Errorf("due_at = %s, want %s", got, tc.dueAt)
				}
			}
			if got := ""; tc.first != "" {
				if n.First != nil {
					got = n.First.Due.String()
				}
				if got != tc.first {
					t.Errorf("first report due %s, want %s", got, tc.first)
				}
			}
			if !hasReason(ob.Reasons, tc.rule) {
				t.Errorf("reasons lack %s: %s", tc.rule, ruleIDs(ob.Reasons))
			}
		})
	}
}

// TestEffectiveDate_India: a breach discovered the day before and the day
// the DPDP breach rule takes effect (2027-05-13) gets different duties.
func TestEffectiveDate_India(t *testing.T) {
	before := on(t, "2027-05-12", incident.CauseAccidental, name, email, password)
	after := on(t, "2027-05-13", incident.CauseAccidental, name, email, password)
	a := resident("IN", "")
	db, da := decide(before, operator, a), decide(after, operator, a)
	if db.Notify || !da.Notify {
		t.Fatalf("individual notice: %v before, %v after; want false, true", db.Notify, da.Notify)
	}
	ob, oa := Summarize(before, operator, "IN", Tally{People: 1}), Summarize(after, operator, "IN", Tally{People: 1, Owed: 1})
	if !strings.Contains(ob.Regulator.Name, "CERT-In") || ob.Regulator.DueHours != 6 || ob.InForce != "2022-04-28 to 2027-05-12" {
		t.Errorf("before: %+v in force %s", ob.Regulator, ob.InForce)
	}
	if !strings.Contains(oa.Regulator.Name, "Data Protection Board") || oa.Regulator.DueHours != 72 || oa.Regulator.First == nil ||
		oa.Regulator.First.Hours != 6 || oa.InForce != "from 2027-05-13" {
		t.Errorf("after: %+v in force %s", oa.Regulator, oa.InForce)
	}
	for _, want := range []struct {
		day, citation string
	}{{"2026-12-01", "CERT-In"}, {"2027-06-01", "Digital Personal Data Protection Act"}} {
		r, ok := LookupOn("IN", mustDate(t, want.day))
		if !ok || !strings.Contains(r.Citation, want.citation) {
			t.Errorf("LookupOn(IN, %s) = %s", want.day, r.Citation)
		}
	}
	if _, ok := LookupOn("IN", mustDate(t, "2022-04-27")); ok {
		t.Error("a row in force before the CERT-In Directions")
	}
	// Before any row, the person is planned under the strictest rule.
	if d := decide(on(t, "2022-04-27", "", name), operator, a); !d.Review || !d.Notify {
		t.Errorf("no row in force: %+v", d)
	}
}

// TestHours_DiscoveryTime: an hour-based clock runs from the recorded
// discovery time, in its zone, else from the start of the date in UTC.
func TestHours_DiscoveryTime(t *testing.T) {
	inc := on(t, "2026-12-01", incident.CauseMalicious, name, email)
	ob := Summarize(inc, operator, "IN", Tally{People: 1})
	if got := ob.Regulator.DueAt.Format(time.RFC3339); got != "2026-12-01T06:00:00Z" {
		t.Errorf("date only: due %s", got)
	}
	if !strings.Contains(ruleTexts(ob.Reasons), "start of that day in UTC") {
		t.Errorf("reasons do not say how the clock started: %s", ruleTexts(ob.Reasons))
	}
	ist := time.FixedZone("IST", 5*3600+1800)
	inc.DiscoveredAt = time.Date(2026, 12, 1, 21, 30, 0, 0, ist)
	ob = Summarize(inc, operator, "IN", Tally{People: 1})
	if got := ob.Regulator.DueAt.Format(time.RFC3339); got != "2026-12-02T03:30:00+05:30" || ob.Regulator.Due.String() != "2026-12-02" {
		t.Errorf("with a time: due %s (%s)", got, ob.Regulator.Due)
	}
	// KR individual notice: 72 hours, due time kept with the obligation.
	ob = Summarize(inc, operator, "KR", Tally{People: 1, Owed: 1})
	if ob.DeadlineAt == nil || ob.DeadlineHours != 72 || ob.DeadlineAt.Format(time.RFC3339) != "2026-12-04T21:30:00+05:30" {
		t.Errorf("KR deadline_at = %v", ob.DeadlineAt)
	}
	if HoursLeft(*ob.DeadlineAt, ob.DeadlineAt.Add(-90*time.Minute)) != 1 || HoursLeft(*ob.DeadlineAt, ob.DeadlineAt.Add(time.Minute)) != -1 {
		t.Error("HoursLeft rounds towards the past")
	}
}

func ruleTexts(rs []Reason) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// TestReview lists the rows counsel must look at first, with the reason.
func TestReview(t *testing.T) {
	for code, want := range map[string]string{"US-NJ": "P.L.2019 c.95", "US-GA": "10-1-912", "US-GU": "low confidence"} {
		ob := Summarize(breach(t, name, ssn), operator, code, Tally{People: 1, Owed: 1})
		if !ob.Review || !strings.Contains(strings.Join(ob.ReviewWhy, "; ")+ruleTexts(ob.Reasons), want) {
			t.Errorf("%s: review %v why %q", code, ob.Review, ob.ReviewWhy)
		}
	}
	if ob := Summarize(breach(t, name, ssn), operator, "US-TX", Tally{People: 1, Owed: 1}); ob.Review || len(ob.ReviewWhy) > 0 {
		t.Errorf("US-TX marked for review: %q", ob.ReviewWhy)
	}
}

// TestEEAComplaintAuthority: GDPR Art. 77: the person's own country's
// authority, never the controller's establishment.
func TestEEAComplaintAuthority(t *testing.T) {
	for _, code := range eeaCodes {
		r, _ := LookupOn(code, testDay)
		if r.ComplaintAuthority == "" || strings.Contains(r.ComplaintAuthority, "controller") {
			t.Errorf("%s: complaint authority %q", code, r.ComplaintAuthority)
		}
	}
	if r, _ := LookupOn("DE", testDay); !strings.Contains(r.ComplaintAuthority, "where you live") {
		t.Errorf("DE: %q", r.ComplaintAuthority)
	}
}
