package ledger

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/breachnotice/breachnotice/incident"
)

// SealSecret seals plain (a controller's DKIM private key, say) under the
// same secret as the ledger signing keys, bound to the controller and to
// purpose: a sealed value copied to another controller, or used for
// another purpose, does not open.
func (l *Ledger) SealSecret(controllerID, purpose string, plain []byte) []byte {
	nonce := make([]byte, l.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return l.aead.Seal(nonce, nonce, plain, secretAD(controllerID, purpose))
}

// OpenSecret opens what SealSecret sealed for the same controller and
// purpose.
func (l *Ledger) OpenSecret(controllerID, purpose string, sealed []byte) ([]byte, error) {
	ns := l.aead.NonceSize()
	if len(sealed) < ns {
		return nil, fmt.Errorf("%w: no %s for controller %q", incident.ErrNotFound, purpose, controllerID)
	}
	plain, err := l.aead.Open(nil, sealed[:ns], sealed[ns:], secretAD(controllerID, purpose))
	if err != nil {
		return nil, fmt.Errorf("%w: %s of controller %q does not open with this secret", incident.ErrInvalid, purpose, controllerID)
	}
	return plain, nil
}

// DeriveKey returns a 32-byte key for the controller and purpose, derived
// from the secret with HKDF: stable as long as the secret is, different
// for every controller and purpose, and never stored.
func (l *Ledger) DeriveKey(controllerID, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, l.root, []byte(controllerID), "breachnotice "+purpose+" v1", 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return k
}

func secretAD(controllerID, purpose string) []byte {
	return []byte(purpose + " for " + controllerID)
}
