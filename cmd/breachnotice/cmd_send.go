package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/email"
)

// errInterrupted exits 130 after the command said what remains.
var errInterrupted = errors.New("interrupted")

// errFailedNotices exits 3 after incident send said how many emails failed
// for good.
var errFailedNotices = errors.New("failed notices")

// sendFlags are the delivery settings shared by incident send and demo.
type sendFlags struct {
	channel, outbox string
	// smtp is every --smtp relay URL; relays the --relays file.
	smtp                  urlList
	relays                string
	concurrency, attempts int
	rate                  float64
	retryBase, lease      time.Duration
	retryFailed           bool
	// regulatorFirstOff is incident send --regulator-first=false.
	regulatorFirstOff bool
}

func (a *app) bindSendFlags(fs interface {
	Var(flag.Value, string, string)
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}, f *sendFlags) {
	d := notify.DefaultSendOptions()
	fs.StringVar(&f.channel, "channel", d.Channel, "email, letter or all")
	fs.Var(&f.smtp, "smtp", "SMTP relay smtp://user:pass@host:port?tls=none|starttls|implicit[&provider=postmark|mailgun|sendgrid|ses]; give it again for more relays, equal weights (env BREACHNOTICE_SMTP; default: write .eml files to --outbox)")
	fs.StringVar(&f.relays, "relays", "", "relays file: one relay per line, URL [weight=N] [rate=R] [password-env=VAR] [provider=P] (README: several relays)")
	fs.StringVar(&f.outbox, "outbox", "outbox", "folder for .eml files when no SMTP relay is set")
	a.bindDeliveryFlags(fs, f, "")
	fs.BoolVar(&f.retryFailed, "retry-failed", false, "put the emails that failed for good back in the queue first (each audited, with a ledger email_retried entry); a re-send keeps its Message-ID and is flagged possible_duplicate only if an earlier attempt may have been delivered")
}

// bindDeliveryFlags binds the dispatcher's settings, shared by incident
// send and serve (whose sends started from the admin UI or the API, and
// whose --workers-only, use them); per qualifies the connections and the
// rate ("" for a single run).
func (a *app) bindDeliveryFlags(fs interface {
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}, f *sendFlags, per string) {
	d := notify.DefaultSendOptions()
	fs.IntVar(&f.concurrency, "concurrency", d.Concurrency, "SMTP connections"+per)
	fs.Float64Var(&f.rate, "rate", 0, "messages per second"+per+" (0: unlimited)")
	fs.DurationVar(&f.retryBase, "retry-base", d.RetryBase, "first backoff after a temporary failure (doubles per attempt, with jitter)")
	fs.IntVar(&f.attempts, "max-attempts", d.MaxAttempts, "attempts before a temporary failure becomes final")
	fs.DurationVar(&f.lease, "lease", d.Lease, "how long a claimed message may be in flight, unrenewed, before another run re-sends it")
}

// transport picks the SMTP relays, or the outbox when none is configured:
// one relay is used as it is; several (--smtp again, or --relays) go
// through notify.Relays, by weight, with a circuit breaker each.
func (a *app) transport(f *sendFlags) (notify.Transport, string, error) {
	var specs []email.RelaySpec
	for _, u := range f.smtp {
		cfg, err := email.ParseURL(u)
		if err != nil {
			return nil, "", fmt.Errorf("--smtp: %w", err)
		}
		specs = append(specs, email.RelaySpec{Config: cfg, Weight: 1})
	}
	if f.relays != "" {
		file, err := os.Open(f.relays)
		if err != nil {
			return nil, "", fmt.Errorf("--relays: %w", err)
		}
		more, err := email.ParseRelays(f.relays, file, a.getenv)
		file.Close()
		if err != nil {
			return nil, "", err
		}
		specs = append(specs, more...)
	}
	if len(specs) == 0 {
		if u := a.getenv("BREACHNOTICE_SMTP"); u != "" {
			cfg, err := email.ParseURL(u)
			if err != nil {
				return nil, "", fmt.Errorf("BREACHNOTICE_SMTP: %w", err)
			}
			specs = append(specs, email.RelaySpec{Config: cfg, Weight: 1})
		}
	}
	switch {
	case len(specs) == 0:
		return email.NewOutbox(f.outbox), "outbox " + f.outbox, nil
	case len(specs) == 1 && specs[0].Rate == 0:
		return email.NewSMTP(specs[0].Config), "SMTP " + specs[0].Config.String(), nil
	}
	var relays []notify.Relay
	var names []string
	for _, s := range specs {
		tr := email.NewSMTP(s.Config)
		relays = append(relays, notify.Relay{Name: tr.(interface{ Name() string }).Name(), Transport: tr, Weight: s.Weight, Rate: s.Rate})
		names = append(names, fmt.Sprintf("%s (weight %d)", s.Config.String(), s.Weight))
	}
	tr, err := notify.NewRelays(relays, notify.BreakerOptions{})
	if err != nil {
		return nil, "", err
	}
	return tr, "SMTP relays " + strings.Join(names, ", "), nil
}

