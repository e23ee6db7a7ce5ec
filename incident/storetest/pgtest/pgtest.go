// Package pgtest starts a throwaway PostgreSQL server for tests, from the
// binaries of Debian's postgresql package (or any initdb and postgres on
// PATH), and hands each test a fresh database on it.
//
// One server per test binary: the first test that asks starts it (initdb
// into a temporary directory, a free loopback port, its unix socket in the
// same directory, fsync off since the data is thrown away), and Run stops
// it when the tests are done; should the test binary die first, the server
// gets SIGQUIT as its parent-death signal. Each test gets its own database,
// created from a template database that is set up once (migrated, say), so
// a test costs one CREATE DATABASE.
//
// initdb and postgres refuse to run as root, and CI runs as root: then they
// run as the postgres OS user (which the package creates; created here when
// missing), the data directory owned by it.
//
// Where no PostgreSQL is installed the tests that ask for one skip, saying
// why, unless BREACHNOTICE_REQUIRE_PG=1, when they fail: CI sets it, so a
// missing install cannot pass as green.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for the admin connection
)

// RequireEnv names the variable that turns a missing PostgreSQL from a
// skip into a failure.
const RequireEnv = "BREACHNOTICE_REQUIRE_PG"

// BinEnv names a variable that may point at the directory holding initdb
// and postgres.
const BinEnv = "BREACHNOTICE_PG_BIN"

// server is the one running server of this test binary.
type server struct {
	dir  string // temporary directory: data/, the socket, the log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	err  error         // why it could not start

	mu        sync.Mutex
	templates map[string]*template
	admin     *sql.DB
}

type template struct {
	once sync.Once
	err  error
}

var (
	startOnce sync.Once
	srv       *server
	dbSeq     atomic.Int64
)

// Available reports whether a server runs or could be started, and if not
// why.
func Available() error {
	s := get()
	return s.err
}

func get() *server {
	startOnce.Do(func() {
		srv = start()
	})
	return srv
}

// Run runs the tests and then stops the server, if one was started, and
// removes its files. Call it from TestMain: os.Exit(pgtest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the server, if one was started, and removes its files.
func Stop() {
	if srv == nil || srv.err != nil {
		return
	}
	s := srv
	if s.admin != nil {
		s.admin.Close()
	}
	// SIGINT: fast shutdown (abort transactions, then exit cleanly).
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// URL returns the URL of a fresh database for the test, a copy of the
// template database named template (made once by setup, given the
// template's URL), or of an empty database when template is "". The
// database is dropped when the test ends. Without PostgreSQL the test is
// skipped (or failed, under BREACHNOTICE_REQUIRE_PG=1).
func URL(t testing.TB, template string, setup func(url string) error) string {
	t.Helper()
	s := get()
	if s.err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("PostgreSQL is required (%s=1) but cannot run: %v", RequireEnv, s.err)
		}
		t.Skipf("no PostgreSQL to test on (%v); install Debian's postgresql package, or set %s", s.err, BinEnv)
	}
	from := "template0"
	if template != "" {
		if err := s.template(template, setup); err != nil {
			t.Fatalf("pgtest: template %s: %v", template, err)
		}
		from = template
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := s.admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + from); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE: a test that left a connection open must not keep its
		// database (and its disk space) until the server stops.
		if _, err := s.admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.url(name)
}

func (s *server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// template creates the template database name once, with setup.
func (s *server) template(name string, setup func(url string) error) error {
	s.mu.Lock()
	tp := s.templates[name]
	if tp == nil {
		tp = &template{}
		s.templates[name] = tp
	}
	s.mu.Unlock()
	tp.once.Do(func() {
		if _, err := s.admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0`); err != nil {
			tp.err = err
			return
		}
		if setup != nil {
			tp.err = setup(s.url(name))
		}
		// No one may stay connected to a template: CREATE DATABASE ...
		// TEMPLATE refuses a source with sessions.
		s.admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	})
	return tp.err
}

// Bin finds the directory with initdb and postgres: BREACHNOTICE_PG_BIN,
// then PATH, then Debian's /usr/lib/postgresql/<version>/bin (newest
// first).
func Bin() (string, error) {
	if d := os.Getenv(BinEnv); d != "" {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinEnv, d, err)
		}
		return d, nil
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			// Resolve a symlink (/usr/local/bin/postgres ->
			// /usr/lib/postgresql/15/bin/postgres): postgres finds its
			// share files relative to its real path.
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// start initdbs and starts a server, or returns one whose err says why
// not.
func start() *server {
	s := &server{templates: map[string]*template{}}
	s.err = s.start()
	return s
}

func (s *server) start() error {
	bin, err := Bin()
	if err != nil {
		return err
	}
	cred, err := credential()
	if err != nil {
		return err
	}
	// Under /tmp rather than TMPDIR: the postgres user must be able to
	// reach it, and a TMPDIR inside root's home would not let it in.
	base := os.TempDir()
	if cred != nil {
		base = "/tmp"
	}
	removeStale(base)
	s.dir, err = os.MkdirTemp(base, "breachnotice-pg-")
	if err != nil {
		return err
	}
	// owner names the test binary: a later one removes the directory if
	// this one died without Stop (its server died with it: Pdeathsig).
	if err := os.WriteFile(filepath.Join(s.dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return err
	}
	if cred != nil {
		for _, p := range []string{s.dir, data} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	// --no-locale: text sorts by bytes, as in SQLite (RFC 3339 times and
	// ids compare the same on both stores).
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--no-locale", "--encoding=UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = s.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, bytes.TrimSpace(out))
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		if lastErr = s.run(bin, data, cred); lastErr == nil {
			return nil
		}
	}
	return lastErr
}

// run starts postgres on a free port and waits until it accepts
// connections.
func (s *server) run(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "dynamic_shared_memory_type=mmap",
		"-c", "log_min_messages=warning")
	s.cmd.Dir = s.dir
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	// Pdeathsig is set after the credentials change, so it holds: if the
	// test binary dies, the server shuts down at once.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		select {
		case <-s.done:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %s", bytes.TrimSpace(out))
		case <-ctx.Done():
			s.cmd.Process.Kill()
			<-s.done
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within 60s: %s", bytes.TrimSpace(out))
		case <-time.After(50 * time.Millisecond):
		}
		c, err := pgx.Connect(ctx, s.url("postgres"))
		if err != nil {
			continue
		}
		c.Close(ctx)
		s.admin, err = sql.Open("pgx", s.url("postgres"))
		if err != nil {
			return err
		}
		s.admin.SetMaxOpenConns(4)
		return nil
	}
}

// credential returns whom to run initdb and postgres as: nil (this
// process's user) unless that is root, then the postgres user, created
// if missing.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		out, uerr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres").CombinedOutput()
		if uerr != nil {
			return nil, fmt.Errorf("running as root and no postgres user (useradd: %v: %s)", uerr, strings.TrimSpace(string(out)))
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// removeStale removes the directories of servers whose test binary is
// gone.
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "breachnotice-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue // being made, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

// freePort asks the kernel for a loopback port no one listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
