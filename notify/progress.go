package notify

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// DefaultWarnDays is how close a deadline must be to count as due soon.
const DefaultWarnDays = 7

// Deadline states.
const (
	DeadlineMet     = "met"      // every owed person notified by the due date
	DeadlineLate    = "late"     // every owed person notified, some after the due date
	DeadlineOverdue = "overdue"  // the due date has passed with work outstanding
	DeadlineDueSoon = "due_soon" // due within the warning window, work outstanding
	DeadlineOpen    = "open"     // due later, work outstanding
)

// Progress is where an incident's notices stand on a day: people owed
// individual notice, notified (an email sent or a letter mailed),
// outstanding, and the substitute-notice cases among them; and every
// deadline of the plan with its state.
//
// NotifiedByEmail and NotifiedByLetter count the notified people an email
// reached and those a mailed letter reached (both ways: in both). The
// outstanding people are Substitute (no direct notice reaches them),
// LettersUnmailed (a letter queued or at the mail house, not confirmed
// mailed), EmailsPending (an email queued, in flight or deferred, and no
// letter on its way) and NoNoticeYet (no notice created yet: held for a
// regulator, or a channel not sent yet).
type Progress struct {
	AsOf             incident.Date    `json:"as_of"`
	Owed             int              `json:"owed"`
	Notified         int              `json:"notified"`
	NotifiedByEmail  int              `json:"notified_by_email"`
	NotifiedByLetter int              `json:"notified_by_letter"`
	Outstanding      int              `json:"outstanding"`
	Substitute       int              `json:"substitute"`
	LettersUnmailed  int              `json:"letters_unmailed"`
	EmailsPending    int              `json:"emails_pending"`
	NoNoticeYet      int              `json:"no_notice_yet"`
	Deadlines        []DeadlineStatus `json:"deadlines"`
	// Alerts are the deadline alerts the scheduler raised (WatchDeadlines).
	Alerts []DeadlineAlert `json:"alerts,omitempty"`
}

// DeadlineStatus is one deadline of the plan on the Progress day.
type DeadlineStatus struct {
	Jurisdiction string        `json:"jurisdiction"`
	Duty         string        `json:"duty"` // individuals, regulator or credit_bureaus
	To           string        `json:"to,omitempty"`
	Due          incident.Date `json:"due"`
	Kind         string        `json:"kind,omitempty"` // statutory or policy, for individuals
	// Outstanding and Late count people, for the individuals' deadline.
	Outstanding int    `json:"outstanding,omitempty"`
	Late        int    `json:"late,omitempty"`
	State       string `json:"state"`
	// DaysLeft is negative once the due date has passed.
	DaysLeft int `json:"days_left"`
	// Note says what breachnotice cannot know, e.g. that filings with a
	// regulator are not recorded here.
	Note string `json:"note,omitempty"`
}

// Attention reports whether the deadline is overdue or due soon.
func (d DeadlineStatus) Attention() bool {
	return d.State == DeadlineOverdue || d.State == DeadlineDueSoon
}

