package law

import (
	"strconv"
	"testing"

	"github.com/breachnotice/breachnotice/incident"
)

// benchPeople spreads learners over every known jurisdiction, with mixed
// consent and contact data (no unknown residences: those allocate a name).
func benchPeople() []*incident.Affected {
	codes := allCodes()
	people := make([]*incident.Affected, 0, 4096)
	for i := range 4096 {
		a := residentOf(codes[i%len(codes)])
		a.ID = "acct-" + strconv.Itoa(i)
		a.EConsent = i%3 == 0
		if i%7 == 0 {
			noPostal(a)
		}
		if i%11 == 0 {
			noEmail(a)
		}
		if i%13 == 0 {
			retired(a)
		}
		people = append(people, a)
	}
	return people
}

// BenchmarkDecide measures the pure per-person decision.
func BenchmarkDecide(b *testing.B) {
	p := NewPlanner(breach(b, name, ssn, email, password), operator)
	people := benchPeople()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = p.Decide(people[i&(len(people)-1)])
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "people/s")
}

// BenchmarkNewPlanner measures the once-per-incident evaluation.
func BenchmarkNewPlanner(b *testing.B) {
	inc := breach(b, name, ssn, email, password)
	for b.Loop() {
		_ = NewPlanner(inc, operator)
	}
}
