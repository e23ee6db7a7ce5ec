package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/notify"
)

// Outbox is the transport used when no relay is configured: each message
// becomes one RFC 5322 file, <notice id>.eml, in a directory, byte for
// byte the MIME message the SMTP transport would send.
//
// A file appears whole or not at all (written to a temporary file in the
// same directory, synced, then renamed), and sending the same notice
// again replaces it. The files hold personal data: each is mode 0600, and
// a directory Open creates is mode 0700.
type Outbox struct {
	dir string
	now func() time.Time
}

var _ notify.Transport = (*Outbox)(nil)

// NewOutbox returns a transport writing into dir, which Open creates if
// needed.
func NewOutbox(dir string) notify.Transport {
	return &Outbox{dir: dir, now: time.Now}
}

// Open makes sure the directory exists. The returned Conn holds no
// resources.
func (o *Outbox) Open(ctx context.Context) (notify.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return nil, fmt.Errorf("email: outbox: %w", err)
	}
	return outboxConn{o}, nil
}

type outboxConn struct{ *Outbox }

// Send writes the message. A write failure is Temporary (the disk may
// recover); a message that cannot be built is Permanent.
func (o outboxConn) Send(ctx context.Context, m *notify.Message) notify.Result {
	if err := ctx.Err(); err != nil {
		return notify.Result{Outcome: notify.Temporary, Reply: err.Error()}
	}
	msg, err := buildMsg(m, o.now(), "")
	if err != nil {
		return notify.Result{Outcome: notify.Permanent, Reply: err.Error()}
	}
	name := strconv.FormatInt(m.NoticeID, 10)
	if m.NoticeID == 0 {
		// Not a notice (a deadline alert): named by its Message-ID.
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
				return r
			}
			return -1
		}, strings.SplitN(m.MessageID, "@", 2)[0])
	}
	path := filepath.Join(o.dir, name+".eml")
	var buf, scratch bytes.Buffer
	if err := encode(m, msg, &buf, &scratch); err != nil {
		return notify.Result{Outcome: notify.Permanent, Reply: err.Error()}
	}
	sum := sha256.Sum256(buf.Bytes())
	if err := writeAtomic(path, func(f *os.File) error {
		_, err := f.Write(buf.Bytes())
		return err
	}); err != nil {
		return notify.Result{Outcome: notify.Temporary, Reply: err.Error()}
	}
	return notify.Result{Outcome: notify.Delivered, Code: 250, Reply: "written to outbox " + path, SHA256: hex.EncodeToString(sum[:])}
}

// Close does nothing.
func (outboxConn) Close() error { return nil }

// writeAtomic writes path through a synced temporary file in the same
// directory and a rename, so readers see the old file or the new one.
func writeAtomic(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("email: outbox: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("email: outbox: write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600 already; say so rather than rely on it.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("email: outbox: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("email: outbox: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("email: outbox: close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("email: outbox: %w", err)
	}
	// Make the rename itself durable; not every file system allows
	// syncing a directory, and the file is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
