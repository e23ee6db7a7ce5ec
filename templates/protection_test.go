package templates

import (
	"strings"
	"testing"
)

// TestProtectionBlock: the identity-protection paragraph says who provides
// the offer and how to enrol with whatever the incident has arranged.
func TestProtectionBlock(t *testing.T) {
	tests := []struct {
		name string
		p    *Protection
		want []string
		not  []string
	}{
		{"None", nil, nil, []string{"identity theft protection"}},
		{"NoProvider", &Protection{Months: 12}, []string{"12 months of identity theft protection and credit monitoring at no cost",
			"To enroll, contact us using the details at the end of this notice."}, []string{"from ", "call"}},
		{"ProviderURL", &Protection{Months: 24, Provider: "IdentityGuard", EnrollURL: "https://enroll.example.com"},
			[]string{"24 months of identity theft protection and credit monitoring from IdentityGuard", "To enroll, visit https://enroll.example.com."},
			[]string{"by phone", "contact us"}},
		{"ProviderPhone", &Protection{Months: 18, Provider: "IdentityGuard", Phone: "1-800-555-0199"},
			[]string{"from IdentityGuard", "To enroll, call 1-800-555-0199."}, []string{"visit", "contact us"}},
		{"URLAndPhone", &Protection{Months: 12, Provider: "IdentityGuard", EnrollURL: "https://enroll.example.com", Phone: "1-800-555-0199"},
			[]string{"To enroll, visit https://enroll.example.com.", "You can also enroll by phone at 1-800-555-0199."}, []string{"contact us"}},
		{"URLCode", &Protection{Months: 12, Provider: "IdentityGuard", EnrollURL: "https://enroll.example.com", Code: "IG-7Q2"},
			[]string{"To enroll, visit https://enroll.example.com and enter the code IG-7Q2."}, []string{"contact us"}},
		{"PhoneCode", &Protection{Months: 12, Provider: "IdentityGuard", Phone: "1-800-555-0199", Code: "IG-7Q2"},
			[]string{"To enroll, call 1-800-555-0199 and give the code IG-7Q2."}, []string{"visit", "contact us"}},
		{"ContactCode", &Protection{Months: 12, Code: "IG-7Q2"},
			[]string{"To enroll, contact us using the details at the end of this notice and give the code IG-7Q2."}, []string{"visit", "call"}},
		{"PhoneOnOneLine", &Protection{Months: 12, Phone: "1-800\r\nBcc: x@example.org"},
			[]string{"To enroll, call 1-800 Bcc: x@example.org."}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := fixture("us-ca", "en")
			n.Protection = tc.p
			var text strings.Builder
			for _, s := range n.Sections() {
				for _, p := range s.Paragraphs {
					if strings.Contains(p, "enroll") || strings.Contains(p, "identity theft protection") {
						text.WriteString(p + "\n") // the protection block's paragraphs
					}
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("lacks %q:\n%s", w, text.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text.String(), w) {
					t.Errorf("has %q:\n%s", w, text.String())
				}
			}
		})
	}
}
