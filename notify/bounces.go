package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify/bounce"
	"github.com/breachnotice/breachnotice/notify/ledger"
)

// Bounce outcomes, as the bounces table records them.
const (
	BounceLetterQueued = "letter_queued"
	BounceUnreachable  = "unreachable"
	BounceTemporary    = "temporary"
	BounceRecorded     = "recorded"
)

// bounceBatch is how many matched bounces one transaction applies.
const bounceBatch = 500

// BounceResult counts what an import did.
type BounceResult struct {
	Read          int `json:"read"`
	Bounced       int `json:"bounced"`           // permanent failures of sent notices: email_bounced
	LettersQueued int `json:"letters_queued"`    // of those, a letter queued
	Unreachable   int `json:"unreachable"`       // of those, no letter possible: substitute notice
	Recorded      int `json:"recorded"`          // permanent failures of notices no longer sent
	Temporary     int `json:"temporary"`         // 4.x.x failures, recorded only
	Delayed       int `json:"delayed"`           // delayed-delivery warnings: not bounces
	AutoReplies   int `json:"auto_replies"`      // recognised and ignored
	Duplicates    int `json:"duplicates"`        // imported before: nothing changed
	Ignored       int `json:"ignored,omitempty"` // provider events that are no failure (delivered, opened...)
	// Unmatched are the messages no notice was found for, never guessed.
	Unmatched []UnmatchedBounce `json:"unmatched"`
	// Matched are the sources (bounce.Message.Source) of the messages
	// tied to a notice, applied now or before: what a mailbox poller may
	// move out of the way once the import has returned without error.
	Matched []string `json:"-"`
}

// UnmatchedBounce is a message the import could not tie to a notice.
type UnmatchedBounce struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// matchedBounce is a parsed bounce tied to its notice.
type matchedBounce struct {
	source  string
	notice  int64
	by      string
	rcpt    bounce.Recipient
	arrival time.Time
	sha256  string
	action  string // audit action
}

// ImportBounces reads the bounce messages under path (an .eml file, an
// mbox, a maildir or a directory of them; bounce.Read) and applies each
// one it can tie to an email notice: by the notice's return path (the
// HMAC tag checked under the controller's key from sec), else by the
// returned copy's Message-ID. A permanent failure (5.x.x) of a notice
// whose email was sent marks the notice failed and writes email_bounced
// (status, diagnostic, the bounce's SHA-256) to the ledger and, in the
// same transaction, queues a letter where notice is owed and the postal
// address is complete (QueueFallbackLetter); otherwise the person counts
// towards substitute notice (FindSubstituteCases). A temporary failure is
// recorded; delay warnings and auto-replies are counted and ignored. Each
// (message, notice) is applied once: a second import changes nothing.
func ImportBounces(ctx context.Context, st *incident.Store, sec Secrets, path string) (*BounceResult, error) {
	return ImportBounceMessages(ctx, st, sec, func(fn func(bounce.Message) error) error { return bounce.Read(path, fn) })
}

// ImportBounceMessages is ImportBounces over messages from any source
// (an IMAP mailbox, say): each calls fn once per message, in order, and
// stops at fn's first error. Every matched bounce is committed when it
// returns without error.
func ImportBounceMessages(ctx context.Context, st *incident.Store, sec Secrets, each func(fn func(bounce.Message) error) error) (*BounceResult, error) {
	run, err := newBounceRun(st, sec, "bounce.import")
	if err != nil {
		return nil, err
	}
	err = each(func(m bounce.Message) error {
		run.res.Read++
		rep, err := bounce.Parse(m.Raw)
		if err != nil {
			run.res.Unmatched = append(run.res.Unmatched, UnmatchedBounce{m.Source, "not a mail message: " + err.Error()})
			return nil
		}
		if err := run.add(ctx, m.Source, rep); err != nil {
			return err
		}
		if len(run.batch) >= bounceBatch {
			return run.flush(ctx, nil)
		}
		return nil
	})
	if err != nil {
		return run.res, err
	}
	return run.res, run.flush(ctx, nil)
}

