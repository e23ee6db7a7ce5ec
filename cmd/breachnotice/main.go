// Command breachnotice turns a security breach into the notices the law
// owes, delivers them, and keeps proof. See README.md for the commands.
//
// main does signals and exit codes only; run does the work and is what the
// tests call.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/migrations"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	err := a.run(ctx, os.Args[1:])
	a.close()
	os.Exit(exitCode(a.stderr, err))
}

// errSilent means the command already told the user what went wrong (for
// example every rejected row of an import) and only the exit status remains.
var errSilent = errors.New("see above")

// usageError is a mistake in the command line. help is the command that
// prints the usage of the command at fault ("breachnotice help" if unset).
type usageError struct{ msg, help string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// errUsagePrinted means --help was asked for and the usage is on stdout:
// run turns it into success, so the command stops without doing anything.
var errUsagePrinted = fmt.Errorf("usage printed: %w", flag.ErrHelp)

// exitCode prints err once and maps it to an exit status: 0 success, 2 a
// command-line mistake, 1 anything else.
func exitCode(stderr io.Writer, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errSilent):
		return 1
	case errors.Is(err, errInterrupted):
		return 130
	case errors.Is(err, errFailedNotices):
		return 3
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		help := ue.help
		if help == "" {
			help = "breachnotice help"
		}
		fmt.Fprintf(stderr, "breachnotice: %v\n(run '%s' for usage)\n", err, help)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "breachnotice: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "breachnotice: %v\n", err)
	return kindExit(err)
}

// kindExit maps the domain's error kinds to exit statuses: 4 for a refusal
// (the actor's role may not), 1 for the rest (not found, invalid, conflict,
// unavailable) and anything else. The web maps the same kinds to HTTP
// statuses in httpStatus.
func kindExit(err error) int {
	if errors.Is(err, incident.ErrForbidden) {
		return 4
	}
	return 1
}

