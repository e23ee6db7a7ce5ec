package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/ledger"
	"github.com/breachnotice/breachnotice/templates"
)

// ledgerEntriesShown is how many of the latest entries the ledger page
// lists (the export has them all).
const ledgerEntriesShown = 100

// pageLedger shows a controller's ledger: size, key, checkpoints, the
// latest entries, and the export form. The ledger package reads with no
// actor, so the page asks the store first whether the user may read it
// (another controller's than a member's own is not found).
func (s *server) pageLedger(w http.ResponseWriter, r *http.Request, u *incident.User) {
	ctx := r.Context()
	id := r.PathValue("id")
	if err := incident.Authorize(ctx, incident.ActLedgerRead, id); err != nil {
		s.pageError(w, r, u, err)
		return
	}
	c, err := s.app.store.FindControllerByID(ctx, id)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	db := s.app.store.DB()
	p := templates.LedgerPage{Layout: s.layout(r, u, "Ledger of "+c.Name, "/admin/controllers/"+id+"/ledger"),
		Controller: c.ID, Name: c.Name, ExportHref: "/admin/controllers/" + c.ID + "/ledger/export", Root: "-"}
	if u.Role != incident.RoleMember {
		p.Layout = s.layout(r, u, "Ledger of "+c.Name, "/admin/controllers/")
	}
	size, err := ledger.TreeSize(ctx, db, c.ID)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	p.Size = strconv.FormatInt(size, 10)
	p.CanSign = u.Actor().Can(incident.ActLedgerSign, c.ID) == nil
	if vkey, err := ledger.PublicKey(ctx, db, c.ID); err == nil {
		p.Fingerprint, _ = ledger.Fingerprint(vkey)
	} else if !errors.Is(err, incident.ErrNotFound) {
		s.pageError(w, r, u, err)
		return
	}
	cps, err := ledger.FindCheckpoints(ctx, db, c.ID, 20)
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	for i, cp := range cps {
		if i == 0 {
			p.Root = cp.Root
		}
		p.Checkpoints = append(p.Checkpoints, templates.CheckpointRow{At: cp.At.UTC().Format("2006-01-02 15:04:05"), Size: strconv.FormatInt(cp.Size, 10), Root: cp.Root})
	}
	from := max(0, size-ledgerEntriesShown)
	var entries []templates.EntryRow
	err = ledger.FindEntries(ctx, db, ledger.EntryFilter{Controller: c.ID, From: from}, func(e ledger.Entry) error {
		row := templates.EntryRow{Index: strconv.FormatInt(e.Index, 10), At: e.At.UTC().Format("2006-01-02 15:04:05"), Kind: string(e.Kind), Channel: e.Channel}
		if e.Incident != 0 {
			row.Incident = strconv.FormatInt(e.Incident, 10)
		}
		entries = append(entries, row)
		return nil
	})
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	for i := len(entries) - 1; i >= 0; i-- { // newest first
		p.Entries = append(p.Entries, entries[i])
	}
	incs, err := s.app.store.FindIncidents(ctx, incident.IncidentFilter{Controller: c.ID})
	if err != nil {
		s.pageError(w, r, u, err)
		return
	}
	for _, inc := range incs {
		p.Incidents = append(p.Incidents, templates.Option{Value: strconv.FormatInt(inc.ID, 10), Label: fmt.Sprintf("incident %d: %s", inc.ID, inc.Title)})
	}
	s.render(w, r, http.StatusOK, templates.AdminLedger(p))
}

// postCheckpoint signs a checkpoint of the controller's log (security,
// legal), as ledger checkpoint does.
func (s *server) postCheckpoint(w http.ResponseWriter, r *http.Request, u *incident.User) {
	id := r.PathValue("id")
	if _, err := s.app.store.FindControllerByID(r.Context(), id); err != nil {
		s.pageError(w, r, u, err)
		return
	}
	if _, err := notify.SignCheckpoint(r.Context(), s.app.store, s.app.ledger, id); err != nil {
		s.pageError(w, r, u, err)
		return
	}
	http.Redirect(w, r, "/admin/controllers/"+id+"/ledger?done=signed", http.StatusSeeOther)
}
