package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
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
				BadRankingRate: c.BadRankingRate, Answers: c.Answers, Capacity: c.Capacity}
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
	for st, n := range map[string]int{"race": 150, "hedge": 150, "consensus": 150, "council": 40} { // a council is ten calls
		t.Run(st, func(t *testing.T) {
			var got []string
			for range 2 {
				w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: n, Seed: 7}
				r, err := Run(context.Background(), w, []string{st})
				if err != nil {
					t.Fatal(err)
				}
				if r.Clock != "virtual" || r.Partial || r.Strategies[0].Sessions != n {
					t.Fatalf("clock %s partial %v sessions %d; want virtual, whole, %d", r.Clock, r.Partial, r.Strategies[0].Sessions, n)
				}
				got = append(got, reportJSON(t, r))
			}
			if got[0] != got[1] {
				t.Errorf("same seed, different numbers:\n%s\n%s", got[0], got[1])
			}
		})
	}
}

func loadFile(t testing.TB, name string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bench", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b, name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func byName(t *testing.T, r *Report, name string) Strategy {
	t.Helper()
	for _, s := range r.Strategies {
		if s.Strategy == name {
			return s
		}
	}
	t.Fatalf("no %s in the report", name)
	return Strategy{}
}

// TestSameSeedSameNumbersInFlight: eight hedge sessions in flight at once
// over shared breakers, statistics, hedge budget and models, twice.
func TestSameSeedSameNumbersInFlight(t *testing.T) {
	var got []string
	for range 2 {
		w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: 300, Seed: 7, Parallel: 8}
		r, err := Run(context.Background(), w, []string{"hedge"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, reportJSON(t, r))
	}
	if got[0] != got[1] {
		t.Errorf("same seed, different numbers:\n%s\n%s", got[0], got[1])
	}
}

// TestHedgeCutsTheTail: on a workload where 5% of calls are 10x slower,
// hedging at the primary's p95 cuts p99 at least 2x, with at most 6% of
// sessions firing a backup (The Tail at Scale).
func TestHedgeCutsTheTail(t *testing.T) {
	w := &Workload{Config: loadFile(t, "tail.toml"), Clients: simClients, Sessions: 5000, Seed: 1}
	r, err := Run(context.Background(), w, []string{Single, "hedge"})
	if err != nil {
		t.Fatal(err)
	}
	single, hedge := byName(t, r, Single), byName(t, r, "hedge")
	t.Logf("p99 single %.0fms, hedge %.0fms (%.2fx); extra %.1f%%", single.P99MS, hedge.P99MS, single.P99MS/hedge.P99MS, 100*hedge.ExtraRequests)
	if hedge.P99MS*2 > single.P99MS {
		t.Errorf("hedged p99 %.0fms, unhedged %.0fms: want at least a 2x cut", hedge.P99MS, single.P99MS)
	}
	if hedge.ExtraRequests > 0.06 || hedge.HedgesFired == 0 {
		t.Errorf("extra requests %.3f (%d hedges): want some, at most 6%%", hedge.ExtraRequests, hedge.HedgesFired)
	}
	if single.ExtraRequests != 0 {
		t.Errorf("the single model fired extra requests: %.3f", single.ExtraRequests)
	}
}

// TestMaxExtraHolds: when every call is slower than a fixed hedge delay,
// every session would hedge; max_extra holds the share at its rate.
func TestMaxExtraHolds(t *testing.T) {
	cfg := loadFile(t, "maxextra.toml")
	w := &Workload{Config: cfg, Clients: simClients, Sessions: 2000, Seed: 1}
	r, err := Run(context.Background(), w, []string{"hedge"})
	if err != nil {
		t.Fatal(err)
	}
	h := byName(t, r, "hedge")
	rate := cfg.Hedge.MaxExtra
	t.Logf("extra %.1f%% at max_extra %.0f%%", 100*h.ExtraRequests, 100*rate)
	if h.ExtraRequests > rate || h.ExtraRequests < rate/2 {
		t.Errorf("extra requests %.3f: want at or under max_extra %.2f, and near it (every call is slow)", h.ExtraRequests, rate)
	}
}

