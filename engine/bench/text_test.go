package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
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
	fits(t, got, 80)
	lines := strings.Split(got, "\n")
	if !strings.Contains(lines[4], "p99 11.90s") || !strings.Contains(lines[7], "p99 2.70s") { // under a two-line title
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
	fits(t, b.String(), 80)
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

// fits fails t for every line of out wider than width cells.
func fits(t *testing.T, out string, width int) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Errorf("line %d is %d cells, over %d:\n%s", i+1, w, width, line)
		}
	}
}

// TestReportFitsEightyColumns: single, race and hedge on the demo council
// (five models, long ids) drawn at 80 columns: no line is wider, and no
// cell is cut (every name and every p95 is there whole), at 80 and wider.
func TestReportFitsEightyColumns(t *testing.T) {
	w := &Workload{Config: config.Demo(), Clients: simClients, Sessions: 60, Seed: 1}
	r, err := Run(context.Background(), w, []string{Single, "race", "hedge"})
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{80, 100, 160} {
		var b bytes.Buffer
		if err := r.WriteText(&b, width); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		fits(t, out, width)
		if strings.Contains(out, "…") {
			t.Errorf("width %d: a cell was cut:\n%s", width, out)
		}
		for _, s := range r.Strategies {
			for _, want := range []string{s.Strategy + " ", ms(s.P95MS), pct(s.FailureRate), usd(s.WastedCostUSD)} {
				if !strings.Contains(out, want) {
					t.Errorf("width %d: no %q for %s:\n%s", width, want, s.Strategy, out)
				}
			}
			for _, m := range s.Models {
				if !strings.Contains(out, m.ID+" ") {
					t.Errorf("width %d: no model %q:\n%s", width, m.ID, out)
				}
			}
		}
		if width == 80 {
			t.Logf("\n%s", out)
		}
	}
}

// TestTableCutsWithASign: a model id too long for the width is cut with
// "…", the line still within it; the columns that do not fit beside the
// keys continue below, each block led by the keys.
func TestTableCutsWithASign(t *testing.T) {
	long := "openrouter/" + strings.Repeat("very-long-model-name-", 4) + "v1"
	tb := &table{keys: 2, head: []string{"strategy", "model", "calls", "p50", "p95", "p99", "cost", "wasted"}}
	tb.rows = [][]string{{"hedge", long, "500", "1.43s", "2.97s", "9.23s", "$0.0334", "$0.00235"}, {"hedge", "sim/swift", "155", "821ms", "1.12s", "3.57s", "$0.00374", "$0.000055"}}
	var b bytes.Buffer
	tb.write(&b, 80)
	out := b.String()
	fits(t, out, 80)
	if !strings.Contains(out, "openrouter/very-long") || !strings.Contains(out, "…") {
		t.Errorf("the long id is not cut with a sign:\n%s", out)
	}
	for _, want := range []string{"$0.000055", "9.23s", "sim/swift"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "strategy"); n < 2 {
		t.Errorf("%d heads: want the table to continue in a second block:\n%s", n, out)
	}
}

// TestSweepProgressIsOverall: a sweep reports one progress over all its
// points: the total stays the whole sweep's and done never goes back.
func TestSweepProgressIsOverall(t *testing.T) {
	var calls []struct {
		batch       string
		done, total int
	}
	w := &Workload{Config: loadFile(t, "ceiling.toml"), Clients: simClients, Sessions: 30, Seed: 1,
		Progress: func(batch string, done, total int) {
			calls = append(calls, struct {
				batch       string
				done, total int
			}{batch, done, total})
		}}
	if _, err := RunSweep(context.Background(), w, "race", 2, 4); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("no progress")
	}
	last := 0
	batches := map[string]bool{}
	for _, c := range calls {
		if c.total != 90 || c.done < last {
			t.Fatalf("progress %+v after %d: want done rising to the total 90 (3 points of 30)", c, last)
		}
		last = c.done
		batches[c.batch] = true
	}
	if last != 90 || len(batches) != 3 || !batches["race at concurrency 3 of 2..4"] {
		t.Errorf("last %d, batches %v: want 90 and each point named", last, batches)
	}
}
