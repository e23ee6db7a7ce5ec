package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// TestStore_ControllerFrom: a sender address is stored with its domain in
// A-labels, so that the notices' Message-IDs and envelopes are ASCII; an
// address whose domain is not a valid IDN is refused.
func TestStore_ControllerFrom(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	c := &incident.Controller{ID: "op", Name: "Bücher GmbH", From: "notice@bücher.example"}
	if err := st.CreateController(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.From != "notice@xn--bcher-kva.example" {
		t.Errorf("created From = %q, want notice@xn--bcher-kva.example", c.From)
	}
	got, err := st.FindControllerByID(ctx, "op")
	if err != nil || got.From != "notice@xn--bcher-kva.example" {
		t.Fatalf("stored From = %q (%v), want notice@xn--bcher-kva.example", got.From, err)
	}

	from := "Dpo@Straße.Example"
	if c, err := st.UpdateController(ctx, "op", incident.ControllerUpdate{From: &from}); err != nil || c.From != "Dpo@xn--strae-oqa.example" {
		t.Fatalf("UpdateController From = %+v, %v; want Dpo@xn--strae-oqa.example", c, err)
	}
	var raw string
	if err := st.DB().QueryRowContext(ctx, `SELECT from_email FROM controllers WHERE id='op'`).Scan(&raw); err != nil || raw != "Dpo@xn--strae-oqa.example" {
		t.Errorf("from_email column = %q (%v)", raw, err)
	}

	t.Run("LegacyRowReadInALabels", func(t *testing.T) {
		if _, err := st.DB().ExecContext(ctx, `UPDATE controllers SET from_email='notice@bücher.example' WHERE id='op'`); err != nil {
			t.Fatal(err)
		}
		if c, err := st.FindControllerByID(ctx, "op"); err != nil || c.From != "notice@xn--bcher-kva.example" {
			t.Errorf("From = %q (%v), want the A-label form", c.From, err)
		}
	})

	for _, bad := range []string{"notice@xn--zz.example", "notice@bücher-.example", "notice@b\u00fc\u200dcher.example"} {
		t.Run("ErrInvalid", func(t *testing.T) {
			err := st.CreateController(ctx, &incident.Controller{ID: "m1", Name: "M", Member: true, From: bad})
			if !errors.Is(err, incident.ErrInvalid) {
				t.Errorf("CreateController(From %q) = %v, want ErrInvalid", bad, err)
			}
			b := bad
			if _, err := st.UpdateController(ctx, "op", incident.ControllerUpdate{From: &b}); !errors.Is(err, incident.ErrInvalid) {
				t.Errorf("UpdateController(From %q) = %v, want ErrInvalid", bad, err)
			}
		})
	}
}
