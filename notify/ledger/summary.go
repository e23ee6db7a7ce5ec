package ledger

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// Summary describes a bundle: what Export and Prove wrote and what Verify
// checked.
type Summary struct {
	Controller string `json:"controller"`
	Incident   int64  `json:"incident,omitempty"`
	Account    string `json:"account,omitempty"`
	Entries    int64  `json:"entries"`
	TreeSize   int64  `json:"tree_size"`
	Root       string `json:"root"`
	KeyName    string `json:"key_name"`
	PublicKey  string `json:"public_key"`
}

// String is the one-line summary Verify reports on success.
func (s Summary) String() string {
	scope := "whole log"
	switch {
	case s.Account != "":
		scope = "account " + s.Account
	case s.Incident != 0:
		scope = "incident " + strconv.FormatInt(s.Incident, 10)
	}
	return fmt.Sprintf("ok: controller %s, %s: %d entries in the tree of size %d signed by %s (root %s)",
		s.Controller, scope, s.Entries, s.TreeSize, s.KeyName, s.Root)
}

// Counts is what summary.json and summary.pdf report. Verify recomputes it
// from entries.jsonl and compares.
type Counts struct {
	Entries int64            `json:"entries"`
	ByKind  map[string]int64 `json:"by_kind"`
	// ByChannel counts entries by channel.
	ByChannel map[string]int64 `json:"by_channel"`
	// ByJurisdiction counts entries whose detail names a "jurisdiction".
	ByJurisdiction map[string]int64 `json:"by_jurisdiction"`
	// ByStatus counts notices by the status their latest entry left them in
	// (sent, deferred, failed, queued, mailed, returned, published,
	// withdrawn).
	ByStatus           map[string]int64 `json:"by_status"`
	PossibleDuplicates int64            `json:"possible_duplicates"`
	Deadlines          Deadlines        `json:"deadlines"`
	People             People           `json:"people"`
}

// People counts persons, not entries, as of the checkpoint the bundle is
// signed at. Owed is the people owed individual notice in each incident's
// latest plan_made entry. A person is notified by an email_sent entry, or a
// letter_mailed entry of a letter not since returned; notified late when
// that first happened after the deadline in their entries' detail.
// Outstanding is Owed less Notified; Overdue counts the people with a
// recorded notice who are not notified and whose deadline had passed at
// the checkpoint. Substitute counts the people owed notice whom no direct
// notice reaches: a notice_unreachable entry, or every notice of theirs
// ended (email failed, letter unprintable or returned).
type People struct {
	Owed         int64 `json:"owed"`
	Notified     int64 `json:"notified"`
	NotifiedLate int64 `json:"notified_late"`
	Outstanding  int64 `json:"outstanding"`
	Overdue      int64 `json:"overdue"`
	Substitute   int64 `json:"substitute"`
}

// Deadlines counts deliveries (email_sent, letter_mailed) against the
// "deadline" (YYYY-MM-DD) in their detail: met when delivered on or before
// that date (UTC).
type Deadlines struct {
	Deliveries int64 `json:"deliveries"`
	Met        int64 `json:"met"`
	Missed     int64 `json:"missed"`
	NoDeadline int64 `json:"no_deadline"`
}

type counter struct {
	c       Counts
	notices map[int64]*notice // by notice id
	people  map[personKey]*person
	owed    map[int64]int64 // by incident: the latest plan_made's "owed"
}

// notice is what the counter keeps of one notice: its latest kind with a
// status, and whose it is.
type notice struct {
	kind Kind
	who  *person
}

type personKey struct {
	incident int64
	account  string
}

type person struct {
	deadline    string // YYYY-MM-DD
	emailDay    string // the first email_sent
	mailedDay   string // the first letter_mailed
	unreachable bool
}

func newCounter() *counter {
	return &counter{
		c: Counts{ByKind: map[string]int64{}, ByChannel: map[string]int64{},
			ByJurisdiction: map[string]int64{}, ByStatus: map[string]int64{}},
		notices: map[int64]*notice{},
		people:  map[personKey]*person{},
		owed:    map[int64]int64{},
	}
}

