package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/council-dev/council/providers"
)

func (v *validator) providers() {
	for _, name := range sortedKeys(v.c.Providers) {
		p := v.c.Providers[name]
		key := func(k string) []string { return []string{"providers", name, k} }
		v.providerEndpoint(name, p)
		for _, h := range sortedKeys(p.Headers) {
			switch {
			case strings.TrimSpace(h) == "" || strings.ContainsAny(h, " :\r\n"):
				v.errAt(key("headers"), -1, "provider %s: %q is not a header name", name, h)
			case providers.ReservedHeader(h):
				v.errAt(key("headers"), -1, "provider %s: header %q belongs to the key or the SDK and cannot be set here", name, h)
			}
		}
		for _, q := range sortedKeys(p.Query) {
			if strings.TrimSpace(q) == "" {
				v.errAt(key("query"), -1, "provider %s: a query parameter needs a name", name)
			}
		}
		var sources []string
		if p.APIKey != "" {
			sources = append(sources, "api_key")
		}
		if p.APIKeyCmd != "" {
			sources = append(sources, "api_key_cmd")
		}
		if p.APIKeyEnv != "" && (v.isSet == nil || v.set(key("api_key_env")...)) {
			sources = append(sources, "api_key_env")
		}
		if len(sources) > 1 {
			v.errAt(key(sources[1]), -1, "provider %s sets %s: choose one way to find its key", name, strings.Join(sources, " and "))
		}
	}
}

// providerEndpoint checks a provider's kind and base_url.
func (v *validator) providerEndpoint(name string, p ProviderConfig) {
	key := func(k string) []string { return []string{"providers", name, k} }
	f, known := lookupKind(p.Kind)
	switch {
	case p.Kind == "":
		v.errAt(key("kind"), -1, "provider %s has no kind (want %s)", name, strings.Join(providers.Kinds(), ", "))
	case !known:
		v.errAt(key("kind"), -1, "unknown provider kind %q (want %s)", p.Kind, strings.Join(providers.Kinds(), ", "))
	case f.NeedsBaseURL && p.BaseURL == "":
		eg := ""
		if f.BaseURLExample != "" {
			eg = " (e.g. " + f.BaseURLExample + ")"
		}
		v.errAt(key("base_url"), -1, "provider %s of kind %s needs a base_url%s", name, p.Kind, eg)
	}
	if p.BaseURL != "" {
		if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errAt(key("base_url"), -1, "%q is not an http(s) URL", p.BaseURL)
		}
	}
}

func (v *validator) models() {
	first := map[string]int{} // id -> index
	for i, m := range v.c.Models {
		v.modelID(m, i, first)
		p, ok := v.c.Providers[m.Provider]
		switch {
		case m.Provider == "":
			v.errAt(modelKey("provider"), i, "model %q has no provider", m.ID)
		case !ok:
			v.errAt(modelKey("provider"), i, "model %q: provider %q is not defined (providers: %s)", m.ID, m.Provider, listOr(sortedKeys(v.c.Providers)))
		}
		v.modelSettings(m, i)
		if m.Sim == nil {
			continue
		}
		if ok && !simulated(p.Kind) {
			v.errAt(modelKey("sim"), i, "model %q: [models.sim] is only for providers of kind %s, and %s is %s", m.ID, simulatedKinds(), m.Provider, p.Kind)
			continue
		}
		v.sim(m.ID, m.Sim, i)
	}
}

// modelKey is the key of a [[models]] element's field.
func modelKey(k ...string) []string { return append([]string{"models"}, k...) }

// modelID checks model i's id: present, and not one an earlier model has
// (first maps each id seen to its model).
func (v *validator) modelID(m ModelConfig, i int, first map[string]int) {
	key := modelKey("id")
	if m.ID == "" {
		v.errAt(key, i, "model number %d has no id", i+1)
	} else if j, dup := first[m.ID]; dup {
		at := ""
		if l := findLine(v.pos, key, j); l > 0 {
			at = fmt.Sprintf(" (first at line %d)", l)
		}
		v.errAt(key, i, "duplicate model id %q%s", m.ID, at)
	} else {
		first[m.ID] = i
	}
}

