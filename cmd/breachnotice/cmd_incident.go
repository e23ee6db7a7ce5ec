package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
)

// incidentCommands are the sub-commands of "incident"; later stages (plan,
// obligations, send) add theirs to this table.
func incidentCommands() map[string]func(a *app, ctx context.Context, args []string) error {
	return map[string]func(a *app, ctx context.Context, args []string) error{
		"open":    (*app).incidentOpen,
		"show":    (*app).incidentShow,
		"list":    (*app).incidentList,
		"scope":   (*app).incidentScope,
		"hold":    (*app).incidentHold,
		"release": (*app).incidentRelease,
		"close":   (*app).incidentClose,
		"update":  (*app).incidentUpdate,
		"preview": (*app).incidentPreview,

		"plan":        (*app).incidentPlan,
		"obligations": (*app).incidentObligations,
		"send":        (*app).incidentSend,
		"substitute":  (*app).incidentSubstitute,
	}
}

func (a *app) cmdIncident(ctx context.Context, args []string) error {
	cmds := incidentCommands()
	if len(args) == 0 {
		return usagef("incident: want one of %s", strings.Join(sortedKeys(cmds), ", "))
	}
	run, ok := cmds[args[0]]
	if !ok {
		return usagef("incident: unknown sub-command %q (want one of %s)", args[0], strings.Join(sortedKeys(cmds), ", "))
	}
	return run(a, ctx, args[1:])
}

func (a *app) incidentOpen(ctx context.Context, args []string) error {
	fs := a.flags("incident open")
	controller := fs.String("controller", "", "id of the controller whose copy was breached")
	title := fs.String("title", "", "short title")
	discovered := fs.String("discovered", "", "discovery date YYYY-MM-DD, or date and time with zone (2026-03-02T14:30:00+01:00): clocks counted in hours run from it, from the start of the day in UTC for a date alone")
	cause := fs.String("cause", "unknown", "how the breach came about: "+causeList()+" (unknown is planned as the stricter reading where the law distinguishes)")
	elements := fs.String("elements", "", "exposed data elements, comma-separated: "+incident.JoinElements(incident.Elements))
	encrypted := fs.Bool("encrypted", false, "the exposed data was encrypted and its key was not taken")
	descFile := fs.String("description-file", "", "file holding what happened (plain text)")
	from := fs.String("occurred-from", "", "first day of the breach YYYY-MM-DD")
	to := fs.String("occurred-to", "", "last day of the breach YYYY-MM-DD")
	var prot incident.Protection
	bindProtectionFlags(fs, &prot)
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("incident open: unexpected argument %q", pos[0])
	}
	if *controller == "" || *title == "" || *discovered == "" || *elements == "" {
		return usagef("incident open: --controller, --title, --discovered and --elements are required")
	}
	n := incident.NewIncident{ControllerID: *controller, Title: *title, Encrypted: *encrypted, Protection: prot}
	if n.Discovered, n.DiscoveredAt, err = incident.ParseDiscovery(*discovered); err != nil {
		return fmt.Errorf("--discovered: %w", err)
	}
	if n.Cause, err = incident.ParseCause(*cause); err != nil {
		return valueError("incident open", "--cause", err)
	}
	for _, d := range []struct {
		flag string
		s    string
		dst  *incident.Date
	}{{"--occurred-from", *from, &n.OccurredFrom}, {"--occurred-to", *to, &n.OccurredTo}} {
		if d.s == "" {
			continue
		}
		if *d.dst, err = incident.ParseDate(d.s); err != nil {
			return fmt.Errorf("%s: %w", d.flag, err)
		}
	}
	if n.Elements, err = incident.ParseElements(*elements); err != nil {
		return valueError("incident open", "--elements", err)
	}
	if *descFile != "" {
		b, err := os.ReadFile(*descFile)
		if err != nil {
			return fmt.Errorf("--description-file: %w", err)
		}
		n.Description = strings.TrimSpace(string(b))
	}
	st, err := a.open(ctx, dbCreate)
	if err != nil {
		return err
	}
	inc, err := st.CreateIncident(ctx, n)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	fmt.Fprintf(a.stdout, "incident %d opened against %s (status %s)\n", inc.ID, inc.ControllerID, inc.Status)
	return nil
}

