package gemini

import (
	"context"

	"github.com/council-dev/council/providers"
)

// This package's kind in the providers registry.
func init() {
	providers.Register("gemini", providers.Factory{
		KeyEnvs: KeyEnvs, // GEMINI_API_KEY, else GOOGLE_API_KEY, as Google's tools do
		New: func(_ context.Context, s providers.Settings) (providers.Provider, error) {
			c, err := New(Options{Settings: s})
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}
