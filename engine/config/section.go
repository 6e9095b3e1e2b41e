package config

import (
	"regexp"
	"strings"
)

// section validates the [section] table.
func (v *validator) section() {
	sc := v.c.Section
	key := func(k string) []string { return []string{"section", k} }
	switch sc.Split {
	case SplitHeadings, SplitParagraphs, SplitTokens:
	default:
		v.errAt(key("split"), -1, "unknown split %q (want headings, paragraphs or tokens)", sc.Split)
	}
	if sc.ChunkTokens < 20 {
		v.errAt(key("chunk_tokens"), -1, "must be at least 20, got %d", sc.ChunkTokens)
	}
	if sc.MaxSections < 1 {
		v.errAt(key("max_sections"), -1, "must be at least 1, got %d", sc.MaxSections)
	}
	switch sc.Merge {
	case MergeConcat, MergeSynthesis:
	default:
		v.errAt(key("merge"), -1, "unknown merge %q (want concat or synthesis)", sc.Merge)
	}
	if sc.Vote < 0 || sc.Vote > 9 {
		v.errAt(key("vote"), -1, "must be between 0 and 9, got %d", sc.Vote)
	}
	if sc.Vote > 1 && len(sc.VoteWhen) == 0 {
		v.errAt(key("vote_when"), -1, "vote = %d needs vote_when: the keywords or /patterns/ of the sections to vote on", sc.Vote)
	}
	for i, w := range sc.VoteWhen {
		if strings.TrimSpace(w) == "" {
			v.errAt(key("vote_when"), -1, "entry %d is empty", i+1)
		}
		if p, ok := VotePattern(w); ok {
			if _, err := regexp.Compile(p); err != nil {
				v.errAt(key("vote_when"), -1, "pattern %q: %v", w, err)
			}
		}
	}
	if sc.Vote > 1 && len(sc.VoteCategories) < 2 {
		v.errAt(key("vote_categories"), -1, "a vote needs at least two categories, got %d", len(sc.VoteCategories))
	}
	seen := map[string]bool{}
	for _, c := range sc.VoteCategories {
		n := strings.ToLower(strings.TrimSpace(c))
		if n == "" || seen[n] {
			v.errAt(key("vote_categories"), -1, "category %q is empty or repeated", c)
		}
		seen[n] = true
	}
}

// VotePattern reports whether a vote_when entry is a regular expression,
// written "/like this/", and returns it without the slashes.
func VotePattern(w string) (string, bool) {
	w = strings.TrimSpace(w)
	if len(w) >= 2 && strings.HasPrefix(w, "/") && strings.HasSuffix(w, "/") {
		return w[1 : len(w)-1], true
	}
	return "", false
}
