package config

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/council-dev/council/providers"
)

// fmtDur writes a duration without trailing zero units: "2m", "1h30m".
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// KeySource says where a provider's key comes from, for display: "env
// OPENAI_API_KEY (set)", "env OPENAI_API_KEY (not set)", "api_key_cmd",
// "inline key [REDACTED]" or "none". It never contains a key. getenv is
// os.Getenv outside tests.
func (p ProviderConfig) KeySource(getenv func(string) string) string {
	switch {
	case p.APIKey != "":
		return "inline key [REDACTED]"
	case p.APIKeyCmd != "":
		return "api_key_cmd"
	case p.APIKeyEnv != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		if strings.TrimSpace(getenv(p.APIKeyEnv)) != "" {
			return "env " + p.APIKeyEnv + " (set)"
		}
		return "env " + p.APIKeyEnv + " (not set)"
	}
	return "none"
}

// Describe writes the resolved setup, for `council config check`: where the
// config came from and why, the strategy settings, each tier, provider and
// model. It never writes a key: only where each key comes from.
func (c *Config) Describe(w io.Writer, getenv func(string) string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	c.describeSettings(tw)
	tw.Flush()
	fmt.Fprintln(w, "\ntiers")
	c.describeTiers(tw)
	tw.Flush()
	fmt.Fprintln(w, "\nproviders")
	c.describeProviders(tw, getenv)
	tw.Flush()
	describeGateways(w, c.Providers, getenv)
	fmt.Fprintln(w, "\nmodels (prices in USD per million tokens)")
	c.describeModels(tw)
	tw.Flush()
	describeBenchKnobs(w, c.Models)
	c.describeServe(w, getenv)
	c.describeShared(w, getenv)
}

