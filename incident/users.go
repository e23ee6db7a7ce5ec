package incident

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// User is a person who uses the admin UI or the API. Its secrets (the
// password, the API token) are never kept: only their hashes, in the store.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Controller scopes a member user to its controller ("" otherwise).
	Controller string    `json:"controller,omitempty"`
	Password   bool      `json:"password"` // whether it can log in to the UI
	Token      bool      `json:"token"`    // whether it holds an API token
	Disabled   time.Time `json:"disabled,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

// Actor is who the user acts as.
func (u *User) Actor() Actor {
	return Actor{Name: u.Name, Role: u.Role, Controller: u.Controller}
}

// Argon2id parameters for passwords (OWASP's minimum for argon2id, 2024:
// 19 MiB, two passes, one lane), a 16-byte salt and a 32-byte key. Each
// hash records its own parameters, so raising them later leaves old
// hashes verifiable.
const (
	ArgonMemoryKiB = 19 * 1024
	ArgonTime      = 2
	ArgonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 12
	maxPasswordLen = 1024
)

// NewUser is what adding a user takes.
type NewUser struct {
	Name       string
	Role       Role
	Controller string
	// Password, if set, lets the user log in to the admin UI.
	Password string
}

// tokenPrefix marks breachnotice API tokens, so a leaked one is
// recognisable (and secret scanners can look for it).
const tokenPrefix = "bn_"

// newSecret returns 256 random bits, base64url-encoded, with prefix.
func newSecret(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// secretHash is the stored form of a token or session id.
func secretHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// HashPassword returns password's argon2id hash as a PHC string.
func HashPassword(password string) string {
	var salt [argonSaltLen]byte
	rand.Read(salt[:])
	key := argon2.IDKey([]byte(password), salt[:], ArgonTime, ArgonMemoryKiB, ArgonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, ArgonMemoryKiB, ArgonTime, ArgonThreads,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches the PHC string hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked against when a login names no user, so that an
// unknown name costs the same time as a wrong password.
var dummyHash = HashPassword("breachnotice-no-such-user")

func checkPasswordText(pw string) error {
	if !utf8.ValidString(pw) || utf8.RuneCountInString(pw) < MinPasswordLen || len(pw) > maxPasswordLen {
		return fmt.Errorf("%w: a password needs at least %d characters (at most %d bytes of UTF-8)", ErrInvalid, MinPasswordLen, maxPasswordLen)
	}
	return nil
}

func (n *NewUser) validate() error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || n.Name != CleanText(n.Name) || len(n.Name) > 100 {
		return fmt.Errorf("%w: user name: want 1 to 100 bytes of text on one line", ErrInvalid)
	}
	if _, err := strconv.ParseInt(n.Name, 10, 64); err == nil {
		return fmt.Errorf("%w: user name %q: a name must not be a number (numbers are user ids)", ErrInvalid, n.Name)
	}
	if !n.Role.Valid() {
		return fmt.Errorf("%w: role %q: want security, legal or member", ErrInvalid, n.Role)
	}
	if n.Role == RoleMember && n.Controller == "" {
		return fmt.Errorf("%w: a member user must name its controller (--controller ID)", ErrInvalid)
	}
	if n.Role != RoleMember && n.Controller != "" {
		return fmt.Errorf("%w: only a member user is scoped to a controller (role %s sees every controller)", ErrInvalid, n.Role)
	}
	if n.Password != "" {
		return checkPasswordText(n.Password)
	}
	return nil
}

// CreateUser adds a user and issues its API token, returned once: only its
// hash is kept. The audit row names the user, its role and controller,
// never a secret.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (*User, string, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, "", fmt.Errorf("add user: %w", err)
	}
	if err := n.validate(); err != nil {
		return nil, "", err
	}
	pwHash := ""
	if n.Password != "" {
		pwHash = HashPassword(n.Password)
	}
	token := newSecret(tokenPrefix)
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var controller any
		if n.Controller != "" {
			if _, err := findController(ctx, tx, n.Controller); err != nil {
				return err
			}
			controller = n.Controller
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO users(name, role, controller_id, password_hash, token_hash, created_at)
			VALUES (?,?,?,?,?,?) RETURNING id`, n.Name, string(n.Role), controller, pwHash, secretHash(token), s.now().Format(time.RFC3339Nano)).Scan(&id)
		if isUniqueViolation(err) {
			return fmt.Errorf("add user: %w: a user named %q exists", ErrConflict, n.Name)
		}
		if err != nil {
			return fmt.Errorf("add user: %w", err)
		}
		return s.audit(ctx, tx, "user.add", "user:"+strconv.FormatInt(id, 10),
			map[string]any{"name": n.Name, "role": n.Role, "controller": n.Controller, "password": pwHash != ""})
	})
	if err != nil {
		return nil, "", err
	}
	u, err := findUser(ctx, s.db, id)
	return u, token, err
}

const userCols = `id, name, role, coalesce(controller_id, ''), password_hash <> '', token_hash IS NOT NULL, disabled_at, created_at`

