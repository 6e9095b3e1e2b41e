package watch

import (
	"slices"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// setHealth keeps an instance's latest health and returns the board.
func (h *Hub) setHealth(label string, rows []wire.ModelHealth) []engine.ModelHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.health[label] = rows
	return h.rowsLocked()
}

func (h *Hub) rowsLocked() []engine.ModelHealth {
	per := make([][]wire.ModelHealth, len(h.insts))
	for i, in := range h.insts {
		per[i] = h.health[in.label]
	}
	return Rows(h.Instances(), per)
}

// Rows is the breaker board of the instances labels, whose latest health
// is per (in the same order). One instance: its models. Several: for each
// model a combined row under its own id (see [Combine]), then a row per
// instance that serves it, "model@instance".
func Rows(labels []string, per [][]wire.ModelHealth) []engine.ModelHealth {
	if len(labels) == 1 {
		out := make([]engine.ModelHealth, 0, len(per[0]))
		for _, m := range per[0] {
			out = append(out, m.Engine())
		}
		return out
	}
	var order []string
	by := map[string][]engine.ModelHealth{}
	for i, rows := range per {
		for _, m := range rows {
			if _, ok := by[m.Model]; !ok {
				order = append(order, m.Model)
			}
			e := m.Engine()
			e.ID = m.Model + "@" + labels[i]
			by[m.Model] = append(by[m.Model], e)
		}
	}
	var out []engine.ModelHealth
	for _, id := range order {
		c := Combine(by[id])
		c.ID = id
		out = append(out, c)
		out = append(out, by[id]...)
	}
	return out
}

// severity orders breaker states for the combined row: open is worst.
func severity(s engine.BreakerState) int {
	switch s {
	case engine.BreakerOpen:
		return 2
	case engine.BreakerHalfOpen:
		return 1
	}
	return 0
}

// Combine merges one model's rows from several instances, as Turbine
// merged Hystrix streams: request and failure volumes are summed (the
// failure rate is the sum's), the worst state is shown (open > half_open
// > closed) with the longest wait of the instances in it, forced open wins
// over forced closed, and latency percentiles are the slowest instance's
// (percentiles cannot be summed; the slowest is the one to look at).
func Combine(rows []engine.ModelHealth) engine.ModelHealth {
	var c engine.ModelHealth
	for i, r := range rows {
		if i == 0 {
			c.ID, c.Provider, c.ProviderKind = r.ID, r.Provider, r.ProviderKind
		}
		b := r.Breaker
		c.Breaker.Requests += b.Requests
		c.Breaker.Failures += b.Failures
		switch {
		case severity(b.State) > severity(c.Breaker.State):
			c.Breaker.State, c.Breaker.HalfOpenIn, c.Breaker.HalfOpenInMS = b.State, b.HalfOpenIn, b.HalfOpenInMS
		case b.State == c.Breaker.State && b.HalfOpenIn > c.Breaker.HalfOpenIn:
			c.Breaker.HalfOpenIn, c.Breaker.HalfOpenInMS = b.HalfOpenIn, b.HalfOpenInMS
		}
		c.Breaker.Forced = max(c.Breaker.Forced, b.Forced) // "open" > "closed" > ""
		if b.HeldFor > c.Breaker.HeldFor {
			c.Breaker.HeldFor, c.Breaker.HeldForMS = b.HeldFor, b.HeldForMS
		}
		l := r.Latency
		c.Latency.Count += l.Count
		c.Latency.TTFT = slowest(c.Latency.TTFT, l.TTFT)
		c.Latency.Total = slowest(c.Latency.Total, l.Total)
		c.Recent = append(c.Recent, r.Recent...)
		if r.Knobs != nil && c.Knobs == nil {
			c.Knobs = r.Knobs
		}
	}
	if c.Breaker.Requests > 0 {
		c.Breaker.FailureRate = float64(c.Breaker.Failures) / float64(c.Breaker.Requests)
	}
	if n := len(c.Recent); n > 32 {
		c.Recent = slices.Clone(c.Recent[n-32:])
	}
	return c
}

// slowest is each quantile of a's and b's, the slower, a lower bound when
// the one taken is (when both are as slow, when either is).
func slowest(a, b engine.Quantiles) engine.Quantiles {
	pick := func(x, y time.Duration, xb, yb bool) (time.Duration, bool) {
		switch {
		case x > y:
			return x, xb
		case y > x:
			return y, yb
		}
		return x, xb || yb
	}
	var q engine.Quantiles
	q.P50, q.P50AtLeast = pick(a.P50, b.P50, a.P50AtLeast, b.P50AtLeast)
	q.P95, q.P95AtLeast = pick(a.P95, b.P95, a.P95AtLeast, b.P95AtLeast)
	q.P99, q.P99AtLeast = pick(a.P99, b.P99, a.P99AtLeast, b.P99AtLeast)
	return q
}
