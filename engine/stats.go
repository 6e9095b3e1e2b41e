package engine

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// statsWindow is how many recent completions latency quantiles are taken over.
const statsWindow = 256

// recentLen is how many recent outcomes a model keeps for sparklines.
const recentLen = 32

// modelStats is one model's latency window and recent outcomes. It outlives
// sessions: the adaptive hedge delay and the breaker board read it.
type modelStats struct {
	mu     sync.Mutex
	ttft   [statsWindow]time.Duration
	total  [statsWindow]time.Duration
	n      int // samples ever added
	recent [recentLen]Outcome
	nout   int
}

// addOK records a completed attempt: its latencies and its outcome.
func (s *modelStats) addOK(ttft, total time.Duration) {
	s.mu.Lock()
	i := s.n % statsWindow
	s.ttft[i], s.total[i] = ttft, total
	s.n++
	s.recent[s.nout%recentLen] = OutcomeOK
	s.nout++
	s.mu.Unlock()
}

// addLowerBound records a call known only to take longer than total (a
// hedge's primary still running when its backup won), without an outcome
// of its own and without a time to first token (-1, left out of the TTFT
// quantiles, and the mark [modelStats.quantile] knows it by).
func (s *modelStats) addLowerBound(total time.Duration) { s.addBound(total, -1) }

// addCut records a call the hedge cut at the knee of its slow mode to
// replace it (hedge.replace): a lower bound like any other, which also
// counts in the slow mode whatever the knee has become since (its time
// to first token is -2, the mark [modelStats.sorted] knows it by). Read
// as a plain lower bound at its value, a cut at an earlier, lower knee
// would count in the fast mode once the knee rose past it, and the slow
// share would sink with every replacement.
func (s *modelStats) addCut(total time.Duration) { s.addBound(total, -2) }

func (s *modelStats) addBound(total, mark time.Duration) {
	s.mu.Lock()
	i := s.n % statsWindow
	s.ttft[i], s.total[i] = mark, total
	s.n++
	s.mu.Unlock()
}

// addOutcome records how an attempt ended.
func (s *modelStats) addOutcome(o Outcome) {
	s.mu.Lock()
	s.recent[s.nout%recentLen] = o
	s.nout++
	s.mu.Unlock()
}

// sample is one call's total latency in the window; bound marks a lower
// bound (the call took longer than total), cut one the hedge cut at the
// knee to replace it, counted in the slow mode (see [modelStats.addCut]).
type sample struct {
	total      time.Duration
	bound, cut bool
}

// latWindow is a latency window's calls, fastest first.
type latWindow []sample

// sorted is the window's calls, fastest first.
func (s *modelStats) sorted() latWindow {
	s.mu.Lock()
	n := min(s.n, statsWindow)
	buf := make([]sample, n)
	for i := range buf {
		buf[i] = sample{s.total[i], s.ttft[i] < 0, s.ttft[i] == -2}
	}
	s.mu.Unlock()
	slices.SortStableFunc(buf, func(a, b sample) int { return cmp.Compare(a.total, b.total) })
	return buf
}

// kneeRatio is how much slower than the fast mode's slowest finished call
// the next one must be for the gap between them to split two modes (a
// straggler's slow calls), not the spread of one.
const kneeRatio = 2.0

// slowMode is a model's slow mode as its window shows it.
type slowMode struct {
	// Knee is the fast mode's slowest finished call: a backup fired then
	// starts before any call of the slow mode has ended.
	Knee time.Duration
	// Share is the share of the window's calls beyond the knee (lower
	// bounds above it included: calls a hedge cut, or that timed out).
	Share float64
	// Samples is the window's size.
	Samples int
}

// slowMode finds the widest gap, at least kneeRatio wide, between two
// consecutive finished calls with at least half the window below it, or
// failing that, lower bounds above every finished call; ok is false when
// there is neither (one mode, or too few samples). Only finished calls
// bound the gap: a lower bound's value is where a hedge cut it, which
// would move the knee after each hedge delay.
func (s *modelStats) slowMode() (slowMode, bool) { return s.sorted().slowMode() }

// slowMode is [modelStats.slowMode] for w.
func (buf latWindow) slowMode() (m slowMode, ok bool) {
	n := len(buf)
	if n < minHedgeSamples {
		return slowMode{Samples: n}, false
	}
	// below(i) is how many calls up to index i are in the fast mode:
	// all but the cuts, which the hedge judged slow whatever their value.
	cutsTo := make([]int, n)
	cuts := 0
	for i, x := range buf {
		if x.cut {
			cuts++
		}
		cutsTo[i] = cuts
	}
	below := func(i int) int { return i + 1 - cutsTo[i] }
	best := 0.0
	prev := -1 // the previous finished call's index
	for i, x := range buf {
		if x.bound {
			continue
		}
		if prev >= 0 && 2*below(prev) >= n && buf[prev].total > 0 {
			if r := float64(x.total) / float64(buf[prev].total); r >= kneeRatio && r > best {
				best = r
				m = slowMode{Knee: buf[prev].total, Share: float64(n-below(prev)) / float64(n)}
			}
		}
		prev = i
	}
	if best == 0 && prev >= 0 && 2*below(prev) >= n && boundAtKnee(buf, prev) {
		// No finished call beyond a gap, but calls known to be slower than
		// every finished one: once hedges cut every slow call at the knee,
		// the slow mode is only lower bounds (and cuts, counted wherever
		// they lie).
		m, best = slowMode{Knee: buf[prev].total, Share: float64(n-below(prev)) / float64(n)}, kneeRatio
	}
	m.Samples = n
	return m, best > 0
}

