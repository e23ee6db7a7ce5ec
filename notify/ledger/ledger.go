// Package ledger keeps one tamper-evident, append-only delivery log per data
// controller, built the way the Go checksum database is.
//
// # Model
//
// Each controller's log is a sequence of entries numbered 0, 1, 2, ... The
// first is the controller_created entry written by CreateKey, whose detail
// holds the controller's public key. Every entry is encoded canonically
// (see Entry.Canonical) and its encoding becomes leaf Index of an RFC 6962
// Merkle tree, hashed and stored with golang.org/x/mod/sumdb/tlog: the leaf
// hash is tlog.RecordHash(encoding), and appending entry n stores
// tlog.StoredHashes(n, ...), the hashes of every complete subtree it
// finishes.
//
// A checkpoint is a signed note (golang.org/x/mod/sumdb/note, ed25519, key
// name "breachnotice/<controller-id>") whose text is tlog.FormatTree of the
// tree size and root hash. Checkpoint refuses to sign a tree that is not
// consistent (tlog.ProveTree/CheckTree) with the previous checkpoint, so
// history cannot be rewritten after it has been signed without the next
// checkpoint failing. Checkpoint signs first and then records the fact as a
// checkpoint entry at index size: the entry says "the tree of size N with
// root R was signed" and is covered by the next checkpoint, not its own. A
// checkpoint therefore "covers" the log when the log holds nothing after it
// but its own checkpoint entry.
//
// # Invariants
//
//   - Entries are only ever appended, in the caller's transaction (Append),
//     so a state change and the entry recording it commit or roll back
//     together. The database refuses updates and deletes of entries.
//   - ledger_logs.size equals the number of entries and ledger_logs.edge
//     holds the right edge of the tree of that size; both change only with
//     the entries, in the same transaction. Entries are stored in runs of
//     up to RunSize consecutive entries per ledger_runs row, each run with
//     the stored hashes its entries produced (see 00002_ledger.sql); a row
//     per entry would make SQLite's per-row cost the limit on appends.
//   - Filters by incident or account scan the log; the canonical encoding
//     makes a byte search a safe first pass.
//   - A controller's private key never leaves the package unsealed: it is
//     stored sealed with AES-256-GCM under a key derived from the Ledger's
//     secret, and used only to sign checkpoints and bundle manifests.
//
// # Bundles
//
// Export and Prove write a zip bundle; Verify checks one offline, needing
// nothing but the zip (and optionally a pinned public key). A bundle holds:
//
//	entries.jsonl   the exported entries, one canonical encoding per line
//	entries.csv     the same entries for people (a spreadsheet view)
//	checkpoint      the signed note over the tree the entries belong to
//	public_key      the controller's note verifier key
//	subtrees.jsonl  a batch inclusion proof: in RFC 6962 order, the hash of
//	                every maximal subtree of the signed tree holding no
//	                exported entry, {"lo":L,"hi":H,"hash":"base64"}; with the
//	                exported leaves it recomputes the signed root
//	proofs.jsonl    tlog record proofs, one per exported entry
//	                {"index":N,"proof":["base64",...]}; only when at most
//	                MaxRecordProofs entries are exported
//	summary.json    counts by kind, channel, jurisdiction and notice status;
//	                people owed, notified (by channel) and outstanding (by
//	                why); every deadline of the plan_made entries met,
//	                missed (overdue while outstanding) or open, as of the
//	                checkpoint (recomputed and compared by Verify)
//	summary.pdf     the same summary, printable
//	banner-I-rR.json, banner-I-rR-LANG.html, banner-I-rR-LANG.txt
//	                the bytes a banner entry records by hash (Entry.Attachments):
//	                revision R of incident I's banner object as /banner.json
//	                served it and its public notice page per language, as
//	                posted; Export gets them from ExportOptions.Attach and
//	                checks them, Verify holds each to its entry's hash
//	manifest.json   SHA-256 and size of every other file
//	manifest.sig    the signature lines of a signed note whose text is
//	                manifest.json exactly (note.Open(manifest.json + "\n" +
//	                manifest.sig) verifies it)
//
// An incident's or an account's slice of a log verifies against the signed
// tree without revealing the other entries: only subtree hashes of those are
// disclosed.
package ledger

