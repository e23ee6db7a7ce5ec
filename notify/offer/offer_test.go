package offer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/incident/storetest"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/offer"
)

func TestReadCodes(t *testing.T) {
	tests := []struct {
		file    string
		want    []offer.Code
		wantErr string
	}{
		{"good.csv", []offer.Code{{"IG-0001", "IdentityGuard", "2027-03-31", 2}, {"IG-0002", "", "", 3}, {"IG-0003", `Identity "Guard"`, "", 4}}, ""},
		{"bom.csv", []offer.Code{{"IG-0001", "", "", 2}, {"IG-0002", "", "", 3}}, ""},
		{"dup.csv", nil, "dup.csv line 4 field code: duplicate of line 2"},
		{"baddate.csv", nil, `baddate.csv line 2 field expires: "2027-02-30": want YYYY-MM-DD`},
		{"quote.csv", nil, "quote.csv line 2: extraneous or missing \" in quoted-field"},
		{"order.csv", nil, `order.csv line 1 field 2: header "expires", want "provider"`},
		{"empty.csv", nil, "empty.csv line 1: empty file"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := offer.ReadCodes(tc.file, f)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// BenchmarkImport assigns codes to n Californians owed
// 12 months of protection, in one transaction, and reports codes/s.
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				ctx := context.Background()
				st := storetest.Open(b)
				var acc strings.Builder
				acc.WriteString("id,name,email,locale,country,region,e_consent\n")
				for i := range n {
					fmt.Fprintf(&acc, "u%06d,Person %d,p%d@example.org,en,US,CA,yes\n", i, i, i)
				}
				id := storetest.ScopedIncident(b, st, acc.String(), incident.ElemName, incident.ElemSSN)
				if _, err := notify.MakePlan(ctx, st, id); err != nil {
					b.Fatal(err)
				}
				codes := make([]offer.Code, n)
				for i := range codes {
					codes[i] = offer.Code{Code: fmt.Sprintf("IG-%08d", i), Line: i + 2}
				}
				b.StartTimer()
				res, err := offer.Import(ctx, st, id, "codes.csv", codes, storetest.Now)
				if err != nil || res.Assigned != n {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "codes/s")
		})
	}
}