// boundAtKnee reports whether a lower bound lies after the finished call
// at knee, or a cut was made near it (within kneeRatio: the knee wanders
// as the window turns over). Cuts made at a knee far below it (the model
// has turned slow since) count in the slow mode's share, but do not make
// one.
func boundAtKnee(buf latWindow, knee int) bool {
	if knee < len(buf)-1 {
		return true // sorted: everything after the last finished call is a bound
	}
	for i := knee - 1; i >= 0 && float64(buf[i].total)*kneeRatio >= float64(buf[knee].total); i-- {
		if buf[i].cut {
			return true
		}
	}
	return false
}

// pastShare is, of the window's calls that ran longer than d, the share
// that ran longer than later as well; ok is false when fewer than
// minPast did. A lower bound counts when its value is past d, and as
// past later too: all that is known is that it had not ended. A cut
// counts as past both, whatever its value: it is one of the slow mode.
func (s *modelStats) pastShare(d, later time.Duration) (float64, bool) {
	return s.sorted().pastShare(d, later)
}

// pastShare is [modelStats.pastShare] for w.
func (w latWindow) pastShare(d, later time.Duration) (share float64, ok bool) {
	const minPast = 5
	past, beyond := 0, 0
	for _, x := range w {
		if x.total <= d && !x.cut {
			continue
		}
		past++
		if x.bound || x.total > later {
			beyond++
		}
	}
	if past < minPast {
		return 0, false
	}
	return float64(beyond) / float64(past), true
}

// quantile returns the q-quantile of total latency and the sample count.
// A lower bound counts as a call at least that slow; when the quantile
// falls on one, the answer is the slowest finished call below it: the
// quantile is known to lie above that, and a lower bound's own value
// (its primary's time until its hedge won) would feed each hedge delay
// back into the next, raising it session after session.
func (s *modelStats) quantile(q float64) (time.Duration, int) { return s.sorted().quantile(q) }

// quantile is [modelStats.quantile] for w.
func (buf latWindow) quantile(q float64) (time.Duration, int) {
	n := len(buf)
	if n == 0 {
		return 0, 0
	}
	i := min(max(int(q*float64(n)+0.999999)-1, 0), n-1)
	for j := i; j >= 0; j-- {
		if !buf[j].bound {
			return buf[j].total, n
		}
	}
	return buf[i].total, n
}

func (s *modelStats) snapshot() (LatencySnapshot, []Outcome) {
	s.mu.Lock()
	n := min(s.n, statsWindow)
	ttft := make([]time.Duration, n)
	total := make([]time.Duration, n)
	copy(ttft, s.ttft[:n])
	copy(total, s.total[:n])
	k := min(s.nout, recentLen)
	recent := make([]Outcome, 0, k)
	for i := s.nout - k; i < s.nout; i++ {
		recent = append(recent, s.recent[i%recentLen])
	}
	s.mu.Unlock()
	// A call cut before its end (time to first token -1 or -2: see
	// addLowerBound and addCut) has no time to first token, and its total
	// is a lower bound: a quantile at or above one is marked so.
	w := make(latWindow, n)
	for i := range w {
		w[i] = sample{total: total[i], bound: ttft[i] < 0}
	}
	slices.SortFunc(w, func(a, b sample) int { return cmp.Compare(a.total, b.total) })
	ttft = slices.DeleteFunc(ttft, func(d time.Duration) bool { return d < 0 })
	slices.Sort(ttft)
	return LatencySnapshot{Count: n, TTFT: quantiles(ttft), Total: w.quantiles()}, recent
}

// quantiles is the window's nearest-rank quantiles of total latency, each
// marked as a lower bound when a cut call lies at or below it (w sorted).
func (w latWindow) quantiles() Quantiles {
	if len(w) == 0 {
		return Quantiles{}
	}
	at := func(q float64) (time.Duration, bool) {
		i := min(max(int(q*float64(len(w))+0.999999)-1, 0), len(w)-1)
		return w[i].total, slices.ContainsFunc(w[:i+1], func(s sample) bool { return s.bound })
	}
	var qs Quantiles
	qs.P50, qs.P50AtLeast = at(0.50)
	qs.P95, qs.P95AtLeast = at(0.95)
	qs.P99, qs.P99AtLeast = at(0.99)
	return qs
}

func quantiles(sorted []time.Duration) Quantiles {
	if len(sorted) == 0 {
		return Quantiles{}
	}
	return Quantiles{P50: pick(sorted, 0.50), P95: pick(sorted, 0.95), P99: pick(sorted, 0.99)}
}

// pick is the nearest-rank quantile of sorted samples.
func pick(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// slowest is the window's longest total latency (a lower bound's value
// included) and its sample count: a cheap scan, without the sort
// [modelStats.quantile] makes, for a caller that only needs to know
// whether any call took longer than some time.
func (s *modelStats) slowest() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(s.n, statsWindow)
	var m time.Duration
	for _, d := range s.total[:n] {
		m = max(m, d)
	}
	return m, n
}
