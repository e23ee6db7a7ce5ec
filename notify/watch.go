package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// Alert thresholds. A deadline alerts when it comes within the warning
// window (threshold "Nd", N the warn days), again when it is a day away
// ("1d"), and once more when it has passed with work outstanding
// ("missed"); each at most once. A watch that first sees a deadline past
// several thresholds raises only the latest one.
const (
	ThresholdDayAway = "1d"
	ThresholdMissed  = "missed"
)

// DeadlineAlert is one alert the deadline watch raised.
type DeadlineAlert struct {
	Jurisdiction string        `json:"jurisdiction"`
	Duty         string        `json:"duty"`
	Due          incident.Date `json:"due"`
	Threshold    string        `json:"threshold"`
	RaisedAt     time.Time     `json:"raised_at"`
	DaysLeft     int           `json:"days_left"`
	Outstanding  int           `json:"outstanding,omitempty"`
	Emailed      bool          `json:"emailed"`
}

// WatchOptions configure the deadline watch.
type WatchOptions struct {
	// WarnDays is the warning window (default DefaultWarnDays).
	WarnDays int
	// Transport sends the alert emails; nil records the alerts unsent.
	Transport Transport
}

// WatchResult counts what one watch did.
type WatchResult struct {
	Incidents int `json:"incidents"`
	Alerts    int `json:"alerts"`
	Missed    int `json:"missed"`
	Emails    int `json:"emails"`
	// NoContact counts incidents whose controller has no security or
	// contact email: their alerts are recorded and shown, not emailed.
	NoContact int `json:"no_contact"`
}

// thresholdFor says which threshold a deadline daysLeft away has crossed,
// and its rank (0: none).
func thresholdFor(daysLeft, warnDays int) (string, int) {
	switch {
	case daysLeft < 0:
		return ThresholdMissed, 3
	case daysLeft <= 1:
		return ThresholdDayAway, 2
	case daysLeft <= warnDays:
		return strconv.Itoa(warnDays) + "d", 1
	}
	return "", 0
}

func thresholdRank(t string) int {
	switch t {
	case ThresholdMissed:
		return 3
	case ThresholdDayAway:
		return 2
	case "":
		return 0
	}
	return 1
}

