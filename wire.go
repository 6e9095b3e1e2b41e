package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"

	// The provider kinds built into this council: each package registers
	// its own (see providers.Register).
	_ "github.com/council-dev/council/providers/anthropic"
	_ "github.com/council-dev/council/providers/gemini"
	_ "github.com/council-dev/council/providers/openai"
	_ "github.com/council-dev/council/providers/sim"
)

// buildClients makes one provider per model id. A provider that cannot be
// set up (its key is missing) becomes a failing provider: its models show
// the error in their panes and their breakers trip, nothing crashes.
func buildClients(ctx context.Context, cfg *config.Config, seed int64) (map[string]providers.Provider, error) {
	limits := providers.Limits{
		MaxEventBytes:     cfg.Limits.MaxEventBytes,
		MaxErrorBodyBytes: cfg.Limits.MaxErrorBodyBytes,
	}
	shared := make(map[string]providers.Provider)
	out := make(map[string]providers.Provider, len(cfg.Models))
	for _, m := range cfg.Models {
		pc := cfg.Providers[m.Provider]
		f, ok := providers.Lookup(pc.Kind)
		if !ok {
			return nil, fmt.Errorf("provider %s: kind %q is not built into this council", m.Provider, pc.Kind)
		}
		if f.Simulated {
			p, err := build(ctx, f, providers.Settings{Name: m.Provider, Kind: pc.Kind, BaseURL: pc.BaseURL, Limits: limits,
				Model: m.ID, Seed: seed, Sim: simParams(m.Sim)})
			if err != nil {
				return nil, err
			}
			out[m.ID] = p
			continue
		}
		p, ok := shared[m.Provider]
		if !ok {
			var err error
			p, err = newProvider(ctx, f, m.Provider, pc, limits)
			if err != nil {
				return nil, err
			}
			shared[m.Provider] = p
		}
		out[m.ID] = p
	}
	return out, nil
}

// newProvider resolves a provider's key and builds it. A key that cannot
// be found makes a failing provider whose models show an auth error naming
// the variable (or the key command's failure).
func newProvider(ctx context.Context, f providers.Factory, name string, pc config.ProviderConfig, limits providers.Limits) (providers.Provider, error) {
	key, keyEnv := pc.APIKey, pc.APIKeyEnv
	if key == "" && (keyEnv != "" || pc.APIKeyCmd != "") {
		k, err := providers.ResolveKey(ctx, keyEnv, pc.APIKeyCmd)
		if err != nil && pc.APIKeyCmd == "" && len(f.KeyEnvs) > 1 && keyEnv == f.KeyEnvs[0] {
			// The kind's other variables (Google's tools read
			// GOOGLE_API_KEY as well as GEMINI_API_KEY); errors name the first.
			for _, env := range f.KeyEnvs[1:] {
				if k2, err2 := providers.ResolveKey(ctx, env, ""); err2 == nil {
					k, err, keyEnv = k2, nil, env
					break
				}
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
	gw, secrets, err := providers.ResolveGateway(pc.Headers, pc.Query)
	if err != nil {
		return providers.Failing(&providers.Error{Kind: providers.KindAuth, Provider: name,
			Message: "gateway " + err.Error(), Err: err}), nil
	}
	p, err := build(ctx, f, providers.Settings{Name: name, Kind: pc.Kind, BaseURL: pc.BaseURL, APIKey: key, KeyEnv: keyEnv,
		Limits: limits, Gateway: gw})
	if err != nil {
		return nil, err
	}
	// "${VAR}" values are secrets like the key: out of every error.
	return providers.Redacting(p, secrets), nil
}

// build calls the factory; a provider that cannot work (no key) fails in
// its panes, not here.
func build(ctx context.Context, f providers.Factory, s providers.Settings) (providers.Provider, error) {
	p, err := f.New(ctx, s)
	var pe *providers.Error
	if errors.As(err, &pe) {
		return providers.Failing(pe), nil
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// simParams is a model's [models.sim] table for a simulated kind.
func simParams(c *config.SimConfig) *providers.SimParams {
	if c == nil {
		return nil
	}
	return &providers.SimParams{
		TTFT: c.TTFT.Duration, TTFTP95: c.TTFTP95.Duration, TokensPerSec: c.TokensPerSec,
		OutputTokens: c.OutputTokens, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
		StallRate: c.StallRate, CutRate: c.CutRate, SlowRate: c.SlowRate, SlowFactor: c.SlowFactor,
		BadRankingRate: c.BadRankingRate, Capacity: c.Capacity,
		Answers: c.Answers,
	}
}
