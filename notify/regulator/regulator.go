// Package regulator drafts the notices an incident owes regulators and the
// consumer reporting agencies, and records them as sent.
//
// The plan says, per jurisdiction, whether a regulator (an attorney
// general, a supervisory authority) or the nationwide credit bureaus must
// be told, by when and how (law.Obligation's Regulator and CRA, from the
// rules table). Draft, the scheduler's regulator-drafts job, writes for
// each such duty a draft in text and PDF with what the recipient asks for:
// counts of residents affected and notified, the dates, what happened,
// the sample notice residents get, where and how to submit, and the due
// date. A draft is rewritten while the counts change and frozen once the
// filing is recorded as sent (MarkSent, regulators sent), which writes a
// regulator_notified ledger entry, ends the deadline's alerts and releases
// the residents' notices a regulator-first law held (notify.RegulatorFirst).
package regulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/go-pdf/fpdf"
)

// Duties.
const (
	DutyRegulator     = "regulator"
	DutyCreditBureaus = "credit_bureaus"
)

// Filing is one notice owed to a regulator or the credit bureaus.
type Filing struct {
	Incident     int64         `json:"incident"`
	Jurisdiction string        `json:"jurisdiction"`
	Name         string        `json:"jurisdiction_name"`
	Duty         string        `json:"duty"`
	Recipient    string        `json:"recipient"`
	Due          incident.Date `json:"due"`
	DueText      string        `json:"due_text,omitempty"`
	Submission   string        `json:"submission,omitempty"`
	Citation     string        `json:"citation,omitempty"`
	// First says the law wants it before the residents are notified.
	First     bool          `json:"before_individuals,omitempty"`
	Affected  int           `json:"affected"`
	Owed      int           `json:"owed"`
	Notified  int           `json:"notified"`
	DraftedAt time.Time     `json:"drafted_at,omitzero"`
	SHA256    string        `json:"draft_sha256,omitempty"`
	SentOn    incident.Date `json:"sent_on"`
	Ref       string        `json:"ref,omitempty"`
	Waived    bool          `json:"regulator_first_waived,omitempty"`
}

// Duties returns the filings a planned incident owes, one per
// jurisdiction and duty whose threshold is met, with what is recorded of
// each, sorted by due date.
func Duties(ctx context.Context, st *incident.Store, id int64) ([]Filing, error) {
	p, err := notify.FindPlan(ctx, st, id)
	if err != nil {
		return nil, err
	}
	notified, err := notifiedBy(ctx, st.DB(), id)
	if err != nil {
		return nil, err
	}
	var out []Filing
	for _, ob := range p.Jurisdictions {
		base := Filing{Incident: id, Jurisdiction: ob.Jurisdiction, Name: ob.Name, Citation: ob.Citation,
			Affected: ob.Tally.People, Owed: ob.Tally.Owed, Notified: notified[ob.Jurisdiction]}
		if ob.Regulator.Required {
			f := base
			f.Duty, f.Recipient, f.Due, f.DueText, f.Submission = DutyRegulator, ob.Regulator.Name, ob.Regulator.Due, ob.Regulator.DueText, ob.Regulator.Submission
			f.First = notify.RegulatorFirst(ob)
			out = append(out, f)
		}
		if ob.CRA.Required {
			f := base
			f.Duty, f.Recipient, f.Due, f.DueText = DutyCreditBureaus, "the nationwide consumer reporting agencies (Equifax, Experian, TransUnion)", ob.CRA.Due, ob.CRA.Text
			out = append(out, f)
		}
	}
	for i := range out {
		if err := loadRecord(ctx, st.DB(), &out[i]); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due.Time) {
			return out[i].Due.Before(out[j].Due.Time)
		}
		return out[i].Jurisdiction+out[i].Duty < out[j].Jurisdiction+out[j].Duty
	})
	return out, nil
}

func loadRecord(ctx context.Context, db *sql.DB, f *Filing) error {
	var drafted, sent, waived string
	err := db.QueryRowContext(ctx, `SELECT drafted_at, draft_sha256, sent_on, sent_ref, waived_at FROM regulator_filings
		WHERE incident_id = ? AND jurisdiction = ? AND duty = ?`, f.Incident, f.Jurisdiction, f.Duty).Scan(&drafted, &f.SHA256, &sent, &f.Ref, &waived)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("filing %s %s of incident %d: %w", f.Jurisdiction, f.Duty, f.Incident, err)
	}
	f.DraftedAt, _ = time.Parse(time.RFC3339Nano, drafted)
	if sent != "" {
		f.SentOn, _ = incident.ParseDate(sent)
	}
	f.Waived = waived != ""
	return nil
}

