package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// TokenWindow is how old a webhook signature's timestamp may be, and so
// how long its token is remembered: a signature older than that is
// refused, one within it whose token was seen with another body too.
const TokenWindow = 14 * 24 * time.Hour

// FreshWebhookToken records a signed webhook token (provider, token, the
// signature's timestamp) with the body it came with, and reports whether
// the delivery may be accepted: the token is new, or came with this very
// body before (the provider retrying). A signature dated more than
// TokenWindow before now (or more than 5 minutes after it) is refused;
// tokens older than the window are forgotten in the same transaction.
func FreshWebhookToken(ctx context.Context, st *incident.Store, provider, token string, signedAt time.Time, body []byte, now time.Time) (bool, error) {
	if token == "" {
		return false, nil
	}
	sum := sha256.Sum256(body)
	bodySum := hex.EncodeToString(sum[:])
	fresh := false
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_tokens WHERE signed_at < ?`,
			now.Add(-TokenWindow).UTC().Format(time.RFC3339)); err != nil {
			return err
		}
		if signedAt.Before(now.Add(-TokenWindow)) || signedAt.After(now.Add(5*time.Minute)) {
			return nil // too old to tell a replay: refused
		}
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT body_sha256 FROM webhook_tokens WHERE provider = ? AND token = ?`, provider, token).Scan(&prev)
		switch {
		case err == nil:
			fresh = prev == bodySum
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		fresh = true
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_tokens(provider, token, body_sha256, signed_at) VALUES (?, ?, ?, ?)`,
			provider, token, bodySum, signedAt.UTC().Format(time.RFC3339))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("webhook token: %w", err)
	}
	return fresh, nil
}
