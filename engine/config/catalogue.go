package config

import (
	"github.com/council-dev/council/providers"
)

// The kinds [DefaultCouncil]'s catalogue names. What a config may name is
// whatever the vendor packages registered (see [providers.Register]):
// their factories say each kind's key variables and needs; nothing here
// does.
const (
	KindOpenAI           = "openai"
	KindOpenAICompatible = "openai-compatible"
	KindAnthropic        = "anthropic"
	KindGemini           = "gemini"
	KindSim              = "sim"
)

// lookupKind is the registered factory of a kind.
func lookupKind(kind string) (providers.Factory, bool) {
	if kind == "" {
		return providers.Factory{}, false
	}
	return providers.Lookup(kind)
}

// simulated reports whether kind is a registered simulated kind.
func simulated(kind string) bool {
	f, ok := lookupKind(kind)
	return ok && f.Simulated
}

// keyedProvider is a provider the default council uses when its key is in
// the environment and its kind is registered.
type keyedProvider struct {
	name, kind, baseURL string
	envs                []string // the first one set is used; nil: the kind's KeyEnvs
	models              []defaultModel
}

// keyEnvs are the variables p's key may be in.
func (p keyedProvider) keyEnvs() []string {
	if p.envs != nil {
		return p.envs
	}
	f, _ := lookupKind(p.kind)
	return f.KeyEnvs
}

type defaultModel struct {
	model     string
	in, out   float64 // USD per million tokens
	tiers     []string
	maxTokens int
}

// defaultProviders are the providers and models of [DefaultCouncil], with
// list prices in USD per million tokens. Within a tier, each provider's
// cheaper model comes first.
var defaultProviders = []keyedProvider{
	{name: "openai", kind: KindOpenAI, models: []defaultModel{
		{model: "gpt-4.1-nano", in: 0.10, out: 0.40, tiers: []string{"quick"}},
		{model: "gpt-4.1-mini", in: 0.40, out: 1.60, tiers: []string{"quick", "balanced"}},
		{model: "gpt-4.1", in: 2.00, out: 8.00, tiers: []string{"balanced", "high"}},
		{model: "gpt-5", in: 1.25, out: 10.00, tiers: []string{"high", "reasoning"}},
		{model: "o4-mini", in: 1.10, out: 4.40, tiers: []string{"reasoning"}},
	}},
	{name: "anthropic", kind: KindAnthropic, models: []defaultModel{
		{model: "claude-haiku-4-5", in: 1.00, out: 5.00, tiers: []string{"quick", "balanced"}},
		{model: "claude-sonnet-4-5", in: 3.00, out: 15.00, tiers: []string{"balanced", "high", "reasoning"}},
		{model: "claude-opus-4-1", in: 15.00, out: 75.00, tiers: []string{"high", "reasoning"}},
	}},
	{name: "gemini", kind: KindGemini, models: []defaultModel{
		{model: "gemini-2.5-flash-lite", in: 0.10, out: 0.40, tiers: []string{"quick"}},
		{model: "gemini-2.5-flash", in: 0.30, out: 2.50, tiers: []string{"quick", "balanced"}},
		{model: "gemini-2.5-pro", in: 1.25, out: 10.00, tiers: []string{"high", "reasoning"}},
	}},
	// OpenRouter's own variable: the openai-compatible kind has none.
	{name: "openrouter", kind: KindOpenAICompatible, baseURL: "https://openrouter.ai/api/v1",
		envs: []string{"OPENROUTER_API_KEY"}, models: []defaultModel{
			{model: "meta-llama/llama-3.3-70b-instruct", in: 0.13, out: 0.40, tiers: []string{"quick"}},
			{model: "google/gemini-2.5-flash", in: 0.30, out: 2.50, tiers: []string{"quick", "balanced"}},
			{model: "openai/gpt-4.1-mini", in: 0.40, out: 1.60, tiers: []string{"quick", "balanced"}},
			{model: "anthropic/claude-haiku-4.5", in: 1.00, out: 5.00, tiers: []string{"balanced"}},
			{model: "anthropic/claude-sonnet-4.5", in: 3.00, out: 15.00, tiers: []string{"high", "reasoning"}},
			{model: "openai/gpt-5", in: 1.25, out: 10.00, tiers: []string{"high", "reasoning"}},
		}},
}

// KeyEnvVars are the environment variables [DefaultCouncil] looks for
// (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY,
// OPENROUTER_API_KEY when every vendor is built in).
func KeyEnvVars() []string {
	var vars []string
	for _, p := range defaultProviders {
		if _, ok := lookupKind(p.kind); ok {
			vars = append(vars, p.keyEnvs()...)
		}
	}
	return vars
}
