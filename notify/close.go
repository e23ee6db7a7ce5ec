package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// OutstandingWork lists what an incident still owes on the day of now, one
// line each, for incident close to refuse on: people owed notice not yet
// notified, deadlines passed with work outstanding, filings with
// regulators and credit bureaus the plan owes and regulators sent has not
// recorded (overdue or not, with a due date or without), letters queued
// or exported but not confirmed mailed, and email notices not final. The
// website posting is the banner package's (banner.OutstandingPosting).
// The lines hold counts, jurisdictions and dates, never a person: they go
// into the audit log and the ledger.
//
// An incident with no plan owes nothing yet (nothing was decided): the
// list is empty.
func OutstandingWork(ctx context.Context, st *incident.Store, id int64, now time.Time) ([]string, error) {
	pr, err := FindProgress(ctx, st, id, now, DefaultWarnDays)
	if errors.Is(err, incident.ErrNotFound) {
		if _, err := st.FindIncidentByID(ctx, id); err != nil {
			return nil, err // no such incident, rather than no plan
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var work []string
	if pr.Outstanding > 0 {
		line := fmt.Sprintf("%d of %d people owed notice not yet notified (no email sent, no letter mailed)", pr.Outstanding, pr.Owed)
		if pr.Substitute > 0 {
			line += fmt.Sprintf("; %d of them are substitute-notice cases (incident substitute %d)", pr.Substitute, id)
		}
		work = append(work, line)
	}
	for _, d := range pr.Deadlines {
		filing := d.Duty != "individuals" && d.State != DeadlineMet && d.State != DeadlineLate
		if d.State != DeadlineOverdue && !filing {
			continue
		}
		switch {
		case d.Duty == "individuals":
			work = append(work, fmt.Sprintf("deadline overdue: %s notice to individuals was due %s (%d people outstanding)", d.Jurisdiction, d.Due, d.Outstanding))
		case d.State == DeadlineOverdue && d.Duty == "regulator":
			work = append(work, fmt.Sprintf("deadline passed: %s filing with %s was due %s (%s)", d.Jurisdiction, d.To, d.Due, d.Note))
		case d.State == DeadlineOverdue:
			work = append(work, fmt.Sprintf("deadline passed: %s notice to the consumer reporting agencies was due %s (%s)", d.Jurisdiction, d.Due, d.Note))
		case d.Duty == "regulator":
			work = append(work, fmt.Sprintf("filing not recorded as sent: %s filing with %s, due %s (regulators sent %d %s records it)", d.Jurisdiction, d.To, d.Due, id, d.Jurisdiction))
		default:
			work = append(work, fmt.Sprintf("filing not recorded as sent: %s notice to the consumer reporting agencies, due %s (regulators sent %d %s --duty credit_bureaus records it)", d.Jurisdiction, d.Due, id, d.Jurisdiction))
		}
	}
	undated, err := undatedFilings(ctx, st, id)
	if err != nil {
		return nil, err
	}
	work = append(work, undated...)
	counts, err := FindNoticeCounts(ctx, st, id)
	if err != nil {
		return nil, err
	}
	letters := counts[ChannelLetter]
	if n := letters[StateQueued] + letters[StateExported]; n > 0 {
		work = append(work, fmt.Sprintf("%d letters not confirmed mailed (%d queued, %d exported): letters export %d, then letters confirm FILE",
			n, letters[StateQueued], letters[StateExported], id))
	}
	emails := counts[ChannelEmail]
	if n := emails[StatePending] + emails[StateSending] + emails[StateDeferred]; n > 0 {
		work = append(work, fmt.Sprintf("%d email notices not final (%d pending, %d sending, %d deferred): incident send %d",
			n, emails[StatePending], emails[StateSending], emails[StateDeferred], id))
	}
	return work, nil
}

// undatedFilings lists the filings with regulators and credit bureaus the
// plan owes without a due date (FindProgress lists only dated ones) that
// regulators sent has not recorded.
func undatedFilings(ctx context.Context, st *incident.Store, id int64) ([]string, error) {
	p, err := FindPlan(ctx, st, id)
	if err != nil {
		return nil, err
	}
	filed, err := sentFilings(ctx, st.DB(), id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ob := range p.Jurisdictions {
		if ob.Regulator.Required && ob.Regulator.Due.IsZero() && filed[ob.Jurisdiction+"/regulator"] == "" {
			out = append(out, fmt.Sprintf("filing not recorded as sent: %s filing with %s (no due date; regulators sent %d %s records it)",
				ob.Jurisdiction, ob.Regulator.Name, id, ob.Jurisdiction))
		}
		if ob.CRA.Required && ob.CRA.Due.IsZero() && filed[ob.Jurisdiction+"/credit_bureaus"] == "" {
			out = append(out, fmt.Sprintf("filing not recorded as sent: %s notice to the consumer reporting agencies (no due date; regulators sent %d %s --duty credit_bureaus records it)",
				ob.Jurisdiction, id, ob.Jurisdiction))
		}
	}
	return out, nil
}
