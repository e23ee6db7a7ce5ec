package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/breachnotice/breachnotice/incident"
)

// accountsList streams the learners: a table, or one JSON object per line
// with --json. A Member's list (--controller) holds only the learners
// enrolled in its courses.
func (a *app) accountsList(ctx context.Context, args []string) error {
	fs := a.flags("accounts list")
	var f incident.AccountFilter
	fs.StringVar(&f.Controller, "controller", "", "only the accounts of this controller's copy (a Member's: the learners enrolled in its courses)")
	fs.StringVar(&f.Country, "country", "", "only residents of this country (ISO 3166-1 alpha-2)")
	fs.IntVar(&f.Limit, "limit", 0, "list at most N accounts (0: all)")
	asJSON := fs.Bool("json", false, "one JSON object per account and line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("accounts list: unexpected argument %q", pos[0])
	}
	if f.Limit < 0 {
		return usagef("accounts list: --limit %d: want 0 or more", f.Limit)
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	if *asJSON {
		enc := json.NewEncoder(w)
		if err := st.FindAccounts(ctx, f, func(acc *incident.Account) error { return enc.Encode(acc) }); err != nil {
			return err
		}
		return w.Flush()
	}
	// tabwriter holds its cells until Flush: flush every few hundred rows,
	// so a million accounts stream (columns are sized per block).
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCOUNTRY\tEMAIL USABLE\tPOSTAL COMPLETE\tE-CONSENT\tSTATUS")
	n := 0
	yes := map[bool]string{true: "yes", false: "no"}
	err = st.FindAccounts(ctx, f, func(acc *incident.Account) error {
		where := acc.Country
		if acc.Region != "" {
			where += "-" + acc.Region
		}
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", acc.ID, incident.CleanText(acc.Name), where, yes[acc.EmailUsable && acc.Email != ""],
			yes[acc.PostalComplete()], yes[acc.EConsent], acc.Status)
		if n++; n%512 == 0 {
			return tw.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return w.Flush()
}
