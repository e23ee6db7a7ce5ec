package incident_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
)

// postalSQL evaluates incident.PostalCompleteSQL on a real database for an
// address.
func postalSQL(t *testing.T, st *incident.Store, a incident.Account) bool {
	t.Helper()
	var ok bool
	err := st.DB().QueryRowContext(context.Background(), `SELECT `+incident.PostalCompleteSQL("t")+
		` FROM (SELECT ? AS postal_line1, ? AS postal_line2, ? AS city, ? AS postal_code, ? AS country) t`,
		a.PostalLine1, a.PostalLine2, a.City, a.PostalCode, a.Country).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestAccount_PostalComplete holds the Go method and its SQL together: the
// same answer for every address of the table, white space of every kind
// included.
func TestAccount_PostalComplete(t *testing.T) {
	st := storetest.Open(t)
	full := incident.Account{PostalLine1: "1 Main St", City: "Los Angeles", PostalCode: "90012", Country: "US"}
	with := func(f func(a *incident.Account)) incident.Account {
		a := full
		f(&a)
		return a
	}
	for _, tc := range []struct {
		name string
		a    incident.Account
		want bool
	}{
		{"Complete", full, true},
		{"WithLine2", with(func(a *incident.Account) { a.PostalLine2 = "Apt 4" }), true},
		{"PaddedValues", with(func(a *incident.Account) { a.City = " \tLos Angeles\u00a0" }), true},
		{"ZeroWidthSpaceIsText", with(func(a *incident.Account) { a.City = "\u200b" }), true},
		{"Empty", incident.Account{}, false},
		{"NoLine1", with(func(a *incident.Account) { a.PostalLine1 = "" }), false},
		{"Line2Only", with(func(a *incident.Account) { a.PostalLine1, a.PostalLine2 = "", "1 Main St" }), false},
		{"NoCity", with(func(a *incident.Account) { a.City = "" }), false},
		{"NoPostalCode", with(func(a *incident.Account) { a.PostalCode = "" }), false},
		{"NoCountry", with(func(a *incident.Account) { a.Country = "" }), false},
		{"SpacesLine1", with(func(a *incident.Account) { a.PostalLine1 = "   " }), false},
		{"TabCity", with(func(a *incident.Account) { a.City = "\t" }), false},
		{"NewlinesPostalCode", with(func(a *incident.Account) { a.PostalCode = "\r\n" }), false},
		{"NoBreakSpaceCity", with(func(a *incident.Account) { a.City = "\u00a0" }), false},
		{"NarrowNoBreakSpaceCountry", with(func(a *incident.Account) { a.Country = "\u202f" }), false},
		{"IdeographicSpaceLine1", with(func(a *incident.Account) { a.PostalLine1 = "\u3000 \u3000" }), false},
		{"MixedWhiteSpace", with(func(a *incident.Account) { a.City = " \t\u00a0\u2003\u0085\v\f" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.PostalComplete(); got != tc.want {
				t.Errorf("PostalComplete() = %v, want %v", got, tc.want)
			}
			if got := postalSQL(t, st, tc.a); got != tc.want {
				t.Errorf("PostalCompleteSQL = %v, want %v", got, tc.want)
			}
		})
	}

	// Every rune of the BMP (where all of unicode.IsSpace's runes are, and
	// all the SQL names): the SQL trims exactly the runes strings.TrimSpace
	// trims, no more, no fewer.
	t.Run("EveryRune", func(t *testing.T) {
		const last = 0xFFFF
		char := "char(n)"
		if st.Postgres() {
			char = "chr(n)"
		}
		rows, err := st.DB().Query(`WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < ?)
			SELECT n FROM (SELECT n, 'x' AS postal_line1, `+char+` AS city, 'x' AS postal_code, 'x' AS country FROM r
				WHERE n NOT BETWEEN 55296 AND 57343) t
			WHERE NOT `+incident.PostalCompleteSQL("t"), last)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []rune
		for rows.Next() {
			var n rune
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		var want []rune
		for r := rune(1); r <= unicode.MaxRune; r++ {
			if unicode.IsSpace(r) {
				if r > last {
					t.Fatalf("unicode.IsSpace(%U) beyond the BMP: test every rune", r)
				}
				want = append(want, r)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("the SQL trims %U,\nunicode.IsSpace is %U", got, want)
		}
	})
}

// TestImportAccounts_PostalReach: a re-import whose file lacks some of the
// address columns recomputes the stored postal flag in SQL from the
// columns it has and the stored ones it keeps. That SQL is
// PostalCompleteSQL, so white space is trimmed as Account.PostalComplete
// trims it: the flag stored equals PostalComplete of the account stored.
func TestImportAccounts_PostalReach(t *testing.T) {
	const full = "id,name,country,region,postal_line1,city,postal_code\n"
	for _, tc := range []struct {
		name, first, again string
		want               bool
	}{
		{"NoBreakSpaceCityKept", full + "a1,Ann,DE,,Hauptstr. 1,\u00a0,10115\n",
			"id,country,postal_line1,postal_code\na1,DE,Hauptstr. 2,10117\n", false},
		{"IdeographicSpaceLine1FromFile", full + "a1,Ann,DE,,Hauptstr. 1,Berlin,10115\n",
			"id,country,postal_line1\na1,DE,\u3000\n", false},
		{"NarrowNoBreakSpacePostalCodeFromFile", full + "a1,Ann,DE,,Hauptstr. 1,Berlin,10115\n",
			"id,country,postal_code\na1,DE,\u202f\n", false},
		{"PaddedCityKept", full + "a1,Ann,DE,,Hauptstr. 1,\u00a0Berlin\u00a0,10115\n",
			"id,country,postal_line1,postal_code\na1,DE,Hauptstr. 2,10117\n", true},
		{"CityOfFileCompletes", full + "a1,Ann,DE,,Hauptstr. 1,\u2003,10115\n",
			"id,country,city\na1,DE,Berlin\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t)
			for i, file := range []string{tc.first, tc.again} {
				if res, err := st.ImportAccounts(ctx, strings.NewReader(file), incident.ImportOptions{File: "a.csv"}); err != nil || res.Rejected > 0 {
					t.Fatalf("import %d: %+v, %v", i+1, res, err)
				}
			}
			var a incident.Account
			var reach int
			if err := st.DB().QueryRowContext(ctx, `SELECT postal_line1, city, postal_code, country, reach FROM accounts WHERE id = 'a1'`).
				Scan(&a.PostalLine1, &a.City, &a.PostalCode, &a.Country, &reach); err != nil {
				t.Fatal(err)
			}
			if got := reach&incident.ReachPostal != 0; got != a.PostalComplete() || got != tc.want {
				t.Errorf("stored %q, %q, %q, %q: ReachPostal %v, PostalComplete %v; want %v",
					a.PostalLine1, a.City, a.PostalCode, a.Country, got, a.PostalComplete(), tc.want)
			}
		})
	}
}