// app is one invocation: its streams, environment, clock and (lazily) the
// database.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	log            *slog.Logger
	// whoami names the OS user running the command, for the audit log.
	whoami func() string

	dbPath string
	db     *sql.DB
	store  *incident.Store
	ledger *ledger.Ledger
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{
		stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now,
		whoami: func() string { return osActor(os.Getuid(), user.LookupId, user.Current) },
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// command is a top-level command: either a group whose sub-commands its
// run dispatches (incident open, incident send, ...) or, without subs, a
// command of its own (audit). The table is what help prints and what a
// mistyped name is checked against; each group's run still owns its
// dispatch, and help_test.go keeps the two in step.
type command struct {
	name    string
	args    string // positional arguments, for a command without subs
	summary string
	subs    []subcommand
	run     func(a *app, ctx context.Context, args []string) error
}

// subcommand documents one sub-command: its positional arguments and one
// line on what it does. Its flags are printed by its own flag set.
type subcommand struct {
	name, args, summary string
}

func commands() []command {
	return []command{
		{name: "demo", summary: "play a whole incident on the embedded defaults (demo data, SQLite file, outbox)", run: (*app).cmdDemo},
		{name: "controllers", summary: "the holders of data copies (the operator and Members)", run: (*app).cmdControllers, subs: []subcommand{
			{"add", "", "add a controller: --id, --name, --from (--member for a Member institution)"},
			{"update", "ID", "change a controller's name, sender address, contact block, policy, DKIM key or bounce domain"},
			{"list", "", "list the controllers"},
			{"show", "ID", "a controller's every field, DKIM selector, ledger key fingerprint, and number of accounts and incidents (--json)"},
			{"dkim-record", "ID", "the DNS TXT record publishing the controller's DKIM key (set by update --dkim-key, --dkim-selector)"},
		}},
		{name: "courses", summary: "the Members' courses", run: (*app).cmdCourses, subs: []subcommand{
			{"import", "FILE", "import courses (CSV or JSONL): course_id,member_id,title"},
		}},
		{name: "accounts", summary: "the learners", run: (*app).cmdAccounts, subs: []subcommand{
			{"import", "FILE", "import learners (CSV or JSONL): id,username,name,email,locale,country,region,postal_*,city,e_consent,status"},
			{"list", "", "list learners, streamed (--controller, --country, --region, --limit, --after for the next page, --json)"},
		}},
		{name: "enrollments", summary: "who is enrolled in which course", run: (*app).cmdEnrollments, subs: []subcommand{
			{"import", "FILE", "import enrollments (CSV or JSONL): account_id,course_id[,email]"},
		}},
		{name: "incident", summary: "a breach of one controller's copy, from opening to sending", run: (*app).cmdIncident, subs: []subcommand{
			{"open", "", "open an incident: --controller, --title, --discovered, --elements (--cause)"},
			{"show", "ID", "an incident's details, hold, scope and notices by channel and state"},
			{"list", "", "list incidents (--controller, --status)"},
			{"scope", "ID", "resolve who is affected: --all, --course C or --accounts-file F"},
			{"plan", "ID", "decide who is owed notice, how and by when; once planned, print the stored plan (--replan recomputes it until sending starts)"},
			{"obligations", "ID", "one JSON line per affected person: the law's decision for them"},
			{"send", "ID", "deliver the notices: emails to the relay or the outbox, letters to the mail-house queue (review them first with incident preview ID: one sample of every content profile and language; warns, and still sends, if protection is owed with no provider set or a language has no catalogue; refuses an offer shorter than the law owes)"},
			{"preview", "ID", "before send: write one sample email (.eml) and letter (.pdf) of every content profile, language and offer the plan sends, to a marked sample person, changing nothing (--out DIR)"},
			{"substitute", "ID", "the people owed notice whom no direct notice reaches (unreachable, email failed, letter unprintable or returned)"},
			{"update", "ID", "set the cause (--cause) or the identity theft protection offer the notices print (--protection-provider, --protection-url, --protection-phone, --protection-months)"},
			{"hold", "ID", "hold sending at law enforcement's request (--reason)"},
			{"release", "ID", "release a hold"},
			{"close", "ID", "close the incident; refused while work is outstanding (people, letters, emails, filings, website posting), unless --force --reason"},
		}},
		{name: "letters", summary: "written notice through a mail house", run: (*app).cmdLetters, subs: []subcommand{
			{"export", "ID", "write a mail-house batch: PDFs and manifest.csv (--out FILE.zip)"},
			{"confirm", "FILE", "apply the mail house's confirmation: letter_id,mailed_at"},
			{"returned", "FILE", "record letters the post returned"},
			{"list", "ID", "an incident's letters by state"},
		}},
		{name: "bounces", summary: "the mail that came back after notices were sent", run: (*app).cmdBounces, subs: []subcommand{
			{"import", "FILE|DIR", "read bounces (.eml, mbox, maildir): a permanent failure queues a letter or counts towards substitute notice"},
			{"poll", "", "read bounces from a mailbox (--imap imaps://user@host/INBOX, password in BREACHNOTICE_IMAP_PASSWORD) and move the matched ones to --move-to"},
		}},
		{name: "offers", summary: "identity-theft-protection enrolment codes, one per person owed the offer", run: (*app).cmdOffers, subs: []subcommand{
			{"import", "ID FILE.csv", "give each person owed a protection offer one code (code[,provider,expires]); too few codes assigns nothing"},
			{"export", "ID", "write the assignments for the provider: code, account_id, name, email, assigned_at (--out FILE, mode 0600)"},
		}},
		{name: "banner", summary: "the homepage banner and public notice page of an incident", run: (*app).cmdBanner, subs: []subcommand{
			{"publish", "ID", "publish (or update) a planned incident's banner; kept up as long as the plan's longest website posting"},
			{"withdraw", "ID", "take the banner off the homepage; before the required posting ends only with --force --reason"},
			{"list", "", "list the banners and where each stands (--controller, --json)"},
			{"expire", "", "withdraw the banners whose --until and required posting are over (reason \"expired\")"},
		}},
		{name: "serve", summary: "serve the admin UI (/admin/), the JSON API (/api/), the public banner and notice pages, the bounce webhooks (/webhooks/bounces/PROVIDER), and the scheduled jobs (--addr, --public-url, --demo); with --workers-only, only the delivery workers: no HTTP, no jobs, any number of them on one database", run: (*app).cmdServe},
		{name: "ledger", summary: "the per-controller proof of notice", run: (*app).cmdLedger, subs: []subcommand{
			{"checkpoint", "", "sign each controller's log as it stands (--controller for one)"},
			{"export", "", "write a proof bundle: --controller, --out FILE.zip [--incident ID]"},
			{"verify", "FILE.zip", "check a proof bundle offline, without a database (--key pins the signer; --notice FILE finds a notice's entry by its SHA-256)"},
			{"prove", "", "write one learner's inclusion proof: --controller, --account"},
			{"list", "", "list a controller's log entries (--controller)"},
			{"key", "", "print a controller's public key and fingerprint, to publish (--controller)"},
		}},
		{name: "users", summary: "the people who use the admin UI and the API, and their roles", run: (*app).cmdUsers, subs: []subcommand{
			{"add", "", "add a user: --name, --role security|legal|member [--controller ID] [--password-stdin]; prints its API token once"},
			{"list", "", "list the users, their roles and whether each can log in"},
			{"disable", "ID", "disable a user: its token, password and sessions stop working"},
			{"token", "ID", "issue a user a new API token, printed once; the old one stops working"},
			{"password", "ID", "set a user's admin UI password (--password-stdin, or one is made up and printed once); its sessions end"},
		}},
		{name: "regulators", summary: "notices to regulators and credit bureaus: drafts and filings", run: (*app).cmdRegulators, subs: []subcommand{
			{"list", "ID", "each notice the incident owes a regulator or the credit bureaus: due date, draft, sent (--json, --out DIR writes the drafts)"},
			{"sent", "ID CODE", "record the notice to jurisdiction CODE (e.g. US-MD) as submitted (--at DATE, --ref TEXT): ledger regulator_notified; releases notices a regulator-first law held"},
		}},
		{name: "jobs", summary: "the scheduled jobs serve runs (deadline watch, retry sweep, regulator drafts, banner expiry, ledger checkpoints)", run: (*app).cmdJobs, subs: []subcommand{
			{"list", "", "each job's schedule (UTC), last run and result, and next run (--json)"},
			{"run", "NAME", "run one job now, by hand (--now RFC3339 runs it as of that time)"},
		}},
		{name: "rules", summary: "the jurisdiction rules the law engine applies, each row with its period in force, source and checked date", run: (*app).cmdRules, subs: []subcommand{
			{"list", "", "the rows in force on a date (--on DATE, default today; --on all: every period), --jurisdiction J, --json"},
		}},
		{name: "audit", summary: "the audit log: every state-changing action, newest first", run: (*app).cmdAudit},
		{name: "demo-data", summary: "write realistic demo CSVs (--accounts N --out DIR); --load imports them", run: (*app).cmdDemoData},
	}
}

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run runs one command line. Asking for help is a success: the usage is
// on stdout and nothing else happened.
func (a *app) run(ctx context.Context, args []string) error {
	err := a.dispatch(ctx, args)
	if errors.Is(err, errUsagePrinted) {
		return nil
	}
	return err
}

// dispatch parses the global --db, finds the command (or the help topic)
// and runs it.
func (a *app) dispatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("breachnotice", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // printed below for --help; a mistake is one line
	fs.StringVar(&a.dbPath, "db", "", "database `FILE` (default ./breachnotice.db, env BREACHNOTICE_DB)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		a.usage()
		return nil
	} else if err != nil {
		return flagError(fs, err)
	}
	args = fs.Args()
	if len(args) == 0 {
		a.usage()
		return nil
	}
	if args[0] == "help" {
		if len(args) == 1 || args[1] == "help" {
			a.usage()
			return nil
		}
		// "help incident send" is "incident send --help".
		args = append(slices.Clone(args[1:]), "--help")
	}
	c, ok := findCommand(args[0])
	if !ok {
		return usagef("unknown command %q%s", args[0], suggestCommand(args[0]))
	}
	if len(c.subs) > 0 {
		if err := a.checkSub(ctx, c, args[1:]); err != nil {
			return err
		}
	}
	// The command line acts with full rights, as the OS user who ran it:
	// the audit log names them by user id, never by $USER, which anyone
	// can set.
	ctx = incident.WithActor(ctx, incident.Actor{Name: a.whoami(), Role: incident.RoleCLI})
	err := c.run(a, ctx, args[1:])
	// A command's own usage errors ("--title is required") point at its
	// help, not the whole list.
	if ue, ok := err.(usageError); ok && ue.help == "" {
		ue.help = "breachnotice help " + c.name
		if len(c.subs) > 0 {
			ue.help += " " + args[1]
		}
		return ue
	}
	return err
}

// checkSub checks the sub-command of group c, or prints the group's usage
// for "GROUP --help".
func (a *app) checkSub(ctx context.Context, c command, args []string) error {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = s.name
	}
	help := "breachnotice help " + c.name
	switch {
	case len(args) == 0:
		return usageError{msg: fmt.Sprintf("%s: want a sub-command: %s", c.name, strings.Join(names, ", ")), help: help}
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		return a.groupUsage(ctx, c)
	case slices.Contains(names, args[0]):
		return nil
	}
	hint := ""
	if near := incident.Nearest(args[0], names); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return usageError{msg: fmt.Sprintf("%s: unknown sub-command %q%s; want one of %s", c.name, args[0], hint, strings.Join(names, ", ")), help: help}
}

