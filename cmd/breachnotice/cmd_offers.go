package main

import (
	"context"
	"fmt"
	"os"

	"github.com/breachnotice/breachnotice/notify/offer"
)

// cmdOffers handles the identity-theft-protection enrolment codes.
func (a *app) cmdOffers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("offers: want import or export")
	}
	switch args[0] {
	case "import":
		return a.offersImport(ctx, args[1:])
	case "export":
		return a.offersExport(ctx, args[1:])
	}
	return usagef("offers: unknown sub-command %q (import, export)", args[0])
}

// offersImport reads a provider's codes and gives one to each person owed
// a protection offer who has none.
func (a *app) offersImport(ctx context.Context, args []string) error {
	fs := a.flags("offers import")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("offers import: want an incident ID and FILE.csv")
	}
	id, err := incidentID("offers import", pos[:1])
	if err != nil {
		return err
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	codes, err := offer.ReadCodes(pos[1], f)
	if err != nil {
		return err
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	res, err := offer.Import(ctx, st, id, pos[1], codes, a.now())
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdout, "incident %d: %d codes read (%d new, %d already imported); %d people owed a protection offer were waiting, %d codes assigned, %d spare\n",
		id, res.Read, res.New, res.Known, res.Owed, res.Assigned, res.Spare)
	return nil
}

// offersExport writes the assignments the provider needs.
func (a *app) offersExport(ctx context.Context, args []string) error {
	fs := a.flags("offers export")
	out := fs.String("out", "", "the CSV to write (default offers-ID.csv)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := incidentID("offers export", pos)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = fmt.Sprintf("offers-%d.csv", id)
	}
	st, err := a.open(ctx, dbExisting)
	if err != nil {
		return err
	}
	n, err := offer.Export(ctx, st, id, *out, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "incident %d: %d assignments written to %s\n", id, n, *out)
	return nil
}
