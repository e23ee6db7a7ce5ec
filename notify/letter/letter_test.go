package letter_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/notify"
	"github.com/breachnotice/breachnotice/notify/law"
	"github.com/breachnotice/breachnotice/notify/letter"
	"github.com/breachnotice/breachnotice/templates"
	"github.com/breachnotice/breachnotice/templates/golden"
)

var noticeDate = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func testIncident() *incident.Incident {
	return &incident.Incident{
		ID: 7, ControllerID: "op", Title: "Support tool export",
		Description:  "An attacker used a stolen support-staff password to export learner records from our course administration tool.\n\nWe closed the account the same day.",
		Discovered:   incident.Date{Time: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
		OccurredFrom: incident.Date{Time: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)},
		OccurredTo:   incident.Date{Time: time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC)},
		Elements:     []incident.Element{incident.ElemName, incident.ElemEmail, incident.ElemPassword, incident.ElemSSN, incident.ElemPostalAddress},
		Affected:     48213,
	}
}

func testController() *incident.Controller {
	return &incident.Controller{ID: "op", Name: "OpenLearn Foundation", From: "notice@openlearn.example",
		Contact: incident.Contact{PostalAddress: "141 Portland Street\nCambridge, MA 02139\nUnited States", Phone: "1-800-555-0199",
			Web: "https://openlearn.example/security/incident-2026-11", Email: "privacy@openlearn.example", DPO: "dpo@openlearn.example"}}
}

// sample is one test letter: a recipient and the law's decision for them.
type sample struct {
	name         string
	account      incident.Account
	jurisdiction string
	profile      string
}

var samples = []sample{
	{"us-ca", incident.Account{ID: "a1", Name: "Ana García", Locale: "en", Country: "US", Region: "CA",
		PostalLine1: "1 Main St", PostalLine2: "Apt 4", City: "Los Angeles", PostalCode: "90012"}, "US-CA", law.ProfileUSCA},
	{"us-ny-es", incident.Account{ID: "a2", Name: "José Ñúñez O'Brien", Locale: "es-US", Country: "US", Region: "NY",
		PostalLine1: "200 W 43rd St", City: "New York", PostalCode: "10036"}, "US-NY", law.ProfileUSNY},
	{"de-gdpr", incident.Account{ID: "a3", Name: "Zoë Łukasiewicz-Müller", Locale: "de", Country: "DE",
		PostalLine1: "Hauptstraße 1", City: "Berlin", PostalCode: "10115"}, "DE", "gdpr"},
	{"fr-long", incident.Account{ID: "a4", Name: strings.Repeat("Marie-Thérèse Dupont-Aignan de la Rochefoucauld ", 4) + "Ἀθηνᾶ Ω ✓",
		Locale: "fr", Country: "FR", PostalLine1: strings.Repeat("Résidence «Les Jardins», bâtiment C, ", 3) + "escalier 4",
		PostalLine2: "Lieu-dit " + strings.Repeat("x", 120), City: "Saint-Rémy-de-Provence", PostalCode: "13210"}, "FR", "gdpr"},
}

func (s sample) notice() (templates.Notice, letter.Address) {
	a := &incident.Affected{Account: s.account}
	n := notify.NoticeFor(testIncident(), testController(), a, law.Decision{Jurisdiction: s.jurisdiction, ContentProfile: s.profile})
	n.NoticeDate = noticeDate
	return n, letter.Address{Name: a.Name, Lines: []string{a.PostalLine1, a.PostalLine2}, City: a.City,
		PostalCode: a.PostalCode, Region: a.Region, Country: a.Country}
}

func options(id string) letter.Options {
	c := testController()
	return letter.Options{LetterID: id, Sender: c.Name, ReturnAddress: c.Contact.PostalAddress, HomeCountry: "US"}
}

func render(t testing.TB, s sample, opt letter.Options) ([]byte, int) {
	t.Helper()
	n, to := s.notice()
	var buf bytes.Buffer
	pages, err := letter.Render(&buf, n, to, opt)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	return buf.Bytes(), pages
}

