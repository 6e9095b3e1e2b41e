package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/providers"
)

// watchdog enforces the deadlines of an engine's sessions with one timer:
// each session's timeout, each running attempt's per_model_timeout, and
// each streaming attempt's stall_timeout. The timer is set for the earliest
// deadline, and when it fires it cancels what is due and sets itself for
// the next. One timer per engine, rather than two per attempt or one per
// session, keeps the cost of a session flat as models are added and spares
// each session a timer's allocation and the runtime's timer heap.
//
// Nothing takes a lock to be watched. A session is on the engine's live
// list before it sets any deadline, an attempt marks itself running after
// writing its deadline, and a stream moves its stall deadline on with an
// atomic store per chunk. A deadline no earlier than the one the timer is
// set for needs nothing more: the check the timer makes will see it, since
// the check clears that time before it reads the deadlines, and the writer
// reads it after writing. Only an earlier deadline takes the lock, to move
// the timer.
type watchdog struct {
	e     *Engine
	epoch time.Time // engine time 0
	mu    sync.Mutex
	timer providers.Timer
	at    atomic.Int64 // engine time the timer fires at; 0: not set; -1: stopped
}

// now is the engine time: the time since the epoch.
func (w *watchdog) now() time.Duration { return w.e.clock.Since(w.epoch) }

// watch starts watching an attempt that has just started; its deadline is
// set.
func (w *watchdog) watch(a *attempt) {
	a.running.Store(true)
	if d := a.deadline; d > 0 {
		w.ensure(a.s.base + d)
	}
}

// unwatch stops watching a finished attempt. The timer is left alone: if it
// fires for nothing, it finds nothing due.
func (w *watchdog) unwatch(a *attempt) { a.running.Store(false) }

// streaming tells the watchdog that a's first token came at t (session
// time), so its stall deadline now applies.
func (w *watchdog) streaming(a *attempt, t time.Duration) {
	stall := a.s.tier.stall
	if stall <= 0 {
		return
	}
	a.lastChunk.Store(int64(t))
	w.ensure(a.s.base + t + stall)
}

// ensure makes the timer fire no later than engine time t.
func (w *watchdog) ensure(t time.Duration) {
	if at := w.at.Load(); at < 0 || (at > 0 && time.Duration(at) <= t) {
		return
	}
	w.mu.Lock()
	w.arm(t)
	w.mu.Unlock()
}

// arm makes the timer fire at engine time t if that is earlier than it
// would. w.mu must be held.
func (w *watchdog) arm(t time.Duration) {
	if at := time.Duration(w.at.Load()); at < 0 || (at != 0 && at <= t) {
		return
	}
	w.at.Store(int64(t))
	d := max(t-w.now(), 0)
	if w.timer == nil {
		w.timer = w.e.clock.AfterFunc(d, w.check)
	} else {
		w.timer.Reset(d)
	}
}

// stop releases the timer when the engine closes.
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
	now := w.now()
	next := time.Duration(0)
	w.e.mu.Lock()
	for s := w.e.live; s != nil; s = s.liveNext {
		if t := s.overdue(now - s.base); t > 0 && (next == 0 || s.base+t < next) {
			next = s.base + t
		}
	}
	w.e.mu.Unlock()
	if next > 0 {
		w.arm(next)
	}
}

// overdue cancels what of the session is due at now (session time) and
// returns its next deadline (session time), 0 for none.
func (s *session) overdue(now time.Duration) time.Duration {
	next := time.Duration(0)
	soonest := func(t time.Duration) {
		if t > 0 && (next == 0 || t < next) {
			next = t
		}
	}
	if b := s.timeout(); b > 0 {
		if now >= b {
			s.cancel(causeBudget)
			return 0
		}
		soonest(b)
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	stall := s.tier.stall
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
	return next
}