// TestMajorityOfFive: five voters each right 80% of the time decide
// right with the binomial probability P(X >= 3), X ~ B(5, 0.8) = 94.21%,
// and early decision needs fewer than five votes on average.
func TestMajorityOfFive(t *testing.T) {
	w := &Workload{Config: loadFile(t, "voters.toml"), Clients: simClients, Sessions: 5000, Seed: 1}
	r, err := Run(context.Background(), w, []string{"consensus"})
	if err != nil {
		t.Fatal(err)
	}
	c := byName(t, r, "consensus")
	if c.Accuracy == nil || c.MeanVotes == nil {
		t.Fatalf("no accuracy or mean votes in %+v", c)
	}
	p := 0.8
	want := 0.0
	for k := 3; k <= 5; k++ {
		want += binom(5, k) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(5-k))
	}
	t.Logf("accuracy %.2f%% (binomial %.2f%%), mean votes %.2f, right answer %s", 100**c.Accuracy, 100*want, *c.MeanVotes, c.RightAnswer)
	if c.RightAnswer != "billing" {
		t.Errorf("right answer %q, want billing (0.8 of every voter's weight)", c.RightAnswer)
	}
	if math.Abs(*c.Accuracy-want) > 0.01 {
		t.Errorf("accuracy %.4f, want within one point of %.4f", *c.Accuracy, want)
	}
	if *c.MeanVotes >= 5 || *c.MeanVotes < 3 {
		t.Errorf("mean votes %.2f: want 3 or more (a majority) and fewer than 5 (early decision)", *c.MeanVotes)
	}
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// TestSweepFindsTheCeiling: a model serving 4 calls at full speed gives
// throughput that rises with the concurrency limit up to 4, then stays
// flat while p99 grows; the report marks 4.
func TestSweepFindsTheCeiling(t *testing.T) {
	w := &Workload{Config: loadFile(t, "ceiling.toml"), Clients: simClients, Sessions: 300, Seed: 1}
	r, err := RunSweep(context.Background(), w, "race", 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	ps := r.Sweep.Points
	if len(ps) != 8 {
		t.Fatalf("%d points, want 8", len(ps))
	}
	for _, p := range ps {
		t.Logf("c=%d throughput %.2f/s p99 %.0fms", p.Concurrency, p.Throughput, p.P99MS)
	}
	for i := 1; i < 4; i++ {
		if ps[i].Throughput < ps[i-1].Throughput*1.3 {
			t.Errorf("throughput at %d (%.2f/s) is not well above %d's (%.2f/s): below capacity it should rise",
				i+1, ps[i].Throughput, i, ps[i-1].Throughput)
		}
	}
	for i := 4; i < 8; i++ {
		if ps[i].Throughput > ps[3].Throughput*1.05 {
			t.Errorf("throughput at %d (%.2f/s) is above 4's (%.2f/s): beyond capacity it should stay flat", i+1, ps[i].Throughput, ps[3].Throughput)
		}
	}
	if ps[7].P99MS < 1.5*ps[3].P99MS {
		t.Errorf("p99 at 8 (%.0fms) vs 4 (%.0fms): beyond capacity latency should grow", ps[7].P99MS, ps[3].P99MS)
	}
	if r.Sweep.Ceiling != 4 {
		t.Errorf("ceiling %d, want 4 (the model's capacity)", r.Sweep.Ceiling)
	}
}

// TestNoLatencyWithoutACompletedCall: a model whose every call was
// cancelled (in a race of the demo council, the slow sim/sage) has no
// latency to report: null in the JSON and "-" in the table, never 0ms.
func TestNoLatencyWithoutACompletedCall(t *testing.T) {
	w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: 60, Seed: 1}
	r, err := Run(context.Background(), w, []string{"race"})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := r.WriteText(&table, 160); err != nil {
		t.Fatal(err)
	}
	none := 0
	for _, m := range r.Strategies[0].Models {
		completed := m.Won + m.Done
		if (m.P50MS == nil) != (completed == 0) || (m.TTFTP50MS == nil) != (completed == 0) {
			t.Errorf("%s: %d completed calls, p50 %v ttft %v", m.ID, completed, m.P50MS, m.TTFTP50MS)
		}
		if completed > 0 {
			continue
		}
		none++
		for _, line := range strings.Split(table.String(), "\n") {
			if f := strings.Fields(line); len(f) > 12 && f[0] == "race" && f[1] == m.ID && (f[8] != "-" || f[11] != "-") {
				t.Errorf("table row %q: want - for p50 and ttft", line)
			}
		}
	}
	if none == 0 {
		t.Fatal("every model completed a call: the case under test did not happen")
	}
	if j := reportJSON(t, r); !strings.Contains(j, `"p50_ms":null`) {
		t.Errorf("JSON has no null latency:\n%s", j)
	}
}

// TestSameSeedSameNumbersQueued: a race of the demo council's five models
// over two slots queues three of each session's calls; which gets a freed
// slot must not depend on which goroutine ran first, or the same seed
// would give different numbers. Twice, compared.
func TestSameSeedSameNumbersQueued(t *testing.T) {
	var got []string
	for range 2 {
		w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: 40, Seed: 3}
		r, err := RunSweep(context.Background(), w, "race", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, reportJSON(t, r))
	}
	if got[0] != got[1] {
		t.Errorf("same seed, different numbers:\n%s\n%s", got[0], got[1])
	}
}
