package bench

import (
	"context"
	"errors"
	"fmt"
)

// Sweep is a concurrency sweep: one strategy measured at each
// max_concurrency from one bound to the other, with as many sessions in
// flight as the limit allows calls, so that the limit is what binds.
type Sweep struct {
	Strategy string  `json:"strategy"`
	Points   []Point `json:"points"`
	// Ceiling is the lowest concurrency whose throughput is within
	// [CeilingShare] of the best measured: where raising the limit stops
	// paying. 0 when nothing was measured, or when throughput still rose
	// at the highest limit tried (the ceiling lies beyond the sweep).
	Ceiling int `json:"ceiling"`
}

// CeilingShare is how close to the best throughput the ceiling is.
const CeilingShare = 0.95

// Point is one concurrency limit's measurements.
type Point struct {
	Concurrency int `json:"concurrency"`
	Sessions    int `json:"sessions"`
	Successes   int `json:"successes"`
	// Throughput is successful sessions per second of (virtual) time.
	Throughput float64 `json:"throughput_per_s"`
	P50MS      float64 `json:"p50_ms"`
	P95MS      float64 `json:"p95_ms"`
	P99MS      float64 `json:"p99_ms"`
}

// RunSweep measures strategy at every max_concurrency from lo to hi.
// A cancelled ctx stops it, keeping the points measured (marked partial).
func RunSweep(ctx context.Context, w *Workload, strategy string, lo, hi int) (*Report, error) {
	if lo < 1 || hi < lo {
		return nil, fmt.Errorf("bench: concurrency sweep %d..%d: want 1 <= A <= B", lo, hi)
	}
	if w.Sessions < 1 {
		return nil, errors.New("bench: sessions must be at least 1")
	}
	rep := newReport(w)
	rep.Sweep = &Sweep{Strategy: strategy, Points: []Point{}}
	spent := 0.0
	for c := lo; c <= hi; c++ {
		if ctx.Err() != nil {
			rep.Partial = true
			break
		}
		cfg, ok := w.capLeft(rep, spent)
		if !ok {
			break
		}
		cfg.MaxConcurrency = c
		r := &run{w: w, strategy: strategy, label: fmt.Sprintf("%s at concurrency %d of %d..%d", strategy, c, lo, hi), cfg: cfg,
			parallel: c, before: (c - lo) * w.Sessions, total: (hi - lo + 1) * w.Sessions}
		res, err := r.execute(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s at concurrency %d: %w", strategy, c, err)
		}
		rep.note(res)
		st := summarise(w, strategy, res)
		spent += st.CostUSD
		p := Point{Concurrency: c, Sessions: st.Sessions, Successes: st.Successes,
			P50MS: st.P50MS, P95MS: st.P95MS, P99MS: st.P99MS}
		if s := res.elapsed.Seconds(); s > 0 {
			p.Throughput = round3(float64(st.Successes) / s)
		}
		rep.Sweep.Points = append(rep.Sweep.Points, p)
		if res.stopped != "" {
			break
		}
	}
	rep.Sweep.Ceiling = ceiling(rep.Sweep.Points)
	return rep, nil
}

// ceiling is the lowest concurrency within CeilingShare of the best
// throughput; 0 when that is the highest limit of several tried, where
// nothing says throughput would not go on rising.
func ceiling(ps []Point) int {
	best := 0.0
	for _, p := range ps {
		best = max(best, p.Throughput)
	}
	for i, p := range ps {
		if best > 0 && p.Throughput >= CeilingShare*best {
			if i == len(ps)-1 && i > 0 {
				return 0
			}
			return p.Concurrency
		}
	}
	return 0
}
