package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/templates/golden"
)

// TestHelp: --help, -h and help print usage to stdout and exit 0, never
// touching the database; a group's help and a sub-command's list every
// flag with its default.
func TestHelp(t *testing.T) {
	c := newCLI(t)
	top := []string{"usage: breachnotice [--db FILE] COMMAND", "incident open", "incident plan ID", "incident obligations ID",
		"incident send ID", "incident hold ID", "controllers add", "controllers list", "accounts import FILE",
		"letters export ID", "ledger verify FILE.zip", "ledger key", "audit", "demo-data", "help COMMAND [SUB-COMMAND]",
		"Exit status: 0 success", "3 incident send left emails failed\nfor good"}
	send := []string{"usage: breachnotice incident send ID [flags]", "--channel string", `(default "all")`,
		"--concurrency int", "SMTP connections (default 4)", "--rate float", "--retry-base duration", "(default 1m0s)",
		"--max-attempts int", "(default 8)", "--outbox string", `(default "outbox")`, "--json\n", "--db FILE"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"TopH", []string{"-h"}, top},
		{"TopHelpFlag", []string{"--help"}, top},
		{"TopHelp", []string{"help"}, top},
		{"TopAfterDB", []string{"--db", "x.db", "--help"}, top},
		{"HelpIncident", []string{"help", "incident"}, append([]string{"usage: breachnotice incident SUB-COMMAND",
			"sub-commands:", "obligations ID", "usage: breachnotice incident plan ID [flags]", "--show\n",
			"usage: breachnotice incident hold ID [flags]", "--reason string", "usage: breachnotice incident open [flags]",
			"--elements string"}, send...)},
		{"IncidentHelpFlag", []string{"incident", "--help"}, []string{"sub-commands:", "--reason string"}},
		{"IncidentSendH", []string{"incident", "send", "-h"}, send},
		{"IncidentSendHelp", []string{"incident", "send", "--help"}, send},
		{"IncidentSendHelpAfterID", []string{"incident", "send", "3", "--help"}, send},
		{"HelpIncidentSend", []string{"help", "incident", "send"}, send},
		{"LedgerExportH", []string{"ledger", "export", "-h"}, []string{"usage: breachnotice ledger export [flags]",
			"--controller string", "--incident int", "--out string", "zip file to write (required)"}},
		{"HelpHelp", []string{"help", "help"}, top},
		{"HelpAudit", []string{"help", "audit"}, []string{"usage: breachnotice audit [flags]", "--limit int", "(default 50)"}},
		{"DemoDataH", []string{"demo-data", "-h"}, []string{"--accounts int", "(default 1000)", "--out string", `(default "demo")`}},
		{"CoursesHelp", []string{"courses", "--help"}, []string{"usage: breachnotice courses import FILE [flags]", "--strict"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.run(tc.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := os.Stat(c.env["BREACHNOTICE_DB"]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("help opened the database: stat = %v", err)
	}
	out, _, _ := c.run("help")
	golden.Check(t, "help", out)
	// A sub-command's usage: synopsis, summary, each flag with its default.
	for _, name := range []string{"incident send", "ledger export"} {
		out, _, _ := c.run(append([]string{"help"}, strings.Fields(name)...)...)
		golden.Check(t, "help_"+strings.ReplaceAll(name, " ", "_"), out)
	}
}

// TestHelp_EverySubcommand: every command and sub-command help lists has
// a --help of its own (so the table and the dispatch agree), and the
// sub-commands incident and letters dispatch are all listed.
func TestHelp_EverySubcommand(t *testing.T) {
	c := newCLI(t)
	for _, cmd := range commands() {
		names := []string{""}
		if len(cmd.subs) > 0 {
			names = names[:0]
			for _, s := range cmd.subs {
				names = append(names, s.name)
			}
		}
		for _, sub := range names {
			name := strings.TrimSpace(cmd.name + " " + sub)
			// -h, --help and help NAME print the same usage: the synopsis,
			// the summary the top-level help gives, and every flag.
			var first string
			for _, args := range [][]string{
				strings.Fields(name + " -h"),
				strings.Fields(name + " --help"),
				strings.Fields(name + " -help"),
				strings.Fields("help " + name),
			} {
				out, errOut, code := c.run(args...)
				want := "usage: breachnotice " + name
				if code != 0 || errOut != "" || !strings.HasPrefix(out, want) {
					t.Errorf("%s: exit %d, stderr %q, stdout %q; want 0, nothing on stderr and %q", strings.Join(args, " "), code, errOut, out, want)
					continue
				}
				for _, w := range []string{"\nflags:\n", "  --db FILE\n", summaryOf(cmd, sub)} {
					if !strings.Contains(out, w) {
						t.Errorf("%s: usage lacks %q:\n%s", strings.Join(args, " "), w, out)
					}
				}
				if first == "" {
					first = out
				} else if out != first {
					t.Errorf("%s: usage differs from %s -h:\n%s\nvs\n%s", strings.Join(args, " "), name, out, first)
				}
			}
		}
		var dispatched []string
		switch cmd.name {
		case "incident":
			dispatched = sortedKeys(incidentCommands())
		case "letters":
			dispatched = sortedKeys(letterCommands())
		default:
			continue
		}
		slices.Sort(names)
		if !slices.Equal(names, dispatched) {
			t.Errorf("%s: help lists %v, dispatch has %v", cmd.name, names, dispatched)
		}
	}
}

// summaryOf is the one-line summary help gives for command c's sub-command
// sub (c's own for "").
func summaryOf(c command, sub string) string {
	for _, s := range c.subs {
		if s.name == sub {
			return s.summary
		}
	}
	return c.summary
}

// TestUsageErrors: a mistyped flag, command or sub-command exits 2 with one
// message naming it and the nearest right name, and prints no usage.
func TestUsageErrors(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  string
	}{
		{"FlagTypo", []string{"incident", "send", "3", "--rtae", "3"}, []string{"incident send: unknown flag --rtae (did you mean --rate?)",
			"run 'breachnotice help incident send'"}, ""},
		{"FlagPrefix", []string{"incident", "list", "--contr", "nb"}, []string{"unknown flag --contr (did you mean --controller?)"}, ""},
		{"FlagNothingClose", []string{"incident", "send", "3", "--frobnicate"}, []string{"unknown flag --frobnicate"}, "did you mean"},
		{"TopFlagTypo", []string{"--dbb", "x.db", "incident", "list"}, []string{"unknown flag --dbb (did you mean --db?)"}, ""},
		{"CommandTypo", []string{"incdent", "list"}, []string{`unknown command "incdent" (did you mean "incident"?)`}, ""},
		{"SubCommandAlone", []string{"send", "1"}, []string{`unknown command "send" (did you mean "incident send"?)`}, ""},
		{"HelpTopicTypo", []string{"help", "incdent"}, []string{`(did you mean "incident"?)`}, ""},
		{"SubCommandTypo", []string{"incident", "sned", "1"}, []string{`incident: unknown sub-command "sned" (did you mean "send"?)`,
			"run 'breachnotice help incident'"}, ""},
		{"LedgerSubTypo", []string{"ledger", "verfy", "x.zip"}, []string{`(did you mean "verify"?)`}, ""},
		{"CommandOwnUsage", []string{"incident", "open", "--controller", "op"}, []string{"--title, --discovered and --elements are required",
			"run 'breachnotice help incident open'"}, ""},
		{"NoSubCommand", []string{"incident"}, []string{"incident: want a sub-command: open, show, list, scope, plan, obligations, send"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.run(tc.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if tc.not != "" && strings.Contains(errOut, tc.not) {
				t.Errorf("stderr %q has %q", errOut, tc.not)
			}
		})
	}

	// A flag's value that is not one of the names it takes is a usage
	// mistake too: exit 2, the nearest name, nothing created.
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ElementTypo", []string{"incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,pasword"},
			`incident open: --elements: unknown data element "pasword" (did you mean "password"?)`},
		{"CauseTypo", []string{"incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name", "--cause", "malicous"},
			`incident open: --cause: unknown cause "malicous" (did you mean "malicious"?)`},
		{"UpdateCauseTypo", []string{"incident", "update", "1", "--cause", "insidr"}, `incident update: --cause: unknown cause "insidr" (did you mean "insider"?)`},
		{"ChannelTypo", []string{"incident", "send", "1", "--channel", "emial"}, `incident send: --channel "emial": want email, letter or all (did you mean "email"?)`},
		{"PreviewChannelTypo", []string{"incident", "preview", "1", "--channel", "leter"}, `incident preview: --channel "leter": want email, letter or all (did you mean "letter"?)`},
		{"RoleTypo", []string{"users", "add", "--name", "x", "--role", "secuirty"}, `users add: --role "secuirty": want security, legal or member (did you mean "security"?)`},
		{"RoleNothingClose", []string{"users", "add", "--name", "x", "--role", "admin"}, `users add: --role "admin": want security, legal or member` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.run(tc.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "breachnotice: "+tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tc.want)
			}
		})
	}
	if _, err := os.Stat(c.env["BREACHNOTICE_DB"]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a usage mistake created the database: stat = %v", err)
	}
}