// FindProgress reports the incident's progress on the day of now (UTC),
// with deadlines within warnDays counted as due soon. It needs a plan.
func FindProgress(ctx context.Context, st *incident.Store, id int64, now time.Time, warnDays int) (*Progress, error) {
	p, err := FindPlan(ctx, st, id)
	if err != nil {
		return nil, err
	}
	today := incident.Date{Time: now.UTC().Truncate(24 * time.Hour)}
	pr := &Progress{AsOf: today, Owed: p.Owed}

	// Per jurisdiction: the people notified, and how many after the due
	// date of their decision. A person is notified on the first day an
	// email to them was sent or a letter to them mailed.
	type tally struct{ notified, late int }
	byJ := map[string]*tally{}
	rows, err := st.DB().QueryContext(ctx, `SELECT j, count(*), sum(CASE WHEN dl <> '' AND first_day > dl THEN 1 ELSE 0 END) FROM (
			SELECT max(v.jurisdiction) AS j, max(v.deadline) AS dl, min(substr(n.final_at, 1, 10)) AS first_day
			FROM notices n JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
			WHERE n.incident_id = ? AND ((n.channel = 'email' AND n.state = 'sent') OR (n.channel = 'letter' AND n.state = 'mailed'))
			GROUP BY n.account_id) x
		GROUP BY j`, id)
	if err != nil {
		return nil, fmt.Errorf("progress of incident %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var j string
		t := &tally{}
		if err := rows.Scan(&j, &t.notified, &t.late); err != nil {
			return nil, fmt.Errorf("progress of incident %d: %w", id, err)
		}
		byJ[j] = t
		pr.Notified += t.notified
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("progress of incident %d: %w", id, err)
	}
	rows.Close()
	pr.Outstanding = max(0, pr.Owed-pr.Notified)
	if pr.Substitute, err = CountSubstituteCases(ctx, st, id); err != nil {
		return nil, err
	}
	// Counts of conditions are sums of CASEs: PostgreSQL does not sum
	// booleans as SQLite sums its 0s and 1s.
	err = st.DB().QueryRowContext(ctx, `SELECT coalesce(sum(CASE WHEN e_sent > 0 THEN 1 ELSE 0 END), 0),
			coalesce(sum(CASE WHEN l_mailed > 0 THEN 1 ELSE 0 END), 0),
			coalesce(sum(CASE WHEN e_sent = 0 AND l_mailed = 0 AND l_live > 0 THEN 1 ELSE 0 END), 0),
			coalesce(sum(CASE WHEN e_sent = 0 AND l_mailed = 0 AND l_live = 0 AND e_live > 0 THEN 1 ELSE 0 END), 0)
		FROM (SELECT sum(CASE WHEN channel = 'email' AND state = 'sent' THEN 1 ELSE 0 END) AS e_sent,
				sum(CASE WHEN channel = 'letter' AND state = 'mailed' THEN 1 ELSE 0 END) AS l_mailed,
				sum(CASE WHEN channel = 'letter' AND state IN ('queued', 'exported') THEN 1 ELSE 0 END) AS l_live,
				sum(CASE WHEN channel = 'email' AND state IN ('pending', 'sending', 'deferred') THEN 1 ELSE 0 END) AS e_live
			FROM notices WHERE incident_id = ? GROUP BY account_id) x`, id).
		Scan(&pr.NotifiedByEmail, &pr.NotifiedByLetter, &pr.LettersUnmailed, &pr.EmailsPending)
	if err != nil {
		return nil, fmt.Errorf("progress of incident %d: %w", id, err)
	}
	pr.NoNoticeYet = max(0, pr.Outstanding-pr.Substitute-pr.LettersUnmailed-pr.EmailsPending)

	state := func(due incident.Date, outstanding int) (string, int) {
		days := int(due.Sub(today.Time).Hours() / 24)
		switch {
		case outstanding == 0:
			return DeadlineMet, days
		case days < 0:
			return DeadlineOverdue, days
		case days <= warnDays:
			return DeadlineDueSoon, days
		}
		return DeadlineOpen, days
	}
	filings, err := sentFilings(ctx, st.DB(), id)
	if err != nil {
		return nil, err
	}
	if pr.Alerts, err = findAlerts(ctx, st.DB(), id); err != nil {
		return nil, err
	}
	for _, ob := range p.Jurisdictions {
		if !ob.Deadline.IsZero() && ob.Tally.Owed > 0 {
			t := byJ[ob.Jurisdiction]
			if t == nil {
				t = &tally{}
			}
			d := DeadlineStatus{Jurisdiction: ob.Jurisdiction, Duty: "individuals", Due: ob.Deadline, Kind: ob.DeadlineKind,
				Outstanding: max(0, ob.Tally.Owed-t.notified), Late: t.late}
			d.State, d.DaysLeft = state(d.Due, d.Outstanding)
			if d.State == DeadlineMet && d.Late > 0 {
				d.State = DeadlineLate
			}
			pr.Deadlines = append(pr.Deadlines, d)
		}
		// Filings with regulators and credit bureaus are made outside
		// breachnotice and recorded with regulators sent: until then their
		// deadlines stay open.
		const filing = "filing not recorded in breachnotice"
		filed := func(d *DeadlineStatus) {
			f, ok := filings[ob.Jurisdiction+"/"+d.Duty]
			if !ok {
				d.Note = filing
				d.State, d.DaysLeft = state(d.Due, 1)
				return
			}
			d.State, d.DaysLeft = state(d.Due, 0)
			d.Note = "sent " + f
			if sent, _ := incident.ParseDate(f); sent.After(d.Due.Time) {
				d.State = DeadlineLate
			}
		}
		if ob.Regulator.Required && !ob.Regulator.Due.IsZero() {
			d := DeadlineStatus{Jurisdiction: ob.Jurisdiction, Duty: "regulator", To: ob.Regulator.Name, Due: ob.Regulator.Due}
			filed(&d)
			pr.Deadlines = append(pr.Deadlines, d)
		}
		if f := ob.Regulator.First; ob.Regulator.Required && f != nil && !f.Due.IsZero() {
			// The first report (JP's preliminary one, India's CERT-In
			// report) is due before the main one; a regulator filing
			// recorded for the jurisdiction meets both.
			d := DeadlineStatus{Jurisdiction: ob.Jurisdiction, Duty: "regulator", To: ob.Regulator.Name, Due: f.Due}
			filed(&d)
			d.Note = "first report (" + f.Text + "): " + d.Note
			pr.Deadlines = append(pr.Deadlines, d)
		}
		if ob.CRA.Required && !ob.CRA.Due.IsZero() {
			d := DeadlineStatus{Jurisdiction: ob.Jurisdiction, Duty: "credit_bureaus", Due: ob.CRA.Due}
			filed(&d)
			pr.Deadlines = append(pr.Deadlines, d)
		}
	}
	sort.SliceStable(pr.Deadlines, func(i, j int) bool { return pr.Deadlines[i].Due.Before(pr.Deadlines[j].Due.Time) })
	return pr, nil
}

// sentFilings returns, by "jurisdiction/duty", the day each filing with a
// regulator or the credit bureaus was recorded as sent.
func sentFilings(ctx context.Context, db *sql.DB, id int64) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT jurisdiction, duty, sent_on FROM regulator_filings WHERE incident_id = ? AND sent_on <> ''`, id)
	if err != nil {
		return nil, fmt.Errorf("filings of incident %d: %w", id, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var j, duty, on string
		if err := rows.Scan(&j, &duty, &on); err != nil {
			return nil, fmt.Errorf("filings of incident %d: %w", id, err)
		}
		out[j+"/"+duty] = on
	}
	return out, rows.Err()
}
