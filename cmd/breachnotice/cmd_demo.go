package main

import (
	"context"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/demodata"
)

func (a *app) cmdDemoData(ctx context.Context, args []string) error {
	fs := a.flags("demo-data")
	n := fs.Int("accounts", 1000, "number of accounts")
	out := fs.String("out", "demo", "directory for courses.csv, accounts.csv, enrollments.csv")
	load := fs.Bool("load", false, "also create the demo controllers (an operator and three Members) and import the files")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same files)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	files, err := demodata.Write(ctx, *out, demodata.Options{Accounts: *n, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s, %s, %s\n", files.Courses, files.Accounts, files.Enrollments)
	if !*load {
		return nil
	}
	return a.loadDemo(ctx, files)
}

// loadDemo creates the demo controllers that do not exist yet and imports
// the demo files. Warnings (the demo's deliberate unusable emails) are
// counted, not printed.
func (a *app) loadDemo(ctx context.Context, files demodata.Files) error {
	st, err := a.open(ctx, dbCreate)
	if err != nil {
		return err
	}
	loaded, err := demodata.Load(ctx, st, files, func(p incident.Problem) {
		if !p.Warning {
			fmt.Fprintln(a.stderr, p)
		}
	})
	for _, c := range loaded.Controllers {
		fmt.Fprintf(a.stdout, "controller %s (%s) added\n", c.ID, c.Kind())
	}
	for _, res := range loaded.Imports {
		fmt.Fprintln(a.stdout, res)
	}
	return err
}
