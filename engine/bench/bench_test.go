package bench

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	_ "github.com/council-dev/council/providers/sim"
)

// simClients builds the simulated models of cfg as the program does.
func simClients(cfg *config.Config, seed int64) (map[string]providers.Provider, error) {
	f, _ := providers.Lookup("sim")
	out := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		var sp *providers.SimParams
		if c := m.Sim; c != nil {
			sp = &providers.SimParams{TTFT: c.TTFT.Duration, TTFTP95: c.TTFTP95.Duration, TokensPerSec: c.TokensPerSec,
				OutputTokens: c.OutputTokens, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
				StallRate: c.StallRate, CutRate: c.CutRate, SlowRate: c.SlowRate, SlowFactor: c.SlowFactor,
				BadRankingRate: c.BadRankingRate, Answers: c.Answers}
		}
		p, err := f.New(context.Background(), providers.Settings{Name: m.Provider, Kind: "sim", Model: m.ID, Seed: seed, Sim: sp})
		if err != nil {
			return nil, err
		}
		out[m.ID] = p
	}
	return out, nil
}

func mustParse(t testing.TB, toml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(toml), "bench.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func reportJSON(t testing.TB, r *Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSameSeedSameNumbers runs the same bench twice on the demo council
// (models that fail, stall and straggle) and compares the JSON.
func TestSameSeedSameNumbers(t *testing.T) {
	for _, st := range []string{"race", "hedge", "consensus", "council"} {
		t.Run(st, func(t *testing.T) {
			var got []string
			for range 2 {
				w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: 150, Seed: 7}
				r, err := Run(context.Background(), w, []string{st})
				if err != nil {
					t.Fatal(err)
				}
				if r.Clock != "virtual" || r.Partial || r.Strategies[0].Sessions != 150 {
					t.Fatalf("clock %s partial %v sessions %d; want virtual, whole, 150", r.Clock, r.Partial, r.Strategies[0].Sessions)
				}
				got = append(got, reportJSON(t, r))
			}
			if got[0] != got[1] {
				t.Errorf("same seed, different numbers:\n%s\n%s", got[0], got[1])
			}
		})
	}
}
