package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/openai"
	"github.com/council-dev/council/providers/sim"
)

// buildClients makes one provider per model id. A provider that cannot be
// set up (its key is missing) becomes a failing provider: its models show
// the error in their panes and their breakers trip, nothing crashes.
func buildClients(ctx context.Context, cfg *engine.Config, seed int64) (map[string]providers.Provider, error) {
	shared := make(map[string]providers.Provider)
	out := make(map[string]providers.Provider, len(cfg.Models))
	for _, m := range cfg.Models {
		pc := cfg.Providers[m.Provider]
		if pc.Kind == "sim" {
			out[m.ID] = sim.New(m.ID, simParams(m.Sim), seed)
			continue
		}
		p, ok := shared[m.Provider]
		if !ok {
			var err error
			p, err = newProvider(ctx, m.Provider, pc)
			if err != nil {
				return nil, err
			}
			shared[m.Provider] = p
		}
		out[m.ID] = p
	}
	return out, nil
}

func newProvider(ctx context.Context, name string, pc engine.ProviderConfig) (providers.Provider, error) {
	key := pc.APIKey
	if key == "" && (pc.APIKeyEnv != "" || pc.APIKeyCmd != "") {
		k, err := providers.ResolveKey(ctx, pc.APIKeyEnv, pc.APIKeyCmd)
		if err != nil {
			msg := err.Error()
			if errors.Is(err, providers.ErrNoKey) && pc.APIKeyEnv != "" && pc.APIKeyCmd == "" {
				msg = fmt.Sprintf("no API key: set %s", pc.APIKeyEnv)
			}
			return providers.Failing(&providers.Error{Kind: providers.KindAuth, Provider: name, Message: msg}), nil
		}
		key = k
	}
	switch pc.Kind {
	case "openai", "openai-compatible":
		return openai.New(openai.Options{Name: name, Kind: pc.Kind, BaseURL: pc.BaseURL, APIKey: key, KeyEnv: pc.APIKeyEnv})
	}
	return providers.Failing(&providers.Error{Kind: providers.KindError, Provider: name,
		Message: fmt.Sprintf("provider kind %q is not built into this council", pc.Kind)}), nil
}

func simParams(c *engine.SimConfig) sim.Params {
	if c == nil {
		return sim.Params{}
	}
	return sim.Params{
		TTFT: c.TTFT.Duration, TTFTP95: c.TTFTP95.Duration, TokensPerSec: c.TokensPerSec,
		OutputTokens: c.OutputTokens, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
		StallRate: c.StallRate, CutRate: c.CutRate, SlowRate: c.SlowRate, SlowFactor: c.SlowFactor,
		Answers: c.Answers,
	}
}
