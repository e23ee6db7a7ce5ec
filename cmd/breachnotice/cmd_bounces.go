package main

import (
	"context"
	"fmt"

	"github.com/breachnotice/breachnotice/notify"
)

// cmdBounces handles the mail that came back after notices were sent.
func (a *app) cmdBounces(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("bounces: want import or poll")
	}
	switch args[0] {
	case "import":
		return a.bouncesImport(ctx, args[1:])
	case "poll":
		return a.bouncesPoll(ctx, args[1:])
	}
	return usagef("bounces: unknown sub-command %q (import, poll)", args[0])
}

// bouncesImport reads bounce messages (.eml, mbox, maildir, or a directory
// of them) and applies those it can tie to a notice; it lists the others.
func (a *app) bouncesImport(ctx context.Context, args []string) error {
	fs := a.flags("bounces import")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("bounces import: want exactly one FILE or DIR")
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := notify.ImportBounces(ctx, st, a.ledger, pos[0])
	if err != nil {
		return err
	}
	return a.printBounceResult(res, *asJSON)
}

// printBounceResult prints what a bounce import did: the summary line and
// the unmatched messages, or JSON.
func (a *app) printBounceResult(res *notify.BounceResult, asJSON bool) error {
	if asJSON {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdout, "%d messages read: %d bounced (%d letters queued, %d unreachable: substitute notice), %d on notices no longer sent, %d temporary failures recorded, %d delay warnings and %d auto-replies ignored, %d already imported, %d unmatched\n",
		res.Read, res.Bounced, res.LettersQueued, res.Unreachable, res.Recorded, res.Temporary, res.Delayed, res.AutoReplies, res.Duplicates, len(res.Unmatched))
	for _, u := range res.Unmatched {
		fmt.Fprintf(a.stdout, "unmatched %s: %s\n", u.Source, u.Reason)
	}
	return nil
}