// urlList is a flag given any number of times.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, " ") }

func (l *urlList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func (a *app) incidentSend(ctx context.Context, args []string) error {
	fs := a.flags("incident send")
	var f sendFlags
	a.bindSendFlags(fs, &f)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	regFirst := fs.Bool("regulator-first", true, "hold the notices of residents whose law wants the regulator told first (Maryland, New Jersey) until regulators sent records it; false sends anyway, recorded in the ledger and audit log")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	f.regulatorFirstOff = !*regFirst
	id, err := incidentID("incident send", pos)
	if err != nil {
		return err
	}
	if err := oneOf("incident send", "--channel", f.channel, "email", "letter", "all"); err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	if err := a.warnBeforeSend(ctx, st, id); err != nil {
		return err
	}
	res, err := a.send(ctx, id, &f)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		switch {
		case res.RetriedMaybeDelivered > 0:
			fmt.Fprintf(a.stdout, "incident %d: put %d failed emails back in the queue (%d may have been delivered already: re-sent with the same Message-ID, flagged possible_duplicate)\n",
				id, res.Retried, res.RetriedMaybeDelivered)
		case res.Retried > 0:
			fmt.Fprintf(a.stdout, "incident %d: put %d failed emails back in the queue (none can have been delivered: re-sent unflagged)\n", id, res.Retried)
		}
		fmt.Fprintf(a.stdout, "incident %d: %d sent, %d failed, %d letters queued, %d possible duplicates flagged\n",
			id, res.Sent, res.Failed, res.LettersQueued, res.Duplicates)
	}
	if len(res.RegulatorFirstWaived) > 0 {
		fmt.Fprintf(a.stderr, "breachnotice: sent before the regulator notice the law wants first (%s): recorded in the ledger (regulator_first_waived)\n",
			strings.Join(res.RegulatorFirstWaived, ", "))
	}
	if len(res.HeldForRegulator) > 0 {
		fmt.Fprintf(a.stderr, "breachnotice: the notices of residents of %s wait for the regulator notice their law wants first (%d emails; letters not queued): "+
			"record it with regulators sent %d JURISDICTION --at DATE (the retry sweep then sends the emails; incident send %d queues the letters), or send anyway with --regulator-first=false\n",
			strings.Join(res.HeldForRegulator, ", "), res.HeldNotices, id, id)
	}
	if res.Interrupted {
		fmt.Fprintf(a.stderr, "breachnotice: interrupted: %d email notices remain; run incident send %d again to finish\n", res.Remaining, id)
		return errInterrupted
	}
	if res.FailedTotal > 0 {
		fmt.Fprintf(a.stderr, "breachnotice: %d email notices of incident %d failed for good (each falls back to a letter where the postal address is complete; incident show %d counts them); incident send %d --retry-failed tries them again\n",
			res.FailedTotal, id, id, id)
		return errFailedNotices
	}
	return nil
}

// send runs the dispatcher with progress on a terminal.
func (a *app) send(ctx context.Context, id int64, f *sendFlags) (notify.SendResult, error) {
	opt := notify.SendOptions{Channel: f.channel, Concurrency: f.concurrency, Rate: f.rate, RetryBase: f.retryBase,
		MaxAttempts: f.attempts, Lease: f.lease, RetryFailed: f.retryFailed, Now: a.now, RegulatorFirstOff: f.regulatorFirstOff}
	if f.channel != "letter" {
		tr, name, err := a.transport(f)
		if err != nil {
			return notify.SendResult{}, err
		}
		opt.Transport = tr
		if isTerminal(a.stderr) {
			fmt.Fprintf(a.stderr, "sending through %s\n", name)
		}
	}
	if isTerminal(a.stderr) {
		opt.Progress = func(p notify.SendProgress) {
			fmt.Fprintf(a.stderr, "\r%d sent, %d deferred, %d failed, %d letters queued   ", p.Sent, p.Deferred, p.Failed, p.LettersQueued)
		}
	}
	res, err := notify.Send(ctx, a.store, id, opt)
	if opt.Progress != nil {
		fmt.Fprintln(a.stderr)
	}
	return res, err
}
