package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetSecurityEmail sets where the scheduler's deadline alerts for the
// controller go ("" = its contact email), audited.
func (s *Store) SetSecurityEmail(ctx context.Context, controllerID, email string) error {
	if email != "" {
		e, err := CheckEmail(email)
		if err != nil {
			return fmt.Errorf("%w: security email: %v", ErrInvalid, err)
		}
		email = e
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE controllers SET security_email = ? WHERE id = ?`, email, controllerID)
		if err != nil {
			return fmt.Errorf("set security email of %s: %w", controllerID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: controller %q", ErrNotFound, controllerID)
		}
		return s.audit(ctx, tx, "controller.security_email", "controller:"+controllerID, map[string]any{"set": email != ""})
	})
}

// SecurityEmail returns where the controller's deadline alerts go: its
// security email, else its contact email, else "".
func (s *Store) SecurityEmail(ctx context.Context, controllerID string) (string, error) {
	var sec, contact string
	err := s.db.QueryRowContext(ctx, `SELECT security_email, contact_email FROM controllers WHERE id = ?`, controllerID).Scan(&sec, &contact)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: controller %q", ErrNotFound, controllerID)
	}
	if err != nil {
		return "", fmt.Errorf("security email of %s: %w", controllerID, err)
	}
	if sec != "" {
		return sec, nil
	}
	return contact, nil
}
