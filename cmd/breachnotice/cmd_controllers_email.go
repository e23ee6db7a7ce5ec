package main

import (
	"context"
	"fmt"
	"os"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/dkim"
)

// readDKIMFlags reads and checks the --dkim-key file before the update
// changes anything: both flags or neither.
func readDKIMFlags(f controllerFlags, set map[string]bool) ([]byte, error) {
	if !set["dkim-key"] && !set["dkim-selector"] {
		return nil, nil
	}
	if f.dkimKey == "" || f.dkimSelector == "" {
		return nil, usagef("controllers update: --dkim-key and --dkim-selector go together")
	}
	if err := dkim.CheckSelector(f.dkimSelector); err != nil {
		return nil, usagef("controllers update: --dkim-selector: %v", err)
	}
	b, err := os.ReadFile(f.dkimKey)
	if err != nil {
		return nil, fmt.Errorf("dkim key: %w", err)
	}
	if _, err := dkim.ParseKey(b); err != nil {
		return nil, fmt.Errorf("dkim key %s: %w: %v", f.dkimKey, incident.ErrInvalid, err)
	}
	return b, nil
}

// applyEmailFlags stores the DKIM key and the bounce domain.
func (a *app) applyEmailFlags(ctx context.Context, c *incident.Controller, f controllerFlags, set map[string]bool, pemKey []byte) error {
	if pemKey != nil {
		es, err := notify.SetDKIM(ctx, a.store, a.ledger, c.ID, f.dkimSelector, pemKey)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "breachnotice: %s DKIM key stored sealed, selector %s; publish the record `controllers dkim-record %s` prints\n",
			es.DKIMAlgorithm, es.DKIMSelector, c.ID)
	}
	if set["bounce-domain"] {
		if err := notify.SetBounceDomain(ctx, a.store, c.ID, f.bounceDomain); err != nil {
			return err
		}
	}
	return nil
}

// controllersDKIMRecord prints the DNS TXT record that publishes the
// controller's DKIM public key.
func (a *app) controllersDKIMRecord(ctx context.Context, args []string) error {
	fs := a.flags("controllers dkim-record")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("controllers dkim-record: want exactly one controller ID")
	}
	st, err := a.open(ctx, dbReadOnly)
	if err != nil {
		return err
	}
	c, err := st.FindControllerByID(ctx, pos[0])
	if err != nil {
		return err
	}
	rec, err := notify.DKIMRecord(ctx, st, a.ledger, c)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, rec)
	return nil
}
