package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/jobs"
)

// A flag's value that is not one of the names it takes (a channel, a role,
// a data element) is a mistake on the command line like a mistyped flag:
// exit 2, with the nearest right name. The helpers here make those errors.

// oneOf checks that the value v of flag (on command cmd) is one of known,
// and otherwise returns the usage error naming the nearest.
func oneOf[S ~string](cmd, flag string, v S, known ...S) error {
	if slices.Contains(known, v) {
		return nil
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(names) == 1 {
		want = names[0]
	}
	return usagef("%s: %s %q: want %s%s", cmd, flag, string(v), want, nearestHint(string(v), names))
}

// nearestHint is ` (did you mean "x"?)` for the name in known nearest to
// v, or "" when none is close.
func nearestHint(v string, known []string) string {
	if near := incident.Nearest(v, known); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}

// valueError turns the domain's refusal of a flag's value (an unknown data
// element or cause, whose message already names the nearest) into a usage
// error of cmd; any other error is returned as it is.
func valueError(cmd, flag string, err error) error {
	if err == nil || !errors.Is(err, incident.ErrInvalid) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": ")
	return usagef("%s: %s: %s", cmd, flag, msg)
}

// missingDatabase is the refusal of a command that may not create the
// database at path: it says where it looked, why nothing was created, and
// how to create one (a mistyped --db is the usual cause).
func missingDatabase(path string, mode dbMode) error {
	db := ""
	if path != "breachnotice.db" {
		db = " --db " + shellQuote(path)
	}
	return fmt.Errorf("no database at %s (%s; check --db or BREACHNOTICE_DB); to create one, add data: breachnotice%s controllers add --id ID --name NAME --from EMAIL (or an import, or demo)",
		path, mode.refusal(), db)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:@+=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// knownJob checks jobs run's NAME: a mistyped one is a usage mistake,
// naming the nearest job.
func knownJob(js []jobs.Job, name string) error {
	names := make([]string, len(js))
	for i, j := range js {
		names[i] = j.Name
	}
	if slices.Contains(names, name) {
		return nil
	}
	return usagef("jobs run: no job %q%s; jobs: %s", name, nearestHint(name, names), strings.Join(names, ", "))
}
