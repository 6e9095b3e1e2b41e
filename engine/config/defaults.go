package config

import (
	"slices"
	"strings"
	"time"
)

// The defaults, applied to every key a config leaves
// out.
const (
	DefaultMaxConcurrency = 8
	DefaultFailureRate    = 0.25
	DefaultMinRequests    = 5
	DefaultBreakerWindow  = 10 * time.Minute
	DefaultCooldown       = 30 * time.Minute
	DefaultHedgeQuantile  = 0.95
	DefaultFallbackDelay  = 2 * time.Second
	DefaultHedgeBudget    = 3 * time.Second
	DefaultMaxExtra       = 0.10
	DefaultVoters         = 5
	DefaultMinResponses   = 3
	DefaultAnswer         = "general"
	DefaultStallTimeout   = 10 * time.Second
	DefaultCouncilMin     = 3
	DefaultRetryAttempts  = 2
	DefaultRetryBackoff   = 250 * time.Millisecond
	DefaultRoute          = "chat"
	DefaultMinConfidence  = 0.6
	DefaultChunkTokens    = 800
	DefaultMaxSections    = 40

	DefaultMaxEventBytes     = 1 << 20
	DefaultMaxAnswerBytes    = 4 << 20
	DefaultMaxErrorBodyBytes = 64 << 10
	DefaultMaxPromptBytes    = 1 << 20
)

// DefaultRoutes are the router's rules when the config gives none:
// classification and yes/no questions go to consensus, code to race, long
// or high-stakes prompts to the council, and chat (the default route) to
// hedge.
func DefaultRoutes() []RouteConfig {
	return []RouteConfig{
		{Name: "classification", Strategy: Consensus,
			Keywords: []string{"classify", "categorize", "categorise", "which category", "what category", "label this", "triage"},
			Patterns: []string{`(?i)^\s*(is|are|does|do|did|can|could|should|was|were|will|has|have)\b[^?]{0,200}\?\s*$`, `(?i)\b(yes or no|true or false)\b`}},
		{Name: "code", Strategy: Race,
			Keywords: []string{"func ", "function", "error:", "stack trace", "traceback", "exception", "compile", "segfault", "regex", "golang", "python", "javascript", "typescript", "rust", "sql query", "refactor", "unit test", "bug"},
			Patterns: []string{"```", `\b\w+\([^)]*\)\s*[{:]`, `(?m)^\s*(import|package|def|class|#include)\b`}},
		{Name: "high-stakes", Strategy: Council, MinWords: 150,
			Keywords: []string{"contract", "legal", "lawsuit", "medical", "diagnos", "dosage", "invest", "compliance", "security review", "architecture", "trade-off", "tradeoff", "strategy for", "should we", "pros and cons", "high-stakes", "critical decision"}},
		{Name: "chat", Strategy: Hedge},
	}
}

// unsetFunc reports whether a key is left out: not written in the file,
// or, for a config built in Go, zero.
type unsetFunc = func(zero bool, key ...string) bool

