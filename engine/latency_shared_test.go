package engine

import (
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// straggler is a primary whose calls are seeded draws: three in ten slow
// (8 s), the rest 1 s plus an exponential tail (mean 150 ms), so the
// fast mode's slowest call, the knee, wanders as the window turns over.
// Every call takes at least a second: a replica reading the fleet's
// window reads it afresh each session (fleetLatencyEvery).
func straggler(seed uint64) *fake {
	return newFake(func(call int) script {
		r := rand.New(rand.NewPCG(seed, uint64(call)))
		if r.Float64() < 0.3 {
			return script{ttft: 8 * time.Second, text: "p"}
		}
		return script{ttft: time.Second + time.Duration(r.ExpFloat64()*150)*ms, text: "p"}
	})
}

// replaceRun is what a run of hedge sessions with hedge.replace did:
// each session's slow mode as its hedge read it (HedgeTail just before),
// and whether it replaced the primary.
type replaceRun struct {
	tails    []HedgeTail
	replaced []bool
}

// meanShare is the run's mean slow share.
func (r replaceRun) meanShare() float64 {
	sum := 0.0
	for _, t := range r.tails {
		sum += t.SlowShare
	}
	return sum / float64(len(r.tails))
}

// runReplacing runs sessions hedge sessions of a straggler primary with
// replace at max_extra 0 (every hedge at the knee replaces): on one
// engine when perReplica is 0, else on a fleet sharing a MemoryShared in
// which each replica runs perReplica sessions (too few for a window of
// its own: it hedges on the fleet's) before a fresh one takes over.
func runReplacing(t *testing.T, seed uint64, sessions, perReplica int) replaceRun {
	c := testConfig("p", "b")
	c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
	c.Hedge.MaxExtra, c.Hedge.Replace = 0, true
	c.Hedge.Budget = config.Duration{}
	p, b := straggler(seed), fixed(script{ttft: 50 * ms, text: "b"})
	st := NewMemoryShared()
	replica := func() *Engine {
		var opts []Option
		if perReplica > 0 {
			opts = append(opts, WithShared(st))
		}
		e, err := New(c, map[string]providers.Provider{"p": p, "b": b}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var run replaceRun
	e := replica()
	defer func() { e.Close() }()
	for i := range sessions {
		if perReplica > 0 && i > 0 && i%perReplica == 0 {
			e.Close()
			e = replica()
		}
		tail, _ := e.HedgeTail("p")
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		run.tails, run.replaced = append(run.tails, tail), append(run.replaced, sum.HedgeReplaced)
	}
	return run
}

// TestFleetWindowKeepsCuts: a fleet of short-lived replicas, each hedging
// on the fleet's latency window, reads the same knee and slow share and
// replaces the same primaries, session by session, as one engine hedging
// on its own window over the same calls. The fleet's window carries each
// cut as a cut: read as a plain lower bound, a cut made at a lower knee
// counts in the fast mode once the knee has risen past it, and the slow
// share the fleet's hedges read sinks below the engine's.
func TestFleetWindowKeepsCuts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sessions = 3000
		local := runReplacing(t, 7, sessions, 0)
		fleet := runReplacing(t, 7, sessions, 10)
		replaced := 0
		for _, r := range local.replaced {
			if r {
				replaced++
			}
		}
		if replaced < sessions/5 {
			t.Fatalf("one engine replaced %d primaries of %d sessions: the rig shows no slow mode", replaced, sessions)
		}
		for i := range sessions {
			l, f := local.tails[i], fleet.tails[i]
			if f.Knee != l.Knee || f.SlowShare != l.SlowShare || f.Samples != l.Samples || fleet.replaced[i] != local.replaced[i] {
				t.Fatalf("session %d: the fleet read knee %v share %.3f of %d calls and replaced %v; one engine %v %.3f of %d, %v "+
					"(mean slow share over the run: fleet %.3f, one engine %.3f)", i, f.Knee, f.SlowShare, f.Samples, fleet.replaced[i],
					l.Knee, l.SlowShare, l.Samples, local.replaced[i], fleet.meanShare(), local.meanShare())
			}
		}
	})
}

// TestFreshReplicaReadsTheBackupsFleetWindow: a replica with no calls of
// its own reads the backup's fleet window when a hedge session starts, so
// that lateHedge, which must not wait on the store when the backup is
// about to fire, finds it cached (it found nothing: the cache was only
// filled for models hedged as primaries).
func TestFreshReplicaReadsTheBackupsFleetWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		st := NewMemoryShared()
		for i := range 2 * minHedgeSamples {
			st.AddLatency(t.Context(), "p", LatencySample{Total: time.Second + time.Duration(i)*ms})
			st.AddLatency(t.Context(), "b", LatencySample{Total: 50 * ms})
		}
		e, err := New(c, map[string]providers.Provider{"p": fixed(script{ttft: 10 * ms, text: "p"}), "b": fixed(script{ttft: 50 * ms, text: "b"})}, WithShared(st))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if _, n := e.cachedWindow(e.models["b"]).quantile(0.5); n != 0 {
			t.Fatalf("the backup's window is cached before any session: %d samples", n)
		}
		collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		if b50, n := e.cachedWindow(e.models["b"]).quantile(0.5); n < minHedgeSamples || b50 != 50*ms {
			t.Errorf("after a hedge session the backup's cached fleet window has %d samples, median %s; want %d at 50ms", n, b50, 2*minHedgeSamples)
		}
	})
}