// notifiedBy counts, per jurisdiction, the people notified (an email sent
// or a letter mailed).
func notifiedBy(ctx context.Context, db *sql.DB, id int64) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT j, count(*) FROM (
			SELECT max(v.jurisdiction) AS j FROM notices n
			JOIN plan_variants v ON v.incident_id = n.incident_id AND v.variant = n.variant
			WHERE n.incident_id = ? AND ((n.channel = 'email' AND n.state = 'sent') OR (n.channel = 'letter' AND n.state = 'mailed'))
			GROUP BY n.account_id) x
		GROUP BY j`, id)
	if err != nil {
		return nil, fmt.Errorf("notified of incident %d: %w", id, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var j string
		var n int
		if err := rows.Scan(&j, &n); err != nil {
			return nil, fmt.Errorf("notified of incident %d: %w", id, err)
		}
		out[j] = n
	}
	return out, rows.Err()
}

// DraftResult counts what one drafting run did.
type DraftResult struct {
	Incidents int `json:"incidents"`
	Drafted   int `json:"drafted"`
	Unchanged int `json:"unchanged"`
	Sent      int `json:"already_sent"`
}

// Draft is the scheduler's regulator-drafts job: for every incident not
// closed that has a plan, it (re)writes the draft of every filing owed
// and not yet sent, as of now. A draft whose text is unchanged is left as
// it is, so running it twice writes nothing the second time.
func Draft(ctx context.Context, st *incident.Store, now time.Time) (DraftResult, error) {
	var res DraftResult
	ids, err := notify.PlannedOpenIncidents(ctx, st)
	if err != nil {
		return res, fmt.Errorf("regulator drafts: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := draftIncident(ctx, st, id, now, &res); err != nil {
			errs = append(errs, fmt.Errorf("regulator drafts: incident %d: %w", id, err))
		}
	}
	return res, errors.Join(errs...)
}

func draftIncident(ctx context.Context, st *incident.Store, id int64, now time.Time, res *DraftResult) error {
	fs, err := Duties(ctx, st, id)
	if err != nil || len(fs) == 0 {
		return err
	}
	res.Incidents++
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return err
	}
	samples, err := sampleNotices(ctx, st, id, now)
	if err != nil {
		return err
	}
	return st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		n := 0
		for i := range fs {
			f := &fs[i]
			if !f.SentOn.IsZero() {
				res.Sent++
				continue
			}
			text := draftText(inc, c, f, samples[f.Jurisdiction], tx.Now)
			sum := sha256.Sum256([]byte(text))
			h := hex.EncodeToString(sum[:])
			if h == f.SHA256 {
				res.Unchanged++
				continue
			}
			pdf, err := draftPDF(text, f, tx.Now)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO regulator_filings(incident_id, jurisdiction, duty, recipient, due, drafted_at, draft_text, draft_pdf, draft_sha256)
				VALUES (?,?,?,?,?,?,?,?,?)
				ON CONFLICT (incident_id, jurisdiction, duty) DO UPDATE SET recipient = excluded.recipient, due = excluded.due,
					drafted_at = excluded.drafted_at, draft_text = excluded.draft_text, draft_pdf = excluded.draft_pdf, draft_sha256 = excluded.draft_sha256
				WHERE regulator_filings.sent_on = ''`,
				id, f.Jurisdiction, f.Duty, f.Recipient, f.Due.String(), tx.Now.Format(time.RFC3339Nano), text, pdf, h); err != nil {
				return err
			}
			res.Drafted++
			n++
		}
		if n == 0 {
			return nil
		}
		return tx.Audit(ctx, "incident.regulator_drafts", fmt.Sprintf("incident:%d", id), map[string]any{"drafted": n})
	})
}

// sampleNotices renders, per jurisdiction, the text of the email notice
// its residents get (notify.Preview: a placeholder person, no personal
// data), to attach to the drafts.
func sampleNotices(ctx context.Context, st *incident.Store, id int64, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	err := notify.Preview(ctx, st, id, notify.PreviewOptions{Now: func() time.Time { return now }}, func(s *notify.Sample) error {
		text := ""
		switch {
		case s.Email != nil:
			text = "Subject: " + s.Email.Subject + "\n\n" + s.Email.Text
		case s.Letter:
			text = "(the residents are owed a letter: breachnotice incident preview " + fmt.Sprint(id) + " --out DIR renders it as a PDF)"
		}
		for _, j := range s.Jurisdictions {
			// The sample rendered for the jurisdiction itself wins; else
			// the first one that covers it.
			if _, ok := out[j]; !ok || s.Jurisdiction == j {
				out[j] = text
			}
		}
		return nil
	})
	return out, err
}

