package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// Plan is an incident's stored obligations: per jurisdiction, and totals.
type Plan struct {
	Incident      int64            `json:"incident"`
	Controller    string           `json:"controller"`
	MadeAt        time.Time        `json:"made_at"`
	People        int              `json:"people"`
	Owed          int              `json:"owed"`
	Review        int              `json:"review"`
	Jurisdictions []law.Obligation `json:"jurisdictions"`
}

// variantKey identifies a distinct decision apart from the person. The law
// engine shares its slices between decisions, so the slices' first elements
// identify them; two keys for equal content only cost one more variant row.
type variantKey struct {
	jurisdiction, kind, profile string
	notify, review, unreachable bool
	deadline                    incident.Date
	ch0                         *string
	chn                         int
	r0                          *law.Reason
	rn                          int
}

func keyOf(d *law.Decision) variantKey {
	k := variantKey{jurisdiction: d.Jurisdiction, kind: d.DeadlineKind, profile: d.ContentProfile,
		notify: d.Notify, review: d.Review, unreachable: d.Unreachable, deadline: d.Deadline,
		chn: len(d.Channels), rn: len(d.Reasons)}
	if len(d.Channels) > 0 {
		k.ch0 = &d.Channels[0]
	}
	if len(d.Reasons) > 0 {
		k.r0 = &d.Reasons[0]
	}
	return k
}

