package watch

import (
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// TestRowsMergeInstances: two instances serving the same models give a
// combined row per model (volumes summed, the worst state, the slowest
// latency) followed by each instance's row.
func TestRowsMergeInstances(t *testing.T) {
	a := []wire.ModelHealth{
		{Model: "m1", Kind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerClosed, Requests: 10, Failures: 1}, Latency: wire.Latency{Count: 10, P50MS: 100, P99MS: 400, P50AtLeast: true, P99AtLeast: true}},
		{Model: "m2", Kind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerHalfOpen, Requests: 4, Failures: 2}},
	}
	b := []wire.ModelHealth{
		{Model: "m1", Kind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerOpen, Requests: 6, Failures: 5, HalfOpenInMS: 2000, Forced: "closed"}, Latency: wire.Latency{Count: 6, P50MS: 300, P99MS: 200}},
		{Model: "m2", Kind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerClosed, Requests: 4, Failures: 0, Forced: "open"}},
		{Model: "m3", Kind: "openai", Breaker: engine.BreakerSnapshot{Requests: 1}},
	}
	rows := Rows([]string{"a:1", "b:2"}, [][]wire.ModelHealth{a, b})
	var ids []string
	by := map[string]engine.ModelHealth{}
	for _, r := range rows {
		ids = append(ids, r.ID)
		by[r.ID] = r
	}
	if got, want := ids, []string{"m1", "m1@a:1", "m1@b:2", "m2", "m2@a:1", "m2@b:2", "m3", "m3@b:2"}; !equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	m1 := by["m1"]
	if m1.Breaker.Requests != 16 || m1.Breaker.Failures != 6 || m1.Breaker.FailureRate != 6.0/16 {
		t.Errorf("m1 volumes %+v, want 16 requests, 6 failures, rate 0.375", m1.Breaker)
	}
	if m1.Breaker.State != engine.BreakerOpen || m1.Breaker.HalfOpenIn != 2*time.Second || m1.Breaker.Forced != "closed" {
		t.Errorf("m1 state %+v, want open (b's), half-open in 2s, forced closed", m1.Breaker)
	}
	if m1.Latency.Count != 16 || m1.Latency.Total.P50 != 300*time.Millisecond || m1.Latency.Total.P99 != 400*time.Millisecond {
		t.Errorf("m1 latency %+v, want 16 samples, the slowest p50 and p99", m1.Latency)
	}
	// a's p99 is the slower and a lower bound: so is the combined one;
	// b's p50, exact, is the slower: a's bound mark stays with a's.
	if !m1.Latency.Total.P99AtLeast || m1.Latency.Total.P50AtLeast {
		t.Errorf("m1 latency %+v, want p99 at least (a's), p50 exact (b's)", m1.Latency.Total)
	}
	if m2 := by["m2"]; m2.Breaker.State != engine.BreakerHalfOpen || m2.Breaker.Forced != "open" || m2.Breaker.Requests != 8 {
		t.Errorf("m2 %+v, want half_open (worse than closed), forced open, 8 requests", m2.Breaker)
	}
	if r := by["m1@b:2"]; r.Breaker.State != engine.BreakerOpen || r.Breaker.Requests != 6 {
		t.Errorf("m1@b:2 %+v, want b's own row", r.Breaker)
	}
	if one := Rows([]string{"a:1"}, [][]wire.ModelHealth{a}); len(one) != 2 || one[0].ID != "m1" || one[1].ID != "m2" {
		t.Errorf("one instance: %v, want its models only", one)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
