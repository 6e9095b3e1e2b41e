package bench

import (
	"context"
	"math"
	"testing"
	"time"
)

// BenchmarkVirtualVsRealClock runs one short hedged workload on the
// virtual clock and then in real time, and reports how far the virtual
// p50 and p95 are from the real ones (percent) and each run's wall time.
// A measurement for make bench, not a test: real time on a shared
// machine is what it is.
func BenchmarkVirtualVsRealClock(b *testing.B) {
	for b.Loop() {
		var res [2]Strategy
		var wall [2]time.Duration
		for i, real := range []bool{false, true} {
			w := &Workload{Config: loadFile(b, "clockcheck.toml"), Clients: simClients, Sessions: 200, Seed: 1,
				Parallel: 10, Real: real}
			t0 := time.Now()
			r, err := Run(context.Background(), w, []string{"hedge"})
			if err != nil {
				b.Fatal(err)
			}
			wall[i] = time.Since(t0)
			res[i] = r.Strategies[0]
		}
		off := func(v, r float64) float64 { return 100 * math.Abs(v-r) / r }
		b.ReportMetric(off(res[0].P50MS, res[1].P50MS), "p50-off-%")
		b.ReportMetric(off(res[0].P95MS, res[1].P95MS), "p95-off-%")
		b.ReportMetric(off(res[0].P99MS, res[1].P99MS), "p99-off-%")
		b.ReportMetric(res[0].P50MS, "virtual-p50-ms")
		b.ReportMetric(res[1].P50MS, "real-p50-ms")
		b.ReportMetric(res[0].P95MS, "virtual-p95-ms")
		b.ReportMetric(res[1].P95MS, "real-p95-ms")
		b.ReportMetric(float64(wall[0].Milliseconds()), "virtual-wall-ms")
		b.ReportMetric(float64(wall[1].Milliseconds()), "real-wall-ms")
	}
}