// SourcedReport is a bounce report from elsewhere than a mail file (a
// provider webhook, bounce.ParseWebhook), with where it came from.
type SourcedReport struct {
	Source string
	Report *bounce.Report
}

// ApplyBounceReports applies reports that did not come as mail (provider
// webhooks) exactly as ImportBounces applies mail: the same matching (an
// authentic return path, else Message-ID and recipient; never a guess),
// the same email_bounced entry and letter, the same once-only rule (by
// Report.SHA256 and notice). All of it, and an audit entry for the
// delivery (action, object, the counts), commits in one transaction.
func ApplyBounceReports(ctx context.Context, st *incident.Store, sec Secrets, action, object string, reps []SourcedReport) (*BounceResult, error) {
	run, err := newBounceRun(st, sec, action)
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		run.res.Read++
		if err := run.add(ctx, r.Source, r.Report); err != nil {
			return run.res, err
		}
	}
	res := run.res
	err = run.flush(ctx, func(tx *incident.Tx) error {
		return tx.Audit(ctx, action, object, map[string]int{"events": res.Read, "bounced": res.Bounced,
			"letters_queued": res.LettersQueued, "temporary": res.Temporary, "recorded": res.Recorded,
			"duplicates": res.Duplicates, "unmatched": len(res.Unmatched)})
	})
	return res, err
}

// bounceRun matches reports and applies them in batches.
type bounceRun struct {
	st     *incident.Store
	sec    Secrets
	action string // audit action of each applied bounce
	now    time.Time
	keys   map[string][]byte
	batch  []matchedBounce
	res    *BounceResult
}

func newBounceRun(st *incident.Store, sec Secrets, action string) (*bounceRun, error) {
	if sec == nil {
		return nil, errors.New("bounces: no secret to check return paths with")
	}
	return &bounceRun{st: st, sec: sec, action: action, now: st.Now().UTC(), keys: map[string][]byte{},
		res: &BounceResult{Unmatched: []UnmatchedBounce{}}}, nil
}

// add counts or matches one report; a matched failure joins the batch.
func (r *bounceRun) add(ctx context.Context, source string, rep *bounce.Report) error {
	res := r.res
	switch rep.Kind {
	case bounce.KindAutoReply:
		res.AutoReplies++
		return nil
	case bounce.KindDelay:
		res.Delayed++
		return nil
	case bounce.KindUnknown:
		res.Unmatched = append(res.Unmatched, UnmatchedBounce{source, "not a delivery failure report"})
		return nil
	}
	rc := rep.Failed()
	if rc == nil {
		res.Unmatched = append(res.Unmatched, UnmatchedBounce{source, "no failed recipient in the report"})
		return nil
	}
	id, by, reason, err := matchBounce(ctx, r.st, r.sec, r.keys, rep, rc)
	if err != nil {
		return err
	}
	if id == 0 {
		res.Unmatched = append(res.Unmatched, UnmatchedBounce{source, reason})
		return nil
	}
	res.Matched = append(res.Matched, source)
	r.batch = append(r.batch, matchedBounce{source: source, notice: id, by: by, rcpt: *rc, arrival: rep.Arrival, sha256: rep.SHA256, action: r.action})
	return nil
}

