// Package letter renders a breach notice as a print-ready PDF letter for a
// mail house: one document per recipient, with the same content (the same
// templates.Content, in the same order) as the email notice.
//
// # Layout
//
// Recipients outside the US and Canada get A4 with the address block where
// a DL or C5 window envelope shows it (DIN 5008 form B: the return line and
// the address in the field 20 mm from the left and 45 mm from the top);
// recipients in the US, Canada and the US territories get US Letter with
// the address where a #10 window envelope shows it. Title and headings are
// bold and at least 10 points (California's minimum), body text 10 points.
// Every page carries "Page i of N" and the letter id in its footer.
//
// Every printed line is measured with the fonts' own widths and wrapped to
// the printable width; a word wider than a line is broken; the address
// block shrinks, and as a last resort truncates, to stay inside the window.
// Render checks, for every line it prints, that it ends inside the right
// margin, and fails instead of printing one that would not (ErrOverflow).
//
// # Determinism
//
// The same Notice, Address and Options give the same bytes: the document's
// dates are the notice date, fonts are written in sorted order and nothing
// depends on the clock or map order.
//
// # The channel
//
// Rendering needs no database. The mail-house round trip (exporting queued
// letters in batches, applying the mail house's confirmation and
// returned-to-sender files) is notify/letter/mailhouse. Whether an address
// is complete enough to print is incident.Account.PostalComplete: a letter
// is only queued for one.
package letter

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/templates"
	"github.com/go-pdf/fpdf"
)

// Address is where a letter goes, as imported.
type Address struct {
	Name string
	// Lines are the street lines (postal_line1, postal_line2); empty lines
	// are skipped.
	Lines      []string
	City       string
	PostalCode string
	// Region is the subdivision code without the country prefix ("CA").
	Region string
	// Country is ISO 3166-1 alpha-2.
	Country string
}

// Options are a letter's particulars besides its content and recipient.
type Options struct {
	// LetterID is printed in every page's footer.
	LetterID string
	// Sender is the controller's name, printed as the letterhead and, with
	// ReturnAddress, as the return line above the window.
	Sender string
	// ReturnAddress is the controller's postal address, lines separated by
	// "\n".
	ReturnAddress string
	// HomeCountry is the sender's country (ISO 3166-1 alpha-2): the country
	// line is left off addresses in it.
	HomeCountry string
	// Compress deflates the page contents. Off by default: the font files
	// (most of a letter's bytes) are compressed anyway, pages add ~8% when
	// not, and fpdf allocates a new compressor per page, which more than
	// halves the render rate (BenchmarkRender: ~380 against ~1,000 letters
	// a second on two cores). The mail-house zip deflates them instead.
	Compress bool
	// Trace, if set, is called with every line Render prints.
	Trace func(Line)
}

// Line is one printed line, for tests and diagnostics. Positions are in
// millimetres from the page's top left; Y is the baseline.
type Line struct {
	Page        int
	X, Y, Width float64
	// Limit is the right edge the line must end inside.
	Limit float64
	Size  float64 // points
	Bold  bool
	Text  string
	Part  string // "letterhead", "return", "address", "body", "footer"
}

// ErrOverflow means a line would have ended outside its box; Render
// prints nothing then.
var ErrOverflow = errors.New("letter: line overflows its box")

// Paper is a sheet size.
type Paper struct {
	Name string
	W, H float64 // mm
}

// The sheet sizes.
var (
	A4       = Paper{"A4", 210, 297}
	USLetter = Paper{"Letter", 215.9, 279.4}
)

// letterCountries use US Letter: the US, Canada and the US territories.
var letterCountries = map[string]bool{"US": true, "CA": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true}

// PaperFor returns the sheet a letter to country is printed on.
func PaperFor(country string) Paper {
	if letterCountries[strings.ToUpper(strings.TrimSpace(country))] {
		return USLetter
	}
	return A4
}

// geometry is where things go on a sheet, in mm.
type geometry struct {
	paper                   Paper
	left, right             float64 // margins
	returnY                 float64 // return line baseline
	addrTop, addrBottom     float64 // recipient block
	addrLeft, addrWidth     float64
	bodyTop, nextTop, limit float64 // first page, later pages, bottom of body
	footerY                 float64
	folds                   []float64
}