// suggestCommand is the "did you mean" hint for an unknown command: the
// nearest command, or the group of a sub-command typed on its own
// ("breachnotice send" for "incident send").
func suggestCommand(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if near := incident.Nearest(name, append(names, "help")); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	for _, c := range commands() {
		for _, s := range c.subs {
			if s.name == name {
				return fmt.Sprintf(" (did you mean %q?)", c.name+" "+s.name)
			}
		}
	}
	return ""
}

// osActor names the OS user uid as "alice (uid 1000)", or "uid 1000" when
// the user database has no name for it. The name comes from the user
// database by id (user.LookupId), not from user.Current, which falls back
// to $USER. Where there are no user ids (Windows: uid -1), current names
// the account the process runs as.
func osActor(uid int, lookupID func(string) (*user.User, error), current func() (*user.User, error)) string {
	if uid < 0 {
		if u, err := current(); err == nil && u.Username != "" {
			return u.Username
		}
		return "unknown"
	}
	id := strconv.Itoa(uid)
	if u, err := lookupID(id); err == nil && u.Username != "" {
		return u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}

// usage prints the top-level usage: every command and sub-command, one
// line each.
func (a *app) usage() {
	fmt.Fprint(a.stdout, "usage: breachnotice [--db FILE] COMMAND [SUB-COMMAND] [ARGS] [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		if len(c.subs) == 0 {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
		for _, s := range c.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+s.name+" "+s.args), s.summary)
		}
	}
	tw.Flush()
	fmt.Fprint(a.stdout, `
breachnotice help COMMAND [SUB-COMMAND] (or COMMAND [SUB-COMMAND] --help) prints
its flags and their defaults.

The database defaults to ./breachnotice.db (env BREACHNOTICE_DB); every command
takes --db FILE. Only commands that add data (controllers add, the imports,
incident open, demo, demo-data --load, serve --demo) create a missing database;
the others refuse to run without one.

Exit status: 0 success; 1 an error; 2 a mistake on the command line (the
nearest flag, command or name is suggested); 3 incident send left emails failed
for good (incident send ID --retry-failed re-sends them); 4 the actor's role may
not; 130 interrupted.
`)
}

