package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/templates"
)

// The incident page: its facts, plan, deadlines and delivery, and the
// actions the viewer's role may take.

func (s *server) pageIncident(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, u, incident.ErrNotFound)
		return
	}
	p, err := s.incidentPage(r, u, id)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusOK, templates.AdminIncident(p))
}

func (s *server) incidentPage(r *http.Request, u *incident.User, id int64) (templates.IncidentPage, error) {
	ctx := r.Context()
	v, err := s.incidentView(ctx, id)
	if err != nil {
		return templates.IncidentPage{}, err
	}
	inc := v.Incident
	ids := strconv.FormatInt(id, 10)
	p := templates.IncidentPage{Layout: s.layout(r, u, "Incident "+ids, ""), ID: ids, Controller: inc.ControllerID,
		ControllerHref: "/admin/controllers/" + inc.ControllerID + "/ledger", Title: inc.Title, Status: string(inc.Status),
		Description: inc.Description, Scope: inc.Scope, Affected: strconv.FormatInt(inc.Affected, 10),
		ObligationsHref: "/admin/incidents/" + ids + "/obligations", LedgerHref: "/admin/controllers/" + inc.ControllerID + "/ledger"}
	if p.Scope == "" {
		p.Scope = "not scoped"
	}
	p.Facts = []templates.Fact{{Label: "Discovered", Value: inc.Discovered.String()},
		{Label: "Data exposed", Value: strings.ReplaceAll(incident.JoinElements(inc.Elements), ",", ", ")},
		{Label: "Encrypted", Value: yesNo(inc.Encrypted)}, {Label: "Cause", Value: string(inc.Cause)}}
	if !inc.OccurredFrom.IsZero() || !inc.OccurredTo.IsZero() {
		p.Facts = append(p.Facts, templates.Fact{Label: "Occurred", Value: inc.OccurredFrom.String() + " to " + inc.OccurredTo.String()})
	}
	if inc.Hold != nil {
		p.Hold = fmt.Sprintf("since %s: %s", inc.Hold.Since.UTC().Format("2006-01-02 15:04 UTC"), inc.Hold.Reason)
	}
	a := u.Actor()
	may := func(act incident.Action) bool { return a.Can(act, inc.ControllerID) == nil }
	open := inc.Status != incident.StatusClosed
	p.CanScope = may(incident.ActChange) && (inc.Status == incident.StatusOpen || inc.Status == incident.StatusScoped)
	p.CanPlan = may(incident.ActPlan) && inc.Status.CanMove(incident.StatusPlanned)
	p.CanSend = may(incident.ActSend) && inc.Hold == nil && (inc.Status == incident.StatusPlanned || inc.Status == incident.StatusNotifying)
	if n := v.Notices["email"]["failed"]; p.CanSend && n > 0 {
		p.FailedEmails = strconv.Itoa(n)
	}
	p.CanHold = may(incident.ActChange) && open && inc.Hold == nil
	p.CanRelease = may(incident.ActChange) && inc.Hold != nil

	b, err := banner.FindBanner(ctx, s.app.store.DB(), id)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		p.Banner = "not published"
		p.CanPublish = may(incident.ActBanner) && v.Progress != nil
	case err != nil:
		return p, err
	default:
		p.Banner = bannerState(b, s.app.now())
		p.CanPublish = may(incident.ActBanner) && b.Withdrawn.IsZero()
		p.CanWithdraw = may(incident.ActBanner) && b.Withdrawn.IsZero()
	}
	if v.Send != nil {
		p.Send = sendText(v.Send)
		if v.Send.Running {
			p.Refresh = 3
		}
	}
	if v.Progress != nil {
		plan, err := notify.FindPlan(ctx, s.app.store, id)
		if err != nil {
			return p, err
		}
		p.Planned = true
		p.PlanSummary = fmt.Sprintf("%d people in %d jurisdictions; %d owed notice; %d to review. Planned %s.", plan.People,
			len(plan.Jurisdictions), plan.Owed, plan.Review, plan.MadeAt.UTC().Format("2006-01-02 15:04 UTC"))
		sortBy := r.URL.Query().Get("sort")
		notify.WithProtectionOffers(plan, inc)
		p.Sort, p.Obligations = obligationRows(plan, ids, sortBy)
		pr := v.Progress
		p.Progress = fmt.Sprintf("%d owed, %d notified, %d outstanding, %d owed substitute notice (as of %s).", pr.Owed, pr.Notified,
			pr.Outstanding, pr.Substitute, pr.AsOf)
		for _, d := range pr.Deadlines {
			if d.Duty == "individuals" {
				continue
			}
			p.Duties = append(p.Duties, templates.DutyRow{Jurisdiction: d.Jurisdiction, Duty: strings.ReplaceAll(d.Duty, "_", " "), To: d.To,
				Due: dateOr(d.Due, "-"), State: strings.ReplaceAll(d.State, "_", " "), Note: d.Note})
		}
		p.Timeline = timeline(inc.Discovered, pr, s.app.now())
		for _, a := range pr.Alerts {
			p.Alerts = append(p.Alerts, templates.AlertRow{Raised: a.RaisedAt.UTC().Format("2006-01-02 15:04 UTC"),
				Threshold: alertThreshold(a.Threshold), Due: a.Due.String(), Jurisdiction: a.Jurisdiction,
				Duty: strings.ReplaceAll(a.Duty, "_", " "), Outstanding: alertOutstanding(a), Emailed: yesNo(a.Emailed)})
		}
	}
	p.Delivery, p.Legend = deliveryBars(v.Notices)
	adminBounces(&p, v)
	if p.CanScope {
		p.Courses, err = s.courseOptions(ctx, inc.ControllerID)
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

func dateOr(d incident.Date, or string) string {
	if d.IsZero() {
		return or
	}
	return d.String()
}

func bannerState(b *banner.Banner, now time.Time) string {
	if !b.Withdrawn.IsZero() {
		return "withdrawn " + b.Withdrawn.UTC().Format(time.DateOnly)
	}
	s := fmt.Sprintf("%s since %s (headline %q)", b.State(now), b.Published.UTC().Format(time.DateOnly), b.Headline)
	if b.RequiredDays > 0 {
		s += fmt.Sprintf("; must stay up until %s (%s, %d days)", b.RequiredUntil().UTC().Format(time.DateOnly), b.RequiredBy, b.RequiredDays)
	}
	return s
}

func sendText(r *sendRun) string {
	state := "finished"
	if r.Running {
		state = "running"
	}
	s := fmt.Sprintf("Send %s (started %s by %s): %d sent, %d deferred, %d failed, %d letters queued.", state,
		r.Started.UTC().Format("15:04:05 UTC"), r.By, r.Progress.Sent, r.Progress.Deferred, r.Progress.Failed, r.Progress.LettersQueued)
	if r.Result != nil && !r.Running {
		s = fmt.Sprintf("Send finished (started %s by %s): %d sent, %d failed, %d letters queued, %d possible duplicates flagged.",
			r.Started.UTC().Format("15:04:05 UTC"), r.By, r.Result.Sent, r.Result.Failed, r.Result.LettersQueued, r.Result.Duplicates)
	}
	if r.Error != "" {
		s += " Error: " + r.Error
	}
	return s
}

// obligationColumns are the columns the obligations table sorts by.
var obligationColumns = []struct {
	key, label string
	less       func(a, b law.Obligation) bool
}{
	{"jurisdiction", "jurisdiction", func(a, b law.Obligation) bool { return a.Jurisdiction < b.Jurisdiction }},
	{"people", "people", func(a, b law.Obligation) bool { return a.Tally.People > b.Tally.People }},
	{"owed", "owed", func(a, b law.Obligation) bool { return a.Tally.Owed > b.Tally.Owed }},
	{"deadline", "deadline", func(a, b law.Obligation) bool {
		if a.Deadline.IsZero() != b.Deadline.IsZero() {
			return !a.Deadline.IsZero()
		}
		return a.Deadline.Before(b.Deadline.Time)
	}},
}

func obligationRows(plan *notify.Plan, id, sortBy string) ([]templates.SortLink, []templates.ObligationRow) {
	obs := append([]law.Obligation(nil), plan.Jurisdictions...)
	col := obligationColumns[0]
	for _, c := range obligationColumns {
		if c.key == sortBy {
			col = c
		}
	}
	sort.SliceStable(obs, func(i, j int) bool { return col.less(obs[i], obs[j]) })
	var links []templates.SortLink
	for _, c := range obligationColumns {
		links = append(links, templates.SortLink{Label: c.label, Href: "/admin/incidents/" + id + "?sort=" + url.QueryEscape(c.key) + "#obligations",
			Current: c.key == col.key})
	}
	var rows []templates.ObligationRow
	for _, o := range obs {
		t := o.Tally
		j := o.Jurisdiction
		if o.Name != "" && o.Name != j {
			j += " " + o.Name
		}
		if o.Review {
			j += " (review)"
		}
		row := templates.ObligationRow{Jurisdiction: j, People: strconv.Itoa(t.People), Owed: strconv.Itoa(t.Owed),
			Email: strconv.Itoa(t.Email), Letter: strconv.Itoa(t.Letter), Unreachable: strconv.Itoa(t.Unreachable),
			Deadline: "-", Regulator: "-", CRA: "-", Substitute: "-", Citation: o.Citation}
		if !o.Deadline.IsZero() {
			row.Deadline = o.Deadline.String() + " " + o.DeadlineKind
		}
		if o.Regulator.Required {
			row.Regulator = strings.TrimSpace(dateOr(o.Regulator.Due, "") + " " + o.Regulator.Name)
		}
		if o.CRA.Required {
			row.CRA = "yes " + dateOr(o.CRA.Due, "")
		}
		if o.Substitute.Eligible {
			row.Substitute = "eligible"
			if o.Substitute.MinPostingDays > 0 {
				row.Substitute += fmt.Sprintf(" (post %dd)", o.Substitute.MinPostingDays)
			}
		}
		row.Protection = protectionText(o.Protection)
		rows = append(rows, row)
	}
	return links, rows
}

// timeline places each deadline on a line from the discovery date to the
// latest due date (or today, if later).
func timeline(discovered incident.Date, pr *notify.Progress, now time.Time) templates.Timeline {
	const width, left, right = 640.0, 250.0, 620.0
	var ds []notify.DeadlineStatus
	for _, d := range pr.Deadlines {
		if !d.Due.IsZero() {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return templates.Timeline{}
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Due.Before(ds[j].Due.Time) })
	today := incident.Date{Time: time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)}
	start, end := discovered.Time, ds[len(ds)-1].Due.Time
	if today.After(end) {
		end = today.Time
	}
	if !end.After(start) {
		end = start.AddDate(0, 0, 1)
	}
	x := func(t time.Time) float64 {
		f := float64(t.Sub(start)) / float64(end.Sub(start))
		f = max(0, min(1, f))
		return left + f*(right-left)
	}
	height := 50 + 24*len(ds)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	t := templates.Timeline{Width: f(width), Height: strconv.Itoa(height),
		Axis:       templates.Line{X1: f(left), Y1: "30", X2: f(right), Y2: "30"},
		Today:      templates.Line{X1: f(x(today.Time)), Y1: "18", X2: f(x(today.Time)), Y2: strconv.Itoa(height)},
		TodayLabel: templates.Label{X: f(x(today.Time)), Y: "12", Text: "today " + today.String(), Anchor: "middle"}}
	t.Labels = append(t.Labels, templates.Label{X: f(left), Y: "46", Text: "discovered " + discovered.String(), Anchor: "start"})
	for i, d := range ds {
		y := 66 + 24*i
		name := d.Jurisdiction + " " + strings.ReplaceAll(d.Duty, "_", " ")
		state := strings.ReplaceAll(d.State, "_", " ")
		t.Marks = append(t.Marks, templates.Mark{X: f(x(d.Due.Time)), Y: strconv.Itoa(y - 4), Class: "d-" + d.State,
			Title: fmt.Sprintf("%s due %s: %s", name, d.Due, state)})
		t.Labels = append(t.Labels, templates.Label{X: "0", Y: strconv.Itoa(y), Text: fmt.Sprintf("%s %s (%s)", name, d.Due, state), Anchor: "start"})
	}
	return t
}