func geometryFor(p Paper) geometry {
	if p == USLetter {
		// #10 window: 4.5" x 1.125", 7/8" from the left and 1/2" from the
		// bottom of the envelope; a letter folded in thirds shows about
		// 2.0"-3.1" from its top through it.
		return geometry{paper: p, left: 25.4, right: 20, returnY: 46, addrTop: 49.5, addrBottom: 77.5,
			addrLeft: 25.4, addrWidth: 88, bodyTop: 92, nextTop: 20, limit: p.H - 22, footerY: p.H - 12,
			folds: []float64{p.H / 3, 2 * p.H / 3}}
	}
	// DIN 5008 form B: address field 45-90 mm from the top, 20 mm from the
	// left, 85 mm wide; its top 17.7 mm hold the return line. Fold marks at
	// 105 and 210 mm, hole mark at 148.5 mm.
	return geometry{paper: p, left: 25, right: 20, returnY: 60.5, addrTop: 63.7, addrBottom: 90,
		addrLeft: 25, addrWidth: 80, bodyTop: 100, nextTop: 20, limit: p.H - 22, footerY: p.H - 12,
		folds: []float64{105, 210}}
}

// Type sizes (points) and leading (mm).
const (
	sizeTitle   = 14.0
	sizeHeading = 11.5
	sizeBody    = 10.0
	sizeSmall   = 8.0
	sizeReturn  = 7.0
	ptToMM      = 25.4 / 72
)

func leading(size float64) float64 { return size * 1.35 * ptToMM }

// op is one line to print.
type op struct {
	page  int
	x, y  float64
	size  float64
	bold  bool
	text  string
	limit float64
	part  string
}

// layout is a letter being set: the lines so far and the cursor.
type layout struct {
	fs    *fontSet
	g     geometry
	ops   []op
	page  int
	y     float64 // top of the next line
	width float64 // body width
}

// Render writes the letter for notice n to w and returns its page count.
// The notice's date (n.NoticeDate) is printed and is the document's
// creation date; set it.
func Render(w io.Writer, n templates.Notice, to Address, opt Options) (pages int, err error) {
	fs, err := fonts()
	if err != nil {
		return 0, err
	}
	c := n.Content()
	paper := PaperFor(to.Country)
	l := &layout{fs: fs, g: geometryFor(paper), page: 1}
	l.width = paper.W - l.g.left - l.g.right

	l.letterhead(opt)
	l.window(to, opt)
	l.body(&c)
	pages = l.page
	for p := 1; p <= pages; p++ {
		l.footer(p, pages, c.Lang, opt.LetterID)
	}
	l.sortOps()
	for _, o := range l.ops {
		w := fs.width(o.text, o.bold, o.size)
		if o.x+w > o.limit+0.01 {
			return 0, fmt.Errorf("%w: page %d %q is %.1f mm wide at %.1f mm, limit %.1f mm", ErrOverflow, o.page, o.text, w, o.x, o.limit)
		}
		if opt.Trace != nil {
			opt.Trace(Line{Page: o.page, X: o.x, Y: o.y, Width: w, Limit: o.limit, Size: o.size, Bold: o.bold, Text: o.text, Part: o.part})
		}
	}
	if err := l.emit(w, n.NoticeDate, opt); err != nil {
		return 0, err
	}
	return pages, nil
}

// add records a line at the cursor's baseline.
func (l *layout) add(x float64, size float64, bold bool, text, part string, limit float64) {
	l.ops = append(l.ops, op{page: l.page, x: x, y: l.y + size*0.8*ptToMM, size: size, bold: bold, text: text, limit: limit, part: part})
}

func (l *layout) letterhead(opt Options) {
	right := l.g.paper.W - l.g.right
	l.y = 14
	for _, line := range l.fs.wrap(clean(opt.Sender), true, 12, l.width) {
		l.add(l.g.left, 12, true, line, "letterhead", right)
		l.y += leading(12)
	}
	contact := strings.Join(splitLines(opt.ReturnAddress), " · ")
	for _, line := range l.fs.wrap(contact, false, sizeSmall, l.width) {
		l.add(l.g.left, sizeSmall, false, line, "letterhead", right)
		l.y += leading(sizeSmall)
	}
}

