package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSectionConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		extra []string
		line  int
		key   string
		msg   string
	}{
		{[]string{`[section]`, `split = "chapters"`}, 10, "section.split", "unknown split"},
		{[]string{`[section]`, `chunk_tokens = 5`}, 10, "section.chunk_tokens", "at least 20"},
		{[]string{`[section]`, `max_sections = 0`}, 10, "section.max_sections", "at least 1"},
		{[]string{`[section]`, `merge = "zip"`}, 10, "section.merge", "unknown merge"},
		{[]string{`[section]`, `vote = 3`}, 9, "section.vote_when", "needs vote_when"},
		{[]string{`[section]`, `vote = 3`, `vote_when = ["/liab(/"]`}, 11, "section.vote_when", "pattern"},
		{[]string{`[section]`, `vote = 3`, `vote_when = ["x"]`, `vote_categories = ["ok"]`}, 12, "section.vote_categories", "at least two"},
		{[]string{`[[router.routes]]`, `name = "docs"`, `strategy = "section"`}, 11, "router.routes.strategy", "needs a document"},
		{nil, 1, "default_strategy", "needs a document"},
	} {
		text := cfgWith(tc.extra...)
		if tc.extra == nil {
			text = `default_strategy = "section"` + "\n" + cfgWith()
		}
		_, err := Parse([]byte(text), "c.toml")
		var ce *Error
		if !errors.As(err, &ce) || ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("%v: got %v; want c.toml:%d: key %s: ...%s...", tc.extra, err, tc.line, tc.key, tc.msg)
		}
	}
}

func TestSectionConfigDefaults(t *testing.T) {
	c, err := Parse([]byte(cfgWith()), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	sc := c.Section
	if sc.Split != SplitHeadings || sc.ChunkTokens != DefaultChunkTokens || sc.MaxSections != DefaultMaxSections ||
		sc.Merge != MergeConcat || sc.Vote != 0 || !slices.Equal(sc.VoteCategories, []string{"ok", "risk"}) {
		t.Errorf("defaults %+v", sc)
	}
	if st, err := ParseStrategy("section"); err != nil || st != Section || slices.Contains(Strategies, Section) {
		t.Errorf("section: %v %v; want accepted by ParseStrategy and out of Strategies (it needs a document)", st, err)
	}
}
