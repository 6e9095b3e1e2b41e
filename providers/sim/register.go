package sim

import (
	"context"

	"github.com/council-dev/council/providers"
)

// One simulated model per configured model, its character from the
// model's [models.sim] table.
func init() {
	providers.Register("sim", providers.Factory{
		Simulated: true,
		Refuses:   []string{"json_schema"}, // it answers {"answer": ...}, whatever the schema
		New: func(_ context.Context, s providers.Settings) (providers.Provider, error) {
			var p Params
			if c := s.Sim; c != nil {
				p = Params{
					TTFT: c.TTFT, TTFTP95: c.TTFTP95, TokensPerSec: c.TokensPerSec, OutputTokens: c.OutputTokens,
					ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate, StallRate: c.StallRate, CutRate: c.CutRate,
					SlowRate: c.SlowRate, SlowFactor: c.SlowFactor, BadRankingRate: c.BadRankingRate, Answers: c.Answers,
					Capacity: c.Capacity,
				}
			}
			return New(s.Model, p, s.Seed), nil
		},
	})
}
