package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/banner"
	"github.com/breachnotice/breachnotice/notify/jobs"
	"github.com/breachnotice/breachnotice/notify/regulator"
)

// jobFlags are the settings of the scheduled jobs, shared by serve and
// jobs run.
type jobFlags struct {
	warnDays int
	smtp     urlList // every --smtp relay (cmd_send.go)
	outbox   string
	relays   string // a relays file (cmd_send.go)
}

func (a *app) bindJobFlags(fs interface {
	Var(flag.Value, string, string)
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
}, f *jobFlags) {
	fs.IntVar(&f.warnDays, "warn-days", notify.DefaultWarnDays, "deadline-watch: alert on deadlines this many days ahead, again 1 day ahead, and when missed")
	fs.Var(&f.smtp, "smtp", "SMTP relay for alerts, the retry sweep, and serve's sends and workers, smtp://user:pass@host:port?tls=...; give it again for more relays (env BREACHNOTICE_SMTP; default: .eml files in --outbox)")
	fs.StringVar(&f.relays, "relays", "", "relays file for alerts, the retry sweep, and serve's sends and workers, as incident send --relays (with --smtp: more relays)")
	fs.StringVar(&f.outbox, "outbox", "outbox", "folder for .eml files when no SMTP relay is set")
}

// jobTable is the one table of scheduled jobs: name, cron spec (UTC) and
// the domain function each runs. serve runs them on their schedules; jobs
// run runs one by hand.
func (a *app) jobTable(f *jobFlags) ([]jobs.Job, error) {
	sf := sendFlags{outbox: f.outbox, relays: f.relays, smtp: f.smtp}
	tr, _, err := a.transport(&sf)
	if err != nil {
		return nil, err
	}
	table := []jobs.Job{
		{Name: "deadline-watch", Spec: "0 * * * *", Summary: "alert the security contact once per deadline and threshold (--warn-days, 1 day, missed)",
			Run: func(ctx context.Context, now time.Time) error {
				res, err := notify.WatchDeadlines(ctx, a.store, now, notify.WatchOptions{WarnDays: f.warnDays, Transport: tr})
				jobs.Note(ctx, "%d incidents watched, %d alerts raised (%d missed), %d emails sent", res.Incidents, res.Alerts, res.Missed, res.Emails)
				if res.NoContact > 0 {
					jobs.Note(ctx, "%d incidents' controllers have no security or contact email: alerts recorded, not emailed", res.NoContact)
				}
				return err
			}},
		{Name: "retry-sweep", Spec: "* * * * *", Summary: "one dispatcher pass: send deferred emails whose retry time has come, take over expired leases",
			Run: func(ctx context.Context, now time.Time) error {
				res, err := notify.Sweep(ctx, a.store, now, notify.SendOptions{Transport: tr})
				if res.Incidents > 0 || err != nil {
					jobs.Note(ctx, "%d incidents swept: %d sent, %d deferred again, %d failed, %d possible duplicates; %d emails not yet final",
						res.Incidents, res.Sent, res.Deferred, res.Failed, res.Duplicates, res.Remaining)
				} else {
					jobs.Note(ctx, "nothing to send")
				}
				return err
			}},
		{Name: "regulator-drafts", Spec: "0 6 * * *", Summary: "draft (text and PDF) each notice owed to a regulator or the credit bureaus and not yet sent",
			Run: func(ctx context.Context, now time.Time) error {
				res, err := regulator.Draft(ctx, a.store, now)
				jobs.Note(ctx, "%d incidents: %d drafts written, %d unchanged, %d already sent", res.Incidents, res.Drafted, res.Unchanged, res.Sent)
				return err
			}},
		{Name: "banner-expiry", Spec: "0 * * * *", Summary: "withdraw banners whose --until has passed and whose legal posting minimum is over",
			Run: func(ctx context.Context, now time.Time) error {
				n, err := banner.Expire(ctx, a.store, now)
				jobs.Note(ctx, "%d banners withdrawn", n)
				return err
			}},
		{Name: "ledger-checkpoint", Spec: "*/10 * * * *", Summary: "sign a checkpoint for each controller whose log grew (also at shutdown)",
			Run: func(ctx context.Context, now time.Time) error {
				cps, err := a.ledger.CheckpointGrown(ctx, a.db)
				for _, cp := range cps {
					jobs.Note(ctx, "%s signed at size %d", cp.Controller, cp.Size)
				}
				if len(cps) == 0 && err == nil {
					jobs.Note(ctx, "no log grew")
				}
				return err
			}},
	}
	for i := range table {
		// Jobs act with full rights, and the audit log names them.
		run, name := table[i].Run, table[i].Name
		table[i].Run = func(ctx context.Context, now time.Time) error {
			return run(incident.WithActor(ctx, incident.Actor{Name: "job " + name, Role: "cli"}), now)
		}
	}
	return table, nil
}

// jobRunner builds the runner over the open database.
func (a *app) jobRunner(f *jobFlags, log *slog.Logger) (*jobs.Runner, error) {
	table, err := a.jobTable(f)
	if err != nil {
		return nil, err
	}
	return jobs.New(a.db, table, jobs.Options{Log: log, Now: a.now})
}