// incidentID parses the one positional argument of an incident command.
func incidentID(cmd string, pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usagef("%s: want exactly one incident ID", cmd)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%s: %q is not an incident ID", cmd, pos[0])
	}
	return id, nil
}

func (a *app) incidentShow(ctx context.Context, args []string) error {
	fs := a.flags("incident show")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident show", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	inc, err := st.FindIncidentByID(ctx, id)
	if err != nil {
		return err
	}
	counts, err := notify.FindNoticeCounts(ctx, st, id)
	if err != nil {
		return err
	}
	// Progress and deadlines exist once there is a plan.
	progress, err := notify.FindProgress(ctx, st, id, a.now(), notify.DefaultWarnDays)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return err
	}
	var posting *banner.PostingStatus
	if progress != nil {
		if posting, err = banner.Posting(ctx, st, id); err != nil {
			return err
		}
	}
	bounces, err := notify.FindBounceCounts(ctx, st, id)
	if err != nil {
		return err
	}
	relays, err := notify.FindRelayCounts(ctx, st, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(struct {
			*incident.Incident
			Notices  notify.NoticeCounts   `json:"notices,omitempty"`
			Progress *notify.Progress      `json:"progress,omitempty"`
			Posting  *banner.PostingStatus `json:"posting,omitempty"`
			Bounces  map[string]int        `json:"bounces,omitempty"`
			Relays   []notify.RelayCount   `json:"relays,omitempty"`
		}{inc, counts, progress, posting, bounces, relays})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("incident", strconv.FormatInt(inc.ID, 10))
	row("controller", inc.ControllerID)
	row("title", inc.Title)
	row("status", string(inc.Status))
	row("discovered", discoveredText(inc))
	row("cause", string(inc.Cause))
	if !inc.OccurredFrom.IsZero() || !inc.OccurredTo.IsZero() {
		row("occurred", inc.OccurredFrom.String()+" to "+inc.OccurredTo.String())
	}
	row("elements", incident.JoinElements(inc.Elements))
	row("encrypted", fmt.Sprint(inc.Encrypted))
	if inc.Protection != nil {
		row("protection offer", offerText(inc.Protection))
	}
	if inc.Hold != nil {
		row("hold", fmt.Sprintf("since %s: %s", inc.Hold.Since.Format("2006-01-02 15:04 MST"), inc.Hold.Reason))
	}
	row("scope", inc.Scope)
	row("affected", strconv.FormatInt(inc.Affected, 10))
	for _, ch := range sortedKeys(counts) {
		var parts []string
		for _, state := range sortedKeys(counts[ch]) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[ch][state], state))
		}
		row("notices ("+ch+")", strings.Join(parts, ", "))
	}
	if len(bounces) > 0 {
		var parts []string
		for _, o := range sortedKeys(bounces) {
			parts = append(parts, fmt.Sprintf("%d %s", bounces[o], strings.ReplaceAll(o, "_", " ")))
		}
		row("bounces", strings.Join(parts, ", "))
	}
	for _, r := range relays {
		row("relay "+r.Relay, fmt.Sprintf("%d sent, %d deferred, %d failed", r.Sent, r.Deferred, r.Failed))
	}
	if progress != nil {
		row("people", peopleText(progress, inc.ID))
	}
	if posting != nil {
		row("website posting", posting.String())
	}
	if inc.Description != "" {
		row("description", strings.ReplaceAll(inc.Description, "\n", "\n\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if progress != nil {
		return printDeadlines(a.stdout, progress)
	}
	return nil
}

func (a *app) incidentList(ctx context.Context, args []string) error {
	fs := a.flags("incident list")
	asJSON := fs.Bool("json", false, "print as JSON")
	controller := fs.String("controller", "", "only this controller's incidents")
	status := fs.String("status", "", "only incidents with this status")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	incs, err := st.FindIncidents(ctx, incident.IncidentFilter{Controller: *controller, Status: incident.Status(*status)})
	if err != nil {
		return err
	}
	if *asJSON {
		if incs == nil {
			incs = []*incident.Incident{}
		}
		return a.printJSON(incs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCONTROLLER\tSTATUS\tDISCOVERED\tAFFECTED\tHOLD\tTITLE")
	for _, inc := range incs {
		hold := ""
		if inc.Hold != nil {
			hold = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", inc.ID, inc.ControllerID, inc.Status, inc.Discovered, inc.Affected, hold, inc.Title)
	}
	return tw.Flush()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func (a *app) incidentScope(ctx context.Context, args []string) error {
	fs := a.flags("incident scope")
	all := fs.Bool("all", false, "every account of the incident's copy")
	var courses stringList
	fs.Var(&courses, "course", "accounts enrolled in this course (repeatable)")
	accountsFile := fs.String("accounts-file", "", "file of account ids, one per line")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident scope", pos)
	if err != nil {
		return err
	}
	rule := incident.ScopeRule{All: *all, Courses: courses}
	if *accountsFile != "" {
		f, err := os.Open(*accountsFile)
		if err != nil {
			return fmt.Errorf("--accounts-file: %w", err)
		}
		defer f.Close()
		rule.Accounts, rule.AccountsFile = f, *accountsFile
	}
	n := 0
	for _, b := range []bool{*all, len(courses) > 0, *accountsFile != ""} {
		if b {
			n++
		}
	}
	if n != 1 {
		return usagef("incident scope: give exactly one of --all, --course C or --accounts-file F")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := st.ScopeIncident(ctx, id, rule, func(p incident.Problem) { fmt.Fprintln(a.stderr, p) })
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdout, "incident %d scoped (%s): %d affected", id, res.Rule, res.Affected)
	if res.NotInCopy > 0 {
		fmt.Fprintf(a.stdout, "; %d ids not in the copy (listed above)", res.NotInCopy)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) incidentHold(ctx context.Context, args []string) error {
	fs := a.flags("incident hold")
	reason := fs.String("reason", "", "why law enforcement asked to delay notice")
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident hold", pos)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("incident hold: --reason is required")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	inc, err := st.HoldIncident(ctx, id, *reason)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	fmt.Fprintf(a.stdout, "incident %d on hold: sending waits; deadlines are still tracked\n", id)
	return nil
}

func (a *app) incidentRelease(ctx context.Context, args []string) error {
	return a.incidentSimple(ctx, "release", args, func(st *incident.Store, id int64) (*incident.Incident, error) {
		return st.ReleaseIncident(ctx, id)
	}, "incident %d released from hold\n")
}

// incidentClose closes an incident, refusing while work is outstanding
// (outstandingWork) unless --force --reason says why. An incident
// never planned owed nothing yet and closes as it is.
func (a *app) incidentClose(ctx context.Context, args []string) error {
	fs := a.flags("incident close")
	force := fs.Bool("force", false, "close although work is outstanding (needs --reason)")
	reason := fs.String("reason", "", "with --force: why; kept in the audit log and the ledger, so name no one")
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident close", pos)
	if err != nil {
		return err
	}
	if *force != (strings.TrimSpace(*reason) != "") {
		return usagef("incident close: --force and --reason TEXT go together")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	work, err := outstandingWork(ctx, st, id, a.now())
	if err != nil {
		return err
	}
	for _, w := range work {
		fmt.Fprintf(a.stderr, "breachnotice: incident %d: %s\n", id, w)
	}
	if len(work) > 0 && !*force {
		return fmt.Errorf("incident %d not closed: work outstanding (listed above); to close it anyway: breachnotice incident close %d --force --reason TEXT", id, id)
	}
	inc, err := st.CloseIncident(ctx, id, incident.CloseOptions{Outstanding: work, Force: *force, Reason: *reason})
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	if len(work) > 0 {
		fmt.Fprintf(a.stdout, "incident %d closed by force with work outstanding; the reason is in the audit log and the ledger\n", id)
		return nil
	}
	fmt.Fprintf(a.stdout, "incident %d closed\n", id)
	return nil
}

func (a *app) incidentSimple(ctx context.Context, name string, args []string, do func(*incident.Store, int64) (*incident.Incident, error), msg string) error {
	fs := a.flags("incident " + name)
	asJSON := fs.Bool("json", false, "print the incident as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("incident "+name, pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	inc, err := do(st, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(inc)
	}
	fmt.Fprintf(a.stdout, msg, id)
	return nil
}
