package ledger

import (
	"encoding/json"
	"sort"
	"time"
)

// Deadline duties a plan_made entry lists.
const (
	DutyIndividuals    = "individuals"     // notice to the people owed it
	DutyRegulator      = "regulator"       // the regulator's (main) notice
	DutyRegulatorFirst = "regulator_first" // a first report due before it (JP, IN); a regulator filing meets both
	DutyCreditBureaus  = "credit_bureaus"  // the consumer reporting agencies
)

// Deadline outcome states.
const (
	OutcomeMet    = "met"    // done on or before the due date
	OutcomeMissed = "missed" // done after the due date, or due date passed with work outstanding (Overdue)
	OutcomeOpen   = "open"   // not yet due, work outstanding
)

// PlannedDeadline is one deadline of an incident's plan, as the plan_made
// entry's detail lists them ("deadlines"), so that a bundle's summary can
// say which were met, missed or are still open without the database.
type PlannedDeadline struct {
	Jurisdiction string `json:"jurisdiction"`
	Duty         string `json:"duty"`
	Due          string `json:"due"` // YYYY-MM-DD (UTC)
	// Owed counts the people owed individual notice (duty individuals).
	Owed int64 `json:"owed,omitempty"`
}

// DeadlineOutcome is one planned deadline as of the checkpoint the bundle
// is signed at. For the individuals' deadline of a jurisdiction, Notified
// counts the people of that jurisdiction notified (an email sent, a letter
// mailed), NotifiedLate those notified after their own deadline, and
// Outstanding the people owed less those notified. For a filing, FiledOn
// is the day its regulator_notified entry says it was sent.
//
// State is met (everyone notified, or the filing sent, on or before the due
// date), missed (some notified or the filing sent after it, or the due date
// passed with work outstanding, which also sets Overdue) or open (work
// outstanding, not yet due). DaysLeft counts days from the checkpoint's
// day to the due date, negative once it has passed.
type DeadlineOutcome struct {
	Incident     int64  `json:"incident"`
	Jurisdiction string `json:"jurisdiction"`
	Duty         string `json:"duty"`
	Due          string `json:"due"`
	Owed         int64  `json:"owed,omitempty"`
	Notified     int64  `json:"notified,omitempty"`
	NotifiedLate int64  `json:"notified_late,omitempty"`
	Outstanding  int64  `json:"outstanding,omitempty"`
	FiledOn      string `json:"filed_on,omitempty"`
	State        string `json:"state"`
	Overdue      bool   `json:"overdue,omitempty"`
	DaysLeft     int64  `json:"days_left"`
}

// DeadlineTotals counts the outcomes by state; Overdue counts the missed
// ones still outstanding.
type DeadlineTotals struct {
	Met     int64 `json:"met"`
	Missed  int64 `json:"missed"`
	Open    int64 `json:"open"`
	Overdue int64 `json:"overdue"`
}

// maxPlannedDeadlines bounds the deadlines read from one plan_made entry
// (a plan has a few per jurisdiction: about a thousand at most).
const maxPlannedDeadlines = 10000

// deadlineBook collects what the outcomes need from the entries: each
// incident's latest planned deadlines, the filings recorded, and people
// notified per jurisdiction. Its size grows with incidents and
// jurisdictions, never with people.
type deadlineBook struct {
	plans map[int64][]PlannedDeadline
	filed map[filingKey]string // the first sent_on recorded
	// notified and late count, per incident and jurisdiction with an
	// individuals' deadline in the plan, the people notified and those
	// notified after their deadline; planned holds those keys.
	notified, late map[filingKey]int64
	planned        map[filingKey]bool
}

type filingKey struct {
	incident           int64
	jurisdiction, duty string
}

func newDeadlineBook() *deadlineBook {
	return &deadlineBook{plans: map[int64][]PlannedDeadline{}, filed: map[filingKey]string{},
		notified: map[filingKey]int64{}, late: map[filingKey]int64{}}
}

