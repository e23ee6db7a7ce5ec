package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/banner"
)

func (a *app) cmdBanner(ctx context.Context, args []string) error {
	switch args[0] {
	case "publish":
		return a.bannerPublish(ctx, args[1:])
	case "withdraw":
		return a.bannerWithdraw(ctx, args[1:])
	case "list":
		return a.bannerList(ctx, args[1:])
	case "expire":
		return a.bannerExpire(ctx, args[1:])
	}
	return usagef("banner: unknown sub-command %q (publish, withdraw, list, expire)", args[0])
}

// bannerExpire withdraws the banners whose last day and required posting
// are over: the job the scheduler runs hourly.
func (a *app) bannerExpire(ctx context.Context, args []string) error {
	fs := a.flags("banner expire")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	n, err := banner.Expire(ctx, st, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "expired %d banners (last day and required posting over)\n", n)
	return nil
}

// bannerPublish publishes an incident's banner, or updates a published
// one.
func (a *app) bannerPublish(ctx context.Context, args []string) error {
	fs := a.flags("banner publish")
	headline := fs.String("headline", "", "the banner's headline (default: the incident's title)")
	summaryFile := fs.String("summary-file", "", "file holding the banner's summary, plain text (default: a plain-language summary in each catalogue language)")
	until := fs.String("until", "", "last day the banner is shown, `YYYY-MM-DD` (never earlier than the posting the plan requires)")
	publicURL := fs.String("public-url", "", "base `URL` of the server the banner links to, e.g. https://notices.example.org (env BREACHNOTICE_PUBLIC_URL; default: a link by path, resolved against banner.js's origin)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("banner publish", pos)
	if err != nil {
		return err
	}
	opt := banner.PublishOptions{Headline: *headline, PublicURL: *publicURL}
	if opt.PublicURL == "" {
		opt.PublicURL = a.getenv("BREACHNOTICE_PUBLIC_URL")
	}
	if *summaryFile != "" {
		b, err := os.ReadFile(*summaryFile)
		if err != nil {
			return fmt.Errorf("--summary-file: %w", err)
		}
		opt.Summary = string(b)
	}
	if *until != "" {
		d, err := incident.ParseDate(*until)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		opt.Until = d
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := banner.Publish(ctx, st, id, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	b := res.Banner
	switch res.Kind {
	case "":
		fmt.Fprintf(a.stdout, "incident %d: banner unchanged (revision %d)\n", id, b.Revision)
	default:
		fmt.Fprintf(a.stdout, "incident %d: %s (revision %d), ledger entry in %s's log\n", id, res.Kind, b.Revision, b.Controller)
	}
	fmt.Fprintf(a.stdout, "notice page: %s\n", b.Link)
	if b.RequiredDays > 0 {
		fmt.Fprintf(a.stdout, "posting: %d days required by %s, until %s\n", b.RequiredDays, b.RequiredBy, b.RequiredUntil().Format(time.RFC3339))
	} else {
		fmt.Fprintln(a.stdout, "posting: no minimum required by the plan")
	}
	if !b.Until.IsZero() {
		fmt.Fprintf(a.stdout, "shown through %s\n", b.Until)
	}
	fmt.Fprintf(a.stdout, "embed: <script src=\"%s/banner.js\" data-controller=\"%s\" defer></script>\n", publicBase(opt.PublicURL), b.Controller)
	return nil
}

// publicBase is the server's base URL for the embedding line.
func publicBase(u string) string {
	if u == "" {
		return "http://" + defaultAddr
	}
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	return u
}

// bannerWithdraw takes an incident's banner off the homepage.
func (a *app) bannerWithdraw(ctx context.Context, args []string) error {
	fs := a.flags("banner withdraw")
	force := fs.Bool("force", false, "withdraw before the posting the plan requires has ended (needs --reason)")
	reason := fs.String("reason", "", "why the banner is withdrawn (recorded in the ledger)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("banner withdraw", pos)
	if err != nil {
		return err
	}
	if *force && *reason == "" {
		return usagef("banner withdraw: --force needs --reason")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := banner.Withdraw(ctx, st, id, banner.WithdrawOptions{Force: *force, Reason: *reason})
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	b := res.Banner
	how := "withdrawn"
	if b.Forced {
		how = fmt.Sprintf("withdrawn early, forced (%d days required by %s, until %s)", b.RequiredDays, b.RequiredBy, b.RequiredUntil().Format(time.RFC3339))
	}
	fmt.Fprintf(a.stdout, "incident %d: banner %s; the notice page stays at %s, marked withdrawn\n", id, how, b.Link)
	return nil
}

// bannerList lists the banners and where each stands.
func (a *app) bannerList(ctx context.Context, args []string) error {
	fs := a.flags("banner list")
	controller := fs.String("controller", "", "only this controller's banners")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	bs, err := banner.FindBanners(ctx, st.DB(), *controller)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	if *asJSON {
		type row struct {
			*banner.Banner
			State         string    `json:"state"`
			RequiredUntil time.Time `json:"required_until"`
		}
		out := make([]row, 0, len(bs))
		for _, b := range bs {
			out = append(out, row{b, b.State(now), b.RequiredUntil()})
		}
		return a.printJSON(out)
	}
	if len(bs) == 0 {
		fmt.Fprintln(a.stdout, "no banners")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tCONTROLLER\tSTATE\tSINCE\tREQUIRED UNTIL\tBY\tUNTIL\tHEADLINE")
	for _, b := range bs {
		req, until := "-", "-"
		if b.RequiredDays > 0 {
			req = b.RequiredUntil().Format(time.DateOnly)
		}
		if !b.Until.IsZero() {
			until = b.Until.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Incident, b.Controller, b.State(now), b.Published.Format(time.DateOnly),
			req, orDash(b.RequiredBy), until, b.Headline)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// demoBanner publishes the demo incident's banner and prints the command
// that serves it.
func (a *app) demoBanner(ctx context.Context, id int64) error {
	res, err := banner.Publish(ctx, a.store, id, banner.PublishOptions{PublicURL: a.getenv("BREACHNOTICE_PUBLIC_URL")})
	if err != nil {
		return fmt.Errorf("demo: banner: %w", err)
	}
	b := res.Banner
	base := publicBase(a.getenv("BREACHNOTICE_PUBLIC_URL"))
	fmt.Fprintf(a.stdout, "==> banner published for incident %d (%d days required by %s); serve it with\n"+
		"      breachnotice --db %s serve\n    then open %s/notices/%s/%d, or embed\n      <script src=\"%s/banner.js\" data-controller=\"%s\" defer></script>\n",
		id, b.RequiredDays, orDash(b.RequiredBy), a.dbPath, base, b.Controller, id, base, b.Controller)
	return nil
}