// draftText is the draft as text: what the recipient asks for, in the
// order a submission form does.
func draftText(inc *incident.Incident, c *incident.Controller, f *Filing, sample string, now time.Time) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	title := "NOTICE OF A DATA SECURITY BREACH"
	if f.Duty == DutyCreditBureaus {
		title = "NOTICE TO THE CONSUMER REPORTING AGENCIES OF A DATA SECURITY BREACH"
	}
	line("DRAFT: %s", title)
	line("Drafted %s by breachnotice for review before submission.", now.UTC().Format("2006-01-02"))
	line("")
	line("To:          %s (%s, %s)", f.Recipient, f.Name, f.Jurisdiction)
	due := f.Due.String()
	if f.DueText != "" {
		due += " (" + f.DueText + ")"
	}
	line("Due:         %s", due)
	if f.First {
		line("Order:       the law wants this notice BEFORE the residents are notified; their notices wait until it is recorded as sent")
	}
	how := f.Submission
	if how == "" {
		how = "the rules table records no form or address: see the law cited"
	}
	line("Submit:      %s", how)
	line("Law:         %s", f.Citation)
	line("")
	line("FROM")
	line("%s", c.Name)
	if c.Contact.PostalAddress != "" {
		line("%s", strings.ReplaceAll(c.Contact.PostalAddress, "\n", ", "))
	}
	for _, kv := range [][2]string{{"Email", c.Contact.Email}, {"Phone", c.Contact.Phone}, {"Web", c.Contact.Web}, {"DPO", c.Contact.DPO}} {
		if kv[1] != "" {
			line("%s: %s", kv[0], kv[1])
		}
	}
	line("")
	line("THE BREACH")
	line("Incident:    %d, %s", inc.ID, inc.Title)
	line("Discovered:  %s", inc.Discovered)
	if !inc.OccurredFrom.IsZero() || !inc.OccurredTo.IsZero() {
		line("Occurred:    %s to %s", inc.OccurredFrom, inc.OccurredTo)
	}
	names := make([]string, len(inc.Elements))
	for i, e := range inc.Elements {
		names[i] = strings.ReplaceAll(string(e), "_", " ")
	}
	line("Data:        %s", strings.Join(names, ", "))
	enc := "no"
	if inc.Encrypted {
		enc = "yes, and the key was not taken"
	}
	line("Encrypted:   %s", enc)
	if inc.Hold != nil {
		line("Law-enforcement delay: notice held since %s", inc.Hold.Since.UTC().Format("2006-01-02"))
	}
	if inc.Description != "" {
		line("What happened:")
		line("%s", inc.Description)
	}
	line("")
	line("RESIDENTS OF %s", strings.ToUpper(f.Name))
	line("Affected:    %d", f.Affected)
	line("Owed notice: %d", f.Owed)
	line("Notified:    %d as of %s", f.Notified, now.UTC().Format("2006-01-02"))
	if inc.Protection != nil && !inc.Protection.IsZero() {
		line("Identity theft protection offered: %s %s %s", inc.Protection.Provider, inc.Protection.URL, inc.Protection.Phone)
	}
	line("")
	line("SAMPLE NOTICE SENT TO RESIDENTS")
	if sample == "" {
		sample = "(none: no resident of this jurisdiction is owed a direct notice)"
	}
	line("%s", sample)
	return b.String()
}

