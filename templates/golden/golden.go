// Package golden compares what a test produced with a golden file under
// testdata/, and rewrites the file instead when the tests run with -update:
//
//	go test ./cmd/breachnotice -run CLI -update
//
// then review the diff (git diff testdata) before committing it. It is the
// one golden helper of the project's tests, with the one -update flag.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ instead of comparing with them")

// Path is the golden file of name: testdata/NAME.golden.
func Path(name string) string { return filepath.Join("testdata", name+".golden") }

// Check compares got with the golden file of name, or rewrites the file
// with -update.
func Check(t testing.TB, name, got string) {
	t.Helper()
	path := Path(name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run the test with -update and review the diff):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}