import (
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// Kind is what an entry records: incident.EventKind's vocabulary, the one
// set of kinds the store's events and notify's deliveries share.
type Kind incident.EventKind

// Entry kinds, named for the ledger.
const (
	KindControllerCreated = Kind(incident.EventControllerCreated)
	KindIncidentOpened    = Kind(incident.EventIncidentOpened)
	KindScopeSet          = Kind(incident.EventScopeSet)
	KindPlanMade          = Kind(incident.EventPlanMade)
	KindHoldSet           = Kind(incident.EventHoldSet)
	KindHoldReleased      = Kind(incident.EventHoldReleased)
	KindIncidentClosed    = Kind(incident.EventIncidentClosed)
	KindCheckpoint        = Kind(incident.EventCheckpoint)
	KindEmailSent         = Kind(incident.EventEmailSent)
	KindEmailDeferred     = Kind(incident.EventEmailDeferred)
	KindEmailFailed       = Kind(incident.EventEmailFailed)
	KindEmailRetried      = Kind(incident.EventEmailRetried)
	KindLetterQueued      = Kind(incident.EventLetterQueued)
	KindLetterUnprintable = Kind(incident.EventLetterUnprintable)
	KindLetterExported    = Kind(incident.EventLetterExported)
	KindLetterMailed      = Kind(incident.EventLetterMailed)
	KindLetterReturned    = Kind(incident.EventLetterReturned)
	KindBannerPublished   = Kind(incident.EventBannerPublished)
	KindBannerUpdated     = Kind(incident.EventBannerUpdated)
	KindBannerWithdrawn   = Kind(incident.EventBannerWithdrawn)
	KindNoticeUnreachable = Kind(incident.EventNoticeUnreachable)
	KindDeadlineAlert     = Kind(incident.EventDeadlineAlert)
	KindRegulatorNotified = Kind(incident.EventRegulatorNotified)
	KindRegulatorWaived   = Kind(incident.EventRegulatorFirstWaived)
	KindEmailBounced      = Kind(incident.EventEmailBounced)
	KindOfferAssigned     = Kind(incident.EventOfferAssigned)
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return incident.EventKind(k).Valid() }

// status is the delivery status a kind leaves a notice in, "" for kinds that
// are not about a notice.
func (k Kind) status() string {
	switch k {
	case KindEmailSent:
		return "sent"
	case KindEmailDeferred:
		return "deferred"
	case KindEmailFailed, KindEmailBounced:
		return "failed"
	case KindEmailRetried:
		return "pending"
	case KindLetterQueued:
		return "queued"
	case KindLetterUnprintable:
		return "unprintable"
	case KindLetterExported:
		return "exported"
	case KindLetterMailed:
		return "mailed"
	case KindLetterReturned:
		return "returned"
	case KindBannerPublished, KindBannerUpdated:
		return "published"
	case KindBannerWithdrawn:
		return "withdrawn"
	case KindNoticeUnreachable:
		return "unreachable"
	}
	return ""
}

// Entry is one record of a controller's log.
type Entry struct {
	Controller string `json:"controller"`
	// Index is the entry's position in its controller's log, assigned by
	// Append.
	Index    int64     `json:"index"`
	At       time.Time `json:"at"`
	Kind     Kind      `json:"kind"`
	Incident int64     `json:"incident,omitempty"`
	Account  string    `json:"account,omitempty"`
	Notice   int64     `json:"notice,omitempty"`
	Channel  string    `json:"channel,omitempty"`
	// PossibleDuplicate marks a delivery that may have reached its
	// recipient twice (a re-send after an expired lease).
	PossibleDuplicate bool `json:"possible_duplicate,omitempty"`
	// Detail is a JSON object, e.g. the SMTP outcome of a delivery. A
	// "jurisdiction" and a "deadline" (YYYY-MM-DD) in it are counted by
	// bundle summaries.
	Detail json.RawMessage `json:"detail,omitempty"`
}

// MaxRecordProofs is the most entries a bundle carries individual tlog
// record proofs for (proofs.jsonl); bigger bundles rely on subtrees.jsonl
// alone, whose size grows with the gaps between exported entries rather
// than with entries times tree height.
const MaxRecordProofs = 10000

// Ledger signs checkpoints and bundles with the controllers' keys, which it
// keeps sealed under its secret. Append and the readers need no Ledger.
type Ledger struct {
	aead cipher.AEAD
	root []byte // HKDF input for DeriveKey (secret.go)
	now  func() time.Time
}

// MinSecretLen is the shortest secret New accepts. The secret should be
// random (e.g. 32 bytes from a key file), not a passphrase: keys are derived
// from it with HKDF, which does not slow down guessing.
const MinSecretLen = 16

// New returns a Ledger whose private keys are sealed under secret; now is
// its clock (time.Now when nil).
func New(secret []byte, now func() time.Time) (*Ledger, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("ledger: %w: secret shorter than %d bytes", incident.ErrInvalid, MinSecretLen)
	}
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Ledger{aead: aead, root: append([]byte(nil), secret...), now: now}, nil
}

// Checkpoint is a signed tree head of one controller's log.
type Checkpoint struct {
	Controller string    `json:"controller"`
	Size       int64     `json:"size"`
	Root       string    `json:"root"` // base64, as in the note
	Note       string    `json:"note"` // the signed note
	At         time.Time `json:"at"`
}