func (k *counter) add(e *Entry) {
	k.c.Entries++
	k.c.ByKind[string(e.Kind)]++
	if e.Channel != "" {
		k.c.ByChannel[e.Channel]++
	}
	if e.PossibleDuplicate {
		k.c.PossibleDuplicates++
	}
	d := e.detailFields()
	if e.Kind == KindPlanMade {
		var plan struct {
			Owed int64 `json:"owed"`
		}
		if json.Unmarshal(e.Detail, &plan) == nil {
			k.owed[e.Incident] = plan.Owed
		}
	}
	var who *person
	if e.Account != "" && e.Incident != 0 && (e.Notice != 0 || e.Kind == KindNoticeUnreachable) {
		key := personKey{e.Incident, e.Account}
		if who = k.people[key]; who == nil {
			who = &person{}
			k.people[key] = who
		}
		if d.Deadline != "" {
			who.deadline = d.Deadline
		}
		day := e.At.UTC().Format("2006-01-02")
		switch e.Kind {
		case KindNoticeUnreachable:
			who.unreachable = true
		case KindEmailSent:
			if who.emailDay == "" {
				who.emailDay = day
			}
		case KindLetterMailed:
			if who.mailedDay == "" {
				who.mailedDay = day
			}
		}
	}
	if e.Notice != 0 && e.Kind.status() != "" {
		n := k.notices[e.Notice]
		if n == nil {
			n = &notice{}
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
func (k *counter) counts(asOf time.Time) Counts {
	// A person is reached while any notice of theirs is given or on its
	// way; a letter mailed and since returned did not reach them.
	live := map[*person]bool{}
	mailed := map[*person]bool{}
	for _, n := range k.notices {
		st := n.kind.status()
		k.c.ByStatus[st]++
		switch st {
		case "pending", "sending", "deferred", "sent", "queued", "exported":
			live[n.who] = true
		case "mailed":
			live[n.who] = true
			mailed[n.who] = true
		}
	}
	var p People
	for _, owed := range k.owed {
		p.Owed += owed
	}
	today := asOf.UTC().Format("2006-01-02")
	for _, who := range k.people {
		day := who.emailDay
		if mailed[who] && who.mailedDay != "" && (day == "" || who.mailedDay < day) {
			day = who.mailedDay
		}
		switch {
		case day != "":
			p.Notified++
			if who.deadline != "" && day > who.deadline {
				p.NotifiedLate++
			}
		case who.deadline != "" && who.deadline < today:
			p.Overdue++
		}
		if day == "" && (who.unreachable || !live[who]) {
			p.Substitute++
		}
	}
	p.Outstanding = max(0, p.Owed-p.Notified)
	k.c.People = p
	k.notices, k.people = map[int64]*notice{}, map[personKey]*person{}
	return k.c
}

// report is summary.json.
type report struct {
	Summary
	CheckpointAt time.Time `json:"checkpoint_at"`
	CreatedAt    time.Time `json:"created_at"`
	Counts       Counts    `json:"counts"`
}

// writePDF writes summary.pdf. Core fonts are cp1252: other characters print
// as '?'; the figures that matter are ASCII.
func writePDF(w io.Writer, r *report) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(r.CreatedAt)
	pdf.SetModificationDate(r.CreatedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Proof of notice: ledger summary", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 10, "Proof of notice: ledger summary", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	scope := "whole log"
	if r.Account != "" {
		scope = "account " + r.Account
	} else if r.Incident != 0 {
		scope = "incident " + strconv.FormatInt(r.Incident, 10)
	}
	for _, kv := range [][2]string{
		{"Controller", r.Controller},
		{"Scope", scope},
		{"Entries", strconv.FormatInt(r.Counts.Entries, 10)},
		{"Signed tree size", strconv.FormatInt(r.TreeSize, 10)},
		{"Root hash", r.Root},
		{"Signing key", r.KeyName},
		{"Checkpoint signed", r.CheckpointAt.UTC().Format(time.RFC3339)},
		{"Bundle created", r.CreatedAt.UTC().Format(time.RFC3339)},
		{"Possible duplicates", strconv.FormatInt(r.Counts.PossibleDuplicates, 10)},
	} {
		pdf.CellFormat(45, 6, kv[0], "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 6, tr(kv[1]), "", 1, "L", false, 0, "")
	}
	table := func(title string, m map[string]int64) {
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 8, title, "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		if len(m) == 0 {
			pdf.CellFormat(0, 6, "none", "", 1, "L", false, 0, "")
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			pdf.CellFormat(70, 6, tr(k), "B", 0, "L", false, 0, "")
			pdf.CellFormat(30, 6, strconv.FormatInt(m[k], 10), "B", 1, "R", false, 0, "")
		}
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 8, "People, as of the checkpoint ("+r.CheckpointAt.UTC().Format("2006-01-02")+")", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pc := r.Counts.People
	for _, kv := range []struct {
		k string
		v int64
	}{
		{"Owed individual notice", pc.Owed},
		{"Notified (email sent or letter mailed)", pc.Notified},
		{"  of whom after their deadline", pc.NotifiedLate},
		{"Outstanding", pc.Outstanding},
		{"  of whom past their deadline", pc.Overdue},
		{"Substitute notice owed (unreachable)", pc.Substitute},
	} {
		pdf.CellFormat(90, 6, kv.k, "B", 0, "L", false, 0, "")
		pdf.CellFormat(30, 6, strconv.FormatInt(kv.v, 10), "B", 1, "R", false, 0, "")
	}
	table("Entries by kind", r.Counts.ByKind)
	table("Entries by channel", r.Counts.ByChannel)
	table("Entries by jurisdiction", r.Counts.ByJurisdiction)
	table("Notices by status", r.Counts.ByStatus)
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 8, "Deliveries against their deadline", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	d := r.Counts.Deadlines
	if d.Deliveries == 0 {
		pdf.CellFormat(0, 6, "No deliveries yet.", "", 1, "L", false, 0, "")
	} else {
		table := [][2]string{{"Deliveries", ""}, {"Met", ""}, {"Missed", ""}, {"No deadline recorded", ""}}
		for i, n := range []int64{d.Deliveries, d.Met, d.Missed, d.NoDeadline} {
			table[i][1] = strconv.FormatInt(n, 10)
		}
		for _, kv := range table {
			pdf.CellFormat(70, 6, kv[0], "B", 0, "L", false, 0, "")
			pdf.CellFormat(30, 6, kv[1], "B", 1, "R", false, 0, "")
		}
	}
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "I", 8)
	pdf.MultiCell(0, 4, strings.Join([]string{
		"This summary is part of a signed proof bundle. Check it offline with `breachnotice ledger verify FILE.zip`:",
		"every entry in entries.jsonl is a leaf of the controller's Merkle tree, whose signed root is in the file checkpoint.",
	}, " "), "", "L", false)
	return pdf.Output(w)
}
