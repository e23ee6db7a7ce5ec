package ledger

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"golang.org/x/mod/sumdb/note"
)

// keyInfo labels the HKDF derivation of the sealing key from the secret.
const keyInfo = "breachnotice ledger signing keys v1"

func newAEAD(secret []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, secret, nil, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// KeyName is the note key name of a controller's signing key.
func KeyName(controllerID string) string { return "breachnotice/" + controllerID }

// FingerprintFormat says, for people reading a fingerprint, how it is made
// (after its "SHA256:" prefix).
const FingerprintFormat = "SHA-256 of the 32-byte ed25519 public key, unpadded base64"

// Fingerprint names a controller's public key (note verifier key text, as
// in a bundle's public_key) in a form short enough to publish and compare by
// eye: "SHA256:" followed by the unpadded standard base64 of the SHA-256 of
// the 32-byte ed25519 public key, the form OpenSSH prints. Two keys of the
// same name have different fingerprints; the name is not hashed.
func Fingerprint(vkey string) (string, error) {
	vkey = strings.TrimSpace(vkey)
	if _, err := note.NewVerifier(vkey); err != nil {
		return "", fmt.Errorf("ledger: fingerprint: %w: not a note verifier key: %v", incident.ErrInvalid, err)
	}
	// name+hash+base64(algorithm byte 1, ed25519 key): NewVerifier
	// checked the parts and the key's length. Names have no '+', base64
	// may.
	_, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+")
	raw, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(raw) != 33 {
		return "", fmt.Errorf("ledger: fingerprint: %w: not an ed25519 note verifier key", incident.ErrInvalid)
	}
	sum := sha256.Sum256(raw[1:])
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

// sealAD binds a sealed key to its controller, so a sealed key copied to
// another controller's row does not open.
func sealAD(controllerID string) []byte { return []byte("ledger key for " + controllerID) }

func (l *Ledger) seal(controllerID, skey string) []byte {
	nonce := make([]byte, l.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return l.aead.Seal(nonce, nonce, []byte(skey), sealAD(controllerID))
}

func (l *Ledger) open(controllerID string, sealed []byte) (string, error) {
	ns := l.aead.NonceSize()
	if len(sealed) < ns {
		return "", fmt.Errorf("%w: no signing key for controller %q", incident.ErrNotFound, controllerID)
	}
	skey, err := l.aead.Open(nil, sealed[:ns], sealed[ns:], sealAD(controllerID))
	if err != nil {
		return "", fmt.Errorf("%w: signing key of controller %q does not open with this secret", incident.ErrInvalid, controllerID)
	}
	return string(skey), nil
}

// CreateKey creates the controller's signing key inside the caller's
// transaction (the one creating the controller) and appends the log's first
// entry, controller_created, whose detail holds the public key. It returns
// the public key as note verifier key text. A controller gets one key.
func (l *Ledger) CreateKey(ctx context.Context, tx *sql.Tx, controllerID string) (publicKey string, err error) {
	return l.createKey(ctx, tx, controllerID, nil)
}

func (l *Ledger) createKey(ctx context.Context, tx *sql.Tx, controllerID string, detail map[string]any) (string, error) {
	id, size, _, err := readLog(ctx, tx, controllerID, true)
	if err != nil {
		return "", fmt.Errorf("ledger: create key %s: %w", controllerID, err)
	}
	var existing string
	if err := tx.QueryRowContext(ctx, `SELECT public_key FROM ledger_logs WHERE id = ?`, id).Scan(&existing); err != nil {
		return "", fmt.Errorf("ledger: create key %s: %w", controllerID, err)
	}
	if existing != "" || size != 0 {
		return "", fmt.Errorf("ledger: create key %s: %w: controller already has a ledger", controllerID, incident.ErrConflict)
	}
	name := KeyName(controllerID)
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("ledger: create key %s: %w: %v", controllerID, incident.ErrInvalid, err)
	}
	now := l.now().UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_logs SET key_name = ?, public_key = ?, sealed_key = ?, key_created_at = ? WHERE id = ?`,
		name, vkey, l.seal(controllerID, skey), now.Format(time.RFC3339Nano), id); err != nil {
		return "", fmt.Errorf("ledger: create key %s: %w", controllerID, err)
	}
	d := map[string]any{}
	for k, v := range detail {
		d[k] = v
	}
	d["public_key"] = vkey
	raw, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("ledger: create key %s: %w", controllerID, err)
	}
	if err := Append(ctx, tx, Entry{Controller: controllerID, At: now, Kind: KindControllerCreated, Detail: raw}); err != nil {
		return "", err
	}
	return vkey, nil
}

// Record implements incident.Journal: it appends the store's event to the
// controller's log in the store's transaction. A controller_created event
// creates the controller's signing key (CreateKey).
func (l *Ledger) Record(ctx context.Context, tx *sql.Tx, ev incident.Event) error {
	kind := Kind(ev.Kind)
	if !kind.Valid() {
		return fmt.Errorf("ledger: record: unknown event kind %q", ev.Kind)
	}
	if kind == KindControllerCreated {
		_, err := l.createKey(ctx, tx, ev.Controller, ev.Detail)
		return err
	}
	var raw json.RawMessage
	if len(ev.Detail) > 0 {
		b, err := json.Marshal(ev.Detail)
		if err != nil {
			return fmt.Errorf("ledger: record %s: %w", ev.Kind, err)
		}
		raw = b
	}
	at := ev.At
	if at.IsZero() {
		at = l.now()
	}
	return Append(ctx, tx, Entry{Controller: ev.Controller, At: at, Kind: kind, Incident: ev.Incident, Detail: raw})
}

var _ incident.Journal = (*Ledger)(nil)

// PublicKey returns the controller's public key (note verifier key text).
func PublicKey(ctx context.Context, q Queryer, controllerID string) (string, error) {
	var vkey string
	err := q.QueryRowContext(ctx, `SELECT public_key FROM ledger_logs WHERE controller_id = ?`, controllerID).Scan(&vkey)
	if errors.Is(err, sql.ErrNoRows) || err == nil && vkey == "" {
		return "", fmt.Errorf("ledger: public key %s: %w", controllerID, incident.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("ledger: public key %s: %w", controllerID, err)
	}
	return vkey, nil
}

// signer returns the controller's note signer and verifier key.
func (l *Ledger) signer(ctx context.Context, q Queryer, controllerID string) (note.Signer, string, error) {
	var vkey string
	var sealed []byte
	err := q.QueryRowContext(ctx, `SELECT public_key, sealed_key FROM ledger_logs WHERE controller_id = ?`, controllerID).Scan(&vkey, &sealed)
	if errors.Is(err, sql.ErrNoRows) || err == nil && vkey == "" {
		return nil, "", fmt.Errorf("%w: no signing key for controller %q", incident.ErrNotFound, controllerID)
	}
	if err != nil {
		return nil, "", err
	}
	skey, err := l.open(controllerID, sealed)
	if err != nil {
		return nil, "", err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("%w: signing key of controller %q: %v", incident.ErrInvalid, controllerID, err)
	}
	return s, strings.TrimSpace(vkey), nil
}
