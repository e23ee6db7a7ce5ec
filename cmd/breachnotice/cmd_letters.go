package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/letter/mailhouse"
)

// letterCommands are the sub-commands of "letters": the mail-house round
// trip of written notice.
func letterCommands() map[string]func(a *app, ctx context.Context, args []string) error {
	return map[string]func(a *app, ctx context.Context, args []string) error{
		"export":   (*app).lettersExport,
		"confirm":  (*app).lettersConfirm,
		"returned": (*app).lettersReturned,
		"list":     (*app).lettersList,
	}
}

// cmdLetters runs "letters export | confirm | returned | list".
func (a *app) cmdLetters(ctx context.Context, args []string) error {
	cmds := letterCommands()
	if len(args) == 0 {
		return usagef("letters: want one of %s", strings.Join(sortedKeys(cmds), ", "))
	}
	run, ok := cmds[args[0]]
	if !ok {
		return usagef("letters: unknown sub-command %q (want one of %s)", args[0], strings.Join(sortedKeys(cmds), ", "))
	}
	return run(a, ctx, args[1:])
}

func (a *app) lettersExport(ctx context.Context, args []string) error {
	fs := a.flags("letters export")
	out := fs.String("out", "", "the mail-house batch zip to write")
	again := fs.String("again", "", "write batch BATCH again (same id, same letters) instead of a new batch")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("letters export", pos)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("letters export: --out FILE.zip is required")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := mailhouse.Export(ctx, st, id, *out, *again)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	switch {
	case res.Letters == 0:
		fmt.Fprintf(a.stdout, "incident %d: no queued letters to export\n", id)
	case res.Again:
		fmt.Fprintf(a.stdout, "batch %s written again: %d letters, %d pages in %s\n", res.Batch, res.Letters, res.Pages, res.File)
	default:
		fmt.Fprintf(a.stdout, "batch %s: %d letters, %d pages in %s\n", res.Batch, res.Letters, res.Pages, res.File)
	}
	return nil
}

func (a *app) lettersConfirm(ctx context.Context, args []string) error {
	return a.lettersFile(ctx, "confirm", args, mailhouse.Confirm, "mailed")
}

func (a *app) lettersReturned(ctx context.Context, args []string) error {
	return a.lettersFile(ctx, "returned", args, mailhouse.Returned, "returned")
}

// lettersFile applies a mail-house CSV: every rejected line is printed to
// stderr as FILE:LINE: FIELD: reason (warnings too), and the exit status
// is 1 if any line was rejected. --controller scopes the file to one
// controller; without it, a file naming letters of several controllers is
// refused whole.
func (a *app) lettersFile(ctx context.Context, cmd string, args []string,
	apply func(context.Context, *incident.Store, io.Reader, mailhouse.FileOptions, func(incident.Problem)) (mailhouse.FileResult, error), verb string) error {
	fs := a.flags("letters " + cmd)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	controller := fs.String("controller", "", "apply only this controller's letters (other lines are rejected as unknown letters)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, r, closeInput, err := a.input("letters "+cmd, pos)
	if err != nil {
		return err
	}
	defer closeInput()
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := apply(ctx, st, r, mailhouse.FileOptions{File: name, Controller: *controller},
		func(p incident.Problem) {
			if p.Warning {
				fmt.Fprintf(a.stderr, "%s (warning)\n", p)
			} else {
				fmt.Fprintln(a.stderr, p)
			}
		})
	var mixed *mailhouse.MixedControllersError
	if errors.As(err, &mixed) {
		return fmt.Errorf("%w (--controller ID)", err)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		warnings := ""
		if res.Warnings > 0 {
			warnings = fmt.Sprintf(", %d warnings", res.Warnings)
		}
		fmt.Fprintf(a.stdout, "%s: %d %s, %d rejected%s\n", name, res.Accepted, verb, res.Rejected, warnings)
	}
	if res.Rejected > 0 {
		return errSilent
	}
	return nil
}

func (a *app) lettersList(ctx context.Context, args []string) error {
	fs := a.flags("letters list")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("letters list", pos)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	lc, err := notify.FindLetterCounts(ctx, st, id)
	if err != nil {
		return err
	}
	batches, err := mailhouse.FindBatches(ctx, st, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(struct {
			notify.LetterCounts
			Batches []mailhouse.Batch `json:"batches,omitempty"`
		}{lc, batches})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tLETTERS")
	for _, s := range []string{notify.StateQueued, notify.StateExported, notify.StateMailed, notify.StateReturned, notify.StateUnprintable} {
		fmt.Fprintf(tw, "%s\t%d\n", s, lc.States[s])
	}
	fmt.Fprintf(tw, "total\t%d\n", lc.Total)
	fmt.Fprintf(tw, "substitute notice\t%d\n", lc.Substitute)
	if len(batches) > 0 {
		fmt.Fprintln(tw, "\nBATCH\tEXPORTED\tFILE\tLETTERS\tMAILED\tRETURNED\tOPEN\tSTATE")
		for _, b := range batches {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", b.ID, b.CreatedAt.Format("2006-01-02 15:04 UTC"),
				cmp.Or(b.File, "-"), b.Letters, b.Mailed, b.Returned, b.Open, b.State)
		}
	}
	return tw.Flush()
}