// groupUsage prints a group's sub-commands and then each one's usage.
func (a *app) groupUsage(ctx context.Context, c command) error {
	fmt.Fprintf(a.stdout, "usage: breachnotice %s SUB-COMMAND [ARGS] [flags]\n\n%s\n\nsub-commands:\n", c.name, c.summary)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, s := range c.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(s.name+" "+s.args), s.summary)
	}
	tw.Flush()
	for _, s := range c.subs {
		fmt.Fprintln(a.stdout)
		// Every sub-command parses its flags before it touches anything,
		// so --help prints its usage and stops.
		if err := c.run(a, ctx, []string{s.name, "--help"}); !errors.Is(err, errUsagePrinted) {
			return fmt.Errorf("%s %s --help: %v", c.name, s.name, err)
		}
	}
	return errUsagePrinted
}

// flags returns the flag set of a command or sub-command (name "incident
// send") that also accepts --db. Its Usage prints the command's usage line,
// summary and every flag with its default to stdout; parse calls it for
// --help and -h.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { a.flagUsage(fs) }
	fs.Func("db", "database `FILE` (default ./breachnotice.db, env BREACHNOTICE_DB)", func(s string) error { a.dbPath = s; return nil })
	return fs
}

// flagUsage prints the usage of the command fs belongs to.
func (a *app) flagUsage(fs *flag.FlagSet) {
	synopsis, summary := fs.Name(), ""
	group, sub, _ := strings.Cut(fs.Name(), " ")
	if c, ok := findCommand(group); ok {
		if sub == "" {
			synopsis, summary = strings.TrimSpace(c.name+" "+c.args), c.summary
		}
		for _, s := range c.subs {
			if s.name == sub {
				synopsis, summary = strings.TrimSpace(c.name+" "+s.name+" "+s.args), s.summary
			}
		}
	}
	fmt.Fprintf(a.stdout, "usage: breachnotice %s [flags]\n", synopsis)
	if summary != "" {
		fmt.Fprintf(a.stdout, "\n%s\n", summary)
	}
	fmt.Fprint(a.stdout, "\nflags:\n")
	printDefaults(a.stdout, fs)
}

