package letter

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// TextLine is one line of text read back from a PDF page.
type TextLine struct {
	Page int
	X, Y float64 // PDF points from the bottom left
	Text string
}

var (
	fontResRE = regexp.MustCompile(`/F([0-9a-f]+) (\d+) 0 R`)
	fontObjRE = regexp.MustCompile(`(?m)^(\d+) 0 obj\s*<</Type /Font\s*/BaseFont /BN([A-Z])([A-Z]{3})\+`)
	opRE      = regexp.MustCompile(`/F([0-9a-f]+) [\d.]+ Tf|BT ([\d.-]+) ([\d.-]+) Td \(`)
)

// ExtractText reads the text of an uncompressed letter back: every text
// operation, decoded through its font's encoding, joined into lines by
// baseline. It is the tests' proof of what the PDF itself says.
func ExtractText(pdf []byte) ([]TextLine, error) {
	fs, err := fonts()
	if err != nil {
		return nil, err
	}
	decode := make([]map[byte]rune, fs.groups)
	for g := range decode {
		decode[g] = map[byte]rune{}
	}
	for r := rune(0x20); r < 0x7f; r++ {
		decode[0][byte(r)] = r
	}
	for r := rune(0xa0); r <= 0xff; r++ {
		decode[0][byte(r)] = r
	}
	for r, c := range fs.codes {
		decode[c.group][c.b] = r
	}
	groupOfObj := map[string]int{}
	for _, m := range fontObjRE.FindAllSubmatch(pdf, -1) {
		t := m[3]
		groupOfObj[string(m[1])] = int(t[0]-'A')*676 + int(t[1]-'A')*26 + int(t[2]-'A')
	}
	groupOfRes := map[string]int{}
	for _, m := range fontResRE.FindAllSubmatch(pdf, -1) {
		if g, ok := groupOfObj[string(m[2])]; ok {
			groupOfRes[string(m[1])] = g
		}
	}
	var out []TextLine
	// Page content streams follow each other in fpdf's output, in order;
	// each starts after "stream" of an object whose dictionary has no
	// /Type and contains text operators.
	streams := regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`).FindAllSubmatch(pdf, -1)
	page := 0
	for _, s := range streams {
		body := s[1]
		if !bytes.Contains(body, []byte(" Tj ET")) {
			continue
		}
		page++
		group, switched := -1, false
		byY := map[string]*TextLine{}
		var ys []string
		for _, loc := range opRE.FindAllSubmatchIndex(body, -1) {
			if loc[2] >= 0 {
				g, ok := groupOfRes[string(body[loc[2]:loc[3]])]
				if !ok {
					return nil, fmt.Errorf("page %d: unknown font %s", page, body[loc[2]:loc[3]])
				}
				group, switched = g, true
				continue
			}
			x, _ := strconv.ParseFloat(string(body[loc[4]:loc[5]]), 64)
			y := string(body[loc[6]:loc[7]])
			var text strings.Builder
			for i := loc[1]; i < len(body) && body[i] != ')'; i++ {
				c := body[i]
				if c == '\\' {
					i++
					c = body[i]
					if c == 'r' {
						c = '\r'
					}
				}
				r, ok := decode[group][c]
				if !ok || group < 0 {
					return nil, fmt.Errorf("page %d: byte %#x has no character in font group %d", page, c, group)
				}
				text.WriteRune(r)
			}
			l := byY[y]
			if l == nil {
				yf, _ := strconv.ParseFloat(y, 64)
				l = &TextLine{Page: page, X: x, Y: yf}
				byY[y] = l
				ys = append(ys, y)
			} else if !switched {
				// Another item on the same baseline (a bullet and its
				// text, the footer's two parts); a font switch instead
				// means the next run of the same line.
				l.Text += " "
			}
			switched = false
			l.Text += text.String()
		}
		sort.SliceStable(ys, func(i, j int) bool { return byY[ys[i]].Y > byY[ys[j]].Y })
		for _, y := range ys {
			out = append(out, *byY[y])
		}
	}
	return out, nil
}