// deliveryBars draws each channel's notices as a bar split by state.
func deliveryBars(counts map[string]map[string]int) ([]templates.DeliveryBar, []templates.LegendItem) {
	const left, width = 130.0, 500.0
	known := map[string]bool{"pending": true, "sending": true, "sent": true, "deferred": true, "failed": true, "queued": true,
		"exported": true, "mailed": true, "returned": true, "unprintable": true}
	seen := map[string]bool{}
	var bars []templates.DeliveryBar
	for i, ch := range sortedKeys(counts) {
		total := 0
		for _, n := range counts[ch] {
			total += n
		}
		if total == 0 {
			continue
		}
		y := 10 + 44*i
		b := templates.DeliveryBar{Channel: ch, Total: strconv.Itoa(total), Y: strconv.Itoa(y + 16), LabelY: strconv.Itoa(y + 10)}
		x := left
		for _, state := range sortedKeys(counts[ch]) {
			n := counts[ch][state]
			w := width * float64(n) / float64(total)
			class := "s-" + state
			if !known[state] {
				class = "s-other"
			}
			seen[state] = true
			b.Segments = append(b.Segments, templates.Segment{X: strconv.FormatFloat(x, 'f', 1, 64), Width: strconv.FormatFloat(w, 'f', 1, 64),
				Class: class, Title: fmt.Sprintf("%d %s", n, state)})
			x += w
		}
		bars = append(bars, b)
	}
	var legend []templates.LegendItem
	for _, st := range sortedKeys(seen) {
		class := "s-" + st
		if !known[st] {
			class = "s-other"
		}
		legend = append(legend, templates.LegendItem{Class: class, Label: st})
	}
	return bars, legend
}

