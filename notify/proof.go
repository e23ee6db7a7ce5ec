package notify

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// ExportProof writes the proof bundle of a controller's log, or of one of
// its incidents (opt.Incident != 0), to the file opt.Out as the context's
// actor (opt.Actor is set here), and audits the export:
// the one operation behind ledger export and the web's download. The
// context's actor must be allowed to read the controller's ledger; another
// controller's than a member's own is not found.
func ExportProof(ctx context.Context, st *incident.Store, l *ledger.Ledger, opt ledger.ExportOptions) (ledger.Summary, error) {
	controller, incidentID := opt.Controller, opt.Incident
	if err := incident.Authorize(ctx, incident.ActLedgerRead, controller); err != nil {
		return ledger.Summary{}, fmt.Errorf("ledger export: %w", err)
	}
	if _, err := st.FindControllerByID(ctx, controller); err != nil {
		return ledger.Summary{}, fmt.Errorf("ledger export: %w", err)
	}
	if incidentID != 0 {
		// The ledger refuses an incident without entries too; this says why.
		inc, err := st.FindIncidentByID(ctx, incidentID)
		if err != nil {
			return ledger.Summary{}, fmt.Errorf("ledger export: %w", err)
		}
		if inc.ControllerID != controller {
			return ledger.Summary{}, fmt.Errorf("ledger export: %w: incident %d is controller %s's, not %s's (its entries are in %s's log)",
				incident.ErrInvalid, inc.ID, inc.ControllerID, controller, inc.ControllerID)
		}
	}
	opt.Actor = incident.ActorFrom(ctx)
	sum, err := l.Export(ctx, st.DB(), opt)
	if err != nil {
		return ledger.Summary{}, err
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "ledger.export", "controller:"+controller, map[string]any{"incident": incidentID, "entries": sum.Entries})
	})
	return sum, err
}

// SignCheckpoint signs a checkpoint of the controller's log as it stands
// and audits it: ledger checkpoint's operation. Security and legal may.
func SignCheckpoint(ctx context.Context, st *incident.Store, l *ledger.Ledger, controller string) (ledger.Checkpoint, error) {
	if err := incident.Authorize(ctx, incident.ActLedgerSign, controller); err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("ledger checkpoint: %w", err)
	}
	cp, err := l.Checkpoint(ctx, st.DB(), controller)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "ledger.checkpoint", "controller:"+controller, map[string]any{"size": cp.Size})
	})
	return cp, err
}

// ProveAccount writes one learner's inclusion proof to the file out and
// audits it (the learner's id stays out of the audit row): ledger prove's
// operation.
func ProveAccount(ctx context.Context, st *incident.Store, l *ledger.Ledger, controller, account, out string) (ledger.Summary, error) {
	sum, err := l.ProveFile(ctx, st.DB(), incident.ActorFrom(ctx), controller, account, out)
	if err != nil {
		return ledger.Summary{}, err
	}
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		return st.Audit(ctx, tx, "ledger.prove", "controller:"+controller, map[string]any{"entries": sum.Entries})
	})
	return sum, err
}
