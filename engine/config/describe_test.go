package config

import (
	"bytes"
	"strings"
	"testing"
)

// TestDescribeStrategies: config check shows the council's, the router's,
// sectioning's and the hedge's settings as a session will use them,
// defaults in words.
func TestDescribeStrategies(t *testing.T) {
	demo := Demo()
	custom, err := Parse([]byte(`
[council]
min_responses = 2
chairman = "m/b"
reviewers = ["m/a"]
[router]
classifier = "m/a"
min_confidence = 0.75
default_route = "talk"
[[router.routes]]
name = "talk"
strategy = "hedge"
tier = "quick"
[hedge]
replace = false
[section]
split = "tokens"
chunk_tokens = 300
merge = "synthesis"
[providers.sim]
kind = "sim"
[[models]]
id = "m/a"
provider = "sim"
[[models]]
id = "m/b"
provider = "sim"
`), "custom.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		c    *Config
		want []string
	}{
		{demo, []string{
			"council          review after 3 answers, chairman the Borda leader's model, fallback sim/sage, reviewers the models that answered\n",
			"router           default route chat below 60% confidence, classifier none (rules only); routes classification -> consensus, code -> race, high-stakes -> council, yes-no -> consensus, chat -> hedge\n",
			"section          split by headings, at most 40 sections, merge concat; vote 3 runs of each section matching indemnif, liabilit, /terminat(e|ion)/ (verdicts ok, risk)\n",
			"max extra 50%, replaces a primary past its slow mode's knee when max extra is spent,",
		}},
		{custom, []string{
			"council          review after 2 answers, chairman m/b, fallback the next healthy model, reviewers m/a\n",
			"router           default route talk below 75% confidence, classifier m/a; routes talk -> hedge@quick\n",
			"section          split by tokens (about 300 a section), at most 40 sections, merge synthesis; vote off\n",
			"max extra 10%, waits on a slow primary past max extra,",
		}},
	} {
		var b bytes.Buffer
		tt.c.Describe(&b, func(string) string { return "" })
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: config check lacks\n%s\nin:\n%s", tt.c.Source, w, b.String())
			}
		}
	}
}
