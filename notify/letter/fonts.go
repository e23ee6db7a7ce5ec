package letter

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// The shipped fonts: DejaVu Sans, regular and bold (fonts/LICENSE).
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

// Why the fonts are loaded this way: registering a TrueType font with
// fpdf's AddUTF8FontFromBytes parses the whole font, JSON-encodes a
// 65,536-entry width table and, on output, subsets and compresses it again,
// for every document: about 9 ms a letter with two fonts, which caps
// rendering near 100 letters a second. So each process does that once
// (fontSet): fpdf parses each TTF and cuts a subset per group of up to 223
// characters (faceRunes), and the subsets are then registered in every
// letter as plain single-byte TrueType fonts (AddFontFromBytes): a small
// JSON definition and the already-compressed font file, embedded as is.
// Group 0 uses WinAnsiEncoding (cp1252: ASCII, Latin-1 and the common
// typographic marks); the others a /Differences encoding with uniXXXX glyph
// names, which viewers map through the subset's Unicode cmap. A letter only
// registers the groups its text uses, so an all-Latin-1 letter embeds two
// small font files.

// faceSize is the number of codes a non-WinAnsi group can use: 0x21-0xFF
// (fpdf writes widths for codes 32-255; 32 stays the space).
const faceSize = 0xff - 0x21 + 1

// cp1252High is the cp1252 code page at 0x80-0x9F (0 = unassigned).
var cp1252High = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// extraRanges are the characters beyond cp1252 the letters can print, in
// the order they are packed into groups: Latin Extended-A and -B, IPA's
// schwa, Latin Extended Additional (Vietnamese, Welsh), Greek, Cyrillic and
// a few marks.
var extraRanges = [][2]rune{
	{0x0100, 0x017F}, {0x0180, 0x024F}, {0x0259, 0x0259}, {0x02BB, 0x02BC}, {0x1E00, 0x1EFF},
	{0x0386, 0x03CE}, {0x0400, 0x045F}, {0x0490, 0x04FF},
	{0x2010, 0x2011}, {0x2032, 0x2033}, {0x2116, 0x2116}, {0x2190, 0x2193}, {0x2212, 0x2212},
}

// code is where a character is printed: its face group and byte code.
type code struct {
	group uint8
	b     byte
}

// face is one registered font of a letter: a style of one group.
type face struct {
	family string // fpdf family name, e.g. "dv0"
	style  string // "" or "B"
	def    []byte // fpdf JSON font definition
	file   []byte // the zlib-compressed TrueType subset
	width  [256]int
}

// fontSet is the process-wide, read-only font data every letter shares.
type fontSet struct {
	codes  map[rune]code
	faces  [2][]face // [regular, bold][group]
	groups int
}

// fonts returns the shared font set, building it on first use.
var fonts = sync.OnceValues(buildFonts)

// encode returns where r is printed, and false for a character no group has.
func (fs *fontSet) encode(r rune) (code, bool) {
	if r >= 0x20 && r < 0x7f || r >= 0xa0 && r <= 0xff {
		return code{0, byte(r)}, true
	}
	c, ok := fs.codes[r]
	return c, ok
}

func buildFonts() (*fontSet, error) {
	fs := &fontSet{codes: map[rune]code{}}
	groups := [][]rune{nil}
	for r := rune(0x20); r < 0x7f; r++ {
		groups[0] = append(groups[0], r)
	}
	for r := rune(0xa0); r <= 0xff; r++ {
		groups[0] = append(groups[0], r)
	}
	for i, r := range cp1252High {
		if r != 0 {
			groups[0] = append(groups[0], r)
			fs.codes[r] = code{0, byte(0x80 + i)}
		}
	}
	var cur []rune
	for _, rg := range extraRanges {
		for r := rg[0]; r <= rg[1]; r++ {
			if _, ok := fs.codes[r]; ok {
				continue
			}
			if len(cur) == faceSize {
				groups, cur = append(groups, cur), nil
			}
			fs.codes[r] = code{uint8(len(groups)), byte(0x21 + len(cur))}
			cur = append(cur, r)
		}
	}
	groups = append(groups, cur)
	fs.groups = len(groups)
	for s, ttf := range [][]byte{dejaVuSans, dejaVuSansBold} {
		style := [...]string{"", "B"}[s]
		base := [...]string{"DejaVuSans", "DejaVuSans-Bold"}[s]
		for g, runes := range groups {
			f, err := cutFace(ttf, runes, g, fs.codes)
			if err != nil {
				return nil, fmt.Errorf("letter: font %s group %d: %w", base, g, err)
			}
			f.family, f.style = "dv"+strconv.Itoa(g), style
			// A subset's name carries a six-letter tag (PDF 32000-1, 9.9.2).
			name := fmt.Sprintf("BN%c%c%c%c+%s", 'A'+s, 'A'+g/26/26%26, 'A'+g/26%26, 'A'+g%26, base)
			if err := f.define(name, g, runes, fs.codes); err != nil {
				return nil, fmt.Errorf("letter: font %s group %d: %w", base, g, err)
			}
			fs.faces[s] = append(fs.faces[s], f)
		}
	}
	return fs, nil
}

