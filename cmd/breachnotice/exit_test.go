package main

import (
	"fmt"
	"io"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// TestExitCode_Kinds: the domain's error kinds map to exit statuses in one
// place, wrapped or not.
func TestExitCode_Kinds(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{fmt.Errorf("plan: incident 3: %w", incident.ErrForbidden), 4},
		{fmt.Errorf("%w: no incident 3", incident.ErrNotFound), 1},
		{fmt.Errorf("%w: bad", incident.ErrInvalid), 1},
		{fmt.Errorf("%w: on hold", incident.ErrConflict), 1},
		{usagef("nope"), 2},
	} {
		if got := exitCode(io.Discard, tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