// modelSettings checks model i's prices, request settings and fallbacks.
func (v *validator) modelSettings(m ModelConfig, i int) {
	key := modelKey
	if m.InputPerMTok < 0 {
		v.errAt(key("input_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
	}
	if m.OutputPerMTok < 0 {
		v.errAt(key("output_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
	}
	if m.CachedInputPerMTok != nil && *m.CachedInputPerMTok < 0 {
		v.errAt(key("cached_input_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
	}
	if m.CacheWritePerMTok != nil && *m.CacheWritePerMTok < 0 {
		v.errAt(key("cache_write_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
	}
	if m.MaxTokens < 0 {
		v.errAt(key("max_tokens"), i, "model %q: cannot be negative", m.ID)
	}
	if t := m.Temperature; t != nil && (*t < 0 || *t > 2) {
		v.errAt(key("temperature"), i, "model %q: must be between 0 and 2, got %g", m.ID, *t)
	}
	for _, f := range m.Fallbacks {
		if f == m.ID {
			v.errAt(key("fallbacks"), i, "model %q cannot be its own fallback", m.ID)
		} else if _, ok := v.c.Model(f); !ok {
			v.errAt(key("fallbacks"), i, "model %q: no model has id %q (models: %s)", m.ID, f, listOr(v.c.modelIDs()))
		}
	}
	for _, u := range m.Unsupported {
		if !slices.Contains(Settings, u) {
			v.errAt(key("unsupported"), i, "model %q: unknown setting %q (want %s)", m.ID, u, strings.Join(Settings, ", "))
		}
	}
}

// sim checks the [models.sim] table s of model i, whose id is id.
func (v *validator) sim(id string, s *SimConfig, i int) {
	key := func(k ...string) []string { return modelKey(append([]string{"sim"}, k...)...) }
	for k, x := range map[string]float64{"error_rate": s.ErrorRate, "rate_limit_rate": s.RateLimitRate,
		"stall_rate": s.StallRate, "cut_rate": s.CutRate, "slow_rate": s.SlowRate, "bad_ranking_rate": s.BadRankingRate} {
		v.rate(key(k), i, x)
	}
	if s.TokensPerSec < 0 {
		v.errAt(key("tokens_per_sec"), i, "model %q: cannot be negative", id)
	}
	if s.OutputTokens < 0 {
		v.errAt(key("output_tokens"), i, "model %q: cannot be negative", id)
	}
	if s.Capacity < 0 {
		v.errAt(key("capacity"), i, "model %q: cannot be negative (0: unlimited)", id)
	}
	if s.SlowFactor != 0 && s.SlowFactor < 1 {
		v.errAt(key("slow_factor"), i, "model %q: must be at least 1 (a slowdown), got %g", id, s.SlowFactor)
	}
	if s.TTFT.Duration > 0 && s.TTFTP95.Duration > 0 && s.TTFTP95.Duration < s.TTFT.Duration {
		v.errAt(key("ttft_p95"), i, "model %q: ttft_p95 %s is less than the median ttft %s", id, s.TTFTP95, s.TTFT)
	}
	for _, a := range sortedKeys(s.Answers) {
		if w := s.Answers[a]; w < 0 || w != w {
			v.errAt(key("answers", a), i, "model %q: an answer's weight cannot be negative, got %g", id, w)
		}
	}
}

func (v *validator) tiers() {
	c := v.c
	if len(c.Tiers) == 0 {
		v.errAt([]string{"tiers"}, -1, "no tiers and no models: define [[models]]")
	}
	for _, name := range c.TierOrder() {
		t := c.Tiers[name]
		key := func(k string) []string { return []string{"tiers", name, k} }
		if len(t.Models) == 0 {
			v.errAt(key("models"), -1, "tier %s has no models", name)
		}
		seen := map[string]bool{}
		for _, id := range t.Models {
			if _, ok := c.Model(id); !ok {
				v.errAt(key("models"), -1, "tier %s: no model has id %q (models: %s)", name, id, listOr(c.modelIDs()))
			} else if seen[id] {
				v.errAt(key("models"), -1, "tier %s lists %q twice", name, id)
			}
			seen[id] = true
		}
		if t.MaxTokens < 0 {
			v.errAt(key("max_tokens"), -1, "cannot be negative, got %d", t.MaxTokens)
		}
		if tp := t.Temperature; tp != nil && (*tp < 0 || *tp > 2) {
			v.errAt(key("temperature"), -1, "must be between 0 and 2, got %g", *tp)
		}
		v.positive(key("timeout"), t.Timeout)
		v.positive(key("per_model_timeout"), t.PerModelTimeout)
		v.positive(key("stall_timeout"), t.StallTimeout)
	}
	if c.DefaultTier != "" {
		if _, ok := c.Tiers[c.DefaultTier]; !ok {
			v.errAt([]string{"default_tier"}, -1, "%q is not a tier (tiers: %s)", c.DefaultTier, listOr(c.TierOrder()))
		}
	} else if len(c.Tiers) > 0 {
		v.errAt([]string{"default_tier"}, -1, "is empty")
	}
}

// simulatedKinds names the registered simulated kinds ("sim").
func simulatedKinds() string {
	var names []string
	for _, k := range providers.Kinds() {
		if simulated(k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " or ")
}
