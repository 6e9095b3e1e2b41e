package wire

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// TestModelHealthRoundTrip: a health row as the server writes it comes
// back, through its JSON, as the breaker board reads it: the durations
// the JSON carries in milliseconds are durations again.
func TestModelHealthRoundTrip(t *testing.T) {
	in := ModelHealth{Model: "sim/a", Provider: "sim", Kind: "sim", InFlight: 2,
		Breaker: engine.BreakerSnapshot{State: engine.BreakerOpen, Requests: 9, Failures: 6, FailureRate: 6.0 / 9,
			HalfOpenInMS: 1500, HeldForMS: 250.5},
		Latency: Latency{Count: 9, TTFTP50MS: 40, P50MS: 120, P95MS: 900, P99MS: 1200.5}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out ModelHealth
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	h := out.Engine()
	if h.ID != "sim/a" || h.ProviderKind != "sim" || h.Breaker.State != engine.BreakerOpen || h.Breaker.Failures != 6 {
		t.Fatalf("row = %+v", h)
	}
	if h.Breaker.HalfOpenIn != 1500*time.Millisecond || h.Breaker.HeldFor != 250500*time.Microsecond {
		t.Errorf("half-open in %v, held for %v; want 1.5s and 250.5ms", h.Breaker.HalfOpenIn, h.Breaker.HeldFor)
	}
	if h.Latency.Count != 9 || h.Latency.TTFT.P50 != 40*time.Millisecond || h.Latency.Total.P99 != 1200500*time.Microsecond {
		t.Errorf("latency = %+v", h.Latency)
	}
}

// TestHealthOfIsEngineInverse: a model's health written for the stream
// and read back is the health the engine gave, on the stream's 0.1 ms grid.
func TestHealthOfIsEngineInverse(t *testing.T) {
	in := engine.ModelHealth{ID: "sim/b", Provider: "sim", ProviderKind: "sim",
		Breaker: engine.BreakerSnapshot{State: engine.BreakerHalfOpen, Requests: 4, Failures: 1},
		Latency: engine.LatencySnapshot{Count: 4, TTFT: engine.Quantiles{P50: 80 * time.Millisecond},
			Total: engine.Quantiles{P50: 300 * time.Millisecond, P95: 1200 * time.Millisecond, P99: 1500 * time.Millisecond, P95AtLeast: true, P99AtLeast: true}}}
	row := HealthOf(in, 3)
	if row.InFlight != 3 || row.Latency.P95MS != 1200 {
		t.Fatalf("row %+v", row)
	}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"p95_at_least":true,"p99_at_least":true`) || strings.Contains(string(b), "p50_at_least") {
		t.Errorf("a lower bound's mark is not on the stream as p95/p99_at_least only: %s", b)
	}
	if err := json.Unmarshal(b, &row); err != nil {
		t.Fatal(err)
	}
	out := row.Engine()
	if out.ID != in.ID || out.Breaker.State != in.Breaker.State || out.Latency.TTFT.P50 != in.Latency.TTFT.P50 ||
		out.Latency.Total != in.Latency.Total || out.Latency.Count != in.Latency.Count {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
}

// A model's recent outcomes travel the stream: the watcher's board draws
// what the server's did.
func TestHealthCarriesRecentOutcomes(t *testing.T) {
	h := engine.ModelHealth{ID: "m", Recent: []engine.Outcome{engine.OutcomeOK, engine.OutcomeFailed, engine.OutcomeCancelled, engine.OutcomeSkipped}}
	b, err := json.Marshal(HealthOf(h, 0))
	if err != nil {
		t.Fatal(err)
	}
	var back ModelHealth
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Engine().Recent; !slices.Equal(got, h.Recent) {
		t.Errorf("recent outcomes %v after the stream, want %v (%s)", got, h.Recent, b)
	}
}

// A hello names the server's tiers with their timeouts.
func TestHelloCarriesTiers(t *testing.T) {
	d := func(s string) config.Duration { v, _ := time.ParseDuration(s); return config.Duration{Duration: v} }
	cfg := &config.Config{Tiers: map[string]config.TierConfig{
		"quick": {Models: []string{"a", "b"}, Timeout: d("30s"), PerModelTimeout: d("10s")},
		"high":  {Models: []string{"c"}, PerModelTimeout: d("2m")},
	}}
	tiers := TiersOf(cfg)
	if len(tiers) != len(cfg.Tiers) {
		t.Fatalf("%d tiers, want %d", len(tiers), len(cfg.Tiers))
	}
	for _, tr := range tiers {
		c := cfg.Tiers[tr.Name]
		if tr.PerModelTimeoutMS != c.PerModelTimeout.Milliseconds() || tr.TimeoutMS != c.Timeout.Milliseconds() || !slices.Equal(tr.Models, c.Models) {
			t.Errorf("tier %s: %+v, want %v", tr.Name, tr, c)
		}
	}
}