// window sets the return line and the recipient's address block.
func (l *layout) window(to Address, opt Options) {
	g := l.g
	right := g.addrLeft + g.addrWidth
	ret := strings.Join(append([]string{clean(opt.Sender)}, splitLines(opt.ReturnAddress)...), " · ")
	ret = strings.Trim(ret, " ·")
	if ret != "" {
		line := l.fs.truncate(ret, false, sizeReturn, g.addrWidth)
		l.y = g.returnY - sizeReturn*0.8*ptToMM
		l.add(g.addrLeft, sizeReturn, false, line, "return", right)
	}
	block := addressLines(to, opt.HomeCountry)
	// The largest size at which the block fits the window; at the
	// smallest, long lines are cut short rather than spilling out.
	for _, size := range []float64{10, 9, 8} {
		var lines []string
		for _, b := range block {
			lines = append(lines, l.fs.wrap(b, false, size, g.addrWidth)...)
		}
		lead := leading(size) * 0.9
		room := int((g.addrBottom - g.addrTop) / lead)
		if len(lines) > room && size > 8 {
			continue
		}
		if len(lines) > room {
			lines = l.fitBlock(block, size, room)
		}
		l.y = g.addrTop
		for _, line := range lines {
			l.add(g.addrLeft, size, false, line, "address", right)
			l.y += lead
		}
		return
	}
}

// fitBlock fits an address block into room lines at size: every line but
// the name gets one line (cut short if need be), the name what is left.
func (l *layout) fitBlock(block []string, size float64, room int) []string {
	w := l.g.addrWidth
	rest := block[1:]
	if len(rest) > room-1 {
		// Keep the postal lines that matter most: the last ones (city,
		// country); drop surplus street lines from the middle.
		rest = append(slices.Clone(rest[:max(0, room-1-2)]), rest[len(rest)-min(2, room-1):]...)
	}
	nameRoom := room - len(rest)
	name := l.fs.wrap(block[0], false, size, w)
	if len(name) > nameRoom {
		name = name[:nameRoom]
		name[nameRoom-1] = l.fs.truncate(name[nameRoom-1]+" …", false, size, w)
	}
	out := name
	for _, r := range rest {
		out = append(out, l.fs.truncate(r, false, size, w))
	}
	return out
}

// addressLines formats the address block: name, street lines, the city
// line in the country's order, and the country unless it is the sender's.
func addressLines(a Address, home string) []string {
	out := []string{clean(a.Name)}
	for _, s := range a.Lines {
		if s = clean(s); s != "" {
			out = append(out, s)
		}
	}
	city, code, region := clean(a.City), clean(a.PostalCode), clean(a.Region)
	country := strings.ToUpper(clean(a.Country))
	var cityLine string
	switch country {
	case "US", "CA", "AU", "PR", "GU", "VI", "AS", "MP", "UM":
		cityLine = strings.TrimSpace(strings.TrimSpace(city+" "+region) + "  " + code)
		if region != "" && country != "AU" {
			cityLine = city + ", " + region + "  " + code
		}
	case "GB", "IE":
		out = append(out, city)
		cityLine = code
	default:
		cityLine = strings.TrimSpace(code + " " + city)
	}
	out = append(out, strings.Join(strings.Fields(cityLine), " "))
	if country != "" && country != strings.ToUpper(home) {
		out = append(out, countryName(country))
	}
	return out
}

// body sets the date, title and the notice's content.
func (l *layout) body(c *templates.Content) {
	g := l.g
	right := g.paper.W - g.right
	l.y = g.bodyTop
	if c.Date != "" {
		d := clean(c.Date)
		w := l.fs.width(d, false, sizeBody)
		if w > l.width {
			d = l.fs.truncate(d, false, sizeBody, l.width)
			w = l.fs.width(d, false, sizeBody)
		}
		l.add(right-w, sizeBody, false, d, "body", right)
		l.y += leading(sizeBody) + 3
	}
	l.paragraph(c.Title, true, sizeTitle, 0, "")
	l.y += 2
	l.paragraph(c.Greeting, false, sizeBody, 0, "")
	l.paragraph(c.Intro, false, sizeBody, 0, "")
	for i := range c.Sections {
		s := &c.Sections[i]
		l.y += 1.5
		// Keep a heading with the first two lines after it.
		l.need(leading(sizeHeading) + 2*leading(sizeBody) + 2)
		l.paragraph(s.Heading, true, sizeHeading, 0, "")
		for _, p := range s.Paragraphs {
			l.paragraph(p, false, sizeBody, 0, "")
		}
		for _, b := range s.Bullets {
			l.paragraph(b, false, sizeBody, 5, "•")
		}
		if len(s.Cards) > 0 {
			l.y += 1
		}
		for _, card := range s.Cards {
			l.card(card)
		}
	}
	l.y += 2
	l.need(3*leading(sizeBody) + 8)
	l.paragraph(c.Closing, false, sizeBody, 0, "")
	l.y += 8 // room to sign
	l.paragraph(c.Signature, true, sizeBody, 0, "")
}

