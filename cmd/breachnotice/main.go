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
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"syscall"
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

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

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
		fmt.Fprintf(stderr, "breachnotice: %v\n(run 'breachnotice help' for usage)\n", err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "breachnotice: interrupted")
		return 130
	}
	fmt.Fprintf(stderr, "breachnotice: %v\n", err)
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

type command struct {
	name    string
	summary string
	run     func(a *app, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "play a whole incident on the embedded defaults (demo data, SQLite file, outbox)", (*app).cmdDemo},
		{"controllers", "add | update | list: the holders of data copies (operator and Members)", (*app).cmdControllers},
		{"courses", "import FILE.csv: course_id,member_id,title", (*app).cmdCourses},
		{"accounts", "import FILE.csv|FILE.jsonl: the learners", (*app).cmdAccounts},
		{"enrollments", "import FILE.csv: account_id,course_id[,email]", (*app).cmdEnrollments},
		{"incident", "open | show | list | scope | hold | release | close", (*app).cmdIncident},
		{"letters", "export | confirm | returned | list: written notice through a mail house", (*app).cmdLetters},
		{"ledger", "checkpoint | export | verify | prove | list: the per-controller proof of notice", (*app).cmdLedger},
		{"audit", "the audit log: every state-changing action, newest first", (*app).cmdAudit},
		{"demo-data", "--accounts N --out DIR [--load]: realistic demo CSVs", (*app).cmdDemoData},
	}
}

func (a *app) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("breachnotice", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.dbPath, "db", "", "database file (default ./breachnotice.db, env BREACHNOTICE_DB)")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	args = fs.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		a.usage()
		return nil
	}
	// The command line acts with full rights, as the OS user who ran it:
	// the audit log names them by user id, never by $USER, which anyone
	// can set.
	ctx = incident.WithActor(ctx, incident.Actor{Name: a.whoami(), Role: "cli"})
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(a, ctx, args[1:])
		}
	}
	return usagef("unknown command %q", args[0])
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

func (a *app) usage() {
	fmt.Fprintln(a.stdout, "usage: breachnotice [--db FILE] COMMAND [ARGS]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(a.stdout, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(a.stdout, "\nThe database defaults to ./breachnotice.db (env BREACHNOTICE_DB). Every command takes --db.")
}

// flags returns a flag set for a sub-command that also accepts --db.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("db", "database file", func(s string) error { a.dbPath = s; return nil })
	return fs
}

// parse parses flags that may come before or after positional arguments
// ("incident scope 3 --all" as well as "incident scope --all 3").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s flags:\n%s", fs.Name(), flagHelp(fs))
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) { fmt.Fprintf(&b, "  --%s\t%s\n", f.Name, f.Usage) })
	return b.String()
}

// open opens the database (applying migrations) on first use.
func (a *app) open(ctx context.Context) (*incident.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	if a.dbPath == "" {
		a.dbPath = a.getenv("BREACHNOTICE_DB")
	}
	if a.dbPath == "" {
		a.dbPath = "breachnotice.db"
	}
	db, err := migrations.Open(ctx, a.dbPath)
	if err != nil {
		return nil, err
	}
	a.db = db
	a.store = incident.NewStore(db)
	a.store.Now = a.now
	if err := a.wire(ctx); err != nil {
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
