package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultLang is the language of a notice whose locale names no catalogue.
const DefaultLang = "en"

//go:embed catalog/*.json
var catalogFS embed.FS

// catalog is one language's messages, keyed by message id.
type catalog map[string]string

// catalogs holds every language's catalogue, loaded once at package
// initialisation and never written afterwards.
var catalogs, languages = mustLoadCatalogs()

func mustLoadCatalogs() (map[string]catalog, []string) {
	cs, err := loadCatalogs()
	if err != nil {
		panic(err) // a malformed embedded catalogue is a build defect
	}
	langs := make([]string, 0, len(cs))
	for l := range cs {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	return cs, langs
}

func loadCatalogs() (map[string]catalog, error) {
	files, err := catalogFS.ReadDir("catalog")
	if err != nil {
		return nil, fmt.Errorf("templates: catalog: %w", err)
	}
	out := make(map[string]catalog, len(files))
	for _, f := range files {
		b, err := catalogFS.ReadFile(path.Join("catalog", f.Name()))
		if err != nil {
			return nil, fmt.Errorf("templates: catalog %s: %w", f.Name(), err)
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("templates: catalog %s: %w", f.Name(), err)
		}
		out[strings.TrimSuffix(f.Name(), ".json")] = c
	}
	if _, ok := out[DefaultLang]; !ok {
		return nil, fmt.Errorf("templates: catalog: no %s.json", DefaultLang)
	}
	return out, nil
}

// Languages lists the languages notices can be written in, sorted.
func Languages() []string { return slices.Clone(languages) }

// drafts are the catalogues whose translation counsel has not reviewed:
// de and fr were drafted from en.json for issue 17 (German and French
// learners got English notices). Notices use them; incident plan and send
// say who gets a draft. Remove a language once counsel has signed it off.
var drafts = map[string]bool{"de": true, "fr": true}

// Reviewed reports whether counsel has reviewed the language's catalogue
// (and its public pages' messages); false for a draft translation.
func Reviewed(lang string) bool { return !drafts[lang] }

// LangFor returns the notice language for an account locale: its primary
// language subtag when a catalogue exists for it ("es", "es-MX", "es_US" →
// "es"), otherwise DefaultLang.
func LangFor(locale string) string {
	locale = strings.TrimSpace(locale)
	if i := strings.IndexAny(locale, "-_."); i >= 0 {
		locale = locale[:i]
	}
	for _, l := range languages {
		if strings.EqualFold(l, locale) {
			return l
		}
	}
	return DefaultLang
}

// ElementWording returns the plain-language wording of a data element (an
// incident.Element value) in a language, and false when the catalogue has
// none.
func ElementWording(lang, element string) (string, bool) {
	c, ok := catalogs[lang]
	if !ok {
		return "", false
	}
	s, ok := c["element."+element]
	return s, ok
}

// msgs is one language's view of the catalogues, falling back to English.
type msgs struct {
	lang string
	c    catalog
}

func msgsFor(lang string) msgs {
	if c, ok := catalogs[lang]; ok {
		return msgs{lang, c}
	}
	return msgs{DefaultLang, catalogs[DefaultLang]}
}

// get returns a message; a key missing from the language falls back to
// English and then to the key itself (TestCatalogComplete prevents both).
func (m msgs) get(key string) string {
	if s, ok := m.c[key]; ok {
		return s
	}
	if s, ok := catalogs[DefaultLang][key]; ok {
		return s
	}
	return key
}

// date formats a calendar date the language's way ("January 2, 2006",
// "2 de enero de 2006"); "" for the zero time.
func (m msgs) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	y, mo, d := t.Date()
	return expand(m.get("format.date"), func(name string) string {
		switch name {
		case "month":
			return m.get(monthKeys[mo-1])
		case "day":
			return strconv.Itoa(d)
		case "year":
			return strconv.Itoa(y)
		}
		return ""
	})
}

var monthKeys = [12]string{
	"month.1", "month.2", "month.3", "month.4", "month.5", "month.6",
	"month.7", "month.8", "month.9", "month.10", "month.11", "month.12",
}

// count formats a number with the language's thousands separator.
func (m msgs) count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return neg + s
	}
	sep := m.get("format.thousands")
	var b strings.Builder
	b.WriteString(neg)
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(s[:first])
	for i := first; i < len(s); i += 3 {
		b.WriteString(sep)
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// expand replaces each {name} in msg with value(name). It scans once and
// allocates only the result.
func expand(msg string, value func(string) string) string {
	i := strings.IndexByte(msg, '{')
	if i < 0 {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg) + 32)
	for i >= 0 {
		j := strings.IndexByte(msg[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(msg[:i])
		b.WriteString(value(msg[i+1 : i+j]))
		msg = msg[i+j+1:]
		i = strings.IndexByte(msg, '{')
	}
	b.WriteString(msg)
	return b.String()
}

// placeholders lists the {name}s in msg, sorted, for the catalogue test.
func placeholders(msg string) []string {
	var out []string
	expand(msg, func(name string) string {
		out = append(out, name)
		return ""
	})
	slices.Sort(out)
	return slices.Compact(out)
}