// add reads the plan_made and regulator_notified entries.
func (b *deadlineBook) add(e *Entry) {
	switch e.Kind {
	case KindPlanMade:
		var plan struct {
			Deadlines []PlannedDeadline `json:"deadlines"`
		}
		if json.Unmarshal(e.Detail, &plan) != nil {
			plan.Deadlines = nil
		}
		var keep []PlannedDeadline
		for _, d := range plan.Deadlines {
			if len(keep) == maxPlannedDeadlines {
				break
			}
			if _, err := time.Parse(time.DateOnly, d.Due); err == nil && d.Jurisdiction != "" && d.Owed >= 0 {
				keep = append(keep, d)
			}
		}
		b.plans[e.Incident] = keep
	case KindRegulatorNotified:
		var f struct {
			Jurisdiction string `json:"jurisdiction"`
			Duty         string `json:"duty"`
			SentOn       string `json:"sent_on"`
		}
		if json.Unmarshal(e.Detail, &f) != nil || f.SentOn == "" {
			return
		}
		k := filingKey{e.Incident, f.Jurisdiction, f.Duty}
		if _, ok := b.filed[k]; !ok {
			b.filed[k] = f.SentOn
		}
	}
}

// person counts one person of an incident and jurisdiction, notified (or
// not) and late (or not).
//
// It is called once every entry has been added (the plans are final), and
// counts only the jurisdictions a plan has an individuals' deadline for,
// so its maps grow with the plans, not with what the entries name.
func (b *deadlineBook) person(incident int64, jurisdiction string, notified, late bool) {
	if !notified || jurisdiction == "" {
		return
	}
	if b.planned == nil {
		b.planned = map[filingKey]bool{}
		for inc, plan := range b.plans {
			for _, d := range plan {
				if d.Duty == DutyIndividuals {
					b.planned[filingKey{inc, d.Jurisdiction, DutyIndividuals}] = true
				}
			}
		}
	}
	k := filingKey{incident, jurisdiction, DutyIndividuals}
	if !b.planned[k] {
		return
	}
	b.notified[k]++
	if late {
		b.late[k]++
	}
}

// outcomes returns every planned deadline's outcome as of asOf, by due
// date, incident, jurisdiction and duty, and their totals.
func (b *deadlineBook) outcomes(asOf time.Time) ([]DeadlineOutcome, DeadlineTotals) {
	today := asOf.UTC().Format(time.DateOnly)
	day0, _ := time.Parse(time.DateOnly, today)
	out := []DeadlineOutcome{}
	var tot DeadlineTotals
	for inc, plan := range b.plans {
		for _, d := range plan {
			o := DeadlineOutcome{Incident: inc, Jurisdiction: d.Jurisdiction, Duty: d.Duty, Due: d.Due}
			due, _ := time.Parse(time.DateOnly, d.Due)
			o.DaysLeft = int64(due.Sub(day0).Hours() / 24)
			var done, late bool
			switch d.Duty {
			case DutyIndividuals:
				k := filingKey{inc, d.Jurisdiction, DutyIndividuals}
				o.Owed, o.Notified, o.NotifiedLate = d.Owed, b.notified[k], b.late[k]
				o.Outstanding = max(0, o.Owed-o.Notified)
				done, late = o.Outstanding == 0, o.NotifiedLate > 0
			default:
				duty := d.Duty
				if duty == DutyRegulatorFirst {
					duty = DutyRegulator
				}
				o.FiledOn = b.filed[filingKey{inc, d.Jurisdiction, duty}]
				done, late = o.FiledOn != "", o.FiledOn > d.Due
			}
			switch {
			case done && !late:
				o.State = OutcomeMet
				tot.Met++
			case late || d.Due < today:
				o.State = OutcomeMissed
				o.Overdue = !done
				tot.Missed++
				if o.Overdue {
					tot.Overdue++
				}
			default:
				o.State = OutcomeOpen
				tot.Open++
			}
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Due != b.Due {
			return a.Due < b.Due
		}
		if a.Incident != b.Incident {
			return a.Incident < b.Incident
		}
		if a.Jurisdiction != b.Jurisdiction {
			return a.Jurisdiction < b.Jurisdiction
		}
		return a.Duty < b.Duty
	})
	return out, tot
}

// legacy clears what summaries did not count before they had the keys
// missing from has (summaryKeys), to compare with such a summary.
func (c *Counts) legacy(has map[string]bool) {
	if !has["substitute_cases"] {
		c.SubstituteCases = nil
	}
	if !has["deadline_outcomes"] {
		c.DeadlineOutcomes, c.DeadlineTotals = nil, DeadlineTotals{}
		p := &c.People
		p.NotifiedByEmail, p.NotifiedByLetter, p.LettersUnmailed, p.EmailsPending, p.NoNoticeYet = 0, 0, 0, 0, 0
	}
}
