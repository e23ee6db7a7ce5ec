package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
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
	// DeadlineOutcomes lists every deadline of each incident's latest
	// plan_made entry (individuals, regulator, credit bureaus) as met,
	// missed (overdue when still outstanding) or open, as of the
	// checkpoint; DeadlineTotals counts them.
	DeadlineOutcomes []DeadlineOutcome `json:"deadline_outcomes"`
	DeadlineTotals   DeadlineTotals    `json:"deadline_totals"`
	// SubstituteCases lists the people People.Substitute counts, by
	// incident and account, the first MaxSubstituteCases of them.
	SubstituteCases []SubstituteCase `json:"substitute_cases"`
}

// SubstituteCase is a person owed notice whom no direct notice reaches:
// Reason is "unreachable" (a notice_unreachable entry: retired, or no
// usable contact data) or "every notice ended" (email failed or bounced,
// letter unprintable or returned, nothing else on its way).
type SubstituteCase struct {
	Incident     int64  `json:"incident"`
	Account      string `json:"account"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Reason       string `json:"reason"`
}

// MaxSubstituteCases bounds Counts.SubstituteCases; People.Substitute
// counts them all, and entries.jsonl holds every one.
const MaxSubstituteCases = 1000

// Substitute-notice reasons.
const (
	ReasonUnreachable = "unreachable"
	ReasonEnded       = "every notice ended"
)

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
//
// NotifiedByEmail and NotifiedByLetter count the notified people an email
// reached and those a mailed letter reached (someone reached both ways
// counts in both). The outstanding people are, in this order: Substitute;
// LettersUnmailed, those with a letter queued or handed to the mail house
// but not confirmed mailed; EmailsPending, those with an email on its way
// (deferred, or retried); and NoNoticeYet, the owed people with no notice
// in the ledger yet (an email not yet attempted, a notice held).
type People struct {
	Owed             int64 `json:"owed"`
	Notified         int64 `json:"notified"`
	NotifiedByEmail  int64 `json:"notified_by_email"`
	NotifiedByLetter int64 `json:"notified_by_letter"`
	NotifiedLate     int64 `json:"notified_late"`
	Outstanding      int64 `json:"outstanding"`
	Overdue          int64 `json:"overdue"`
	Substitute       int64 `json:"substitute"`
	LettersUnmailed  int64 `json:"letters_unmailed"`
	EmailsPending    int64 `json:"emails_pending"`
	NoNoticeYet      int64 `json:"no_notice_yet"`
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

// counter computes Counts from a bundle's entries, given in index order,
// in memory that does not grow with the bundle. The figures per entry are
// added up as they come. What people and statuses need per notice (its
// latest status and whose it is) and per person (their deadline, first
// email and letter, whether unreachable) is written as one small record
// per entry to two sorters, one keyed by notice and one by person, and
// counts reads them back grouped: a million notices cost some temporary
// disk, not a map entry each (see spill.go).
type counter struct {
	c    Counts
	owed map[int64]int64 // by incident: the latest plan_made's "owed"
	book *deadlineBook
	// notices holds, for each entry of a notice that gives it a status:
	// notice, entry, status code, and the entry's person key if it has one.
	notices *sorter
	// people holds, for each entry about a person: person key, entry,
	// 'e', what the entry says of them (personUnreachable, personEmailed,
	// personMailed), the day (when emailed or mailed), the deadline and
	// the jurisdiction (each after its length byte but the last);
	// and counts adds, for each notice that reaches its person: person key,
	// the largest entry number, 'n', noticeLive and noticeMailed.
	people     *sorter
	statuses   []string // status codes: index in this list
	prec, nrec []byte   // records being built
	err        error
}

// What a person's record says.
const (
	personUnreachable = 1 << iota
	personEmailed
	personMailed
	// personBounced: the email sent before bounced (email_bounced), so it
	// did not reach them; a later email_sent counts again.
	personBounced
)

// What a notice's record says of its person.
const (
	noticeLive = 1 << iota
	noticeMailed
	// noticeLetter: a letter queued, exported or mailed.
	noticeLetter
)

// sortBudget is the memory each of the counter's sorters buffers.
const sortBudget = 1 << 20

func newCounter() *counter { return newCounterBudget(sortBudget) }

// newCounterBudget returns a counter whose sorters buffer budget bytes
// each (tests make them spill early).
func newCounterBudget(budget int) *counter {
	return &counter{
		c: Counts{ByKind: map[string]int64{}, ByChannel: map[string]int64{},
			ByJurisdiction: map[string]int64{}, ByStatus: map[string]int64{}, SubstituteCases: []SubstituteCase{}},
		owed:    map[int64]int64{},
		book:    newDeadlineBook(),
		notices: newSorter(budget),
		people:  newSorter(budget),
	}
}

func (k *counter) add(e *Entry) {
	k.c.Entries++
	seq := k.c.Entries
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
	var who []byte // the person key: incident, account
	if e.Account != "" && e.Incident != 0 && (e.Notice != 0 || e.Kind == KindNoticeUnreachable) {
		rec := appendKeyString(appendKeyInt(k.prec[:0], e.Incident), e.Account)
		n := len(rec)
		rec = appendKeyInt(rec, seq)
		var what byte
		switch e.Kind {
		case KindNoticeUnreachable:
			what = personUnreachable
		case KindEmailSent:
			what = personEmailed
		case KindLetterMailed:
			what = personMailed
		case KindEmailBounced:
			what = personBounced
		}
		rec = append(rec, 'e', what, 0)
		if what&(personEmailed|personMailed) != 0 {
			at := len(rec)
			rec = e.At.UTC().AppendFormat(rec, "2006-01-02")
			rec[at-1] = byte(len(rec) - at)
		}
		rec = append(rec, byte(min(len(d.Deadline), 255)))
		rec = append(rec, d.Deadline[:min(len(d.Deadline), 255)]...)
		rec = append(rec, d.Jurisdiction...)
		k.keep(k.people.add(rec))
		k.prec, who = rec, rec[:n]
	}
	if e.Notice != 0 {
		if st := e.Kind.status(); st != "" {
			code := slices.Index(k.statuses, st)
			if code < 0 {
				code = len(k.statuses)
				k.statuses = append(k.statuses, st)
			}
			rec := appendKeyInt(appendKeyInt(k.nrec[:0], e.Notice), seq)
			rec = append(append(rec, byte(code)), who...)
			k.keep(k.notices.add(rec))
			k.nrec = rec
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

// keep remembers the first error of the sorters, for counts to return.
func (k *counter) keep(err error) {
	if k.err == nil && err != nil {
		k.err = err
	}
}

// counts returns the counts, with people counted as of the time asOf (the
// signed checkpoint's). The counter is spent afterwards.
func (k *counter) counts(asOf time.Time) (Counts, error) {
	defer k.close()
	if k.err != nil {
		return Counts{}, k.err
	}
	// Each notice's latest status; a person is reached while any notice
	// of theirs is given or on its way (a letter mailed and since returned
	// did not reach them).
	var (
		notice   []byte // the notice being read
		status   byte
		who, rec []byte
		have     bool
	)
	endNotice := func() error {
		if notice == nil {
			return nil
		}
		st := k.statuses[status]
		k.c.ByStatus[st]++
		var flags byte
		switch st {
		case "pending", "sending", "deferred", "sent":
			flags = noticeLive
		case "queued", "exported":
			flags = noticeLive | noticeLetter
		case "mailed":
			flags = noticeLive | noticeMailed | noticeLetter
		}
		if !have || flags == 0 {
			return nil
		}
		rec = append(appendKeyInt(append(rec[:0], who...), math.MaxInt64), 'n', flags)
		return k.people.add(rec)
	}
	err := k.notices.each(func(r []byte) error {
		if len(r) < 17 {
			return errors.New("ledger: summary: short notice record")
		}
		if !bytes.Equal(r[:8], notice) {
			if err := endNotice(); err != nil {
				return err
			}
			notice, have = append(notice[:0], r[:8]...), false
		}
		status = r[16]
		if len(r) > 17 {
			who, have = append(who[:0], r[17:]...), true
		}
		return nil
	})
	if err == nil {
		err = endNotice()
	}
	if err != nil {
		return Counts{}, err
	}

	var p People
	for _, owed := range k.owed {
		p.Owed += owed
	}
	today := asOf.UTC().Format("2006-01-02")
	var (
		person                               []byte // the person being read
		deadline, emailDay, mailedDay, juris []byte
		unreachable, live, mailed, anyEntry  bool
		letter                               bool
	)
	endPerson := func() {
		if person == nil || !anyEntry {
			return
		}
		day := emailDay
		if mailed && len(mailedDay) > 0 && (len(day) == 0 || bytes.Compare(mailedDay, day) < 0) {
			day = mailedDay
		}
		late := false
		switch {
		case len(day) > 0:
			p.Notified++
			if len(emailDay) > 0 {
				p.NotifiedByEmail++
			}
			if mailed && len(mailedDay) > 0 {
				p.NotifiedByLetter++
			}
			if len(deadline) > 0 && bytes.Compare(day, deadline) > 0 {
				p.NotifiedLate++
				late = true
			}
		case len(deadline) > 0 && string(deadline) < today:
			p.Overdue++
		}
		switch {
		case len(day) > 0:
		case unreachable || !live:
			p.Substitute++
			if len(k.c.SubstituteCases) < MaxSubstituteCases {
				c := SubstituteCase{Incident: int64(binary.BigEndian.Uint64(person[:8]) ^ 1<<63),
					Account: decodeKeyString(person[8:]), Jurisdiction: string(juris), Reason: ReasonEnded}
				if unreachable {
					c.Reason = ReasonUnreachable
				}
				k.c.SubstituteCases = append(k.c.SubstituteCases, c)
			}
		case letter:
			p.LettersUnmailed++
		default:
			p.EmailsPending++
		}
		k.book.person(int64(binary.BigEndian.Uint64(person[:8])^1<<63), string(juris), len(day) > 0, late)
	}
	err = k.people.each(func(r []byte) error {
		end := keyStringEnd(r, 8)
		if end+10 > len(r) {
			return errors.New("ledger: summary: short person record")
		}
		if !bytes.Equal(r[:end], person) {
			endPerson()
			person = append(person[:0], r[:end]...)
			deadline, emailDay, mailedDay, juris = deadline[:0], emailDay[:0], mailedDay[:0], juris[:0]
			unreachable, live, mailed, anyEntry, letter = false, false, false, false, false
		}
		tag, what, r := r[end+8], r[end+9], r[end+10:]
		if tag == 'n' {
			live = live || what&noticeLive != 0
			mailed = mailed || what&noticeMailed != 0
			letter = letter || what&noticeLetter != 0
			return nil
		}
		anyEntry = true
		if len(r) == 0 || int(r[0]) >= len(r) {
			return errors.New("ledger: summary: bad person record")
		}
		day, r := r[1:1+r[0]], r[1+r[0]:]
		if len(r) == 0 || int(r[0]) >= len(r) {
			return errors.New("ledger: summary: bad person record")
		}
		dl, j := r[1:1+r[0]], r[1+r[0]:]
		if len(dl) > 0 {
			deadline = append(deadline[:0], dl...)
		}
		if len(j) > 0 {
			juris = append(juris[:0], j...)
		}
		if what&personUnreachable != 0 {
			unreachable = true
		}
		if what&personBounced != 0 {
			emailDay = emailDay[:0]
		}
		if what&personEmailed != 0 && len(emailDay) == 0 {
			emailDay = append(emailDay, day...)
		}
		if what&personMailed != 0 && len(mailedDay) == 0 {
			mailedDay = append(mailedDay, day...)
		}
		return nil
	})
	if err != nil {
		return Counts{}, err
	}
	endPerson()
	p.Outstanding = max(0, p.Owed-p.Notified)
	p.NoNoticeYet = max(0, p.Outstanding-p.Substitute-p.LettersUnmailed-p.EmailsPending)
	k.c.People = p
	k.c.DeadlineOutcomes, k.c.DeadlineTotals = k.book.outcomes(asOf)
	return k.c, nil
}

// close removes the sorters' files; counts calls it.
func (k *counter) close() {
	k.notices.close()
	k.people.close()
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
	return summaryPDF(r).Output(w)
}

// summaryPDF lays out summary.pdf.
func summaryPDF(r *report) *fpdf.Fpdf {
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
		{"  reached by email", pc.NotifiedByEmail},
		{"  reached by a mailed letter", pc.NotifiedByLetter},
		{"  notified after their deadline", pc.NotifiedLate},
		{"Outstanding (not notified)", pc.Outstanding},
		{"  letter not yet mailed (queued or at the mail house)", pc.LettersUnmailed},
		{"  email pending (deferred or retried)", pc.EmailsPending},
		{"  unreachable: substitute notice owed", pc.Substitute},
		{"  no notice recorded yet", pc.NoNoticeYet},
		{"Outstanding with a recorded notice, past their deadline", pc.Overdue},
	} {
		pdf.CellFormat(110, 6, kv.k, "B", 0, "L", false, 0, "")
		pdf.CellFormat(30, 6, strconv.FormatInt(kv.v, 10), "B", 1, "R", false, 0, "")
	}
	substitutePDF(pdf, r, tr)
	deadlinesPDF(pdf, r, tr)
	table("Entries by kind", r.Counts.ByKind)
	table("Entries by channel", r.Counts.ByChannel)
	table("Entries by jurisdiction", r.Counts.ByJurisdiction)
	table("Notices by status", r.Counts.ByStatus)
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 8, "Deliveries (ledger entries, not people) against their deadline", "", 1, "L", false, 0, "")
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
	return pdf
}

// maxSubstitutePDF bounds the substitute-notice cases summary.pdf lists.
const maxSubstitutePDF = 100

// substitutePDF lists the people owed substitute notice, the first
// maxSubstitutePDF of them.
func substitutePDF(pdf *fpdf.Fpdf, r *report, tr func(string) string) {
	n, cases := r.Counts.People.Substitute, r.Counts.SubstituteCases
	if n == 0 || len(cases) == 0 {
		return
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 8, fmt.Sprintf("Substitute notice owed: %d people no direct notice reaches", n), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	for i, c := range cases {
		if i == maxSubstitutePDF {
			break
		}
		pdf.CellFormat(14, 5, strconv.FormatInt(c.Incident, 10), "B", 0, "L", false, 0, "")
		pdf.CellFormat(60, 5, tr(c.Account), "B", 0, "L", false, 0, "")
		pdf.CellFormat(22, 5, tr(c.Jurisdiction), "B", 0, "L", false, 0, "")
		pdf.CellFormat(60, 5, c.Reason, "B", 1, "L", false, 0, "")
	}
	if more := n - int64(min(len(cases), maxSubstitutePDF)); more > 0 {
		pdf.CellFormat(0, 5, fmt.Sprintf("and %d more: summary.json (substitute_cases, the first %d) and entries.jsonl list them", more, MaxSubstituteCases),
			"", 1, "L", false, 0, "")
	}
}

// deadlinesPDF writes the table of deadline outcomes: each planned
// deadline met, missed (OVERDUE while work is outstanding) or open.
func deadlinesPDF(pdf *fpdf.Fpdf, r *report, tr func(string) string) {
	t := r.Counts.DeadlineTotals
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 8, "Deadlines, as of the checkpoint ("+r.CheckpointAt.UTC().Format("2006-01-02")+")", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	if len(r.Counts.DeadlineOutcomes) == 0 {
		pdf.CellFormat(0, 6, "No planned deadlines in these entries (no plan_made entry listing them).", "", 1, "L", false, 0, "")
		return
	}
	pdf.CellFormat(0, 6, fmt.Sprintf("%d met, %d missed (%d of them OVERDUE: due date passed, still outstanding), %d open",
		t.Met, t.Missed, t.Overdue, t.Open), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "B", 9)
	widths := []float64{22, 14, 22, 28, 44, 60}
	head := []string{"Due", "Incident", "Jurisdiction", "Duty", "State", "Detail"}
	for i, h := range head {
		pdf.CellFormat(widths[i], 6, h, "B", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
	for _, o := range r.Counts.DeadlineOutcomes {
		state := o.State
		switch {
		case o.Overdue:
			state = fmt.Sprintf("OVERDUE by %d days", -o.DaysLeft)
		case o.State == OutcomeMissed:
			state = "MISSED (done late)"
		case o.State == OutcomeOpen && o.DaysLeft == 0:
			state = "open, due today"
		case o.State == OutcomeOpen:
			state = fmt.Sprintf("open, due in %d days", o.DaysLeft)
		}
		detail := "filing not recorded"
		switch {
		case o.Duty == DutyIndividuals:
			detail = fmt.Sprintf("%d of %d notified", o.Notified, o.Owed)
			if o.NotifiedLate > 0 {
				detail += fmt.Sprintf(", %d late", o.NotifiedLate)
			}
		case o.FiledOn != "":
			detail = "filed " + o.FiledOn
		}
		duty := strings.ReplaceAll(o.Duty, "_", " ")
		if o.State != OutcomeMet {
			pdf.SetFont("Helvetica", "B", 9)
		}
		for i, cell := range []string{o.Due, strconv.FormatInt(o.Incident, 10), o.Jurisdiction, duty, state, detail} {
			pdf.CellFormat(widths[i], 5.5, tr(cell), "B", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 9)
	}
}
