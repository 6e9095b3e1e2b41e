package bench

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// counted counts the calls made to a provider.
type counted struct {
	providers.Provider
	n *atomic.Int64
}

func (c counted) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	c.n.Add(1)
	return c.Provider.Stream(ctx, req)
}

// SetClock hands the virtual clock on to the simulated model.
func (c counted) SetClock(clk providers.Clock) { c.Provider.(clockSetter).SetClock(clk) }

// TestImpossibleQuorumRefusedBeforeAnyCall: a bench of a consensus whose
// tier can never give it its quorum is refused, by Run and by Estimate,
// with the engine's message and no model called.
func TestImpossibleQuorumRefusedBeforeAnyCall(t *testing.T) {
	cfg := config.Demo()
	cfg.Consensus.Voters, cfg.Consensus.MinResponses = 5, 3
	cfg.Tiers["two"] = config.TierConfig{Models: cfg.Tiers[cfg.DefaultTier].Models[:2]}
	var calls atomic.Int64
	clients := func(cfg *config.Config, seed int64) (map[string]providers.Provider, error) {
		m, err := simClients(cfg, seed)
		for id, p := range m {
			m[id] = counted{p, &calls}
		}
		return m, err
	}
	w := &Workload{Config: cfg, Clients: clients, Sessions: 5, Seed: 1, Tier: "two"}
	_, errRun := Run(context.Background(), w, []string{"consensus"})
	_, errEst := Estimate(w, []string{"consensus"}, 1)
	for name, err := range map[string]error{"Run": errRun, "Estimate": errEst} {
		if !errors.Is(err, engine.ErrNoQuorum) || !strings.Contains(err.Error(), "consensus.min_responses") {
			t.Errorf("%s: %v, want the engine's ErrNoQuorum naming consensus.min_responses", name, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d model calls, want none", n)
	}
	// The same bench over a tier that can reach quorum runs and calls.
	w.Tier = ""
	r, err := Run(context.Background(), w, []string{"consensus"})
	if err != nil || calls.Load() == 0 || r.Strategies[0].Sessions != 5 {
		t.Errorf("a possible consensus: %v, %d calls", err, calls.Load())
	}
}