var (
	fontStreamRE = regexp.MustCompile(`/Length (\d+)\s*/Filter /FlateDecode\s*/Length1 (\d+)\s*>>\s*stream\n`)
	descRE       = regexp.MustCompile(`/Ascent (-?\d+) /Descent (-?\d+) /CapHeight (-?\d+) /Flags (\d+)/FontBBox \[(-?\d+) (-?\d+) (-?\d+) (-?\d+)\]  /ItalicAngle (-?\d+) /StemV (\d+) /MissingWidth (\d+)`)
)

// cutFace has fpdf parse ttf, measure runes and cut the subset holding them.
func cutFace(ttf []byte, runes []rune, g int, codes map[rune]code) (face, error) {
	var f face
	pdf := fpdf.New("P", "pt", "A4", "")
	pdf.SetCompression(false)
	pdf.AddUTF8FontFromBytes("cut", "", ttf)
	pdf.AddPage()
	pdf.SetFont("cut", "", 1000)
	for _, r := range runes {
		w := int(pdf.GetStringWidth(string(r)) + 0.5)
		switch {
		case g == 0 && r < 0x100:
			f.width[r] = w
		default:
			f.width[codes[r].b] = w
		}
	}
	f.width[0x20] = int(pdf.GetStringWidth(" ") + 0.5)
	var text []byte
	for _, r := range runes {
		text = utf8.AppendRune(text, r)
	}
	pdf.Cell(10, 10, string(text))
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return f, err
	}
	m := fontStreamRE.FindSubmatchIndex(out.Bytes())
	if m == nil {
		return f, fmt.Errorf("no font stream in fpdf output")
	}
	n, _ := strconv.Atoi(string(out.Bytes()[m[2]:m[3]]))
	f.file = bytes.Clone(out.Bytes()[m[1] : m[1]+n])
	orig, _ := strconv.Atoi(string(out.Bytes()[m[4]:m[5]]))
	d := descRE.FindSubmatch(out.Bytes())
	if d == nil {
		return f, fmt.Errorf("no font descriptor in fpdf output")
	}
	v := make([]int, 11)
	for i := range v {
		v[i], _ = strconv.Atoi(string(d[i+1]))
	}
	f.def, _ = json.Marshal(map[string]any{"OriginalSize": orig, "Desc": fpdf.FontDescType{
		Ascent: v[0], Descent: v[1], CapHeight: v[2], Flags: 32, // non-symbolic
		ItalicAngle: v[8], StemV: v[9], MissingWidth: v[10]}, "bbox": v[4:8]})
	return f, nil
}

// define writes the fpdf JSON definition of the face.
func (f *face) define(name string, g int, runes []rune, codes map[rune]code) error {
	var pre struct {
		OriginalSize int
		Desc         fpdf.FontDescType
		BBox         []int `json:"bbox"`
	}
	if err := json.Unmarshal(f.def, &pre); err != nil {
		return err
	}
	diff := ""
	if g > 0 {
		var b []byte
		b = append(b, "33"...)
		for _, r := range runes {
			b = fmt.Appendf(b, " /uni%04X", r)
		}
		diff = string(b)
	}
	def := map[string]any{
		"Tp": "TrueType", "Name": name, "Up": -63, "Ut": 44, "Cw": f.width[:],
		"Enc": "cp1252", "Diff": diff, "File": name + ".z", "OriginalSize": pre.OriginalSize,
		"Desc": map[string]any{"Ascent": pre.Desc.Ascent, "Descent": pre.Desc.Descent, "CapHeight": pre.Desc.CapHeight,
			"Flags": pre.Desc.Flags, "ItalicAngle": pre.Desc.ItalicAngle, "StemV": pre.Desc.StemV,
			"MissingWidth": pre.Desc.MissingWidth,
			"FontBBox":     map[string]int{"Xmin": pre.BBox[0], "Ymin": pre.BBox[1], "Xmax": pre.BBox[2], "Ymax": pre.BBox[3]}},
	}
	var err error
	f.def, err = json.Marshal(def)
	return err
}
