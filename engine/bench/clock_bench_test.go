package bench

import (
	"context"
	"math"
	"sync"
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

// BenchmarkVirtualStep is what one step of the virtual clock costs: a
// goroutine waits 1ms of virtual time, b.N times; the driver sees the
// process quiet and fires its timer. With 8 goroutines each step wakes
// one of them (steps-per-op says how many steps an op was).
func BenchmarkVirtualStep(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(map[int]string{1: "1-goroutine", 8: "8-goroutines"}[n], func(b *testing.B) {
			v := NewVirtual(epoch)
			done := make(chan struct{})
			var wg sync.WaitGroup
			per := b.N/n + 1
			b.ResetTimer()
			for g := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := v.NewTimer(time.Duration(g+1) * time.Microsecond)
					for range per {
						<-t.C()
						t.Reset(time.Millisecond)
					}
				}()
			}
			go func() { wg.Wait(); close(done) }()
			if err := v.Drive(context.Background(), done, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(v.Steps())/float64(b.N), "steps/op")
		})
	}
}