// courseOptions lists the courses of a Member controller, for scoping.
func (s *server) courseOptions(ctx context.Context, controller string) ([]templates.Option, error) {
	courses, err := s.app.store.FindCourses(ctx, controller, 500)
	if err != nil {
		return nil, err
	}
	out := make([]templates.Option, 0, len(courses))
	for _, c := range courses {
		out = append(out, templates.Option{Value: c.ID, Label: "enrolled in " + c.Title + " (" + c.ID + ")"})
	}
	return out, nil
}

// postIncident runs an incident action from a form, then shows the page
// again with what happened.
func (s *server) postIncident(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, u, incident.ErrNotFound)
		return
	}
	ctx := r.Context()
	st := s.app.store
	var done string
	switch r.PathValue("action") {
	case "scope":
		rule := incident.ScopeRule{All: true}
		if c := r.PostFormValue("course"); c != "" {
			rule = incident.ScopeRule{Courses: []string{c}}
		}
		err = scopeErr(st.ScopeIncident(ctx, id, rule, func(incident.Problem) {}))
		done = "scoped"
	case "plan":
		_, err = notify.MakePlan(ctx, st, id)
		done = "planned"
	case "send", "retry-failed":
		if err = s.checkSend(ctx, id); err == nil {
			if _, started := s.startSend(ctx, id, r.PathValue("action") == "retry-failed"); started {
				done = "sending"
			} else {
				done = "running"
			}
		}
	case "hold":
		_, err = st.HoldIncident(ctx, id, r.PostFormValue("reason"))
		done = "held"
	case "release":
		_, err = st.ReleaseIncident(ctx, id)
		done = "released"
	case "banner":
		_, err = s.publish(ctx, id, publishRequest{Headline: strings.TrimSpace(r.PostFormValue("headline"))})
		done = "published"
	default:
		err = incident.ErrNotFound
	}
	s.afterAction(w, r, u, id, done, err)
}