// flush applies the batch in one transaction, then runs also (if set)
// in it.
func (r *bounceRun) flush(ctx context.Context, also func(tx *incident.Tx) error) error {
	if len(r.batch) == 0 && also == nil {
		return nil
	}
	err := r.st.InTxAt(ctx, r.now, func(tx *incident.Tx) error {
		for _, b := range r.batch {
			if err := applyBounce(ctx, tx, b, r.res); err != nil {
				return fmt.Errorf("bounces: %s: %w", b.source, err)
			}
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	r.batch = r.batch[:0]
	return err
}

// matchBounce finds the notice a report is about: by an authentic return
// path, else by the returned copy's Message-ID (and then the failed
// recipient, when the report names one, must be the notice's address). It
// returns 0 and why when there is none.
func matchBounce(ctx context.Context, st *incident.Store, sec Secrets, keys map[string][]byte, rep *bounce.Report, rc *bounce.Recipient) (int64, string, string, error) {
	reason := "no return path or Message-ID of a notice"
	for _, rp := range rep.ReturnPaths {
		id, _, ok := ParseReturnPath(rp)
		if !ok {
			continue
		}
		var controller string
		err := st.DB().QueryRowContext(ctx, `SELECT controller_id FROM notices WHERE id = ? AND channel = 'email'`, id).Scan(&controller)
		if errors.Is(err, sql.ErrNoRows) {
			reason = fmt.Sprintf("return path %s names no email notice", rp)
			continue
		}
		if err != nil {
			return 0, "", "", fmt.Errorf("bounces: %w", err)
		}
		key, ok := keys[controller]
		if !ok {
			key = sec.DeriveKey(controller, purposeVERP)
			keys[controller] = key
		}
		if _, ok := CheckReturnPath(key, rp); ok {
			return id, "return-path", "", nil
		}
		reason = fmt.Sprintf("return path %s: the tag does not verify (forged or from another database)", rp)
	}
	if strings.Contains(reason, "tag does not verify") {
		return 0, "", reason, nil
	}
	for _, mid := range rep.MessageIDs {
		var id int64
		var addr string
		err := st.DB().QueryRowContext(ctx, `SELECT id, address FROM notices WHERE message_id = ? AND channel = 'email'`, mid).Scan(&id, &addr)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, "", "", fmt.Errorf("bounces: %w", err)
		}
		// A Message-ID can be guessed (it names the notice); the
		// recipient must be the notice's too, or anyone who knows a
		// Message-ID could fail a notice.
		if rc.Address == "" || !strings.EqualFold(rc.Address, addr) {
			return 0, "", fmt.Sprintf("Message-ID %s is notice %d's, but the report names another recipient or none", mid, id), nil
		}
		return id, "message-id", "", nil
	}
	return 0, "", reason, nil
}

// bounceDetail is the detail of an email_bounced ledger entry.
type bounceDetail struct {
	Status       string `json:"status"`
	Diagnostic   string `json:"diagnostic,omitempty"`
	BounceSHA256 string `json:"bounce_sha256"`
	ArrivedAt    string `json:"arrived_at,omitempty"`
	MatchedBy    string `json:"matched_by"`
}

var replyCodeRE = regexp.MustCompile(`\b([245][0-9][0-9])\b`)

// applyBounce applies one matched bounce inside tx.
func applyBounce(ctx context.Context, tx *incident.Tx, b matchedBounce, res *BounceResult) error {
	var dup int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM bounces WHERE sha256 = ? AND notice_id = ?`, b.sha256, b.notice).Scan(&dup); err != nil {
		return err
	}
	if dup > 0 {
		res.Duplicates++
		return nil
	}
	var n Notice
	if err := tx.QueryRowContext(ctx, `SELECT incident_id, controller_id, account_id, state FROM notices WHERE id = ?`, b.notice).
		Scan(&n.Incident, &n.Controller, &n.Account, &n.State); err != nil {
		return fmt.Errorf("notice %d: %w", b.notice, err)
	}
	outcome := BounceTemporary
	switch {
	case !b.rcpt.Permanent():
		res.Temporary++
	case n.State != StateSent:
		outcome = BounceRecorded
		res.Recorded++
	default:
		reply := oneLineText("bounced " + b.rcpt.Status + " " + b.rcpt.Diagnostic)
		code := 0
		if m := replyCodeRE.FindString(b.rcpt.Diagnostic); m != "" {
			code, _ = strconv.Atoi(m)
		}
		r, err := tx.ExecContext(ctx, `UPDATE notices SET state = 'failed', last_code = ?, last_reply = ?, updated_at = ? WHERE id = ? AND state = 'sent'`,
			code, reply, tx.Now.Format(time.RFC3339Nano), b.notice)
		if err != nil {
			return fmt.Errorf("notice %d: %w", b.notice, err)
		}
		if k, _ := r.RowsAffected(); k != 1 {
			return fmt.Errorf("notice %d changed during the import", b.notice)
		}
		// email_bounced first, then (QueueFallbackLetter) the letter's
		// letter_queued, in this transaction.
		d := bounceDetail{Status: b.rcpt.Status, Diagnostic: b.rcpt.Diagnostic, BounceSHA256: b.sha256, MatchedBy: b.by}
		if !b.arrival.IsZero() {
			d.ArrivedAt = b.arrival.UTC().Format(time.RFC3339)
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := ledger.Append(ctx, tx.Tx, ledger.Entry{Controller: n.Controller, At: tx.Now, Kind: ledger.KindEmailBounced,
			Incident: n.Incident, Account: n.Account, Notice: b.notice, Channel: ChannelEmail, Detail: raw}); err != nil {
			return err
		}
		queued, err := QueueFallbackLetter(ctx, tx.Tx, n.Incident, n.Account, "bounced "+b.rcpt.Status, tx.Now)
		if err != nil {
			return err
		}
		outcome = BounceUnreachable
		if queued {
			outcome = BounceLetterQueued
			res.LettersQueued++
		} else {
			res.Unreachable++
		}
		res.Bounced++
	}
	arrived := ""
	if !b.arrival.IsZero() {
		arrived = b.arrival.UTC().Format(time.RFC3339)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO bounces(sha256, notice_id, recipient, status, diagnostic, matched_by, arrived_at, imported_at, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.sha256, b.notice, b.rcpt.Address, b.rcpt.Status, b.rcpt.Diagnostic, b.by, arrived,
		tx.Now.Format(time.RFC3339Nano), outcome)
	if err != nil {
		return fmt.Errorf("record bounce of notice %d: %w", b.notice, err)
	}
	return tx.Audit(ctx, b.action, "notice "+strconv.FormatInt(b.notice, 10), map[string]string{"status": b.rcpt.Status, "outcome": outcome})
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// FindBounceCounts counts an incident's imported bounces by outcome
// (BounceLetterQueued, BounceUnreachable, BounceTemporary, BounceRecorded).
func FindBounceCounts(ctx context.Context, st *incident.Store, incidentID int64) (map[string]int, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT b.outcome, count(*) FROM bounces b JOIN notices n ON n.id = b.notice_id
		WHERE n.incident_id = ? GROUP BY b.outcome`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("bounces of incident %d: %w", incidentID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("bounces of incident %d: %w", incidentID, err)
		}
		out[o] = n
	}
	return out, rows.Err()
}

// BounceRow is one bounce of an incident as the admin UI and the API list
// it: no address, name or diagnostic text (which may quote the address).
type BounceRow struct {
	Notice    int64  `json:"notice"`
	Status    string `json:"status"`     // RFC 3463, e.g. 5.1.1
	Outcome   string `json:"outcome"`    // BounceLetterQueued, ...
	MatchedBy string `json:"matched_by"` // return-path, message-id
	ArrivedAt string `json:"arrived_at,omitempty"`
	Imported  string `json:"imported_at"`
}

// FindBounces lists an incident's bounces, the latest imported first, at
// most limit of them.
func FindBounces(ctx context.Context, st *incident.Store, incidentID int64, limit int) ([]BounceRow, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT b.notice_id, b.status, b.outcome, b.matched_by, b.arrived_at, b.imported_at
		FROM bounces b JOIN notices n ON n.id = b.notice_id WHERE n.incident_id = ?
		ORDER BY b.imported_at DESC, b.notice_id LIMIT ?`, incidentID, limit)
	if err != nil {
		return nil, fmt.Errorf("bounces of incident %d: %w", incidentID, err)
	}
	defer rows.Close()
	out := []BounceRow{}
	for rows.Next() {
		var b BounceRow
		if err := rows.Scan(&b.Notice, &b.Status, &b.Outcome, &b.MatchedBy, &b.ArrivedAt, &b.Imported); err != nil {
			return nil, fmt.Errorf("bounces of incident %d: %w", incidentID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