// row writes one line of tab-separated cells to a tabwriter.
func row(w io.Writer, cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")) }

func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', -1, 64) + "%" }

// describeSettings writes where the config came from and the strategies'
// settings, one row each.
func (c *Config) describeSettings(tw io.Writer) {
	row(tw, "source", cmp.Or(c.Source, "(unknown)"))
	if c.Why != "" {
		row(tw, "why", c.Why)
	}
	row(tw, "strategy", string(c.DefaultStrategy))
	row(tw, "tier", c.DefaultTier)
	row(tw, "max concurrency", strconv.Itoa(c.MaxConcurrency))
	if c.Theme != "" {
		row(tw, "theme", c.Theme)
	}
	b := c.Breaker
	row(tw, "breaker", fmt.Sprintf("opens above %s failures over at least %d requests in %s; cooldown %s",
		pct(b.FailureRate), b.MinRequests, fmtDur(b.Window.Duration), fmtDur(b.Cooldown.Duration)))
	h := c.Hedge
	replace := "waits on a slow primary past max extra"
	if h.Replace {
		replace = "replaces a primary past its slow mode's knee when max extra is spent"
	}
	row(tw, "hedge", fmt.Sprintf("delay %s (fallback %s), budget %s, max extra %s, %s, primary %s, backup %s",
		h.Delay, fmtDur(h.FallbackDelay.Duration), fmtDur(h.Budget.Duration), pct(h.MaxExtra), replace,
		cmp.Or(h.Primary, "tier's first"), cmp.Or(h.Backup, "tier's second")))
	cs := c.Consensus
	row(tw, "consensus", fmt.Sprintf("%d voters, quorum %d, tie-break %s, escalate to %s, default answer %s",
		cs.Voters, cs.MinResponses, cs.TieBreak, cmp.Or(cs.EscalateTo, "tier's last"), cmp.Or(cs.DefaultAnswer, "-")))
	cats := "any"
	if len(cs.Categories) > 0 {
		cats = strings.Join(cs.Categories, ", ")
	}
	row(tw, "categories", cats)
	c.describeStrategies(tw)
	row(tw, "retry", fmt.Sprintf("%d more calls before the first token, backoff %s doubling", c.Retry.Attempts, c.Retry.Backoff.Duration))
	caps := "none"
	if c.MaxCostUSD > 0 || c.MaxRunCostUSD > 0 {
		caps = fmt.Sprintf("session $%g, run $%g (0: none)", c.MaxCostUSD, c.MaxRunCostUSD)
	}
	row(tw, "spending caps", caps)
}

// describeStrategies writes the council's, the router's and sectioning's
// settings as a session will use them: a default in words where a key is
// left empty.
func (c *Config) describeStrategies(tw io.Writer) {
	co := c.Council
	reviewers := "the models that answered"
	if len(co.Reviewers) > 0 {
		reviewers = strings.Join(co.Reviewers, ", ")
	}
	row(tw, "council", fmt.Sprintf("review after %d answers, chairman %s, fallback %s, reviewers %s",
		co.MinResponses, cmp.Or(co.Chairman, "the Borda leader's model"), cmp.Or(co.FallbackChairman, "the next healthy model"), reviewers))
	r := c.Router
	var routes []string
	for _, rt := range r.Routes {
		s := rt.Name + " -> " + string(rt.Strategy)
		if rt.Tier != "" {
			s += "@" + rt.Tier
		}
		routes = append(routes, s)
	}
	row(tw, "router", fmt.Sprintf("default route %s below %s confidence, classifier %s; routes %s",
		r.DefaultRoute, pct(r.MinConfidence), cmp.Or(r.Classifier, "none (rules only)"), listOr(routes)))
	sc := c.Section
	split := string(sc.Split)
	if sc.Split == SplitTokens {
		split += fmt.Sprintf(" (about %d a section)", sc.ChunkTokens)
	}
	vote := "off"
	if sc.Vote > 1 {
		vote = fmt.Sprintf("%d runs of each section matching %s (verdicts %s)",
			sc.Vote, strings.Join(sc.VoteWhen, ", "), strings.Join(sc.VoteCategories, ", "))
	}
	row(tw, "section", fmt.Sprintf("split by %s, at most %d sections, merge %s; vote %s", split, sc.MaxSections, sc.Merge, vote))
}

// describeTiers writes a row per tier, the default one marked *.
func (c *Config) describeTiers(tw io.Writer) {
	row(tw, "  NAME", "TIMEOUT", "PER MODEL", "STALL", "MODELS")
	for _, name := range c.TierOrder() {
		t, _ := c.Tier(name)
		mark := ""
		if name == c.DefaultTier {
			mark = " *"
		}
		row(tw, "  "+name+mark, fmtDur(t.Timeout.Duration), fmtDur(t.PerModelTimeout.Duration), fmtDur(t.StallTimeout.Duration), strings.Join(t.Models, ", "))
	}
}

// describeProviders writes a row per provider: where its key comes from,
// never the key.
func (c *Config) describeProviders(tw io.Writer, getenv func(string) string) {
	row(tw, "  NAME", "KIND", "BASE URL", "KEY")
	for _, name := range sortedKeys(c.Providers) {
		p := c.Providers[name]
		base := cmp.Or(p.BaseURL, "(default)")
		key := p.KeySource(getenv)
		if simulated(p.Kind) {
			base, key = "-", "none needed"
		}
		row(tw, "  "+name, p.Kind, base, key)
	}
}

// describeModels writes a row per model with its prices.
func (c *Config) describeModels(tw io.Writer) {
	row(tw, "  ID", "PROVIDER", "MODEL", "INPUT", "CACHE READ", "CACHE WRITE", "OUTPUT", "MAX TOKENS")
	price := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	// A cache price left unset is the input price: shown as what is charged.
	cachePrice := func(p *float64, input float64) string {
		if p == nil {
			return price(input)
		}
		return price(*p)
	}
	for _, m := range c.Models {
		maxTok := "default"
		if m.MaxTokens > 0 {
			maxTok = strconv.Itoa(m.MaxTokens)
		}
		row(tw, "  "+m.ID, m.Provider, m.Model, price(m.InputPerMTok), cachePrice(m.CachedInputPerMTok, m.InputPerMTok),
			cachePrice(m.CacheWritePerMTok, m.InputPerMTok), price(m.OutputPerMTok), maxTok)
	}
}

// describeBenchKnobs lists the simulated models' keys that shape what
// council bench measures (a slow tail, a capacity, fixed vote weights),
// when any model sets one.
func describeBenchKnobs(w io.Writer, models []ModelConfig) {
	var rows [][]string
	for _, m := range models {
		s := m.Sim
		if s == nil || (s.SlowRate == 0 && s.Capacity == 0 && len(s.Answers) == 0) {
			continue
		}
		slow, capacity, answers := "-", "unlimited", "by content"
		if s.SlowRate > 0 {
			f := s.SlowFactor
			if f == 0 {
				f = 10
			}
			slow = fmt.Sprintf("%g%% of calls %gx slower", 100*s.SlowRate, f)
		}
		if s.Capacity > 0 {
			capacity = strconv.Itoa(s.Capacity)
		}
		if len(s.Answers) > 0 {
			var parts []string
			for _, a := range sortedKeys(s.Answers) {
				parts = append(parts, fmt.Sprintf("%s %g", a, s.Answers[a]))
			}
			answers = strings.Join(parts, ", ")
		}
		rows = append(rows, []string{"  " + m.ID, slow, capacity, answers})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nsimulated models (what council bench measures against)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tSLOW TAIL\tCAPACITY\tANSWERS (the most probable is right)")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// describeGateways lists each provider's gateway headers and query
// parameters by name. A value is never printed: one that names variables
// shows them as written ("${GW_KEY}") and whether each is set; any other
// is an inline value, which may be a secret too.
func describeGateways(w io.Writer, ps map[string]ProviderConfig, getenv func(string) string) {
	for _, name := range sortedKeys(ps) {
		p := ps[name]
		for _, g := range []struct {
			what string
			vals map[string]string
		}{{"header", p.Headers}, {"query", p.Query}} {
			for _, k := range sortedKeys(g.vals) {
				refs := providers.EnvRefs(g.vals[k])
				if len(refs) == 0 {
					fmt.Fprintf(w, "  %s %s %s: inline value\n", name, g.what, k)
					continue
				}
				var vars []string
				for _, v := range refs {
					state := "set"
					if getenv(v) == "" {
						state = "not set"
					}
					vars = append(vars, fmt.Sprintf("${%s} (%s)", v, state))
				}
				fmt.Fprintf(w, "  %s %s %s: %s\n", name, g.what, k, strings.Join(vars, ", "))
			}
		}
	}
}