// need starts a new page unless h mm are left on this one.
func (l *layout) need(h float64) {
	if l.y+h > l.g.limit {
		l.page++
		l.y = l.g.nextTop
	}
}

// paragraph wraps text at size and sets it, indent mm from the left
// margin, with mark (a bullet) hanging in the indent.
func (l *layout) paragraph(text string, bold bool, size, indent float64, mark string) {
	text = clean(text)
	if text == "" {
		return
	}
	right := l.g.paper.W - l.g.right
	lead := leading(size)
	for i, line := range l.fs.wrap(text, bold, size, l.width-indent) {
		l.need(lead)
		if i == 0 && mark != "" {
			l.add(l.g.left+indent-3.5, size, false, mark, "body", right)
		}
		l.add(l.g.left+indent, size, bold, line, "body", right)
		l.y += lead
	}
	l.y += lead * 0.45
}

// card sets a contact card: its name in bold, then its lines, indented,
// kept together on one page when it fits on one.
func (l *layout) card(c templates.Card) {
	const indent = 5
	right := l.g.paper.W - l.g.right
	var lines []op
	for i, s := range c.Lines {
		s = clean(s)
		bold := i == 0
		for _, line := range l.fs.wrap(s, bold, sizeBody, l.width-indent) {
			lines = append(lines, op{size: sizeBody, bold: bold, text: line})
		}
	}
	lead := leading(sizeBody)
	if h := float64(len(lines)) * lead; h <= l.g.limit-l.g.nextTop {
		l.need(h)
	}
	for _, o := range lines {
		l.need(lead)
		l.add(l.g.left+indent, o.size, o.bold, o.text, "body", right)
		l.y += lead
	}
	l.y += lead * 0.5
}

// pageLabels are the footer's words per language.
var pageLabels = map[string]string{"en": "Page %d of %d", "es": "Página %d de %d", "de": "Seite %d von %d", "fr": "Page %d sur %d"}

func (l *layout) footer(page, pages int, lang, id string) {
	label, ok := pageLabels[lang]
	if !ok {
		label = pageLabels["en"]
	}
	right := l.g.paper.W - l.g.right
	pg := fmt.Sprintf(label, page, pages)
	pw := l.fs.width(pg, false, sizeSmall)
	save, savePage := l.y, l.page
	l.page, l.y = page, l.g.footerY-sizeSmall*0.8*ptToMM
	if id = clean(id); id != "" {
		id = l.fs.truncate(id, false, sizeSmall, l.width-pw-5)
		l.add(l.g.left, sizeSmall, false, id, "footer", right-pw-5)
	}
	l.add(right-pw, sizeSmall, false, pg, "footer", right)
	l.y, l.page = save, savePage
}

