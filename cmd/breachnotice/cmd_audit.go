package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// cmdAudit prints the audit log: every state-changing action, who made it,
// newest first.
func (a *app) cmdAudit(ctx context.Context, args []string) error {
	fs := a.flags("audit")
	limit := fs.Int("limit", 50, "how many entries")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	es, err := st.FindAudit(ctx, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		if es == nil {
			es = []incident.AuditEntry{}
		}
		return a.printJSON(es)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACTOR\tACTION\tOBJECT\tDETAIL")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.DateTime), e.Actor, e.Action, e.Object, short(e.Detail, 70))
	}
	return tw.Flush()
}
