package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	fs.StringVar(&f.Region, "region", "", "only residents of this region (CA, or US-CA which also sets the country)")
	fs.StringVar(&f.After, "after", "", "start after this account id: the next page (a list cut by --limit says which id to give)")
	fs.IntVar(&f.Limit, "limit", 0, "list at most N accounts, then say on stderr how to get the next page (0: all)")
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
	// One account past the limit says whether there is a next page; it
	// is not printed.
	limit, last, more := f.Limit, "", false
	if limit > 0 {
		f.Limit++
	}
	listed := 0
	page := func(print func(*incident.Account) error) func(*incident.Account) error {
		return func(acc *incident.Account) error {
			if limit > 0 && listed == limit {
				more = true
				return errPageFull
			}
			listed++
			last = acc.ID
			return print(acc)
		}
	}
	nextPage := func() {
		if more {
			fmt.Fprintf(a.stderr, "breachnotice: %d accounts listed, more follow: the next page is accounts list --after %s%s\n",
				limit, quoteArg(last), pageFlags(f))
		}
	}
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	if *asJSON {
		enc := json.NewEncoder(w)
		if err := st.FindAccounts(ctx, f, page(func(acc *incident.Account) error { return enc.Encode(acc) })); err != nil && !errors.Is(err, errPageFull) {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		nextPage()
		return nil
	}
	// tabwriter holds its cells until Flush: flush every few hundred rows,
	// so a million accounts stream (columns are sized per block).
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCOUNTRY\tEMAIL USABLE\tPOSTAL COMPLETE\tE-CONSENT\tSTATUS")
	n := 0
	yes := map[bool]string{true: "yes", false: "no"}
	err = st.FindAccounts(ctx, f, page(func(acc *incident.Account) error {
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
	}))
	if err != nil && !errors.Is(err, errPageFull) {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	nextPage()
	return nil
}

// errPageFull stops an accounts list at --limit.
var errPageFull = errors.New("page full")

// pageFlags repeats the filters of an accounts list for its next page.
func pageFlags(f incident.AccountFilter) string {
	var b strings.Builder
	for _, kv := range [][2]string{{"controller", f.Controller}, {"country", f.Country}, {"region", f.Region}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " --%s %s", kv[0], quoteArg(kv[1]))
		}
	}
	fmt.Fprintf(&b, " --limit %d", f.Limit-1)
	return b.String()
}

// quoteArg quotes a command-line argument for a shell when it needs it.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '@' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