// TestRender_Text reads the text back out of the PDF and finds in it, in
// order, everything the content model says the letter prints.
func TestRender_Text(t *testing.T) {
	for _, s := range samples[:3] {
		t.Run(s.name, func(t *testing.T) {
			opt := options("B7-1/" + s.account.ID)
			pdf, pages := render(t, s, opt)
			lines, err := letter.ExtractText(pdf)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, l := range lines {
				if strings.Contains(l.Text, opt.LetterID) { // footers
					continue
				}
				all = append(all, l.Text)
			}
			text := strings.Join(all, " ")
			n, _ := s.notice()
			c := n.Content()
			// A letter dates itself above the title.
			want := []string{c.Date, c.Title, c.Greeting}
			for _, sec := range c.Sections {
				want = append(want, sec.Heading)
				for _, card := range sec.Cards {
					want = append(want, card.Lines...)
				}
			}
			want = append(want, c.Closing, c.Signature)
			pos := 0
			for _, w := range want {
				i := strings.Index(text[pos:], w)
				if i < 0 {
					t.Errorf("letter text lacks %q (after offset %d)", w, pos)
					continue
				}
				pos += i + len(w)
			}
			// Every section's paragraphs are there too, word for word.
			for _, sec := range c.Sections {
				for _, p := range sec.Paragraphs {
					if !strings.Contains(text, p) {
						t.Errorf("section %s: paragraph missing: %q", sec.ID, p)
					}
				}
			}
			for p := 1; p <= pages; p++ {
				label := fmt.Sprintf(map[string]string{"en": "Page %d of %d", "es": "Página %d de %d", "de": "Seite %d von %d",
					"fr": "Page %d sur %d"}[c.Lang], p, pages)
				found := false
				for _, l := range lines {
					found = found || l.Page == p && strings.Contains(l.Text, label) && strings.Contains(l.Text, opt.LetterID)
				}
				if !found {
					t.Errorf("page %d: no footer %q with the letter id", p, label)
				}
			}
			if path, err := exec.LookPath("pdftotext"); err == nil {
				f := filepath.Join(t.TempDir(), "l.pdf")
				os.WriteFile(f, pdf, 0o644)
				out, err := exec.Command(path, "-layout", f, "-").Output()
				if err != nil {
					t.Fatal(err)
				}
				flat := strings.Join(strings.Fields(string(out)), " ")
				for _, w := range []string{c.Title, c.Sections[0].Heading, c.Signature, strings.Join(strings.Fields(s.account.Name), " ")} {
					if !strings.Contains(flat, w) {
						t.Errorf("pdftotext: lacks %q", w)
					}
				}
			}
		})
	}
}

// TestRender_Layout feeds pathological input and checks that every line
// stays inside its box, the address inside the window.
func TestRender_Layout(t *testing.T) {
	evil := sample{"evil", incident.Account{ID: "e", Name: "Seán\tO'Brien\x00\x1b[31m\u2028Ďěčková " + strings.Repeat("W", 200),
		Country: "IE", PostalLine1: "Flat 1\r\n" + strings.Repeat("Long Street Name ", 30), PostalLine2: strings.Repeat("ŁĄŻ", 50),
		City: "Baile Átha Cliath", PostalCode: "D02 X285"}, "IE", "gdpr"}
	for _, s := range append(samples, evil) {
		t.Run(s.name, func(t *testing.T) {
			n, to := s.notice()
			paper := letter.PaperFor(to.Country)
			var lines []letter.Line
			opt := options(strings.Repeat("B7-1234567890/", 3))
			opt.Trace = func(l letter.Line) { lines = append(lines, l) }
			if _, err := letter.Render(&bytes.Buffer{}, n, to, opt); err != nil {
				t.Fatal(err)
			}
			addr := 0
			for _, l := range lines {
				if l.X < 0 || l.X+l.Width > l.Limit+0.01 || l.Limit > paper.W-19.9 {
					t.Errorf("page %d: %q at x %.1f width %.1f passes %.1f", l.Page, l.Text, l.X, l.Width, l.Limit)
				}
				if l.Size < 10 && (l.Part == "body") {
					t.Errorf("body text %q at %.1f pt", l.Text, l.Size)
				}
				if l.Part != "footer" && l.Y > paper.H-20 {
					t.Errorf("page %d: %q at y %.1f runs into the footer", l.Page, l.Text, l.Y)
				}
				if strings.ContainsFunc(l.Text, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' }) {
					t.Errorf("control character printed: %q", l.Text)
				}
				if l.Part == "address" {
					addr++
					if l.Page != 1 || l.Y < 45 || l.Y > 92 || l.Limit-l.X > 89 {
						t.Errorf("address line %q outside the window: page %d y %.1f", l.Text, l.Page, l.Y)
					}
				}
			}
			if addr < 3 {
				t.Errorf("address block has %d lines", addr)
			}
		})
	}
}

