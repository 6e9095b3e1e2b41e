package bench

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/council-dev/council/engine"
)

// strategyOf is a Strategy measured as lat (ms), its quantiles taken as
// summarise takes them.
func strategyOf(name string, lat []float64) Strategy {
	lat = slices.Sorted(slices.Values(lat))
	return Strategy{Strategy: name, Sessions: len(lat), Successes: len(lat), latencies: lat,
		P50MS: engine.Quantile(lat, .5), P95MS: engine.Quantile(lat, .95), P99MS: engine.Quantile(lat, .99)}
}

// tailed is n latencies around 1s with every twentieth ten times slower,
// or, hedged, cut to 2.5s.
func tailed(n int, hedged bool) []float64 {
	var out []float64
	for i := range n {
		x := 800 + float64(i%50)*10
		if i%20 == 19 {
			x *= 10
			if hedged {
				x = 2500 + float64(i%7)*40
			}
		}
		out = append(out, x)
	}
	return out
}

// TestLatencyChart is the chart of a tail and its hedged version: the
// slow bump far right for single, pulled in for hedge, p99 marked on it.
func TestLatencyChart(t *testing.T) {
	got := LatencyChart([]Strategy{strategyOf("single", tailed(400, false)), strategyOf("hedge", tailed(400, true))}, 80)
	golden.RequireEqual(t, []byte(got))
	lines := strings.Split(got, "\n")
	if !strings.Contains(lines[3], "p99 11.90s") || !strings.Contains(lines[6], "p99 2.70s") {
		t.Errorf("p99 labels not where expected:\n%s", got)
	}
}

func TestSweepChart(t *testing.T) {
	r := &Report{Sessions: 100, Seed: 1, Clock: "virtual", Sweep: &Sweep{Strategy: "race"}}
	for c, tp := range []float64{1, 1.9, 2.8, 3.6, 3.7, 3.7} {
		r.Sweep.Points = append(r.Sweep.Points, Point{Concurrency: c + 1, Sessions: 100, Throughput: tp, P99MS: 1000 + float64(max(c-3, 0))*500})
	}
	r.Sweep.Ceiling = ceiling(r.Sweep.Points)
	if r.Sweep.Ceiling != 4 {
		t.Errorf("ceiling %d, want 4 (3.6/s is within 5%% of 3.7/s)", r.Sweep.Ceiling)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b, 80); err != nil {
		t.Fatal(err)
	}
	golden.RequireEqual(t, b.Bytes())
	if !strings.Contains(b.String(), "   4  ") || !strings.Contains(b.String(), "◀ ceiling") {
		t.Errorf("the ceiling is not marked on row 4:\n%s", b.String())
	}
}

// TestSweepWithoutACeiling: throughput still rising at the highest limit
// tried is no ceiling found: the JSON says 0 and the report says to sweep
// higher, rather than marking the last limit as the ceiling.
func TestSweepWithoutACeiling(t *testing.T) {
	r := &Report{Sessions: 100, Seed: 1, Clock: "virtual", Sweep: &Sweep{Strategy: "hedge"}}
	for c := range 4 {
		r.Sweep.Points = append(r.Sweep.Points, Point{Concurrency: c + 1, Sessions: 100, Throughput: 0.25 * float64(c+1), P99MS: 11000})
	}
	if r.Sweep.Ceiling = ceiling(r.Sweep.Points); r.Sweep.Ceiling != 0 {
		t.Errorf("ceiling %d, want 0: throughput never stopped rising", r.Sweep.Ceiling)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b, 80); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "◀ ceiling") || !strings.Contains(b.String(), "no ceiling up to 4") {
		t.Errorf("report:\n%s", b.String())
	}
}
