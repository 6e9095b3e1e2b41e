package config

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// DemoSource is the Source of the built-in demo council.
const DemoSource = "built-in demo council"

//go:embed demo.toml
var demoTOML []byte

// DemoTOML returns the text of the built-in demo council, a commented
// example of every key.
func DemoTOML() []byte { return slices.Clone(demoTOML) }

// Demo returns the built-in demo council of five simulated models
// (demo.toml), with Source [DemoSource]. Each call returns a new Config.
// The sim kind must be registered (import providers/sim), or Demo panics.
func Demo() *Config {
	c, err := Parse(demoTOML, "demo.toml")
	if err != nil {
		panic("config: the embedded demo.toml is invalid: " + err.Error())
	}
	c.Source = DemoSource
	c.Why = "no config file and no API key in the environment, so the council is simulated"
	return c
}

// DefaultCouncil is the council used when there is no config file: if any
// of OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY (or GOOGLE_API_KEY)
// and OPENROUTER_API_KEY is set, a council of those providers with current
// models and list prices in each tier; otherwise [Demo]. Why names
// the variables found, never their values. Within a tier the providers take
// turns, so that a hedge's primary and backup come from different vendors.
func DefaultCouncil(getenv func(string) string) *Config {
	c := &Config{
		Providers: map[string]ProviderConfig{},
		Tiers:     map[string]TierConfig{},
		Consensus: ConsensusConfig{Categories: []string{"billing", "technical", "account", "general"}},
		Source:    "built-in default council",
	}
	var found []string
	perTier := map[string][][]string{} // tier -> per provider -> model ids
	for _, p := range defaultProviders {
		if _, ok := lookupKind(p.kind); !ok {
			continue // a vendor this build leaves out
		}
		env := ""
		for _, e := range p.keyEnvs() {
			if getenv(e) != "" {
				env = e
				break
			}
		}
		if env == "" {
			continue
		}
		found = append(found, env)
		c.Providers[p.name] = ProviderConfig{Kind: p.kind, BaseURL: p.baseURL, APIKeyEnv: env}
		mine := map[string][]string{}
		for _, m := range p.models {
			id := p.name + "/" + m.model
			c.Models = append(c.Models, ModelConfig{ID: id, Provider: p.name, Model: m.model,
				InputPerMTok: m.in, OutputPerMTok: m.out, MaxTokens: m.maxTokens})
			for _, t := range m.tiers {
				mine[t] = append(mine[t], id)
			}
		}
		for t, ids := range mine {
			perTier[t] = append(perTier[t], ids)
		}
	}
	if len(found) == 0 {
		return Demo()
	}
	for _, t := range TierNames {
		if ids := takeTurns(perTier[t]); len(ids) > 0 {
			c.Tiers[t] = TierConfig{Models: ids}
		}
	}
	// A quorum the quick tier can reach.
	n := len(c.Tiers["quick"].Models)
	c.Consensus.Voters = min(DefaultVoters, n)
	c.Consensus.MinResponses = min(DefaultMinResponses, n)
	c.applyDefaults(nil, nil)
	if err := c.Validate(); err != nil {
		panic("config: the default council is invalid: " + err.Error())
	}
	c.Why = fmt.Sprintf("no config file; %s found in the environment, so the default council uses %s",
		joinAnd(found), plural(len(found), "that provider", "those providers"))
	return c
}

// takeTurns merges lists by taking one from each in turn: [[a b] [c]] is
// [a c b].
func takeTurns(lists [][]string) []string {
	var ids []string
	for i := 0; ; i++ {
		added := false
		for _, l := range lists {
			if i < len(l) {
				ids = append(ids, l[i])
				added = true
			}
		}
		if !added {
			return ids
		}
	}
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
