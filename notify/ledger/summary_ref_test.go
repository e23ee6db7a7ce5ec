package ledger

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"
)

// refCounter is the summary counter as it was before it spilled to disk
// (one map entry per notice and per person), kept to check that the
// bounded one counts exactly the same.
type refCounter struct {
	c       Counts
	notices map[int64]*refNotice // by notice id
	people  map[refPersonKey]*refPerson
	owed    map[int64]int64 // by incident: the latest plan_made's "owed"
	book    *deadlineBook
}

// notice is what the refCounter keeps of one notice: its latest kind with a
// status, and whose it is.
type refNotice struct {
	kind Kind
	who  *refPerson
}

type refPersonKey struct {
	incident int64
	account  string
}

type refPerson struct {
	incident     int64
	deadline     string // YYYY-MM-DD
	jurisdiction string
	emailDay     string // the first email_sent
	mailedDay    string // the first letter_mailed
	unreachable  bool
}

func newRefCounter() *refCounter {
	return &refCounter{
		c: Counts{ByKind: map[string]int64{}, ByChannel: map[string]int64{},
			ByJurisdiction: map[string]int64{}, ByStatus: map[string]int64{}},
		notices: map[int64]*refNotice{},
		people:  map[refPersonKey]*refPerson{},
		owed:    map[int64]int64{},
		book:    newDeadlineBook(),
	}
}

func (k *refCounter) add(e *Entry) {
	k.c.Entries++
	k.c.ByKind[string(e.Kind)]++
	if e.Channel != "" {
		k.c.ByChannel[e.Channel]++
	}
	if e.PossibleDuplicate {
		k.c.PossibleDuplicates++
	}
	d := e.detailFields()
	k.book.add(e)
	if e.Kind == KindPlanMade {
		var plan struct {
			Owed int64 `json:"owed"`
		}
		if json.Unmarshal(e.Detail, &plan) == nil {
			k.owed[e.Incident] = plan.Owed
		}
	}
	var who *refPerson
	if e.Account != "" && e.Incident != 0 && (e.Notice != 0 || e.Kind == KindNoticeUnreachable) {
		key := refPersonKey{e.Incident, e.Account}
		if who = k.people[key]; who == nil {
			who = &refPerson{incident: e.Incident}
			k.people[key] = who
		}
		if d.Deadline != "" {
			who.deadline = d.Deadline
		}
		if d.Jurisdiction != "" {
			who.jurisdiction = d.Jurisdiction
		}
		day := e.At.UTC().Format("2006-01-02")
		switch e.Kind {
		case KindNoticeUnreachable:
			who.unreachable = true
		case KindEmailSent:
			if who.emailDay == "" {
				who.emailDay = day
			}
		case KindEmailBounced:
			who.emailDay = ""
		case KindLetterMailed:
			if who.mailedDay == "" {
				who.mailedDay = day
			}
		}
	}
	if e.Notice != 0 && e.Kind.status() != "" {
		n := k.notices[e.Notice]
		if n == nil {
			n = &refNotice{}
			k.notices[e.Notice] = n
		}
		n.kind = e.Kind
		if who != nil {
			n.who = who
		}
	}
	if d.Jurisdiction != "" {
		k.c.ByJurisdiction[d.Jurisdiction]++
	}
	if e.Kind == KindEmailSent || e.Kind == KindLetterMailed {
		k.c.Deadlines.Deliveries++
		dl, err := time.Parse("2006-01-02", d.Deadline)
		switch {
		case d.Deadline == "" || err != nil:
			k.c.Deadlines.NoDeadline++
		case e.At.UTC().Format("2006-01-02") <= dl.Format("2006-01-02"):
			k.c.Deadlines.Met++
		default:
			k.c.Deadlines.Missed++
		}
	}
}

// counts returns the counts, with people counted as of the time asOf (the
// signed checkpoint's).
func (k *refCounter) counts(asOf time.Time) Counts {
	// A person is reached while any notice of theirs is given or on its
	// way; a letter mailed and since returned did not reach them.
	live := map[*refPerson]bool{}
	mailed := map[*refPerson]bool{}
	letter := map[*refPerson]bool{}
	for _, n := range k.notices {
		st := n.kind.status()
		k.c.ByStatus[st]++
		switch st {
		case "pending", "sending", "deferred", "sent":
			live[n.who] = true
		case "queued", "exported":
			live[n.who] = true
			letter[n.who] = true
		case "mailed":
			live[n.who] = true
			mailed[n.who] = true
			letter[n.who] = true
		}
	}
	var p People
	for _, owed := range k.owed {
		p.Owed += owed
	}
	today := asOf.UTC().Format("2006-01-02")
	keys := make([]refPersonKey, 0, len(k.people))
	for key := range k.people {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].incident != keys[j].incident {
			return keys[i].incident < keys[j].incident
		}
		return keys[i].account < keys[j].account
	})
	k.c.SubstituteCases = []SubstituteCase{}
	for _, key := range keys {
		who := k.people[key]
		day := who.emailDay
		if mailed[who] && who.mailedDay != "" && (day == "" || who.mailedDay < day) {
			day = who.mailedDay
		}
		late := false
		switch {
		case day != "":
			p.Notified++
			if who.emailDay != "" {
				p.NotifiedByEmail++
			}
			if mailed[who] && who.mailedDay != "" {
				p.NotifiedByLetter++
			}
			if who.deadline != "" && day > who.deadline {
				p.NotifiedLate++
				late = true
			}
		case who.deadline != "" && who.deadline < today:
			p.Overdue++
		}
		switch {
		case day != "":
		case who.unreachable || !live[who]:
			p.Substitute++
			if len(k.c.SubstituteCases) < MaxSubstituteCases {
				reason := ReasonEnded
				if who.unreachable {
					reason = ReasonUnreachable
				}
				k.c.SubstituteCases = append(k.c.SubstituteCases, SubstituteCase{Incident: key.incident, Account: key.account,
					Jurisdiction: who.jurisdiction, Reason: reason})
			}
		case letter[who]:
			p.LettersUnmailed++
		default:
			p.EmailsPending++
		}
		if day != "" && who.jurisdiction != "" {
			key := filingKey{who.incident, who.jurisdiction, DutyIndividuals}
			k.book.notified[key]++
			if late {
				k.book.late[key]++
			}
		}
	}
	p.Outstanding = max(0, p.Owed-p.Notified)
	p.NoNoticeYet = max(0, p.Outstanding-p.Substitute-p.LettersUnmailed-p.EmailsPending)
	k.c.People = p
	k.c.DeadlineOutcomes, k.c.DeadlineTotals = k.book.outcomes(asOf)
	k.notices, k.people = map[int64]*refNotice{}, map[refPersonKey]*refPerson{}
	return k.c
}