// scopeErr drops ScopeIncident's result.
func scopeErr(_ incident.ScopeResult, err error) error { return err }

func (s *server) postWithdraw(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, u, incident.ErrNotFound)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	_, err = banner.Withdraw(r.Context(), s.app.store, id, banner.WithdrawOptions{Force: reason != "", Reason: reason})
	if err == nil {
		s.banners.check(context.Background())
	}
	s.afterAction(w, r, u, id, "withdrawn", err)
}

// afterAction redirects to the incident page after a success; after a
// refusal it shows the page with the reason and the refusal's status (a
// plain 404 for an incident the user may not see).
func (s *server) afterAction(w http.ResponseWriter, r *http.Request, u *incident.User, id int64, done string, err error) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/admin/incidents/%d?done=%s", id, done), http.StatusSeeOther)
		return
	}
	st := httpStatus(err)
	if st == http.StatusNotFound || st == http.StatusInternalServerError {
		s.pageError(w, r, u, err)
		return
	}
	p, perr := s.incidentPage(r, u, id)
	if perr != nil {
		s.pageError(w, r, u, perr)
		return
	}
	p.Flash, p.Error = "", errorText(err)
	s.render(w, r, st, templates.AdminIncident(p))
}

// protectionText is the obligations table's protection cell: the months
// the law owes and the offer arranged (months, by whom), or "-".
func protectionText(pr *law.Protection) string {
	if pr == nil {
		return "-"
	}
	s := fmt.Sprintf("%d mo owed", pr.Months)
	if o := pr.Offer; o != nil {
		by := "the controller (no provider set)"
		if o.Provider != "" {
			by = o.Provider
		}
		s += fmt.Sprintf("; offered %d mo by %s", o.Months, by)
		if o.Short {
			s += " (configured months too short: send refused)"
		}
	}
	return s
}

