package main

import (
	"context"
	"fmt"
	"io"

	"github.com/breachnotice/breachnotice/incident"
)

type importFunc func(context.Context, io.Reader, incident.ImportOptions) (incident.ImportResult, error)

func (a *app) cmdCourses(ctx context.Context, args []string) error {
	return a.importCmd(ctx, "courses", args, func(st *incident.Store) importFunc { return st.ImportCourses })
}

func (a *app) cmdAccounts(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return a.accountsList(ctx, args[1:])
	}
	return a.importCmd(ctx, "accounts", args, func(st *incident.Store) importFunc { return st.ImportAccounts })
}

func (a *app) cmdEnrollments(ctx context.Context, args []string) error {
	return a.importCmd(ctx, "enrollments", args, func(st *incident.Store) importFunc { return st.ImportEnrollments })
}

// importCmd runs "GROUP import FILE": every rejection and warning goes to
// stderr as FILE:LINE: FIELD: reason, one summary line to stdout; the exit
// status is 1 if any row was rejected.
func (a *app) importCmd(ctx context.Context, group string, args []string, pick func(*incident.Store) importFunc) error {
	if len(args) == 0 || args[0] != "import" {
		return usagef("%s: want 'import FILE'", group)
	}
	fs := a.flags(group + " import")
	strict := fs.Bool("strict", false, "import nothing if any row is rejected")
	format := fs.String("format", "", "csv or jsonl (default: from the file name)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	name, r, closeInput, err := a.input(group+" import", pos)
	if err != nil {
		return err
	}
	defer closeInput()
	fmtv := incident.Format(*format)
	if fmtv == "" {
		fmtv = incident.FormatOf(name)
	}
	if fmtv != incident.FormatCSV && fmtv != incident.FormatJSONL {
		return usagef("%s import: --format %q: want csv or jsonl", group, *format)
	}
	st, err := a.open(ctx, dbCreate)
	if err != nil {
		return err
	}
	res, err := pick(st)(ctx, r, incident.ImportOptions{File: name, Format: fmtv, Strict: *strict,
		Report: func(p incident.Problem) {
			if p.Warning {
				fmt.Fprintf(a.stderr, "%s (warning)\n", p)
			} else {
				fmt.Fprintln(a.stderr, p)
			}
		}})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(a.stdout, res)
	}
	if res.Rejected > 0 {
		return errSilent
	}
	return nil
}