func (a *app) cmdJobs(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("jobs: want list or run")
	}
	switch args[0] {
	case "list":
		return a.jobsList(ctx, args[1:])
	case "run":
		return a.jobsRun(ctx, args[1:])
	}
	return usagef("jobs: unknown sub-command %q (list, run)", args[0])
}

func (a *app) jobsList(ctx context.Context, args []string) error {
	fs := a.flags("jobs list")
	asJSON := fs.Bool("json", false, "print the jobs as JSON")
	var f jobFlags
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if _, err := a.open(ctx, dbReadOnly); err != nil {
		return err
	}
	r, err := a.jobRunner(&f, nil)
	if err != nil {
		return err
	}
	sts, err := r.Statuses(ctx, a.now())
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(sts)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE (UTC)\tLAST RUN\tRESULT\tNEXT RUN")
	for _, s := range sts {
		last, result := "never", "-"
		if s.Last != nil {
			last = s.Last.Started.Format(time.RFC3339) + " (" + s.Last.Trigger + ")"
			result = s.Last.State
			if s.Last.Result != "" {
				result += ": " + short(strings.ReplaceAll(s.Last.Result, "\n", " "), 70)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Spec, last, result, s.Next.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (a *app) jobsRun(ctx context.Context, args []string) error {
	fs := a.flags("jobs run")
	nowFlag := fs.String("now", "", "run as of this `RFC3339` time (replay, tests); default: now")
	asJSON := fs.Bool("json", false, "print the run as JSON")
	var f jobFlags
	a.bindJobFlags(fs, &f)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("jobs run: want exactly one job NAME (see jobs list)")
	}
	clock := a.now()
	if *nowFlag != "" {
		if clock, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usagef("jobs run: --now %q: want an RFC 3339 time like 2026-12-01T09:00:00Z", *nowFlag)
		}
	}
	if _, err := a.open(ctx, dbExisting); err != nil {
		return err
	}
	r, err := a.jobRunner(&f, nil)
	if err != nil {
		return err
	}
	if err := knownJob(r.Jobs(), pos[0]); err != nil {
		return err
	}
	res, err := r.Run(ctx, pos[0], clock)
	if res.Job == "" {
		return err
	}
	if *asJSON {
		if perr := a.printJSON(res); perr != nil {
			return perr
		}
	} else {
		fmt.Fprintf(a.stdout, "%s as of %s: %s", res.Job, res.Clock.Format(time.RFC3339), res.State)
		if res.Result != "" {
			fmt.Fprintf(a.stdout, ": %s", res.Result)
		}
		fmt.Fprintln(a.stdout)
	}
	if err != nil {
		return fmt.Errorf("jobs run %s: %w", res.Job, errSilent)
	}
	return nil
}

// scheduler is serve's runner of the jobs table.
type scheduler struct {
	app *app
	r   *jobs.Runner
	log *slog.Logger
}

// startJobs starts the jobs table on its schedules in the server process.
func (s *server) startJobs(ctx context.Context) error {
	if s.cfg.Jobs == nil {
		return nil
	}
	r, err := s.app.jobRunner(s.cfg.Jobs, s.log)
	if err != nil {
		return err
	}
	s.jobs = &scheduler{app: s.app, r: r, log: s.log}
	r.Start(ctx)
	s.log.Info("scheduler started", "jobs", len(r.Jobs()))
	return nil
}

// stopJobs stops the scheduler, lets running jobs finish within grace, and
// signs the final ledger checkpoint.
func (s *server) stopJobs(grace time.Duration) {
	if s.jobs == nil {
		return
	}
	s.jobs.r.Stop(grace)
	res, err := s.jobs.r.RunAs(context.Background(), "ledger-checkpoint", s.app.now(), jobs.TriggerShutdown)
	s.log.Info("final ledger checkpoint", "state", res.State, "failed", err != nil)
}

// printAlerts lists the deadline alerts the scheduler raised, if any: the
// mark incident show carries.
func printAlerts(w io.Writer, p *notify.Progress) error {
	if len(p.Alerts) == 0 {
		return nil
	}
	fmt.Fprintln(w, "deadline alerts raised by the scheduler:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  RAISED\tTHRESHOLD\tDUE\tJURISDICTION\tDUTY\tOUTSTANDING\tEMAILED")
	for _, a := range p.Alerts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%v\n", a.RaisedAt.Format(time.RFC3339), alertThreshold(a.Threshold), a.Due,
			a.Jurisdiction, a.Duty, alertOutstanding(a), a.Emailed)
	}
	return tw.Flush()
}

// alertThreshold says in words which threshold a deadline alert crossed,
// for incident show and the admin incident page alike.
func alertThreshold(th string) string {
	switch th {
	case notify.ThresholdMissed:
		return th
	case notify.ThresholdDayAway:
		return "due within 1 day"
	default:
		return "due within " + strings.TrimSuffix(th, "d") + " days"
	}
}

// alertOutstanding is the number of people an individuals' alert still
// counted as not notified, "-" for other duties.
func alertOutstanding(a notify.DeadlineAlert) string {
	if a.Duty != "individuals" {
		return "-"
	}
	return strconv.Itoa(a.Outstanding) + " people"
}