// MakePlan decides, for every affected person of a scoped (or already
// planned) incident, what the law owes, and stores the plan, replacing any
// earlier one, in one transaction with its journal entry. Once sending has
// started the plan is fixed: MakePlan refuses a notifying or closed
// incident with the reason (ErrConflict), and FindPlan reads the plan.
//
// The law engine's decision for a person depends only on the residence and
// on the reach flags the scope stored with each affected row
// (incident.Reach*). MakePlan therefore counts the affected set by those
// (a single streaming pass in SQLite), decides once per combination that
// occurs, and stores the combination → decision map: a million people cost
// no per-person rows and no per-person Go work. TestMakePlan_MatchesDecide
// holds this equal to deciding person by person.
func MakePlan(ctx context.Context, st *incident.Store, id int64) (*Plan, error) {
	inc, err := st.FindIncidentFor(ctx, id, incident.ActPlan)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := planRefusal(ctx, st.DB(), inc); err != nil {
		return nil, err
	}
	c, err := st.FindControllerByID(ctx, inc.ControllerID)
	if err != nil {
		return nil, err
	}
	planner := law.NewPlanner(inc, c)
	plan := &Plan{Incident: id, Controller: c.ID, MadeAt: st.Now().UTC()}
	tallies := map[string]*law.Tally{}
	// earliest holds each jurisdiction's earliest personal deadline: a
	// jurisdiction under review has no rule row to take one from.
	earliest := map[string]incident.Date{}
	variants := map[variantKey]int64{}

	var replaces string // the made_at of the plan this one replaces
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		// SetStatus, below, refuses the plan if sending started since the
		// check above.
		err := tx.QueryRowContext(ctx, `SELECT made_at FROM plans WHERE incident_id=?`, id).Scan(&replaces)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("plan incident %d: %w", id, err)
		}
		for _, q := range []string{`DELETE FROM plan_map WHERE incident_id=?`, `DELETE FROM plan_variants WHERE incident_id=?`,
			`DELETE FROM plan_jurisdictions WHERE incident_id=?`, `DELETE FROM plans WHERE incident_id=?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("plan incident %d: clear: %w", id, err)
			}
		}
		type combo struct {
			country, region string
			reach, people   int
		}
		// Count people per combination in one streaming pass; SQLite's GROUP
		// BY would sort the whole set first.
		counts := map[string]*combo{}
		var key []byte
		err = incident.ForEachAffectedPlace(ctx, tx, id, func(country, region []byte, reach int) error {
			key = append(append(append(append(key[:0], country...), 0), region...), 0, byte(reach))
			k := counts[string(key)] // a lookup with a converted key does not allocate
			if k == nil {
				k = &combo{country: string(country), region: string(region), reach: reach}
				counts[string(key)] = k
			}
			k.people++
			return nil
		})
		if err != nil {
			return fmt.Errorf("plan incident %d: count: %w", id, err)
		}
		combos := make([]combo, 0, len(counts))
		for _, k := range counts {
			combos = append(combos, *k)
		}
		sort.Slice(combos, func(i, j int) bool {
			a, b := combos[i], combos[j]
			if a.country != b.country {
				return a.country < b.country
			}
			if a.region != b.region {
				return a.region < b.region
			}
			return a.reach < b.reach
		})

		insVariant, err := tx.PrepareContext(ctx, `INSERT INTO plan_variants(incident_id, variant, jurisdiction, notify,
			channels, deadline, deadline_kind, content_profile, review, unreachable, reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("plan incident %d: %w", id, err)
		}
		defer insVariant.Close()
		insMap, err := tx.PrepareContext(ctx, `INSERT INTO plan_map(incident_id, country, region, reach, variant, people) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("plan incident %d: %w", id, err)
		}
		defer insMap.Close()
		for _, k := range combos {
			a := synthetic(k.country, k.region, k.reach)
			d := planner.Decide(&a)
			key := keyOf(&d)
			v, ok := variants[key]
			if !ok {
				v = int64(len(variants) + 1)
				variants[key] = v
				reasons, err := json.Marshal(d.Reasons)
				if err != nil {
					return err
				}
				if _, err := insVariant.ExecContext(ctx, id, v, d.Jurisdiction, d.Notify, strings.Join(d.Channels, ","),
					d.Deadline.String(), d.DeadlineKind, d.ContentProfile, d.Review, d.Unreachable, string(reasons)); err != nil {
					return fmt.Errorf("plan incident %d: store variant: %w", id, err)
				}
			}
			if _, err := insMap.ExecContext(ctx, id, k.country, k.region, k.reach, v, k.people); err != nil {
				return fmt.Errorf("plan incident %d: store map: %w", id, err)
			}
			t := tallies[d.Jurisdiction]
			if t == nil {
				t = &law.Tally{}
				tallies[d.Jurisdiction] = t
			}
			var one law.Tally
			one.Add(d)
			t.People += k.people * one.People
			t.Owed += k.people * one.Owed
			t.Email += k.people * one.Email
			t.Letter += k.people * one.Letter
			t.Unreachable += k.people * one.Unreachable
			if e, ok := earliest[d.Jurisdiction]; d.Notify && !d.Deadline.IsZero() && (!ok || d.Deadline.Before(e.Time)) {
				earliest[d.Jurisdiction] = d.Deadline
			}
			plan.People += k.people
			if d.Notify {
				plan.Owed += k.people
			}
			if d.Review {
				plan.Review += k.people
			}
		}
		codes := make([]string, 0, len(tallies))
		for j := range tallies {
			codes = append(codes, j)
		}
		sort.Strings(codes)
		for _, j := range codes {
			ob := law.Summarize(inc, c, j, *tallies[j])
			if ob.Deadline.IsZero() && ob.Tally.Owed > 0 {
				ob.Deadline, ob.DeadlineKind = earliest[j], law.DeadlineStatutory
			}
			b, err := json.Marshal(ob)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO plan_jurisdictions(incident_id, jurisdiction, people, owed, deadline,
				regulator_due, cra_required, review, obligation) VALUES (?,?,?,?,?,?,?,?,?)`,
				id, j, ob.Tally.People, ob.Tally.Owed, ob.Deadline.String(), regulatorDue(ob), ob.CRA.Required, ob.Review, string(b)); err != nil {
				return fmt.Errorf("plan incident %d: store %s: %w", id, j, err)
			}
			plan.Jurisdictions = append(plan.Jurisdictions, ob)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO plans(incident_id, made_at, people, owed, review) VALUES (?,?,?,?,?)`,
			id, plan.MadeAt.Format(time.RFC3339Nano), plan.People, plan.Owed, plan.Review); err != nil {
			return fmt.Errorf("plan incident %d: %w", id, err)
		}
		if _, err := st.SetStatus(ctx, tx, id, incident.StatusPlanned); err != nil {
			return err
		}
		summary := map[string]any{"people": plan.People, "owed": plan.Owed, "review": plan.Review,
			"jurisdictions": len(plan.Jurisdictions), "variants": len(variants)}
		audit := maps.Clone(summary)
		if replaces != "" {
			audit["replaces_plan_made_at"] = replaces
		}
		// The ledger entry also lists the plan's deadlines, so that a proof
		// bundle's summary can say which were met, missed or are open.
		summary["deadlines"] = plannedDeadlines(plan.Jurisdictions)
		if err := st.Audit(ctx, tx, "incident.plan", fmt.Sprintf("incident:%d", id), audit); err != nil {
			return err
		}
		return st.Record(ctx, tx, incident.Event{Controller: c.ID, Kind: incident.EventPlanMade, Incident: id, Detail: summary})
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// planRefusal says why inc cannot be planned now, or returns nil for a
// scoped or planned incident. Once sending has started (notifying, closed)
// notices exist that carry out the stored plan's decisions; a new plan
// could not apply to them, so the refusal counts them.
func planRefusal(ctx context.Context, db *sql.DB, inc *incident.Incident) error {
	switch inc.Status {
	case incident.StatusScoped, incident.StatusPlanned:
		return nil
	case incident.StatusNotifying, incident.StatusClosed:
	default:
		return fmt.Errorf("%w: incident %d is %s: plan needs a scoped incident (run incident scope first)", incident.ErrConflict, inc.ID, inc.Status)
	}
	var notices, delivered int
	err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN state IN (?, ?, ?) THEN 1 ELSE 0 END), 0) FROM notices WHERE incident_id=?`,
		StateSent, StateMailed, StateReturned, inc.ID).Scan(&notices, &delivered)
	if err != nil {
		return fmt.Errorf("plan incident %d: %w", inc.ID, err)
	}
	why := "sending has started, and a plan is fixed once it has"
	switch {
	case delivered > 0:
		why = plural(delivered, "notice") + " already delivered; a new plan cannot apply to them"
	case notices > 0:
		why = plural(notices, "notice") + " already made from its plan (none delivered yet); a new plan cannot apply to them"
	}
	return fmt.Errorf("%w: incident %d is %s: %s", incident.ErrConflict, inc.ID, inc.Status, why)
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func regulatorDue(ob law.Obligation) string {
	if !ob.Regulator.Required {
		return ""
	}
	// A first report (JP's preliminary one, India's CERT-In report) is
	// due before the regulator's main one: track the earliest.
	return ob.Regulator.EarliestDue().String()
}

