package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/dkim"
)

// Secrets seals and opens a controller's secrets and derives its keys:
// the ledger (notify/ledger), under the database's secret. The store's
// Journal provides it when wired.
type Secrets interface {
	SealSecret(controllerID, purpose string, plain []byte) []byte
	OpenSecret(controllerID, purpose string, sealed []byte) ([]byte, error)
	DeriveKey(controllerID, purpose string) []byte
}

// Purposes of sealed values and derived keys.
const (
	purposeDKIM = "dkim private key"
	purposeVERP = "verp tag key"
)

// Signer signs a whole encoded message and returns the header field to
// prepend (dkim.Key does).
type Signer interface {
	Sign(msg []byte) ([]byte, error)
}

// EmailSettings is how a controller's notices go out by email.
type EmailSettings struct {
	DKIMSelector  string `json:"dkim_selector,omitempty"`
	DKIMAlgorithm string `json:"dkim_algorithm,omitempty"`
	DKIMRecord    string `json:"dkim_record,omitempty"` // TXT value
	// BounceDomain is the domain of the return paths; "" means the From
	// domain.
	BounceDomain string `json:"bounce_domain,omitempty"`
}

// FindEmailSettings returns the controller's email settings (zero when
// none were set).
func FindEmailSettings(ctx context.Context, st *incident.Store, controllerID string) (EmailSettings, error) {
	var s EmailSettings
	err := st.DB().QueryRowContext(ctx, `SELECT dkim_selector, dkim_algorithm, dkim_record, bounce_domain
		FROM controller_email WHERE controller_id = ?`, controllerID).Scan(&s.DKIMSelector, &s.DKIMAlgorithm, &s.DKIMRecord, &s.BounceDomain)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("email settings of %s: %w", controllerID, err)
	}
	return s, nil
}

// SetDKIM stores the controller's DKIM key (PEM, RSA 2048-4096 or
// ed25519), sealed by sec, and its selector; every email of the
// controller is signed with it from then on. Audited, without the key.
func SetDKIM(ctx context.Context, st *incident.Store, sec Secrets, controllerID, selector string, pemKey []byte) (EmailSettings, error) {
	if err := dkim.CheckSelector(selector); err != nil {
		return EmailSettings{}, fmt.Errorf("dkim: %w: %v", incident.ErrInvalid, err)
	}
	k, err := dkim.ParseKey(pemKey)
	if err != nil {
		return EmailSettings{}, fmt.Errorf("dkim key: %w: %v", incident.ErrInvalid, err)
	}
	rec, err := dkim.RecordValue(k)
	if err != nil {
		return EmailSettings{}, err
	}
	if sec == nil {
		return EmailSettings{}, errors.New("dkim: no secret to seal the key with")
	}
	sealed := sec.SealSecret(controllerID, purposeDKIM, pemKey)
	err = st.InTxAt(ctx, time.Now(), func(tx *incident.Tx) error {
		if err := incident.Authorize(ctx, incident.ActControllers, controllerID); err != nil {
			return err
		}
		if err := ensureSettingsRow(ctx, tx, controllerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE controller_email SET dkim_selector = ?, dkim_algorithm = ?, dkim_record = ?,
			dkim_sealed = ?, updated_at = ? WHERE controller_id = ?`, selector, dkim.Algorithm(k), rec, sealed,
			tx.Now.Format(time.RFC3339Nano), controllerID); err != nil {
			return fmt.Errorf("dkim of %s: %w", controllerID, err)
		}
		return tx.Audit(ctx, "controller.dkim", controllerID, map[string]string{"selector": selector, "algorithm": dkim.Algorithm(k)})
	})
	if err != nil {
		return EmailSettings{}, err
	}
	return FindEmailSettings(ctx, st, controllerID)
}

// SetBounceDomain sets the domain of the controller's return paths ("":
// the From domain). Audited.
func SetBounceDomain(ctx context.Context, st *incident.Store, controllerID, domain string) error {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if domain != "" && (dkim.CheckSelector(domain) != nil || !strings.Contains(domain, ".")) {
		return fmt.Errorf("bounce domain: %w: %q is not a domain name", incident.ErrInvalid, domain)
	}
	return st.InTxAt(ctx, time.Now(), func(tx *incident.Tx) error {
		if err := incident.Authorize(ctx, incident.ActControllers, controllerID); err != nil {
			return err
		}
		if err := ensureSettingsRow(ctx, tx, controllerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE controller_email SET bounce_domain = ?, updated_at = ? WHERE controller_id = ?`,
			domain, tx.Now.Format(time.RFC3339Nano), controllerID); err != nil {
			return fmt.Errorf("bounce domain of %s: %w", controllerID, err)
		}
		return tx.Audit(ctx, "controller.bounce_domain", controllerID, map[string]string{"domain": domain})
	})
}

func ensureSettingsRow(ctx context.Context, tx *incident.Tx, controllerID string) error {
	ok, err := incident.ControllerExists(ctx, tx, controllerID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("controller %q: %w", controllerID, incident.ErrNotFound)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO controller_email(controller_id, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		controllerID, tx.Now.Format(time.RFC3339Nano))
	return err
}

// sender is what the dispatcher needs to sign and address a controller's
// messages.
type sender struct {
	dkim         Signer // nil: not signed
	verpKey      []byte // nil: no per-notice return path
	bounceDomain string
}

// loadSender reads the controller's DKIM key (opened with sec) and return
// path settings. Without sec (a store not wired to a ledger) messages go
// unsigned, with the From address as return path.
func loadSender(ctx context.Context, st *incident.Store, sec Secrets, c *incident.Controller) (*sender, error) {
	s := &sender{}
	if sec == nil {
		return s, nil
	}
	s.verpKey = sec.DeriveKey(c.ID, purposeVERP)
	var sealed []byte
	var selector, domain string
	err := st.DB().QueryRowContext(ctx, `SELECT dkim_selector, dkim_sealed, bounce_domain FROM controller_email WHERE controller_id = ?`,
		c.ID).Scan(&selector, &sealed, &domain)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("email settings of %s: %w", c.ID, err)
	}
	s.bounceDomain = domain
	if s.bounceDomain == "" {
		s.bounceDomain = domainOf(c.From)
	}
	if len(sealed) > 0 {
		pemKey, err := sec.OpenSecret(c.ID, purposeDKIM, sealed)
		if err != nil {
			return nil, fmt.Errorf("dkim key: %w", err)
		}
		k, err := dkim.ParseKey(pemKey)
		if err != nil {
			return nil, fmt.Errorf("dkim key of %s: %w", c.ID, err)
		}
		s.dkim = &dkim.Key{Domain: domainOf(c.From), Selector: selector, Signer: k}
	}
	return s, nil
}

// DKIMRecord returns the zone-file line for the controller's DKIM key.
func DKIMRecord(ctx context.Context, st *incident.Store, sec Secrets, c *incident.Controller) (string, error) {
	s, err := loadSender(ctx, st, sec, c)
	if err != nil {
		return "", err
	}
	k, ok := s.dkim.(*dkim.Key)
	if !ok || k == nil {
		return "", fmt.Errorf("controller %s: %w: no DKIM key (controllers update %s --dkim-key FILE --dkim-selector S)", c.ID, incident.ErrNotFound, c.ID)
	}
	return dkim.Record(k.Signer, k.Selector, k.Domain)
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(addr[at+1:])
	}
	return ""
}

// secretsOf is the store's journal when it can seal secrets.
func secretsOf(st *incident.Store) Secrets {
	s, _ := st.Journal.(Secrets)
	return s
}
