package main

import (
	"testing"

	"github.com/breachnotice/breachnotice/notify/law"
)

// TestProtectionText: the admin obligations table's protection cell says
// what the law owes and what is offered, by whom, and flags a short offer.
func TestProtectionText(t *testing.T) {
	for _, tc := range []struct {
		name string
		pr   *law.Protection
		want string
	}{
		{"NotOwed", nil, "-"},
		{"OwedNoOfferShown", &law.Protection{Months: 12}, "12 mo owed"},
		{"NoProvider", &law.Protection{Months: 24, Offer: &law.ProtectionOffer{Months: 24}}, "24 mo owed; offered 24 mo by the controller (no provider set)"},
		{"Provider", &law.Protection{Months: 12, Offer: &law.ProtectionOffer{Months: 36, Provider: "IDGuard"}}, "12 mo owed; offered 36 mo by IDGuard"},
		{"Short", &law.Protection{Months: 24, Offer: &law.ProtectionOffer{Months: 24, Provider: "IDGuard", Short: true}},
			"24 mo owed; offered 24 mo by IDGuard (configured months too short: send refused)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := protectionText(tc.pr); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
