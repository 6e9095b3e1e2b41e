package engine

import (
	"sync"
	"sync/atomic"
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
//
// Attempts take no lock to be watched: an attempt marks itself running, and
// a deadline no earlier than the one the timer is already set for needs
// nothing more, since the check the timer makes will see it (the attempt
// writes its deadline before it reads when the timer fires, and the check
// clears that time before it reads the deadlines).
type watchdog struct {
	s      *session
	mu     sync.Mutex
	timer  *time.Timer
	at     atomic.Int64  // when the timer fires (a time.Duration since the session start); 0: not set; -1: stopped
	budget time.Duration // the session timeout, 0 for none
}

// watch starts watching an attempt that has just started; its deadline is
// set.
func (w *watchdog) watch(a *attempt) {
	a.running.Store(true)
	if d := a.deadline; d > 0 {
		w.ensure(d)
	}
}

// unwatch stops watching a finished attempt. The timer is left alone: if it
// fires for nothing, it finds nothing due.
func (w *watchdog) unwatch(a *attempt) { a.running.Store(false) }

// streaming tells the watchdog that a's first token came at t, so its stall
// deadline now applies.
func (w *watchdog) streaming(a *attempt, t time.Duration) {
	stall := w.s.tier.StallTimeout.Duration
	if stall <= 0 {
		return
	}
	a.lastChunk.Store(int64(t))
	w.ensure(t + stall)
}

// ensure makes the timer fire no later than t.
func (w *watchdog) ensure(t time.Duration) {
	if at := w.at.Load(); at < 0 || (at > 0 && time.Duration(at) <= t) {
		return
	}
	w.mu.Lock()
	w.arm(t)
	w.mu.Unlock()
}

// arm makes the timer fire at t (since the session start) if that is
// earlier than it would. w.mu must be held.
func (w *watchdog) arm(t time.Duration) {
	if at := time.Duration(w.at.Load()); at < 0 || (at != 0 && at <= t) {
		return
	}
	w.at.Store(int64(t))
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
	w.at.Store(-1) // never arm again
}

// check cancels whatever is due and sets the timer for the next deadline.
func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at.Load() < 0 {
		return
	}
	w.at.Store(0)
	now := w.s.since()
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
	s := w.s
	s.cmu.Lock()
	for _, a := range s.attempts {
		if !a.running.Load() {
			continue
		}
		due, cause := a.deadline, errModelTimeout
		if lc := time.Duration(a.lastChunk.Load()); lc > 0 && stall > 0 && (due == 0 || lc+stall < due) {
			due, cause = lc+stall, providers.ErrStalled
		}
		if due > 0 && now >= due {
			a.ctx.cancel(cause)
			continue
		}
		soonest(due)
	}
	s.cmu.Unlock()
	if next > 0 {
		w.arm(next)
	}
}
