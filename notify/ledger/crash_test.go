package ledger

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/migrations"
)

const crashEnv = "LEDGER_CRASH_DB"

// TestHelperProcess is the child of TestCrash: it appends batches to the
// database named by LEDGER_CRASH_DB until it is killed, printing a line
// after each commit.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestCrash")
	}
	ctx := context.Background()
	db, err := migrations.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	es := make([]Entry, 2000)
	for batch := 0; ; batch++ {
		benchEntries(es, batch*len(es))
		if err := inTx(db, func(ctx context.Context, tx *sql.Tx) error { return Append(ctx, tx, es...) }); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", batch)
	}
}

// TestCrash kills a process appending to the ledger mid-batch and checks
// that the log it leaves is whole: entries and tree agree, the stored hashes
// recompute, and a fresh checkpoint and export verify.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	ctx := context.Background()
	db, path := mustOpenDB(t)
	l, _ := newTestLedger(t)
	addController(t, db, l, "op")
	if _, err := l.Checkpoint(ctx, db, "op"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		commits := 0
		for sc.Scan() && commits < 2+round {
			if strings.HasPrefix(sc.Text(), "error") {
				t.Fatal(sc.Text())
			}
			if strings.HasPrefix(sc.Text(), "committed") {
				commits++
			}
		}
		// Land somewhere inside the next batch.
		time.Sleep(time.Duration(3+7*round) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}

	db, err := migrations.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size, err := TreeSize(ctx, db, "op")
	if err != nil {
		t.Fatal(err)
	}
	// 1 controller_created + 1 checkpoint + whole batches of 2000.
	if size < 2+3*2000 || (size-2)%2000 != 0 {
		t.Fatalf("tree size %d after the crashes: not whole batches", size)
	}
	var count int64
	if err := FindEntries(ctx, db, EntryFilter{Controller: "op"}, func(Entry) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != size {
		t.Fatalf("%d entries, tree size %d", count, size)
	}
	if n, err := CheckLog(ctx, db, "op"); err != nil || n != size {
		t.Fatalf("CheckLog = %d, %v", n, err)
	}
	out := filepath.Join(t.TempDir(), "after-crash.zip")
	if _, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: incident.Actor{Role: "cli"}}); err != nil {
		t.Fatal(err)
	}
	s, err := Verify(ctx, out, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.TreeSize != size || s.Entries != size {
		t.Fatalf("verified %d entries in a tree of size %d, want %d", s.Entries, s.TreeSize, size)
	}
	t.Logf("after 3 kills: %d entries, %s", size, s)
}
