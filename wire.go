package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/anthropic"
	"github.com/council-dev/council/providers/gemini"
	"github.com/council-dev/council/providers/openai"
	"github.com/council-dev/council/providers/sim"
)

// buildClients makes one provider per model id. A provider that cannot be
// set up (its key is missing) becomes a failing provider: its models show
// the error in their panes and their breakers trip, nothing crashes.
func buildClients(ctx context.Context, cfg *config.Config, seed int64) (map[string]providers.Provider, error) {
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

func newProvider(ctx context.Context, name string, pc config.ProviderConfig) (providers.Provider, error) {
	key, keyEnv := pc.APIKey, pc.APIKeyEnv
	if key == "" && (keyEnv != "" || pc.APIKeyCmd != "") {
		k, err := providers.ResolveKey(ctx, keyEnv, pc.APIKeyCmd)
		if err != nil && pc.Kind == "gemini" && keyEnv == "GEMINI_API_KEY" && pc.APIKeyCmd == "" {
			// Google's own tools read GOOGLE_API_KEY too.
			if k2, err2 := providers.ResolveKey(ctx, "GOOGLE_API_KEY", ""); err2 == nil {
				k, err, keyEnv = k2, nil, "GOOGLE_API_KEY"
			}
		}
		if err != nil {
			if errors.Is(err, providers.ErrNoKey) && keyEnv != "" && pc.APIKeyCmd == "" {
				return providers.Failing(providers.NoKey(name, keyEnv)), nil
			}
			return providers.Failing(&providers.Error{Kind: providers.KindAuth, Provider: name, Message: err.Error(), Err: err}), nil
		}
		key = k
	}
	var (
		p   providers.Provider
		err error
	)
	switch pc.Kind {
	case "openai", "openai-compatible":
		p, err = openai.New(openai.Options{Name: name, Kind: pc.Kind, BaseURL: pc.BaseURL, APIKey: key, KeyEnv: keyEnv})
	case "anthropic":
		p, err = anthropic.New(anthropic.Options{Name: name, BaseURL: pc.BaseURL, APIKey: key, KeyEnv: keyEnv})
	case "gemini":
		p, err = gemini.New(gemini.Options{Name: name, BaseURL: pc.BaseURL, APIKey: key, KeyEnv: keyEnv})
	default:
		return nil, fmt.Errorf("provider %s: kind %q is not built into this council", name, pc.Kind)
	}
	// A provider that cannot work (no key) fails in its panes, not here.
	var pe *providers.Error
	if errors.As(err, &pe) {
		return providers.Failing(pe), nil
	}
	return p, err
}

func simParams(c *config.SimConfig) sim.Params {
	if c == nil {
		return sim.Params{}
	}
	return sim.Params{
		TTFT: c.TTFT.Duration, TTFTP95: c.TTFTP95.Duration, TokensPerSec: c.TokensPerSec,
		OutputTokens: c.OutputTokens, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
		StallRate: c.StallRate, CutRate: c.CutRate, SlowRate: c.SlowRate, SlowFactor: c.SlowFactor,
		BadRankingRate: c.BadRankingRate,
		Answers:        c.Answers,
	}
}