// requirePlan checks that the actor may see the incident and that it has a
// plan, without reading the plan.
func requirePlan(ctx context.Context, st *incident.Store, id int64) error {
	if _, err := st.FindIncidentByID(ctx, id); err != nil {
		return err
	}
	ok, err := hasPlan(ctx, st, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: incident %d has no plan (run incident plan %d)", incident.ErrNotFound, id, id)
	}
	return nil
}

// hasPlan reports whether the incident has a plan.
func hasPlan(ctx context.Context, st *incident.Store, id int64) (bool, error) {
	var ok bool
	if err := st.DB().QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM plans WHERE incident_id=?)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("plan of incident %d: %w", id, err)
	}
	return ok, nil
}

// FindPlan returns an incident's stored plan.
func FindPlan(ctx context.Context, st *incident.Store, id int64) (*Plan, error) {
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Plan{Incident: id, Controller: inc.ControllerID}
	var made string
	err = st.DB().QueryRowContext(ctx, `SELECT made_at, people, owed, review FROM plans WHERE incident_id=?`, id).
		Scan(&made, &p.People, &p.Owed, &p.Review)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: incident %d has no plan (run incident plan %d)", incident.ErrNotFound, id, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find plan %d: %w", id, err)
	}
	p.MadeAt, _ = time.Parse(time.RFC3339Nano, made)
	rows, err := st.DB().QueryContext(ctx, `SELECT obligation FROM plan_jurisdictions WHERE incident_id=? ORDER BY jurisdiction`, id)
	if err != nil {
		return nil, fmt.Errorf("find plan %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("find plan %d: %w", id, err)
		}
		var ob law.Obligation
		if err := json.Unmarshal(b, &ob); err != nil {
			return nil, fmt.Errorf("find plan %d: %w", id, err)
		}
		p.Jurisdictions = append(p.Jurisdictions, ob)
	}
	return p, rows.Err()
}

// ForEachDecision streams an incident's stored per-person decisions in
// account-id order. The Decision passed to fn is reused between calls.
func ForEachDecision(ctx context.Context, st *incident.Store, id int64, fn func(*law.Decision) error) error {
	return ForEachObligation(ctx, st, id, func(o *PersonObligation) error { return fn(o.Decision) })
}

// PersonObligation is one affected person's decision and, for a person
// owed notice whom no direct channel reaches, when they were recorded as
// unreachable (the unreachable row and its notice_unreachable ledger
// entry, written when sending starts); nil before.
type PersonObligation struct {
	*law.Decision
	UnreachableRecordedAt *time.Time `json:"unreachable_recorded_at,omitempty"`
}

