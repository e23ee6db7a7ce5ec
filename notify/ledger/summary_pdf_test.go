package ledger

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSummaryPDF_DeadlinesAndPeople: summary.pdf prints what a reader
// needs without opening summary.json: an overdue deadline as OVERDUE, a
// deadline met late as MISSED, an open one with its days left, and the
// people outstanding by why.
func TestSummaryPDF_DeadlinesAndPeople(t *testing.T) {
	at := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	r := &report{Summary: Summary{Controller: "valdemar", Incident: 1}, CheckpointAt: at, CreatedAt: at,
		Counts: Counts{
			People: People{Owed: 131, Notified: 100, NotifiedByEmail: 90, NotifiedByLetter: 10, Outstanding: 31,
				LettersUnmailed: 20, EmailsPending: 4, Substitute: 3, NoNoticeYet: 4},
			DeadlineOutcomes: []DeadlineOutcome{
				{Incident: 1, Jurisdiction: "DE", Duty: DutyRegulator, Due: "2026-11-27", State: OutcomeMissed, Overdue: true, DaysLeft: -3},
				{Incident: 1, Jurisdiction: "GB", Duty: DutyRegulator, Due: "2026-11-27", FiledOn: "2026-11-28", State: OutcomeMissed, DaysLeft: -3},
				{Incident: 1, Jurisdiction: "US-NY", Duty: DutyIndividuals, Due: "2026-12-24", Owed: 20, Notified: 5, Outstanding: 15, State: OutcomeOpen, DaysLeft: 24},
			},
			DeadlineTotals: DeadlineTotals{Missed: 2, Overdue: 1, Open: 1},
			SubstituteCases: []SubstituteCase{{Incident: 1, Account: "u1000110", Jurisdiction: "ZA", Reason: ReasonUnreachable},
				{Incident: 1, Account: "u1000126", Jurisdiction: "US-PR", Reason: ReasonEnded}},
		}}
	pdf := summaryPDF(r)
	pdf.SetCompression(false)
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"(0 met, 2 missed \\(1 of them OVERDUE: due date passed, still outstanding\\), 1 open)",
		"(OVERDUE by 3 days)", "(MISSED \\(done late\\))", "(filed 2026-11-28)", "(filing not recorded)",
		"(open, due in 24 days)", "(5 of 20 notified)",
		"letter not yet mailed", "(20)", "(Substitute notice owed: 3 people no direct notice reaches)", "(u1000110)", "(every notice ended)",
		"(and 1 more: summary.json", "unreachable: substitute notice owed", "reached by a mailed letter",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary.pdf lacks %q", want)
		}
	}
}