// adminBounces fills the page's bounces, protection codes and relays from
// the view (the API's), with no address of anyone.
func adminBounces(p *templates.IncidentPage, v *incidentView) {
	if len(v.Bounces) > 0 {
		var parts []string
		for _, o := range sortedKeys(v.Bounces) {
			parts = append(parts, fmt.Sprintf("%d %s", v.Bounces[o], strings.ReplaceAll(o, "_", " ")))
		}
		p.Bounces = strings.Join(parts, ", ") + "."
		for _, b := range v.BounceList {
			p.BounceRows = append(p.BounceRows, templates.BounceRow{Notice: strconv.FormatInt(b.Notice, 10), Status: b.Status,
				Outcome: strings.ReplaceAll(b.Outcome, "_", " "), MatchedBy: b.MatchedBy, Arrived: cmp.Or(b.ArrivedAt, "-"),
				Imported: timeText(b.Imported)})
		}
	}
	if o := v.Offers; o != nil {
		p.Offers = fmt.Sprintf("%d assigned, %d remaining.", o.Assigned, o.Remaining)
	}
	for _, r := range v.Relays {
		p.Relays = append(p.Relays, templates.Fact{Label: r.Relay, Value: fmt.Sprintf("%d sent, %d deferred, %d failed", r.Sent, r.Deferred, r.Failed)})
	}
}

// timeText shows a stored RFC 3339 time to the minute, in UTC.
func timeText(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