func scanUser(r scanner) (*User, error) {
	var u User
	var role, disabled, created string
	if err := r.Scan(&u.ID, &u.Name, &role, &u.Controller, &u.Password, &u.Token, &disabled, &created); err != nil {
		return nil, err
	}
	u.Role = Role(role)
	if disabled != "" {
		u.Disabled, _ = time.Parse(time.RFC3339Nano, disabled)
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return &u, nil
}

func findUser(ctx context.Context, q querier, id int64) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no user %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// FindUser returns a user by id, or by name when ref is not a number.
func (s *Store) FindUser(ctx context.Context, ref string) (*User, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return s.userByRef(ctx, s.db, ref)
}

func (s *Store) userByRef(ctx context.Context, q querier, ref string) (*User, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return findUser(ctx, q, id)
	}
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no user %q", ErrNotFound, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("find user %q: %w", ref, err)
	}
	return u, nil
}

// FindUsers returns every user, by id.
func (s *Store) FindUsers(ctx context.Context) ([]*User, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DisableUser stops a user: its token and password no longer work and its
// sessions end. The row stays, so the audit log's names keep meaning.
func (s *Store) DisableUser(ctx context.Context, ref string) (*User, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, fmt.Errorf("disable user: %w", err)
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !u.Disabled.IsZero() {
			return fmt.Errorf("%w: user %d (%s) is already disabled", ErrConflict, u.ID, u.Name)
		}
		id = u.ID
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ?, token_hash = NULL WHERE id = ?`,
			s.now().Format(time.RFC3339Nano), u.ID); err != nil {
			return fmt.Errorf("disable user %d: %w", u.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("disable user %d: %w", u.ID, err)
		}
		return s.audit(ctx, tx, "user.disable", "user:"+strconv.FormatInt(u.ID, 10), map[string]any{"name": u.Name})
	})
	if err != nil {
		return nil, err
	}
	return findUser(ctx, s.db, id)
}

// SetPassword gives a user a new password for the admin UI and ends its
// sessions, in one transaction; the password is kept only as its argon2id
// hash and is not audited.
func (s *Store) SetPassword(ctx context.Context, ref, password string) (*User, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, fmt.Errorf("set password: %w", err)
	}
	if err := checkPasswordText(password); err != nil {
		return nil, fmt.Errorf("set password: %w", err)
	}
	hash := HashPassword(password)
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByRef(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !u.Disabled.IsZero() {
			return fmt.Errorf("%w: user %d (%s) is disabled", ErrConflict, u.ID, u.Name)
		}
		id = u.ID
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, u.ID); err != nil {
			return fmt.Errorf("set password of user %d: %w", u.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("set password of user %d: %w", u.ID, err)
		}
		return s.audit(ctx, tx, "user.password", "user:"+strconv.FormatInt(u.ID, 10), map[string]any{"name": u.Name, "sessions_ended": true})
	})
	if err != nil {
		return nil, err
	}
	return findUser(ctx, s.db, id)
}

// NewToken issues a user a new API token, returned once; the old one stops
// working in the same transaction.
func (s *Store) NewToken(ctx context.Context, ref string) (*User, string, error) {
	if err := Authorize(ctx, ActUsers, ""); err != nil {
		return nil, "", fmt.Errorf("new token: %w", err)
	}
	token := newSecret(tokenPrefix)
	var u *User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.userByRef(ctx, tx, ref); err != nil {
			return err
		}
		if !u.Disabled.IsZero() {
			return fmt.Errorf("%w: user %d (%s) is disabled", ErrConflict, u.ID, u.Name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET token_hash = ? WHERE id = ?`, secretHash(token), u.ID); err != nil {
			return fmt.Errorf("new token for user %d: %w", u.ID, err)
		}
		u.Token = true
		return s.audit(ctx, tx, "user.token", "user:"+strconv.FormatInt(u.ID, 10), map[string]any{"name": u.Name, "revoked_old": true})
	})
	if err != nil {
		return nil, "", err
	}
	return u, token, nil
}

// UserByToken returns the enabled user holding an API token, or
// ErrNotFound. It needs no actor: it is how one is found.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return nil, fmt.Errorf("%w: no such token", ErrNotFound)
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE token_hash = ? AND disabled_at = ''`, secretHash(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no such token", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return u, nil
}

// CheckLogin returns the enabled user called name if password is its
// password, or ErrNotFound; an unknown name, a disabled user and a wrong
// password are told apart neither by the error nor by the time taken.
func (s *Store) CheckLogin(ctx context.Context, name, password string) (*User, error) {
	var hash string
	var u *User
	row := s.db.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE name = ?`, name)
	var role, disabled, created string
	var x User
	err := row.Scan(&x.ID, &x.Name, &role, &x.Controller, &x.Password, &x.Token, &disabled, &created, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("login: %w", err)
	default:
		x.Role = Role(role)
		x.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		if disabled == "" && hash != "" {
			u = &x
		}
	}
	if u == nil || len(password) > maxPasswordLen {
		CheckPassword(dummyHash, password)
		return nil, fmt.Errorf("%w: wrong name or password", ErrNotFound)
	}
	if !CheckPassword(hash, password) {
		return nil, fmt.Errorf("%w: wrong name or password", ErrNotFound)
	}
	return u, nil
}
