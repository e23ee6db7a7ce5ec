//go:build unix

package ledger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
)

// TestExport_File checks how Export and ProveFile write their files, which
// hold personal data: mode 0600 whatever the umask and whatever file was
// there before, through an exclusively created temporary file, nothing left
// behind on failure; and an incident without entries in the controller's
// log is refused.
func TestExport_File(t *testing.T) {
	ctx := context.Background()
	db, l := setup(t)
	cli := incident.Actor{Role: "cli"}
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	// Incident 3 is m1's only.
	mustAppend(t, db, Entry{Controller: "m1", At: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), Kind: KindIncidentOpened, Incident: 3})

	write := map[string]func(out string) error{
		"Export": func(out string) error {
			_, err := l.Export(ctx, db, ExportOptions{Controller: "op", Out: out, Actor: cli})
			return err
		},
		"ExportIncident": func(out string) error {
			_, err := l.Export(ctx, db, ExportOptions{Controller: "m1", Incident: 2, Out: out, Actor: cli})
			return err
		},
		"ProveFile": func(out string) error {
			_, err := l.ProveFile(ctx, db, cli, "m1", "a2", out)
			return err
		},
	}
	for name, fn := range write {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "bundle.zip")
			if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			// A symlink where the old prove wrote its temporary file.
			victim := filepath.Join(dir, "victim")
			os.WriteFile(victim, []byte("keep"), 0o644)
			os.Symlink(victim, out+".tmp")
			if err := fn(out); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("%s has mode %v, want 0600", out, st.Mode().Perm())
			}
			if _, err := Verify(ctx, out, ""); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep" {
				t.Fatal("wrote through a symlink")
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
			if len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}

	refused := []struct {
		name    string
		opt     ExportOptions
		noOut   bool
		wantErr error
		want    string
	}{
		{"ErrIncidentNotFound", ExportOptions{Controller: "op", Incident: 99, Actor: cli}, false, incident.ErrNotFound, "no incident 99 in controller op's signed log"},
		{"ErrIncidentOfAnotherController", ExportOptions{Controller: "op", Incident: 3, Actor: cli}, false, incident.ErrNotFound, "no incident 3 in controller op's signed log"},
		{"ErrNoOutput", ExportOptions{Controller: "op", Actor: cli}, true, incident.ErrInvalid, "no output path"},
		{"ErrNotFoundOtherController", ExportOptions{Controller: "op", Incident: 1, Actor: incident.Actor{Role: incident.RoleMember, Controller: "m1"}}, false, incident.ErrNotFound, `no controller "op"`},
		{"ErrForbiddenRole", ExportOptions{Controller: "op", Incident: 1, Actor: incident.Actor{Role: "visitor"}}, false, incident.ErrForbidden, "may not ledger.read"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if !tt.noOut {
				tt.opt.Out = filepath.Join(dir, "out.zip")
			}
			_, err := l.Export(ctx, db, tt.opt)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Export = %v, want %v containing %q", err, tt.wantErr, tt.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("refused export left %v", left)
			}
		})
	}
	t.Run("ProveErrNotFound", func(t *testing.T) {
		dir := t.TempDir()
		_, err := l.ProveFile(ctx, db, cli, "m1", "nobody", filepath.Join(dir, "p.zip"))
		if !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("ProveFile = %v", err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("refused prove left %v", left)
		}
	})
}
