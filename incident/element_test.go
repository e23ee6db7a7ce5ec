package incident_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

func TestParseElements(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []incident.Element
		err      string // substring of the error; "" for success
	}{
		{"CanonicalOrder", "password, NAME,email,name", []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword}, ""},
		{"ErrTypo", "name,pasword", nil, `unknown data element "pasword" (did you mean "password"?)`},
		{"ErrTransposed", "emial", nil, `unknown data element "emial" (did you mean "email"?)`},
		{"ErrPrefix", "postal", nil, `(did you mean "postal_address"?)`},
		{"ErrNothingClose", "shoe_size", nil, `unknown data element "shoe_size" (known: name,email,`},
		{"ErrEmpty", " , ", nil, "no data elements given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := incident.ParseElements(tc.in)
			if tc.err == "" {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ParseElements(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, incident.ErrInvalid) {
				t.Errorf("ParseElements(%q) error = %v; want ErrInvalid with %q", tc.in, err, tc.err)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	known := []string{"channel", "concurrency", "controller", "db", "json", "rate", "retry-base"}
	for _, tc := range []struct{ name, want string }{
		{"rtae", "rate"},        // two substitutions
		{"chanel", "channel"},   // one deletion
		{"Rate", "rate"},        // case
		{"contr", "controller"}, // a prefix, too far by edits
		{"js", "json"},          // prefix of two letters
		{"x", ""},               // one letter: no guess
		{"ab", "db"},            // one edit, fewer than its letters
		{"zz", ""},              // two edits from "db", as many as its letters
		{"frobnicate", ""},
	} {
		if got := incident.Nearest(tc.name, known); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