// printDefaults is flag.PrintDefaults with the double dashes the
// documentation uses: each flag, the type of its value, what it does and
// its default unless that is the zero value.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  --%s", f.Name)
		typ, usage := flag.UnquoteUsage(f)
		if typ != "" {
			b.WriteString(" " + typ)
		}
		b.WriteString("\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false" || f.DefValue == "0s":
		case typ == "string":
			fmt.Fprintf(&b, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w, b.String())
	})
}

// parse parses flags that may come before or after positional arguments
// ("incident scope 3 --all" as well as "incident scope --all 3"). On
// --help or -h it prints the usage and returns errUsagePrinted, which the
// command returns as it would any error, and run turns into success. An
// unknown flag is a usage error naming the nearest flag of the command.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	// The flag package calls Usage on any mistake; here it is printed
	// only when asked for, and a mistake is one line on stderr.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if usage != nil {
					usage()
				}
				return nil, errUsagePrinted
			}
			return nil, flagError(fs, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError turns a flag package error into a usage error; an unknown flag
// names the nearest flag of the command, if one is close.
func flagError(fs *flag.FlagSet, err error) error {
	prefix, help := fs.Name()+": ", "breachnotice help "+fs.Name()
	if fs.Name() == "breachnotice" {
		prefix, help = "", "breachnotice help"
	}
	name, unknown := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !unknown {
		return usageError{msg: prefix + err.Error(), help: help}
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	hint := ""
	if near := incident.Nearest(name, names); near != "" {
		hint = " (did you mean --" + near + "?)"
	}
	return usageError{msg: fmt.Sprintf("%sunknown flag --%s%s", prefix, name, hint), help: help}
}

// dbMode says what a command may do when its database does not exist.
type dbMode int

const (
	// dbCreate: the command adds data (controllers add, the imports,
	// incident open, demo) and creates a missing database, and its secret.
	dbCreate dbMode = iota
	// dbReadOnly: the command only reads, and refuses a missing database:
	// a mistyped --db must not leave an empty database and a new secret
	// behind and report that there is nothing.
	dbReadOnly
	// dbExisting: the command changes what is there (an incident, a
	// controller, a letter) and refuses a missing database too: on a new
	// one it could only fail, after creating it.
	dbExisting
)

// refusal says, for the error, why a missing database or secret is not
// created.
func (m dbMode) refusal() string {
	if m == dbReadOnly {
		return "commands that only read never create one"
	}
	return "only commands that add data create one"
}

// open opens the database (applying migrations) on first use. mode says
// whether a missing database may be created; every command picks one.
func (a *app) open(ctx context.Context, mode dbMode) (*incident.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	if a.dbPath == "" {
		a.dbPath = a.getenv("BREACHNOTICE_DB")
	}
	if a.dbPath == "" {
		a.dbPath = "breachnotice.db"
	}
	if mode != dbCreate && !migrations.IsPostgresURL(a.dbPath) {
		if _, err := os.Stat(a.dbPath); errors.Is(err, fs.ErrNotExist) {
			return nil, missingDatabase(a.dbPath, mode)
		}
	}
	db, err := migrations.Open(ctx, a.dbPath)
	if err != nil {
		return nil, err
	}
	a.db = db
	a.store = incident.NewStore(db)
	a.store.Now = a.now
	if err := a.wire(ctx, mode); err != nil {
		return nil, err
	}
	return a.store, nil
}

func (a *app) close() {
	if a.db != nil {
		a.db.Close()
	}
}

// input opens the one FILE argument of cmd, or stdin for "-"; close
// releases it.
func (a *app) input(cmd string, pos []string) (name string, r io.Reader, close func(), err error) {
	if len(pos) != 1 {
		return "", nil, nil, usagef("%s: want exactly one FILE (- for stdin)", cmd)
	}
	name = pos[0]
	if name == "-" {
		return name, a.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return name, f, func() { f.Close() }, nil
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
