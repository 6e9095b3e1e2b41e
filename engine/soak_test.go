package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// TestSoak runs COUNCIL_SOAK sessions of every strategy, section included
// (make soak: 5,000)
// over fast simulated models that fail, stall and get cut now and then,
// eight at a time, and checks that goroutines and the heap come back to
// where they were: no session leaves anything behind. Skipped unless
// COUNCIL_SOAK is set; it runs in real time.
func TestSoak(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("COUNCIL_SOAK"))
	if n <= 0 {
		t.Skip("set COUNCIL_SOAK=N to run N sessions of each strategy (make soak)")
	}
	ids := []string{"s1", "s2", "s3", "s4", "s5"}
	c := testConfig(ids...)
	c.Council.MinResponses = 3
	c.Consensus.Voters, c.Consensus.MinResponses, c.Consensus.TieBreak = 5, 3, config.TieDefault
	c.Hedge.MaxExtra = 0.1
	c.Breaker.Cooldown = config.Duration{Duration: 50 * time.Millisecond}
	c.Router = config.RouterConfig{DefaultRoute: "chat", MinConfidence: 0.6, Routes: config.DefaultRoutes()}
	c.Section = config.SectionConfig{Split: config.SplitHeadings, MaxSections: 32, Merge: config.MergeSynthesis,
		Vote: 3, VoteWhen: []string{"liabilit"}, VoteCategories: []string{"ok", "risk"}}
	c.Tiers["t"] = config.TierConfig{Models: ids, Timeout: config.Duration{Duration: 2 * time.Second},
		PerModelTimeout: config.Duration{Duration: time.Second}, StallTimeout: config.Duration{Duration: 50 * time.Millisecond}}
	clients := map[string]providers.Provider{}
	for i, id := range ids {
		clients[id] = sim.New(id, sim.Params{TTFT: time.Millisecond, TTFTP95: 3 * time.Millisecond, TokensPerSec: 20000,
			OutputTokens: 20, ErrorRate: 0.02 * float64(i), StallRate: 0.01, CutRate: 0.01, SlowRate: 0.05, SlowFactor: 5,
			BadRankingRate: 0.1}, int64(i))
	}
	e, err := New(c, clients, WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	measure := func() (int, uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	prompts := []string{"How do database indexes work?", "Is my invoice overdue?", "Why does this fail? ```go\nfunc main(){}\n```", "Tell me about autumn."}
	g0, h0 := measure()
	t.Logf("%-10s %8s %8s %8s %9s %11s %11s %8s", "strategy", "sessions", "answered", "failed", "elapsed", "goroutines", "heap MiB", "Δheap")
	doc := "# Fees\n\nThe customer pays monthly.\n\n# Liability\n\nLiability is capped at the fees paid.\n\n# Term\n\nOne year, renewed yearly."
	for _, st := range append(slices.Clone(config.Strategies), config.Section) {
		start := time.Now()
		var mu sync.Mutex
		answered, failed := 0, 0
		work := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					req := SessionRequest{Prompt: prompts[i%len(prompts)], Strategy: st}
					if st == config.Section {
						req.Document = doc
					}
					sum, err := e.Run(context.Background(), req, nil)
					mu.Lock()
					switch {
					case err != nil:
						t.Errorf("%s session %d: %v", st, i, err)
					case sum.Answer != "":
						answered++
					default:
						failed++
					}
					mu.Unlock()
				}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		g, h := measure()
		t.Logf("%-10s %8d %8d %8d %9s %5d → %-4d %5.1f → %-4.1f %+7.1f",
			st, n, answered, failed, time.Since(start).Round(time.Millisecond), g0, g,
			float64(h0)/(1<<20), float64(h)/(1<<20), (float64(h)-float64(h0))/(1<<20))
		if g > g0 {
			t.Errorf("%s: %d goroutines after %d sessions, %d before", st, g, n, g0)
		}
		if growth := int64(h) - int64(h0); growth > 16<<20 {
			t.Errorf("%s: the heap grew by %.1f MiB over %d sessions", st, float64(growth)/(1<<20), n)
		}
	}
	fmt.Fprintln(os.Stderr) // the table above is the soak's report
}