// applyDefaults fills what the config leaves out. isSet reports whether a
// key is written in the file (so that an explicit 0 is kept, and then
// validated); nil means "a zero value is unset", for configs built in Go.
// tierOrder is the order the file defines its tiers in.
func (c *Config) applyDefaults(isSet func(key ...string) bool, tierOrder []string) {
	unset := func(zero bool, key ...string) bool {
		if isSet != nil {
			return !isSet(key...)
		}
		return zero
	}
	if unset(c.DefaultStrategy == "", "default_strategy") {
		c.DefaultStrategy = Race
	}
	if c.FollowUp == "" {
		c.FollowUp = FollowOwn
	}
	if unset(c.MaxConcurrency == 0, "max_concurrency") {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	c.breakerDefaults(unset)
	c.hedgeDefaults(unset)
	c.routerDefaults(unset)
	c.sectionDefaults(unset)
	c.retryDefaults(unset)
	c.serveDefaults(unset)
	c.sharedDefaults(unset)
	c.limitsDefaults(unset)
	c.consensusDefaults(unset)
	c.providerDefaults()
	c.modelDefaults()
	c.tierDefaults(isSet)
	if unset(c.DefaultTier == "", "default_tier") {
		c.DefaultTier = c.firstTier(tierOrder)
	}
}

func (c *Config) breakerDefaults(unset unsetFunc) {
	b := &c.Breaker
	if unset(b.FailureRate == 0, "breaker", "failure_rate") {
		b.FailureRate = DefaultFailureRate
	}
	if unset(b.MinRequests == 0, "breaker", "min_requests") {
		b.MinRequests = DefaultMinRequests
	}
	if unset(b.Window.Duration == 0, "breaker", "window") {
		b.Window.Duration = DefaultBreakerWindow
	}
	if unset(b.Cooldown.Duration == 0, "breaker", "cooldown") {
		b.Cooldown.Duration = DefaultCooldown
	}
}

func (c *Config) retryDefaults(unset unsetFunc) {
	rt := &c.Retry
	if unset(rt.Attempts == 0, "retry", "attempts") {
		rt.Attempts = DefaultRetryAttempts
	}
	if unset(rt.Backoff.Duration == 0, "retry", "backoff") {
		rt.Backoff.Duration = DefaultRetryBackoff
	}
}

func (c *Config) hedgeDefaults(unset unsetFunc) {
	h := &c.Hedge
	if unset(h.Delay == HedgeDelay{}, "hedge", "delay") {
		h.Delay = HedgeDelay{Quantile: DefaultHedgeQuantile}
	}
	if unset(h.FallbackDelay.Duration == 0, "hedge", "fallback_delay") {
		h.FallbackDelay.Duration = DefaultFallbackDelay
	}
	if unset(h.Budget.Duration == 0, "hedge", "budget") {
		h.Budget.Duration = DefaultHedgeBudget
	}
	if unset(h.MaxExtra == 0, "hedge", "max_extra") {
		h.MaxExtra = DefaultMaxExtra
	}
}

// routerDefaults fills [council] and [router].
func (c *Config) routerDefaults(unset unsetFunc) {
	co := &c.Council
	if unset(co.MinResponses == 0, "council", "min_responses") {
		co.MinResponses = DefaultCouncilMin
	}
	r := &c.Router
	if unset(r.DefaultRoute == "", "router", "default_route") {
		r.DefaultRoute = DefaultRoute
	}
	if unset(r.MinConfidence == 0, "router", "min_confidence") {
		r.MinConfidence = DefaultMinConfidence
	}
	if len(r.Routes) == 0 {
		r.Routes = DefaultRoutes()
	}
}

func (c *Config) sectionDefaults(unset unsetFunc) {
	sc := &c.Section
	if unset(sc.Split == "", "section", "split") {
		sc.Split = SplitHeadings
	}
	if unset(sc.ChunkTokens == 0, "section", "chunk_tokens") {
		sc.ChunkTokens = DefaultChunkTokens
	}
	if unset(sc.MaxSections == 0, "section", "max_sections") {
		sc.MaxSections = DefaultMaxSections
	}
	if unset(sc.Merge == "", "section", "merge") {
		sc.Merge = MergeConcat
	}
	if unset(sc.VoteCategories == nil, "section", "vote_categories") {
		sc.VoteCategories = []string{"ok", "risk"}
	}
}

func (c *Config) limitsDefaults(unset unsetFunc) {
	l := &c.Limits
	if unset(l.MaxEventBytes == 0, "limits", "max_event_bytes") {
		l.MaxEventBytes = DefaultMaxEventBytes
	}
	if unset(l.MaxAnswerBytes == 0, "limits", "max_answer_bytes") {
		l.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	if unset(l.MaxErrorBodyBytes == 0, "limits", "max_error_body_bytes") {
		l.MaxErrorBodyBytes = DefaultMaxErrorBodyBytes
	}
	if unset(l.MaxPromptBytes == 0, "limits", "max_prompt_bytes") {
		l.MaxPromptBytes = DefaultMaxPromptBytes
	}
}

func (c *Config) consensusDefaults(unset unsetFunc) {
	cs := &c.Consensus
	if unset(cs.Voters == 0, "consensus", "voters") {
		cs.Voters = DefaultVoters
	}
	if unset(cs.MinResponses == 0, "consensus", "min_responses") {
		cs.MinResponses = min(DefaultMinResponses, max(cs.Voters, 1))
	}
	if unset(cs.TieBreak == "", "consensus", "tie_break") {
		cs.TieBreak = TieEscalate
	}
	// "general" is the default answer only where it is a valid answer; a
	// config with other categories must choose its own (validated when
	// tie_break is "default").
	if unset(cs.DefaultAnswer == "", "consensus", "default_answer") {
		cs.DefaultAnswer = ""
		if len(cs.Categories) == 0 || slices.Contains(cs.Categories, DefaultAnswer) {
			cs.DefaultAnswer = DefaultAnswer
		}
	}
}

// providerDefaults gives each provider its kind (when named after one) and
// the variable its key is read from.
func (c *Config) providerDefaults() {
	for name, p := range c.Providers {
		if f, ok := lookupKind(name); ok && p.Kind == "" && !f.NeedsBaseURL {
			p.Kind = name // [providers.openai] needs no kind = "openai"
		}
		if p.APIKeyEnv == "" && p.APIKey == "" && p.APIKeyCmd == "" {
			// The kind's first variable; its others are tried too when
			// the key is resolved.
			if f, ok := lookupKind(p.Kind); ok && len(f.KeyEnvs) > 0 {
				p.APIKeyEnv = f.KeyEnvs[0]
			}
		}
		c.Providers[name] = p
	}
}

// modelDefaults runs after providerDefaults: a model of a simulated kind
// gets a [models.sim] table.
func (c *Config) modelDefaults() {
	for i := range c.Models {
		m := &c.Models[i]
		if m.Model == "" {
			m.Model = vendorModel(m.ID)
		}
		if m.Sim == nil && simulated(c.Providers[m.Provider].Kind) {
			m.Sim = &SimConfig{} // the sim package has defaults for every zero
		}
	}
}

// tierDefaults gives a config without tiers the tier quick of every model,
// and every tier its timeouts and, without models, every model.
func (c *Config) tierDefaults(isSet func(key ...string) bool) {
	if len(c.Tiers) == 0 && len(c.Models) > 0 {
		c.Tiers = map[string]TierConfig{"quick": {}}
	}
	ids := c.modelIDs()
	for name, t := range c.Tiers {
		t.fill(name, func(key string) bool { return isSet != nil && isSet("tiers", name, key) })
		if t.Models == nil {
			t.Models = slices.Clone(ids)
		}
		c.Tiers[name] = t
	}
}

// firstTier is the default tier: quick, else the first the file defines,
// else the first of [Config.TierOrder].
func (c *Config) firstTier(tierOrder []string) string {
	if _, ok := c.Tiers["quick"]; ok {
		return "quick"
	}
	if len(tierOrder) > 0 {
		return tierOrder[0]
	}
	if names := c.TierOrder(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// fill applies the tier timeouts' defaults (quick's for a tier not among
// [TierNames]). isSet reports keys written in the file; nil means zero is
// unset.
func (t *TierConfig) fill(name string, isSet func(key string) bool) {
	unset := func(zero bool, key string) bool {
		if isSet != nil && isSet(key) {
			return false
		}
		return zero
	}
	d, ok := tierDefaults[name]
	if !ok {
		d = tierDefaults["quick"]
	}
	if unset(t.Timeout.Duration == 0, "timeout") {
		t.Timeout.Duration = d[0]
	}
	if unset(t.PerModelTimeout.Duration == 0, "per_model_timeout") {
		t.PerModelTimeout.Duration = d[1]
	}
	if unset(t.StallTimeout.Duration == 0, "stall_timeout") {
		t.StallTimeout.Duration = DefaultStallTimeout
	}
}

// vendorModel is a model id's part after the first "/", or the id.
func vendorModel(id string) string {
	if _, after, ok := strings.Cut(id, "/"); ok && after != "" {
		return after
	}
	return id
}

// ApplyDefaults fills the zero values of a Config built in Go with the
// defaults [Parse] applies to keys a file leaves out. A zero that has a
// non-zero default (hedge delay 0s, max_extra 0) cannot be told from a
// missing value here: set it after ApplyDefaults.
func (c *Config) ApplyDefaults() { c.applyDefaults(nil, nil) }
