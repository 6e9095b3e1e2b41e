package engine

import (
	"sync"
	"time"

	"github.com/council-dev/council/providers"
)

// watchdog enforces a session's deadlines with one timer: the session
// timeout, each running attempt's per_model_timeout, and each streaming
// attempt's stall_timeout. One timer per session instead of two per attempt
// keeps a session's cost flat as models are added. The timer is always set
// for the earliest deadline; a stream that keeps talking moves its stall
// deadline on without touching the timer (an atomic store per chunk), and
// the watchdog, finding it not yet due, sets the timer for the new one.
type watchdog struct {
	s       *session
	mu      sync.Mutex
	timer   *time.Timer
	at      time.Duration // when the timer fires; 0: not set
	running []*attempt
	inline  [inlineAttempts]*attempt
	budget  time.Duration // the session timeout, 0 for none
}

// watch starts watching an attempt that has just started.
func (w *watchdog) watch(a *attempt) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running == nil {
		w.running = w.inline[:0]
	}
	w.running = append(w.running, a)
	if d := a.deadline; d > 0 {
		w.arm(d)
	}
}

// unwatch stops watching a finished attempt. The timer is left alone: if it
// fires for nothing, it finds nothing due.
func (w *watchdog) unwatch(a *attempt) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range w.running {
		if r == a {
			w.running = append(w.running[:i], w.running[i+1:]...)
			break
		}
	}
}

// streaming tells the watchdog that a's first token came at t, so its stall
// deadline now applies.
func (w *watchdog) streaming(a *attempt, t time.Duration) {
	stall := w.s.tier.StallTimeout.Duration
	if stall <= 0 {
		return
	}
	a.lastChunk.Store(int64(t))
	w.mu.Lock()
	w.arm(t + stall)
	w.mu.Unlock()
}

// arm makes the timer fire at t (since the session start) if that is
// earlier than it would. w.mu must be held.
func (w *watchdog) arm(t time.Duration) {
	if w.at != 0 && w.at <= t {
		return
	}
	w.at = t
	d := max(t-w.s.since(), 0)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.check)
	} else {
		w.timer.Reset(d)
	}
}

// stop releases the timer when the session ends.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.at = -1 // never arm again
}

// check cancels whatever is due and sets the timer for the next deadline.
func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at < 0 {
		return
	}
	now := w.s.since()
	w.at = 0
	next := time.Duration(0)
	soonest := func(t time.Duration) {
		if t > 0 && (next == 0 || t < next) {
			next = t
		}
	}
	if w.budget > 0 {
		if now >= w.budget {
			w.s.cancel(causeBudget)
		} else {
			soonest(w.budget)
		}
	}
	stall := w.s.tier.StallTimeout.Duration
	kept := w.running[:0]
	for _, a := range w.running {
		due, cause := a.deadline, errModelTimeout
		if lc := time.Duration(a.lastChunk.Load()); lc > 0 && stall > 0 && (due == 0 || lc+stall < due) {
			due, cause = lc+stall, providers.ErrStalled
		}
		if due > 0 && now >= due {
			a.ctx.cancel(cause)
			continue
		}
		soonest(due)
		kept = append(kept, a)
	}
	w.running = kept
	if next > 0 {
		w.arm(next)
	}
}
