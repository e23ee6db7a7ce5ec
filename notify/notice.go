package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// Channels a notice goes by.
const (
	ChannelEmail  = "email"
	ChannelLetter = "letter"
)

// Notice states. Email: pending → sending → sent | deferred | failed.
// Letter: queued → exported → mailed | returned; unprintable when the
// address cannot be printed.
const (
	StatePending     = "pending"
	StateSending     = "sending"
	StateSent        = "sent"
	StateDeferred    = "deferred"
	StateFailed      = "failed"
	StateQueued      = "queued"
	StateExported    = "exported"
	StateMailed      = "mailed"
	StateReturned    = "returned"
	StateUnprintable = "unprintable"
)

// Notice is one person's notice of an incident on one channel.
type Notice struct {
	ID         int64     `json:"id"`
	Incident   int64     `json:"incident"`
	Controller string    `json:"controller"`
	Account    string    `json:"account"`
	Channel    string    `json:"channel"`
	Address    string    `json:"address,omitempty"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	RetryAt    time.Time `json:"retry_at,omitzero"`
	MessageID  string    `json:"message_id,omitempty"`
	SHA256     string    `json:"content_sha256,omitempty"`
	LastCode   int       `json:"last_code,omitempty"`
	LastReply  string    `json:"last_reply,omitempty"`
	Batch      string    `json:"batch,omitempty"`
}

// Message is one rendered email notice, ready for a transport.
type Message struct {
	NoticeID int64
	// MessageID is stable for the notice ("<...@domain>"): a re-send after a
	// crash carries the same one, so the recipient's mail system and the
	// ledger can tell the copies apart from new mail.
	MessageID string
	From      string // address
	FromName  string // header-safe display name
	To        string
	ToName    string
	Subject   string // header-safe
	HTML      string
	Text      string
	// ReturnPath is the envelope sender (SMTP MAIL FROM), where bounces
	// go: the notice's own (ReturnPath in verp.go). "" means From.
	ReturnPath string
	// Ref is the notice's reference, "<notice id>.<tag>" as in its return
	// path: a relay configured as a sending service (Postmark, Mailgun,
	// SendGrid, SES) carries it in that service's metadata header, which
	// the service's webhooks echo.
	Ref string
	// DKIM, when set, signs the encoded message; the signature is part of
	// the bytes delivered and hashed.
	DKIM Signer
	// Date is the message's Date header; zero means the transport's clock.
	// The dispatcher sets it to the time the attempt was claimed, and a
	// re-send after an expired lease keeps the Date of the attempt it
	// repeats: with the MIME boundary derived from the Message-ID, both
	// copies are the same bytes, so whichever one the recipient kept has
	// the SHA-256 the ledger records.
	Date time.Time
}

// Outcome classifies one delivery attempt.
type Outcome int

// Delivery outcomes: a 2xx reply; a 4xx reply, timeout or dropped
// connection (try again later); a 5xx reply (never again by email).
const (
	Delivered Outcome = iota
	Temporary
	Permanent
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Temporary:
		return "temporary"
	}
	return "permanent"
}

// Result is what a transport says about one message.
type Result struct {
	Outcome Outcome
	// Code is the SMTP reply code, 0 when there was none (a connection
	// error or timeout).
	Code int
	// Reply is the server's reply text, or the error.
	Reply string
	// Broken says the connection can no longer be used: the worker closes
	// it and opens another before the next message.
	Broken bool
	// MaybeDelivered says the attempt broke after the end of the message
	// was sent and before the relay's reply (a reset, a timeout): the relay
	// may have accepted it. It is recorded on the notice, and every later
	// attempt of it is flagged possible_duplicate in the ledger.
	MaybeDelivered bool
	// SHA256 is the hex SHA-256 of the message exactly as the transport
	// handed it over: the bytes after SMTP DATA, or the outbox .eml file.
	// Empty when no message was built.
	SHA256 string
	// Unsent says nothing of the message reached the relay: it refused or
	// dropped the session before the content (DATA) went out, so sending
	// it elsewhere cannot duplicate it.
	Unsent bool
	// Relay names the relay that answered (Relays sets it; a single
	// transport's name comes from its Name method).
	Relay string
	// Unavailable says no relay could take the message (every one out of
	// rotation or refusing connections): the dispatcher gives the notice
	// back unattempted.
	Unavailable bool
}

// Transport opens connections for the dispatcher's workers; each worker
// owns one connection and reuses it for many messages. notify/email
// provides the SMTP and outbox transports.
type Transport interface {
	Open(ctx context.Context) (Conn, error)
}

// namer is a Transport that names its relay (host and port, no user
// info), recorded with each delivery.
type namer interface{ Name() string }

// waiter is a Transport that can be out of service for a while (Relays):
// Wait says how long until it can take a message again.
type waiter interface{ Wait() time.Duration }

// Conn sends messages one at a time over one connection.
type Conn interface {
	Send(ctx context.Context, m *Message) Result
	Close() error
}

// NoticeCounts is an incident's notices by channel, then by state.
type NoticeCounts map[string]map[string]int

// FindNoticeCounts counts an incident's notices by channel and state.
func FindNoticeCounts(ctx context.Context, st *incident.Store, id int64) (NoticeCounts, error) {
	return countNotices(ctx, st, id, "")
}

// countNotices counts an incident's notices by channel and state, of one
// channel when channel is set.
func countNotices(ctx context.Context, st *incident.Store, id int64, channel string) (NoticeCounts, error) {
	if _, err := st.FindIncidentByID(ctx, id); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT channel, state, count(*) FROM notices
		WHERE incident_id = ? AND (? = '' OR channel = ?) GROUP BY channel, state`, id, channel, channel)
	if err != nil {
		return nil, fmt.Errorf("notices of incident %d: %w", id, err)
	}
	defer rows.Close()
	out := NoticeCounts{}
	for rows.Next() {
		var ch, state string
		var n int
		if err := rows.Scan(&ch, &state, &n); err != nil {
			return nil, fmt.Errorf("notices of incident %d: %w", id, err)
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][state] = n
	}
	return out, rows.Err()
}