// WatchDeadlines is the scheduler's deadline-watch job: for every incident
// not closed that has a plan, every deadline (individuals, regulator,
// credit bureaus) that is within opt.WarnDays with its notices not final,
// or has passed, raises an alert once per threshold crossed: an email to
// the controller's security contact (one per incident and watch, listing
// its new alerts), a deadline_alerts row (shown by incident show) and a
// deadline_alert entry in the controller's ledger, in one transaction
// after the email went out. An incident whose email cannot be sent records
// nothing and is tried again at the next watch; the others go on.
func WatchDeadlines(ctx context.Context, st *incident.Store, now time.Time, opt WatchOptions) (WatchResult, error) {
	if opt.WarnDays <= 0 {
		opt.WarnDays = DefaultWarnDays
	}
	var res WatchResult
	ids, err := PlannedOpenIncidents(ctx, st)
	if err != nil {
		return res, fmt.Errorf("deadline watch: %w", err)
	}
	var errs []error
	for _, id := range ids {
		res.Incidents++
		if err := watchIncident(ctx, st, id, now, opt, &res); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

func watchIncident(ctx context.Context, st *incident.Store, id int64, now time.Time, opt WatchOptions, res *WatchResult) error {
	pr, err := FindProgress(ctx, st, id, now, opt.WarnDays)
	if err != nil {
		return err
	}
	raised := map[string]int{} // jurisdiction/duty/due -> highest rank raised
	for _, a := range pr.Alerts {
		k := a.Jurisdiction + "/" + a.Duty + "/" + a.Due.String()
		raised[k] = max(raised[k], thresholdRank(a.Threshold))
	}
	var fresh []DeadlineAlert
	for _, d := range pr.Deadlines {
		if !d.Attention() {
			continue
		}
		th, rank := thresholdFor(d.DaysLeft, opt.WarnDays)
		if rank == 0 || raised[d.Jurisdiction+"/"+d.Duty+"/"+d.Due.String()] >= rank {
			continue
		}
		fresh = append(fresh, DeadlineAlert{Jurisdiction: d.Jurisdiction, Duty: d.Duty, Due: d.Due, Threshold: th,
			RaisedAt: now.UTC(), DaysLeft: d.DaysLeft, Outstanding: d.Outstanding})
	}
	if len(fresh) == 0 {
		return nil
	}
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return err
	}
	to, err := st.SecurityEmail(ctx, c.ID)
	if err != nil {
		return err
	}
	msgID := ""
	if to == "" {
		res.NoContact++
	} else if opt.Transport != nil {
		m := alertMessage(inc, c, to, fresh, pr)
		// Signed like the controller's notices (sender.go).
		snd, err := loadSender(ctx, st, secretsOf(st), c)
		if err != nil {
			return fmt.Errorf("deadline watch: incident %d: %w", id, err)
		}
		m.DKIM = snd.dkim
		if err := sendOne(ctx, opt.Transport, m); err != nil {
			return fmt.Errorf("deadline watch: incident %d: alert email: %w", id, err)
		}
		msgID = m.MessageID
		res.Emails++
		for i := range fresh {
			fresh[i].Emailed = true
		}
	}
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		var entries []ledger.Entry
		for _, a := range fresh {
			r, err := tx.ExecContext(ctx, `INSERT INTO deadline_alerts(incident_id, jurisdiction, duty, due, threshold, raised_at,
				days_left, outstanding, emailed, message_id) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
				id, a.Jurisdiction, a.Duty, a.Due.String(), a.Threshold, tx.Now.Format(time.RFC3339Nano), a.DaysLeft, a.Outstanding, a.Emailed, msgID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				continue // another watch raised it meanwhile
			}
			detail, _ := json.Marshal(map[string]any{"jurisdiction": a.Jurisdiction, "duty": a.Duty, "due": a.Due.String(),
				"threshold": a.Threshold, "days_left": a.DaysLeft, "outstanding": a.Outstanding, "emailed": a.Emailed, "message_id": msgID})
			entries = append(entries, ledger.Entry{Controller: c.ID, At: tx.Now, Kind: ledger.KindDeadlineAlert, Incident: id, Detail: detail})
		}
		if len(entries) == 0 {
			return nil
		}
		if err := ledger.Append(ctx, tx.Tx, entries...); err != nil {
			return err
		}
		return tx.Audit(ctx, "incident.deadline_alert", fmt.Sprintf("incident:%d", id), map[string]any{"alerts": len(entries)})
	})
	if err != nil {
		return fmt.Errorf("deadline watch: incident %d: %w", id, err)
	}
	for _, a := range fresh {
		res.Alerts++
		if a.Threshold == ThresholdMissed {
			res.Missed++
		}
	}
	return nil
}

// sendOne sends one message over a connection of its own.
func sendOne(ctx context.Context, tr Transport, m *Message) error {
	conn, err := tr.Open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := conn.Send(ctx, m)
	if r.Outcome != Delivered {
		return fmt.Errorf("%s (%d %s)", r.Outcome, r.Code, r.Reply)
	}
	return nil
}

// dutyText names a duty for people.
func dutyText(d DeadlineStatus) string {
	switch d.Duty {
	case "individuals":
		return "notice to individuals"
	case "regulator":
		if d.To != "" {
			return "notice to the regulator (" + d.To + ")"
		}
		return "notice to the regulator"
	case "credit_bureaus":
		return "notice to the consumer reporting agencies"
	}
	return d.Duty
}

// alertMessage is the alert email: what is due or missed, with the counts
// still open. It names no person.
func alertMessage(inc *incident.Incident, c *incident.Controller, to string, alerts []DeadlineAlert, pr *Progress) *Message {
	domain := "breachnotice.invalid"
	if at := strings.LastIndexByte(c.From, '@'); at >= 0 {
		domain = c.From[at+1:]
	}
	h := sha256.New()
	for _, a := range alerts {
		fmt.Fprintf(h, "%s/%s/%s/%s\n", a.Jurisdiction, a.Duty, a.Due, a.Threshold)
	}
	missed := 0
	for _, a := range alerts {
		if a.Threshold == ThresholdMissed {
			missed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Incident %d (%s) of %s has deadlines needing attention as of %s:\n\n", inc.ID, inc.Title, c.Name, pr.AsOf)
	for _, a := range alerts {
		d := DeadlineStatus{Duty: a.Duty}
		for _, x := range pr.Deadlines {
			if x.Jurisdiction == a.Jurisdiction && x.Duty == a.Duty && x.Due == a.Due {
				d = x
			}
		}
		switch a.Threshold {
		case ThresholdMissed:
			fmt.Fprintf(&b, "- MISSED: %s, %s, was due %s (%s ago)", a.Jurisdiction, dutyText(d), a.Due, plural(-a.DaysLeft, "day"))
		default:
			fmt.Fprintf(&b, "- due in %s: %s, %s, due %s", plural(a.DaysLeft, "day"), a.Jurisdiction, dutyText(d), a.Due)
		}
		if a.Duty == "individuals" {
			if a.Outstanding == 1 {
				b.WriteString("; 1 person not yet notified")
			} else {
				fmt.Fprintf(&b, "; %d people not yet notified", a.Outstanding)
			}
		} else {
			b.WriteString("; not recorded as sent (regulators sent records it)")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nAcross the incident: %d people owed notice, %d notified, %d outstanding.\n", pr.Owed, pr.Notified, pr.Outstanding)
	fmt.Fprintf(&b, "\nSee: breachnotice incident show %d\n\nThis alert is recorded in the controller's ledger (deadline_alert); each threshold alerts once.\n", inc.ID)
	subject := fmt.Sprintf("Deadline alert: incident %d: %d deadline(s) need attention", inc.ID, len(alerts))
	if missed > 0 {
		subject = fmt.Sprintf("Deadline MISSED: incident %d: %d deadline(s) passed with work outstanding", inc.ID, missed)
	}
	return &Message{
		MessageID: fmt.Sprintf("<deadline-alert.incident-%d.%s@%s>", inc.ID, hex.EncodeToString(h.Sum(nil))[:16], domain),
		From:      c.From, FromName: "breachnotice", To: to, Subject: subject, Text: b.String(),
	}
}

// findAlerts returns the alerts raised for an incident, oldest first.
func findAlerts(ctx context.Context, db *sql.DB, id int64) ([]DeadlineAlert, error) {
	rows, err := db.QueryContext(ctx, `SELECT jurisdiction, duty, due, threshold, raised_at, days_left, outstanding, emailed
		FROM deadline_alerts WHERE incident_id = ? ORDER BY raised_at, jurisdiction, duty`, id)
	if err != nil {
		return nil, fmt.Errorf("alerts of incident %d: %w", id, err)
	}
	defer rows.Close()
	var out []DeadlineAlert
	for rows.Next() {
		var a DeadlineAlert
		var due, at string
		if err := rows.Scan(&a.Jurisdiction, &a.Duty, &due, &a.Threshold, &at, &a.DaysLeft, &a.Outstanding, &a.Emailed); err != nil {
			return nil, fmt.Errorf("alerts of incident %d: %w", id, err)
		}
		a.Due, _ = incident.ParseDate(due)
		a.RaisedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, a)
	}
	return out, rows.Err()
}
