package demodata_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/breachnotice/breachnotice/incident/demodata"
)

// TestWrite_Private: the demo CSVs look like personal data and are kept
// like it: files 0600 in a directory 0700.
func TestWrite_Private(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	f, err := demodata.Write(context.Background(), dir, demodata.Options{Accounts: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, f.Courses: 0o600, f.Accounts: 0o600, f.Enrollments: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", filepath.Base(p), got, want)
		}
	}
}