// TestMissingDatabase: a command that only reads, or that changes what a
// database already holds, refuses a database that does not exist, and
// leaves neither it nor its secret file behind; a command that adds data
// still creates both.
func TestMissingDatabase(t *testing.T) {
	sqliteOnly(t, "a missing database is a missing SQLite file, and its secret file sits next to it")
	c := newCLI(t)
	delete(c.env, "BREACHNOTICE_SECRET") // so that the default DBFILE.secret would be made
	csv := c.file("mailed.csv", "letter_id,mailed_at\nL1,2026-11-27\n")
	const readOnly = "commands that only read never create one; check --db or BREACHNOTICE_DB)"
	const existing = "only commands that add data create one; check --db or BREACHNOTICE_DB)"
	for _, tc := range []struct {
		name string
		args []string
		why  string
	}{
		{"IncidentList", []string{"incident", "list"}, readOnly},
		{"IncidentShow", []string{"incident", "show", "1"}, readOnly},
		{"IncidentPlanShow", []string{"incident", "plan", "1", "--show"}, readOnly},
		{"IncidentObligations", []string{"incident", "obligations", "1"}, readOnly},
		{"ControllersList", []string{"controllers", "list"}, readOnly},
		{"Audit", []string{"audit"}, readOnly},
		{"LedgerList", []string{"ledger", "list", "--controller", "nb"}, readOnly},
		{"LedgerKey", []string{"ledger", "key", "--controller", "nb"}, readOnly},
		{"LedgerExport", []string{"ledger", "export", "--controller", "nb", "--out", filepath.Join(c.dir, "out.zip")}, readOnly},
		{"LedgerProve", []string{"ledger", "prove", "--controller", "nb", "--account", "a1", "--out", filepath.Join(c.dir, "out.zip")}, readOnly},
		{"LettersList", []string{"letters", "list", "1"}, readOnly},
		{"AccountsList", []string{"accounts", "list"}, readOnly},
		{"ControllersShow", []string{"controllers", "show", "nb"}, readOnly},
		{"IncidentSubstitute", []string{"incident", "substitute", "1"}, readOnly},
		{"BannerList", []string{"banner", "list"}, readOnly},
		{"UsersList", []string{"users", "list"}, readOnly},
		{"JobsList", []string{"jobs", "list"}, readOnly},
		{"RegulatorsList", []string{"regulators", "list", "1"}, readOnly},
		{"Serve", []string{"serve", "--addr", "127.0.0.1:0"}, existing},
		{"UsersAdd", []string{"users", "add", "--name", "x", "--role", "legal"}, existing},
		{"IncidentScope", []string{"incident", "scope", "1", "--all"}, existing},
		{"IncidentPlan", []string{"incident", "plan", "1"}, existing},
		{"IncidentSend", []string{"incident", "send", "1"}, existing},
		{"IncidentHold", []string{"incident", "hold", "1", "--reason", "police"}, existing},
		{"IncidentRelease", []string{"incident", "release", "1"}, existing},
		{"IncidentClose", []string{"incident", "close", "1"}, existing},
		{"ControllersUpdate", []string{"controllers", "update", "op", "--name", "X"}, existing},
		{"LettersExport", []string{"letters", "export", "1", "--out", filepath.Join(c.dir, "out.zip")}, existing},
		{"LettersConfirm", []string{"letters", "confirm", csv}, existing},
		{"LettersReturned", []string{"letters", "returned", csv}, existing},
		{"LedgerCheckpoint", []string{"ledger", "checkpoint"}, existing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typo := filepath.Join(c.dir, "typo.db")
			_, errOut, code := c.run(append([]string{"--db", typo}, tc.args...)...)
			if want := "breachnotice: no database at " + typo + " (" + tc.why; code != 1 || !strings.HasPrefix(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
			if want := "to create one, add data: breachnotice --db " + typo + " controllers add --id ID"; !strings.Contains(errOut, want) {
				t.Errorf("stderr %q does not say how to create one (%q)", errOut, want)
			}
			for _, p := range []string{typo, typo + ".secret", typo + "-wal", filepath.Join(c.dir, "out.zip")} {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s left behind (stat: %v)", filepath.Base(p), err)
				}
			}
		})
	}

	t.Run("FromEnvironment", func(t *testing.T) {
		_, errOut, code := c.run("incident", "list")
		if want := "no database at " + c.env["BREACHNOTICE_DB"] + " ("; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	})

	t.Run("CreatedByAddingData", func(t *testing.T) {
		fresh := filepath.Join(c.dir, "fresh.db")
		c.ok("--db", fresh, "controllers", "add", "--id", "op", "--name", "Operator", "--from", "notice@example.org")
		for _, p := range []string{fresh, fresh + ".secret"} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("controllers add did not create %s: %v", filepath.Base(p), err)
			}
		}
		if out := c.ok("--db", fresh, "controllers", "list"); !strings.Contains(out, "Operator") {
			t.Errorf("controllers list on the new database: %q", out)
		}

		// A database whose secret file went missing: reading does not
		// make a new one (it could not unseal the keys the database holds).
		if err := os.Remove(fresh + ".secret"); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := c.run("--db", fresh, "ledger", "key", "--controller", "op")
		if want := "secret file " + fresh + ".secret does not exist (commands that only read never create one"; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
		if _, err := os.Stat(fresh + ".secret"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a read-only command created the secret file (stat: %v)", err)
		}
	})
}

// TestLedgerVerify_NoDatabase: ledger verify checks a bundle with no
// database at all; a mistyped --db is neither needed nor created.
func TestLedgerVerify_NoDatabase(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("incident", "open", "--controller", "nb", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,email")
	zip := filepath.Join(c.dir, "proof.zip")
	c.ok("ledger", "export", "--controller", "nb", "--out", zip)
	typo := filepath.Join(c.dir, "typo.db")
	c.ok("--db", typo, "ledger", "verify", zip)
	for _, p := range []string{typo, typo + ".secret"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ledger verify left %s behind (stat: %v)", filepath.Base(p), err)
		}
	}
}
