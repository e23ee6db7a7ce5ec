package notify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/breachnotice/breachnotice/incident"
	"github.com/breachnotice/breachnotice/templates"
)

// LanguageGap counts the people owed notice whose language (their
// account locale's primary subtag, lower case) has no notice catalogue:
// they get notices in templates.DefaultLang.
type LanguageGap struct {
	Lang   string `json:"lang"`
	People int    `json:"people"`
}

// primaryTag is the SQL for the primary language subtag of the locale of
// incident.AffectedPeople aliased f, as templates.LangFor reads it: up to the first "-", "_" or ".", trimmed
// and lower-cased. PostgreSQL has no instr, SQLite no split_part.
func primaryTag(st *incident.Store) string {
	if st.Postgres() {
		return `lower(trim(split_part(replace(replace(f.locale, '_', '-'), '.', '-'), '-', 1)))`
	}
	return `lower(trim(substr(replace(replace(f.locale, '_', '-'), '.', '-'), 1,
	instr(replace(replace(f.locale, '_', '-'), '.', '-') || '-', '-') - 1)))`
}

// LanguageGaps counts, by language, the people of a planned incident who
// are owed notice in a language no catalogue covers (templates.Languages),
// most people first. An empty locale is not a gap: it means the default.
// The counting is one GROUP BY in SQLite; only the few languages reach Go.
func LanguageGaps(ctx context.Context, st *incident.Store, id int64) ([]LanguageGap, error) {
	langs := templates.Languages()
	return languageCounts(ctx, st, id, func(lang string) bool { return lang != "" && !slices.Contains(langs, lang) })
}

// DraftLanguages counts, by language, the people of a planned incident
// owed notice in a language whose catalogue is a draft counsel has not
// reviewed (templates.Reviewed), most people first.
func DraftLanguages(ctx context.Context, st *incident.Store, id int64) ([]LanguageGap, error) {
	langs := templates.Languages()
	return languageCounts(ctx, st, id, func(lang string) bool { return slices.Contains(langs, lang) && !templates.Reviewed(lang) })
}

// languageCounts counts the people owed notice by the primary subtag of
// their locale, keeping the languages keep says, most people first.
func languageCounts(ctx context.Context, st *incident.Store, id int64, keep func(lang string) bool) ([]LanguageGap, error) {
	if err := requirePlan(ctx, st, id); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT `+primaryTag(st)+` AS lang, count(*) FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND v.notify = 1
		GROUP BY lang`, id)
	if err != nil {
		return nil, fmt.Errorf("languages of incident %d: %w", id, err)
	}
	defer rows.Close()
	var gaps []LanguageGap
	for rows.Next() {
		var g LanguageGap
		if err := rows.Scan(&g.Lang, &g.People); err != nil {
			return nil, fmt.Errorf("languages of incident %d: %w", id, err)
		}
		if keep(g.Lang) {
			gaps = append(gaps, g)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("languages of incident %d: %w", id, err)
	}
	sort.Slice(gaps, func(i, j int) bool {
		if gaps[i].People != gaps[j].People {
			return gaps[i].People > gaps[j].People
		}
		return gaps[i].Lang < gaps[j].Lang
	})
	return gaps, nil
}

// LanguageGapText says what LanguageGaps found in one line ("15 people
// have a language with no notice catalogue (de: 12, fr: 3): they get
// English notices"); "" when nothing.
func LanguageGapText(gaps []LanguageGap) string {
	if len(gaps) == 0 {
		return ""
	}
	total, counts := gapCounts(gaps)
	verb := "people have"
	if total == 1 {
		verb = "person has"
	}
	return fmt.Sprintf("%d %s a language with no notice catalogue (%s): they get %s notices (catalogues: %s)",
		total, verb, counts, langName(templates.DefaultLang), strings.Join(templates.Languages(), ", "))
}

func langName(lang string) string {
	if lang == "en" {
		return "English"
	}
	return lang
}

// DraftLanguageText says what DraftLanguages found in one line ("10
// people get notices in a draft translation counsel has not reviewed (de:
// 5, fr: 5)"); "" when nothing.
func DraftLanguageText(id int64, drafts []LanguageGap) string {
	if len(drafts) == 0 {
		return ""
	}
	total, counts := gapCounts(drafts)
	who := "people get notices"
	if total == 1 {
		who = "person gets a notice"
	}
	return fmt.Sprintf("%d %s in a draft translation counsel has not reviewed (%s): have counsel review the samples of incident preview %d",
		total, who, counts, id)
}

// gapCounts sums the people of gaps and lists them per language ("de: 12,
// fr: 3").
func gapCounts(gaps []LanguageGap) (total int, counts string) {
	parts := make([]string, len(gaps))
	for i, g := range gaps {
		total += g.People
		parts[i] = fmt.Sprintf("%s: %d", g.Lang, g.People)
	}
	return total, strings.Join(parts, ", ")
}
