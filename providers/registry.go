package providers

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Factory is what a vendor package registers for one provider kind (see
// [Register]): how to build a provider of that kind, and what the config
// needs to know about it (its default key variables, whether it needs a
// base_url).
type Factory struct {
	// New builds a provider. For an ordinary kind it is called once per
	// configured provider, whose models then share it; for a simulated kind
	// once per model, with Settings.Model, Seed and Sim set. A returned
	// *[Error] (a key that cannot work) makes the provider a failing one,
	// shown in its models' panes; any other error stops the program.
	New func(ctx context.Context, s Settings) (Provider, error)
	// KeyEnvs are the variables the key is read from when the config names
	// no key source: the first one set wins (GEMINI_API_KEY, then
	// GOOGLE_API_KEY). Errors name the first. Empty: the kind needs no key
	// unless the config gives one (a local OpenAI-compatible server).
	KeyEnvs []string
	// NeedsBaseURL says a provider of this kind must set base_url;
	// BaseURLExample is shown when it does not ("http://localhost:11434/v1").
	NeedsBaseURL   bool
	BaseURLExample string
	// Simulated marks a kind whose models are simulated: it needs no key
	// and no URL, its models may have a [models.sim] table (Settings.Sim),
	// and New is called once per model.
	Simulated bool
	// Refuses names the request settings this kind never sends ("system",
	// "max_tokens", "temperature"): the engine drops them for its models,
	// with a note, rather than let them vanish unsaid.
	Refuses []string
}

// Settings is what [Factory.New] is given.
type Settings struct {
	// Name is the provider's name in the config ("openai", "groq"); it
	// prefixes every error.
	Name string
	// Kind is the kind the factory was registered under.
	Kind string
	// BaseURL is the configured API root; empty means the vendor's.
	BaseURL string
	// APIKey is the resolved key, empty when there is none.
	APIKey string
	// KeyEnv names the variable the key came from (or should come from),
	// for auth errors ("set OPENAI_API_KEY").
	KeyEnv string
	// Limits bound what a provider reads; a zero field means the vendor's
	// default.
	Limits Limits
	// Gateway is the headers and query parameters added to every request
	// (the config's headers and query, "${VAR}" values resolved); what
	// the SDK sets wins over it.
	Gateway Gateway

	// Model is the model id, for a simulated kind.
	Model string
	// Seed seeds a simulated model, so that a run can be repeated.
	Seed int64
	// Sim is the model's [models.sim] table, for a simulated kind; nil when
	// the model has none.
	Sim *SimParams
}

// SimParams is a simulated model's character, as the config's
// [models.sim] table writes it; zero fields take the simulator's defaults.
type SimParams struct {
	TTFT, TTFTP95 time.Duration // median and p95 time to first token
	TokensPerSec  float64
	OutputTokens  int
	ErrorRate     float64
	RateLimitRate float64
	StallRate     float64
	CutRate       float64
	SlowRate      float64
	SlowFactor    float64
	// BadRankingRate is the chance that a peer review's ranking is malformed.
	BadRankingRate float64
	// Answers weighs the simulated votes of a classification request.
	Answers map[string]float64
	// Capacity is how many calls run at full speed (0: unlimited).
	Capacity int
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a provider kind available to the config and the
// program, the way database/sql drivers register: each vendor package
// calls it from its init. It panics if kind is empty or already
// registered, or f has no New.
func Register(kind string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if kind == "" {
		panic("providers: Register with an empty kind")
	}
	if f.New == nil {
		panic("providers: Register of kind " + kind + " without New")
	}
	if _, dup := registry[kind]; dup {
		panic(fmt.Sprintf("providers: kind %q registered twice", kind))
	}
	registry[kind] = f
}

// Lookup returns the factory registered for kind.
func Lookup(kind string) (Factory, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	f, ok := registry[kind]
	return f, ok
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	kinds := make([]string, 0, len(registry))
	for k := range registry {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Unregister removes a kind; for tests that register a fake one.
func Unregister(kind string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	delete(registry, kind)
}