// ForEachObligation is ForEachDecision with, for each person, whether and
// when they were recorded as unreachable.
func ForEachObligation(ctx context.Context, st *incident.Store, id int64, fn func(*PersonObligation) error) error {
	if err := requirePlan(ctx, st, id); err != nil {
		return err
	}
	// The variants are few: read them once, then stream the people.
	variants, err := loadVariants(ctx, st, id)
	if err != nil {
		return err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT f.account_id, m.variant, coalesce(u.recorded_at, '') FROM `+incident.AffectedRows+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		LEFT JOIN unreachable u ON u.incident_id = f.incident_id AND u.account_id = f.account_id
		WHERE f.incident_id = ? ORDER BY f.account_id`, id)
	if err != nil {
		return fmt.Errorf("decisions of incident %d: %w", id, err)
	}
	defer rows.Close()
	var d law.Decision
	var o PersonObligation
	var at time.Time
	for rows.Next() {
		var acct, recorded string
		var v int64
		if err := rows.Scan(&acct, &v, &recorded); err != nil {
			return fmt.Errorf("decisions of incident %d: %w", id, err)
		}
		d = variants[v]
		d.AccountID = acct
		o = PersonObligation{Decision: &d}
		if recorded != "" {
			if at, err = time.Parse(time.RFC3339Nano, recorded); err == nil {
				o.UnreachableRecordedAt = &at
			}
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// synthetic builds a person with the given residence and reach flags, to
// ask the planner what everyone with them is owed: law's Planner.Decide
// reads nothing else.
func synthetic(country, region string, reach int) incident.Affected {
	a := incident.Affected{Account: incident.Account{ID: "-", Country: country, Region: region,
		EConsent: reach&incident.ReachConsent != 0, Status: incident.AccountActive, Email: "account@address.invalid"}}
	if reach&incident.ReachRetired != 0 {
		a.Status = incident.AccountRetired
	}
	if reach&incident.ReachEmail != 0 {
		a.NoticeEmail, a.NoticeEmailUsable, a.EmailUsable = "notice@address.invalid", true, true
	}
	if reach&incident.ReachSameAddress != 0 {
		a.Email = a.NoticeEmail
	}
	if reach&incident.ReachPostal != 0 {
		a.PostalLine1, a.City, a.PostalCode = "1 Street", "City", "00000"
	}
	return a
}

// loadVariants reads an incident's plan variants.
func loadVariants(ctx context.Context, st *incident.Store, id int64) (map[int64]law.Decision, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT variant, jurisdiction, notify, channels, deadline, deadline_kind,
		content_profile, review, unreachable, reasons FROM plan_variants WHERE incident_id=?`, id)
	if err != nil {
		return nil, fmt.Errorf("variants of incident %d: %w", id, err)
	}
	defer rows.Close()
	variants := map[int64]law.Decision{}
	for rows.Next() {
		var v int64
		var d law.Decision
		var channels, deadline, reasons string
		if err := rows.Scan(&v, &d.Jurisdiction, &d.Notify, &channels, &deadline, &d.DeadlineKind, &d.ContentProfile,
			&d.Review, &d.Unreachable, &reasons); err != nil {
			return nil, fmt.Errorf("variants of incident %d: %w", id, err)
		}
		d.Channels = []string{}
		if channels != "" {
			d.Channels = strings.Split(channels, ",")
		}
		if deadline != "" {
			d.Deadline, _ = incident.ParseDate(deadline)
		}
		if err := json.Unmarshal([]byte(reasons), &d.Reasons); err != nil {
			return nil, fmt.Errorf("variants of incident %d: variant %d: %w", id, v, err)
		}
		variants[v] = d
	}
	return variants, rows.Err()
}

// PlannedOpenIncidents lists, in id order, the incidents not closed that
// have a plan: those the scheduler's deadline watch and regulator drafts
// look at.
func PlannedOpenIncidents(ctx context.Context, st *incident.Store) ([]int64, error) {
	open, err := incident.IncidentIDs(ctx, st.DB(), incident.IDFilter{Open: true})
	if err != nil {
		return nil, err
	}
	ids := open[:0]
	for _, id := range open {
		ok, err := hasPlan(ctx, st, id)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// plannedDeadlines lists the deadlines of a plan's jurisdictions for its
// plan_made ledger entry: the individuals' notice (with the people owed
// it), the regulator's notice and any first report due before it, and the
// credit bureaus', each with its due day.
func plannedDeadlines(obs []law.Obligation) []ledger.PlannedDeadline {
	out := []ledger.PlannedDeadline{}
	for _, ob := range obs {
		if !ob.Deadline.IsZero() && ob.Tally.Owed > 0 {
			out = append(out, ledger.PlannedDeadline{Jurisdiction: ob.Jurisdiction, Duty: ledger.DutyIndividuals,
				Due: ob.Deadline.String(), Owed: int64(ob.Tally.Owed)})
		}
		if ob.Regulator.Required && !ob.Regulator.Due.IsZero() {
			out = append(out, ledger.PlannedDeadline{Jurisdiction: ob.Jurisdiction, Duty: ledger.DutyRegulator, Due: ob.Regulator.Due.String()})
		}
		if f := ob.Regulator.First; ob.Regulator.Required && f != nil && !f.Due.IsZero() {
			out = append(out, ledger.PlannedDeadline{Jurisdiction: ob.Jurisdiction, Duty: ledger.DutyRegulatorFirst, Due: f.Due.String()})
		}
		if ob.CRA.Required && !ob.CRA.Due.IsZero() {
			out = append(out, ledger.PlannedDeadline{Jurisdiction: ob.Jurisdiction, Duty: ledger.DutyCreditBureaus, Due: ob.CRA.Due.String()})
		}
	}
	return out
}