func TestRender_Paper(t *testing.T) {
	for c, want := range map[string]string{"US": "Letter", "CA": "Letter", "PR": "Letter", "DE": "A4", "GB": "A4", "": "A4"} {
		if got := letter.PaperFor(c).Name; got != want {
			t.Errorf("PaperFor(%q) = %s, want %s", c, got, want)
		}
	}
	pdf, _ := render(t, samples[0], options("x"))
	if !bytes.Contains(pdf, []byte("/MediaBox [0 0 612.00 792.00]")) {
		t.Errorf("US letter is not on US Letter paper")
	}
	pdf, _ = render(t, samples[2], options("x"))
	if !bytes.Contains(pdf, []byte("/MediaBox [0 0 595.28 841.89]")) {
		t.Errorf("DE letter is not on A4")
	}
}

// TestRender_Golden holds the bytes stable: the same letter renders to the
// same SHA-256 every time, in every process.
func TestRender_Golden(t *testing.T) {
	var b strings.Builder
	for _, s := range samples {
		pdf, pages := render(t, s, options("B7-1/"+s.account.ID))
		again, _ := render(t, s, options("B7-1/"+s.account.ID))
		if !bytes.Equal(pdf, again) {
			t.Errorf("%s: two renders differ", s.name)
		}
		fmt.Fprintf(&b, "%s\t%d\t%x\n", s.name, pages, sha256.Sum256(pdf))
		if dir := os.Getenv("LETTER_SAMPLES"); dir != "" {
			os.WriteFile(filepath.Join(dir, s.name+".pdf"), pdf, 0o644)
		}
	}
	golden.Check(t, "letters_sha256", b.String())
}

// BenchmarkRender renders LETTER_BENCH_N letters (default 100,000) on
// GOMAXPROCS workers and reports letters/s and the process's peak RSS.
func BenchmarkRender(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LETTER_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	type job struct {
		n  templates.Notice
		to letter.Address
	}
	var jobs []job
	for _, s := range samples {
		nt, to := s.notice()
		jobs = append(jobs, job{nt, to})
	}
	if _, err := letter.Render(&bytes.Buffer{}, jobs[0].n, jobs[0].to, options("warm")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		var bytesOut atomic.Int64
		start := time.Now()
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					j := jobs[i%int64(len(jobs))]
					buf.Reset()
					if _, err := letter.Render(&buf, j.n, j.to, benchOptions(i)); err != nil {
						b.Error(err)
						return
					}
					bytesOut.Add(int64(buf.Len()))
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		b.ReportMetric(float64(n)/el.Seconds(), "letters/s")
		b.ReportMetric(float64(bytesOut.Load())/float64(n)/1024, "KiB/letter")
		b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	}
}

// peakRSSMiB reads the process's peak resident set size (Linux).
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func benchOptions(i int64) letter.Options {
	o := options("B1-" + strconv.FormatInt(i, 10))
	o.Compress = os.Getenv("LETTER_BENCH_COMPRESS") != ""
	return o
}
