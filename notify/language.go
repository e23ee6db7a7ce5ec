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
// and lower-cased.
const primaryTag = `lower(trim(substr(replace(replace(f.locale, '_', '-'), '.', '-'), 1,
	instr(replace(replace(f.locale, '_', '-'), '.', '-') || '-', '-') - 1)))`

// LanguageGaps counts, by language, the people of a planned incident who
// are owed notice in a language no catalogue covers (templates.Languages),
// most people first. An empty locale is not a gap: it means the default.
// The counting is one GROUP BY in SQLite; only the few languages reach Go.
func LanguageGaps(ctx context.Context, st *incident.Store, id int64) ([]LanguageGap, error) {
	if err := requirePlan(ctx, st, id); err != nil {
		return nil, err
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT `+primaryTag+` AS lang, count(*) FROM `+incident.AffectedPeople+` f
		JOIN plan_map m ON m.incident_id = f.incident_id AND m.country = f.country AND m.region = f.region AND m.reach = f.reach
		JOIN plan_variants v ON v.incident_id = m.incident_id AND v.variant = m.variant
		WHERE f.incident_id = ? AND v.notify = 1
		GROUP BY lang`, id)
	if err != nil {
		return nil, fmt.Errorf("languages of incident %d: %w", id, err)
	}
	defer rows.Close()
	langs := templates.Languages()
	var gaps []LanguageGap
	for rows.Next() {
		var g LanguageGap
		if err := rows.Scan(&g.Lang, &g.People); err != nil {
			return nil, fmt.Errorf("languages of incident %d: %w", id, err)
		}
		if g.Lang != "" && !slices.Contains(langs, g.Lang) {
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
	total := 0
	parts := make([]string, len(gaps))
	for i, g := range gaps {
		total += g.People
		parts[i] = fmt.Sprintf("%s: %d", g.Lang, g.People)
	}
	verb := "people have"
	if total == 1 {
		verb = "person has"
	}
	return fmt.Sprintf("%d %s a language with no notice catalogue (%s): they get %s notices (catalogues: %s)",
		total, verb, strings.Join(parts, ", "), langName(templates.DefaultLang), strings.Join(templates.Languages(), ", "))
}

func langName(lang string) string {
	if lang == "en" {
		return "English"
	}
	return lang
}