// TestCounter_MatchesReference: on random entry streams (notices changing
// hands, entries without account or incident, any deadline string, NUL
// bytes in accounts), the counter gives exactly the reference counts, in
// memory and when both its sorters spill runs to disk.
func TestCounter_MatchesReference(t *testing.T) {
	kinds := []Kind{KindControllerCreated, KindIncidentOpened, KindPlanMade, KindEmailSent, KindEmailDeferred,
		KindEmailFailed, KindEmailRetried, KindLetterQueued, KindLetterUnprintable, KindLetterExported,
		KindLetterMailed, KindLetterReturned, KindBannerPublished, KindBannerWithdrawn, KindNoticeUnreachable, KindCheckpoint, KindEmailBounced,
		KindRegulatorNotified}
	accounts := []string{"", "a", "a\x00", "a\x00b", "b", "\x00", "u1000001", "u1000002", "ü"}
	deadlines := []string{"", "2026-01-05", "2026-01-10", "2026-02-01", "soon", "\x00"}
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		n       int
		budget  int
		notices int64
	}{
		{"Small", 50, sortBudget, 5},
		{"InMemory", 5000, sortBudget, 300},
		{"Spilled", 5000, 512, 300},
		{"SpilledTiny", 2000, 1, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 20; seed++ {
				r := rand.New(rand.NewPCG(seed, 7))
				ref, got := newRefCounter(), newCounterBudget(tc.budget)
				for i := 0; i < tc.n; i++ {
					e := Entry{Controller: "op", Index: int64(i), Kind: kinds[r.IntN(len(kinds))],
						At:      base.Add(time.Duration(r.IntN(60*24)) * time.Hour),
						Account: accounts[r.IntN(len(accounts))], Incident: int64(r.IntN(3))}
					if r.IntN(2) == 0 {
						e.Account = "u" + strconv.Itoa(r.IntN(tc.n/4+1))
					}
					if r.IntN(4) > 0 {
						e.Notice = 1 + r.Int64N(tc.notices)
					}
					if r.IntN(3) > 0 {
						e.Channel = []string{"email", "letter", "banner"}[r.IntN(3)]
					}
					e.PossibleDuplicate = r.IntN(10) == 0
					d := map[string]any{}
					if dl := deadlines[r.IntN(len(deadlines))]; dl != "" {
						d["deadline"] = dl
					}
					if r.IntN(2) == 0 {
						d["jurisdiction"] = []string{"US-CA", "US-TX", "DE"}[r.IntN(3)]
					}
					if e.Kind == KindPlanMade {
						d["owed"] = r.IntN(100)
						var dls []PlannedDeadline
						for _, j := range []string{"US-CA", "US-TX", "DE"} {
							if r.IntN(3) > 0 {
								dls = append(dls, PlannedDeadline{Jurisdiction: j, Duty: DutyIndividuals,
									Due: deadlines[1+r.IntN(3)], Owed: int64(r.IntN(20))})
							}
							if r.IntN(2) == 0 {
								dls = append(dls, PlannedDeadline{Jurisdiction: j, Duty: []string{DutyRegulator, DutyRegulatorFirst, DutyCreditBureaus}[r.IntN(3)],
									Due: deadlines[1+r.IntN(3)]})
							}
						}
						d["deadlines"] = dls
					}
					if e.Kind == KindRegulatorNotified {
						d["duty"] = []string{DutyRegulator, DutyCreditBureaus}[r.IntN(2)]
						d["sent_on"] = deadlines[1+r.IntN(3)]
					}
					if len(d) > 0 {
						e.Detail, _ = json.Marshal(d)
					}
					ref.add(&e)
					got.add(&e)
				}
				asOf := base.Add(time.Duration(r.IntN(60)) * 24 * time.Hour)
				want, _ := json.Marshal(ref.counts(asOf))
				c, err := got.counts(asOf)
				if err != nil {
					t.Fatal(err)
				}
				have, _ := json.Marshal(c)
				if string(have) != string(want) {
					t.Fatalf("seed %d:\n got %s\nwant %s", seed, have, want)
				}
			}
		})
	}
}
