package notify_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// incidentTable matches SQL that names one of package incident's tables.
var incidentTable = regexp.MustCompile(`\b(FROM|JOIN|INTO|UPDATE)\s+(controllers|courses|accounts|enrollments|incidents|affected|audit)\b`)

// notify and its channels reach incident's tables only through package
// incident (incident/shared.go and the store's methods): no SQL in their
// sources names one.
func TestSeam_NotifyNamesNoIncidentTable(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := incidentTable.FindString(line); m != "" {
				t.Errorf("%s:%d: %q: incident's tables are read and written by package incident only (see incident/shared.go)", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