// emit writes the laid-out letter as a PDF.
func (l *layout) emit(w io.Writer, date time.Time, opt Options) error {
	g := l.g
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: fpdf.SizeType{Wd: g.paper.W, Ht: g.paper.H}})
	pdf.SetCompression(opt.Compress)
	pdf.SetCatalogSort(true)
	if date.IsZero() {
		date = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	pdf.SetCreationDate(date.UTC())
	pdf.SetModificationDate(date.UTC())
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(g.left, g.nextTop, g.right)
	pdf.SetTitle("Letter "+opt.LetterID, false)
	pdf.SetProducer("breachnotice", false)
	// Register the faces the letter uses, and only those: each one embeds
	// its font file.
	var used [2][]bool
	used[0], used[1] = make([]bool, l.fs.groups), make([]bool, l.fs.groups)
	for _, o := range l.ops {
		for _, r := range o.text {
			if c, ok := l.fs.encode(r); ok {
				used[b2i(o.bold)][c.group] = true
			}
		}
	}
	for s := range used {
		for gi, u := range used[s] {
			if u {
				f := &l.fs.faces[s][gi]
				pdf.AddFontFromBytes(f.family, f.style, f.def, f.file)
			}
		}
	}
	var buf []byte
	i := 0
	for p := 1; p <= l.page; p++ {
		pdf.AddPage()
		pdf.SetLineWidth(0.2)
		pdf.SetDrawColor(120, 120, 120)
		if p == 1 {
			for _, y := range g.folds {
				pdf.Line(3, y, 8, y)
			}
			if g.paper == A4 {
				pdf.Line(3, g.paper.H/2, 10, g.paper.H/2)
			}
		}
		for ; i < len(l.ops) && l.ops[i].page == p; i++ {
			o := &l.ops[i]
			x := o.x
			style := ""
			if o.bold {
				style = "B"
			}
			for text := o.text; text != ""; {
				var grp uint8
				buf, grp, text = l.fs.run(buf[:0], text)
				f := &l.fs.faces[b2i(o.bold)][grp]
				pdf.SetFont(f.family, style, o.size)
				pdf.Text(x, o.y, string(buf))
				x += l.fs.bytesWidth(buf, o.bold, grp, o.size)
			}
		}
	}
	if i != len(l.ops) {
		return fmt.Errorf("letter: internal error: lines out of page order")
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("letter: write pdf: %w", err)
	}
	return nil
}

// sortOps orders lines by page (footers are added last).
func (l *layout) sortOps() {
	slices.SortStableFunc(l.ops, func(a, b op) int { return a.page - b.page })
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// run encodes the longest prefix of text printed in one face, appending
// its bytes to buf.
func (fs *fontSet) run(buf []byte, text string) ([]byte, uint8, string) {
	var grp uint8
	for i, r := range text {
		c, ok := fs.encode(r)
		if !ok {
			c, _ = fs.encode('?')
		}
		if i == 0 {
			grp = c.group
		} else if c.group != grp {
			return buf, grp, text[i:]
		}
		buf = append(buf, c.b)
	}
	return buf, grp, ""
}

// width is text's width in mm at size points.
func (fs *fontSet) width(text string, bold bool, size float64) float64 {
	faces := fs.faces[b2i(bold)]
	n := 0
	for _, r := range text {
		c, ok := fs.encode(r)
		if !ok {
			c, _ = fs.encode('?')
		}
		n += faces[c.group].width[c.b]
	}
	return float64(n) * size / 1000 * ptToMM
}

func (fs *fontSet) bytesWidth(b []byte, bold bool, grp uint8, size float64) float64 {
	wt := &fs.faces[b2i(bold)][grp].width
	n := 0
	for _, c := range b {
		n += wt[c]
	}
	return float64(n) * size / 1000 * ptToMM
}

// wrap breaks text into lines no wider than w mm at size: at spaces, and
// inside a word that is wider than a line by itself.
func (fs *fontSet) wrap(text string, bold bool, size, w float64) []string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return nil
	}
	var lines []string
	line := ""
	for _, word := range strings.Split(text, " ") {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if fs.width(cand, bold, size) <= w {
			line = cand
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		for fs.width(word, bold, size) > w {
			head := fs.prefix(word, bold, size, w)
			lines = append(lines, head)
			word = word[len(head):]
		}
		line = word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// prefix is the longest prefix of s (at least one character) no wider
// than w.
func (fs *fontSet) prefix(s string, bold bool, size, w float64) string {
	end := 0
	for i, r := range s {
		j := i + utf8.RuneLen(r)
		if end > 0 && fs.width(s[:j], bold, size) > w {
			break
		}
		end = j
	}
	return s[:end]
}

// truncate cuts s to fit w, ending it with "…" when cut.
func (fs *fontSet) truncate(s string, bold bool, size, w float64) string {
	s = strings.Join(strings.Fields(s), " ")
	if fs.width(s, bold, size) <= w {
		return s
	}
	ell := fs.width("…", bold, size)
	return strings.TrimSpace(fs.prefix(s, bold, size, w-ell)) + "…"
}

// clean makes s printable on one line: templates.OneLine, after dropping
// zero-width and other format characters, which print as nothing.
func clean(s string) string {
	return templates.OneLine(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s))
}

// splitLines splits text at newlines into cleaned, non-empty lines.
func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = clean(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
