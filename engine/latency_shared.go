package engine

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// LatencySample is one finished call in a model's fleet latency window.
type LatencySample struct {
	Total time.Duration
	// Bound marks a lower bound: the call took longer than Total (a
	// primary its hedge beat, or one that timed out).
	Bound bool
	// Cut marks a lower bound the hedge cut at the knee of the model's
	// slow mode to replace it (hedge.replace): it counts in the slow mode
	// wherever it lies, as in the model's own window (see
	// [modelStats.addCut]). A cut is a lower bound, Bound or not.
	Cut bool
}

// fleetLatencyEvery is how often a replica reads a model's fleet window
// at most: a hedge session reads the cached copy in between.
const fleetLatencyEvery = time.Second

// fleetLatency is a model's latency window as the fleet shares it: every
// finished call is added to it, and a replica whose own window is too
// thin for a quantile hedge delay reads the fleet's instead, so that a
// new replica hedges well from its first call.
type fleetLatency struct {
	st    SharedState
	ctx   context.Context // the engine's
	model string

	mu     sync.Mutex
	at     time.Time // when the cached window was last asked for
	asked  bool
	cached latWindow
}

// add shares a finished call's latency (or a lower bound's).
func (f *fleetLatency) add(total time.Duration, bound bool) {
	f.put(LatencySample{Total: total, Bound: bound})
}

// put shares x. Unreached, the call counts in this replica's own window
// alone.
func (f *fleetLatency) put(x LatencySample) { _ = f.st.AddLatency(f.ctx, f.model, x) }

// get is the fleet's window, read from the store at most every
// fleetLatencyEvery; nil while the store cannot be reached (the replica
// then uses its own window at once).
func (f *fleetLatency) get(now time.Time) latWindow {
	f.mu.Lock()
	if f.asked && now.Sub(f.at) < fleetLatencyEvery {
		w := f.cached
		f.mu.Unlock()
		return w
	}
	f.asked, f.at = true, now // one read at a time: the others take the cache
	f.mu.Unlock()
	got, err := f.st.Latencies(f.ctx, f.model)
	var w latWindow
	if err == nil {
		w = make(latWindow, len(got))
		for i, x := range got {
			w[i] = sample{total: x.Total, bound: x.Bound || x.Cut, cut: x.Cut}
		}
		slices.SortStableFunc(w, func(a, b sample) int { return cmp.Compare(a.total, b.total) })
	}
	f.mu.Lock()
	f.cached = w
	f.mu.Unlock()
	return w
}

// latencyWindow is m's latency window as a hedge reads it: its own, or,
// while that holds fewer than minHedgeSamples calls and the fleet's holds
// more, the fleet's (see [fleetLatency.get]).
func (e *Engine) latencyWindow(m *model) latWindow { return e.window(m, true) }

// cachedWindow is latencyWindow without a read of the store: for a
// backup about to fire, which must not wait on Redis (the session's start
// read the fleet's window moments before).
func (e *Engine) cachedWindow(m *model) latWindow { return e.window(m, false) }

func (e *Engine) window(m *model, read bool) latWindow {
	w := m.stats.sorted()
	if len(w) >= minHedgeSamples || m.fleetLat == nil {
		return w
	}
	var fw latWindow
	if read {
		fw = m.fleetLat.get(e.clock.Now())
	} else {
		m.fleetLat.mu.Lock()
		fw = m.fleetLat.cached
		m.fleetLat.mu.Unlock()
	}
	if len(fw) > len(w) {
		return fw
	}
	return w
}

// addLowerBound records a call known only to take longer than total, in
// m's window and the fleet's.
func (e *Engine) addLowerBound(m *model, total time.Duration) {
	m.stats.addLowerBound(total)
	if m.fleetLat != nil {
		m.fleetLat.add(total, true)
	}
}

// addCut records a primary the hedge cut at the knee to replace it (see
// [modelStats.addCut]), in m's window and the fleet's, both marked as a
// cut: a replica hedging on the fleet's window counts it in the slow mode
// as one hedging on its own does.
func (e *Engine) addCut(m *model, total time.Duration) {
	m.stats.addCut(total)
	if m.fleetLat != nil {
		m.fleetLat.put(LatencySample{Total: total, Bound: true, Cut: true})
	}
}