// draftPDF prints the draft text. Core fonts are cp1252: characters
// outside it print as '?' (the text draft has them all).
func draftPDF(text string, f *Filing, now time.Time) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Draft notice to "+f.Recipient, true)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	first := true
	for _, l := range strings.Split(text, "\n") {
		switch {
		case first:
			pdf.SetFont("Helvetica", "B", 13)
			first = false
		case l != "" && l == strings.ToUpper(l) && !strings.ContainsAny(l, ":()"):
			pdf.SetFont("Helvetica", "B", 10)
		default:
			pdf.SetFont("Helvetica", "", 10)
		}
		pdf.MultiCell(0, 5, tr(l), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("draft pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// FindDraft returns a filing's draft text and PDF; an error wrapping
// incident.ErrNotFound when none was drafted.
func FindDraft(ctx context.Context, st *incident.Store, id int64, jurisdiction, duty string) (string, []byte, error) {
	if _, err := st.FindIncidentByID(ctx, id); err != nil {
		return "", nil, err
	}
	var text string
	var pdf []byte
	err := st.DB().QueryRowContext(ctx, `SELECT draft_text, draft_pdf FROM regulator_filings WHERE incident_id = ? AND jurisdiction = ? AND duty = ? AND drafted_at <> ''`,
		id, jurisdiction, duty).Scan(&text, &pdf)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("%w: no draft for %s %s of incident %d (run jobs run regulator-drafts)", incident.ErrNotFound, jurisdiction, duty, id)
	}
	if err != nil {
		return "", nil, fmt.Errorf("draft %s %s of incident %d: %w", jurisdiction, duty, id, err)
	}
	return text, pdf, nil
}

// MarkSent records a filing as sent on a day (not after today), with the
// recipient's reference: the filing row, a regulator_notified ledger entry
// and an audit row, in one transaction. duty "" means the regulator where
// one is owed, else the credit bureaus. A filing already recorded is
// refused.
func MarkSent(ctx context.Context, st *incident.Store, id int64, jurisdiction, duty string, on incident.Date, ref string, now time.Time) (*Filing, error) {
	if a := incident.ActorFrom(ctx); a.Role == "member" {
		return nil, fmt.Errorf("regulators sent: %w: role %s cannot record filings", incident.ErrForbidden, a.Role)
	}
	fs, err := Duties(ctx, st, id)
	if err != nil {
		return nil, err
	}
	var f *Filing
	var owed []string
	for i := range fs {
		if fs[i].Jurisdiction == jurisdiction && (fs[i].Duty == duty || duty == "" && (f == nil || fs[i].Duty == DutyRegulator)) {
			f = &fs[i]
		}
		owed = append(owed, fs[i].Jurisdiction+" "+fs[i].Duty)
	}
	if f == nil {
		return nil, fmt.Errorf("%w: incident %d owes no %s filing in %s (owed: %s)", incident.ErrNotFound, id, strings.TrimSpace(duty+" "), jurisdiction, strings.Join(owed, ", "))
	}
	today := incident.Date{Time: now.UTC().Truncate(24 * time.Hour)}
	if on.After(today.Time) {
		return nil, fmt.Errorf("%w: --at %s is after today (%s)", incident.ErrInvalid, on, today)
	}
	if !f.SentOn.IsZero() {
		return nil, fmt.Errorf("%w: the %s filing of %s was recorded as sent on %s", incident.ErrConflict, f.Duty, jurisdiction, f.SentOn)
	}
	ref = strings.Join(strings.Fields(ref), " ")
	if len(ref) > 500 {
		return nil, fmt.Errorf("%w: --ref longer than 500 bytes", incident.ErrInvalid)
	}
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	err = st.InTxAt(ctx, now, func(tx *incident.Tx) error {
		// Only a filing not yet recorded is recorded: another MarkSent of
		// it may have committed since Duties read it (a second click, a
		// second process on PostgreSQL).
		r, err := tx.ExecContext(ctx, `INSERT INTO regulator_filings(incident_id, jurisdiction, duty, recipient, due, sent_on, sent_ref)
			VALUES (?,?,?,?,?,?,?)
			ON CONFLICT (incident_id, jurisdiction, duty) DO UPDATE SET sent_on = excluded.sent_on, sent_ref = excluded.sent_ref
			WHERE regulator_filings.sent_on = ''`,
			id, f.Jurisdiction, f.Duty, f.Recipient, f.Due.String(), on.String(), ref)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: the %s filing of %s was recorded as sent meanwhile", incident.ErrConflict, f.Duty, jurisdiction)
		}
		detail, _ := json.Marshal(map[string]any{"jurisdiction": f.Jurisdiction, "duty": f.Duty, "recipient": f.Recipient,
			"due": f.Due.String(), "sent_on": on.String(), "ref": ref, "draft_sha256": f.SHA256, "late": on.After(f.Due.Time)})
		if err := ledger.Append(ctx, tx.Tx, ledger.Entry{Controller: inc.ControllerID, At: tx.Now, Kind: ledger.KindRegulatorNotified,
			Incident: id, Detail: detail}); err != nil {
			return err
		}
		return tx.Audit(ctx, "incident.regulator_notified", fmt.Sprintf("incident:%d", id),
			map[string]any{"jurisdiction": f.Jurisdiction, "duty": f.Duty, "sent_on": on.String()})
	})
	if err != nil {
		return nil, fmt.Errorf("regulators sent: %w", err)
	}
	f.SentOn, f.Ref = on, ref
	return f, nil
}
