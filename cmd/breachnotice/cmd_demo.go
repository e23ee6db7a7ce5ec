package main

import (
	"context"
	"errors"
	"fmt"
	"os"

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
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	for _, c := range demodata.Controllers() {
		if err := st.CreateController(ctx, c); err != nil {
			if errors.Is(err, incident.ErrConflict) {
				continue
			}
			return err
		}
		fmt.Fprintf(a.stdout, "controller %s (%s) added\n", c.ID, c.Kind())
	}
	for _, step := range []struct {
		path string
		imp  importFunc
	}{{files.Courses, st.ImportCourses}, {files.Accounts, st.ImportAccounts}, {files.Enrollments, st.ImportEnrollments}} {
		f, err := os.Open(step.path)
		if err != nil {
			return err
		}
		res, err := step.imp(ctx, f, incident.ImportOptions{File: step.path, Format: incident.FormatCSV,
			Report: func(p incident.Problem) {
				if !p.Warning {
					fmt.Fprintln(a.stderr, p)
				}
			}})
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, res)
	}
	return nil
}
