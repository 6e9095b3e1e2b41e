package engine

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
)

const ms = time.Millisecond

// window fills a model's latency window: finished calls, then lower bounds.
func window(finished, bounds []time.Duration) *modelStats {
	st := &modelStats{}
	for _, d := range finished {
		st.addOK(d/4, d)
	}
	for _, d := range bounds {
		st.addLowerBound(d)
	}
	return st
}

// spread is n latencies from lo in steps of step.
func spread(n int, lo, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + time.Duration(i)*step
	}
	return out
}

// TestAdaptiveDelay: the delay is the configured quantile unless a slow
// mode holds more of the calls than the quantile leaves out; then it is
// the knee, also once the hedges themselves have cut the slow calls (lower
// bounds just past the knee, which must not move it).
func TestAdaptiveDelay(t *testing.T) {
	fast := spread(70, 1000*ms, 10*ms) // 1.00s .. 1.69s
	for _, c := range []struct {
		name             string
		finished, bounds []time.Duration
		want             time.Duration
		share            float64 // 0: no slow mode
	}{
		{"too few samples: the fallback", spread(10, 100*ms, 10*ms), nil, 400 * ms, 0},
		{"one mode: p95", spread(100, 10*ms, 10*ms), nil, 950 * ms, 0},
		{"3% slow: p95 lies before the slow mode", append(spread(97, 1000*ms, 5*ms), spread(3, 9*time.Second, 100*ms)...), nil, 1470 * ms, 0.03},
		{"30% slow: the knee", append(fast, spread(30, 8*time.Second, 100*ms)...), nil, 1690 * ms, 0.3},
		{"30% slow, most cut by hedges: still the knee", append(fast, spread(5, 8*time.Second, 100*ms)...), spread(25, 2400*ms, 20*ms), 1690 * ms, 0.3},
		{"30% slow, all cut by hedges: the knee below the bounds", fast, spread(30, 2400*ms, 20*ms), 1690 * ms, 0.3},
		{"2% of calls cut by hedges above every finished one: p95", spread(98, 1000*ms, 5*ms), spread(2, 2000*ms, 5*ms), 1470 * ms, 0.02},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := window(c.finished, c.bounds)
			if got := adaptiveDelay(st.sorted(), 0.95, 400*ms); got != c.want {
				t.Errorf("delay %v, want %v", got, c.want)
			}
			m, ok := st.slowMode()
			if ok != (c.share > 0) || ok && (m.Share < c.share-1e-9 || m.Share > c.share+1e-9) {
				t.Errorf("slow mode %+v found %v, want share %v", m, ok, c.share)
			}
		})
	}
}

// TestLateHedge: a backup that would most likely end after the primary
// does not fire; one fired before a slow mode does; without enough
// samples of the backup nothing is judged.
func TestLateHedge(t *testing.T) {
	backup := &model{}
	for range minHedgeSamples {
		backup.stats.addOK(100*ms, 800*ms)
	}
	// Calls past 2s end by 2.3s: a backup needing 800ms cannot win.
	smooth := &model{}
	for _, d := range append(spread(90, 1000*ms, 10*ms), spread(10, 2000*ms, 30*ms)...) {
		smooth.stats.addOK(d/4, d)
	}
	if !(&Engine{}).lateHedge(smooth, backup, 2000*ms) {
		t.Errorf("a backup at 2s + 800ms against calls that end by 2.3s fired")
	}
	// Calls past the knee are eight times slower: the backup wins.
	bimodal := &model{}
	for _, d := range append(spread(70, 1000*ms, 10*ms), spread(30, 8*time.Second, 100*ms)...) {
		bimodal.stats.addOK(d/4, d)
	}
	if (&Engine{}).lateHedge(bimodal, backup, 1690*ms) {
		t.Errorf("a backup at the knee, before a slow mode, was held as late")
	}
	if (&Engine{}).lateHedge(smooth, &model{}, 2000*ms) {
		t.Errorf("judged late without the backup's latencies")
	}
}

// TestHedgeFiresAtTheKnee: a primary with three calls in ten eight times
// slower hedges at the fast mode's slowest call, not at its p95 (inside
// the slow mode), and HedgeTail reports the slow share and what it needs.
func TestHedgeFiresAtTheKnee(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.Budget = config.Duration{}
		// 100..190ms, every call%10 < 3 eight seconds.
		p := newFake(func(call int) script {
			if call%10 < 3 {
				return script{ttft: 8 * time.Second, text: "p"}
			}
			return script{ttft: time.Duration(call%10+10) * 10 * ms, text: "p"}
		})
		e := newTestEngine(c, map[string]*fake{"p": p, "b": fixed(script{ttft: 50 * ms, text: "b"})})
		defer e.Close()
		for range 40 {
			collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Models: []string{"p"}})
		}
		tail, ok := e.HedgeTail("p")
		if !ok || tail.Knee != 190*ms || tail.SlowShare != 0.3 || tail.Delay != 190*ms || tail.NeedsMaxExtra != 0.4 {
			t.Fatalf("tail %+v: want the knee at 190ms, 30%% slow, the delay there, 0.40 needed (0.3 + 2 sd over 100)", tail)
		}
		p.scripts = func(int) script { return script{ttft: 8 * time.Second, text: "p"} }
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		if h, ok := find(evs, HedgeFired, "b"); !ok || h.T != 190*ms {
			t.Errorf("hedge fired %v at %v, want at the knee 190ms", ok, h.T)
		}
		if sum.Winner != "b" {
			t.Errorf("winner %q, want the backup", sum.Winner)
		}
	})
}
