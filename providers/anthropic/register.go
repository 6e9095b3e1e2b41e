package anthropic

import (
	"context"

	"github.com/council-dev/council/providers"
)

// This package's kind in the providers registry.
func init() {
	providers.Register("anthropic", providers.Factory{
		KeyEnvs: []string{DefaultKeyEnv},
		// The API version the SDK speaks dropped temperature; Messages has
		// no JSON mode (a prefilled "{" would be a guess, not a contract).
		Refuses: []string{"temperature", "response_format"},
		New: func(_ context.Context, s providers.Settings) (providers.Provider, error) {
			c, err := New(Options{Settings: s})
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}
