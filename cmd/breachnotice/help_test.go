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
		"letters export ID", "ledger verify FILE.zip", "ledger key", "audit", "demo-data", "help COMMAND [SUB-COMMAND]"}
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
			args := strings.Fields(cmd.name + " " + sub + " --help")
			out, errOut, code := c.run(args...)
			if want := "usage: breachnotice " + strings.TrimSpace(cmd.name+" "+sub); code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "--db FILE") {
				t.Errorf("%s: exit %d, stderr %q, stdout %q; want 0 and %q with --db", strings.Join(args, " "), code, errOut, out, want)
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

	t.Run("ElementTypo", func(t *testing.T) {
		_, errOut, code := c.run("incident", "open", "--controller", "op", "--title", "t", "--discovered", "2026-11-20", "--elements", "name,pasword")
		if want := `--elements: invalid: unknown data element "pasword" (did you mean "password"?)`; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
		}
	})
}

// TestMissingDatabase: a command that only reads, or that changes what a
// database already holds, refuses a database that does not exist, and
// leaves neither it nor its secret file behind; a command that adds data
// still creates both.
func TestMissingDatabase(t *testing.T) {
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
			if want := "breachnotice: database " + typo + " does not exist (" + tc.why; code != 1 || !strings.HasPrefix(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
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
		if want := "database " + c.env["BREACHNOTICE_DB"] + " does not exist"; code != 1 || !strings.Contains(errOut, want) {
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
