package openai

import (
	"context"

	"github.com/council-dev/council/providers"
)

// The kinds this package serves, in the providers registry.
func init() {
	build := func(_ context.Context, s providers.Settings) (providers.Provider, error) {
		c, err := New(Options{Settings: s})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	providers.Register(KindOpenAI, providers.Factory{New: build, KeyEnvs: []string{"OPENAI_API_KEY"}})
	// Local servers often need no key, so this kind has no default variable.
	providers.Register(KindCompatible, providers.Factory{New: build, NeedsBaseURL: true,
		BaseURLExample: "https://openrouter.ai/api/v1 or http://localhost:11434/v1"})
}
