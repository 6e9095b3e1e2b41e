package engine

import (
	"slices"
	"sync"
	"time"

	"github.com/council-dev/council/providers"
)

// ReasonDeadline skips a call that could not finish in what is left of
// the session's timeout: the model's median call (its p50 total latency
// in the window) is longer than the time left. Started anyway, it would
// be cancelled at the timeout, paid for and thrown away. A model with no
// latency samples yet is always called.
const ReasonDeadline Reason = "deadline"

// tooLate reports whether a's model needs longer than the session has
// left: its p50 total latency is at least the tier's timeout minus the
// session's age. No timeout, or no samples, is never too late.
func (a *attempt) tooLate() bool { return a.tooLateAt(a.s.since()) }

// tooLateAt is tooLate for a call that would start at session time at.
func (a *attempt) tooLateAt(at time.Duration) bool {
	s := a.s
	budget := s.timeout()
	if budget <= 0 {
		return false
	}
	left := budget - at
	if left <= 0 {
		return true // nothing left: no call can finish, measured or not
	}
	if slow, n := a.m.stats.slowest(); n == 0 {
		ttft, ok := a.m.firstToks.median()
		return ok && ttft >= left
	} else if slow < left {
		return false // every call in the window fitted: no sort needed
	}
	return a.need() >= left // one needing all that is left ends as it is cut
}

// deadlineQuantile is the share of a model's recent calls that must fit
// in what is left for a call to be made: its median.
const deadlineQuantile = 0.5

// lateCheckEvery is how often a call waiting for a slot looks again at
// its model's median: one that had no samples when it joined the line (a
// cold start, every session launched at once) learns it while it waits.
const lateCheckEvery = 250 * time.Millisecond

// lateCheck tells a call waiting for a slot when it has become too late
// ([attempt.tooLate]): its timer fires when the median as it stands says
// so, or lateCheckEvery, whichever is sooner; [lateCheck.due] then looks
// again and re-arms it when it is not.
type lateCheck struct {
	a *attempt
	t providers.Timer
}

// newLateCheck arms a's check; nil when there is nothing to check (no
// timeout).
func (a *attempt) newLateCheck() *lateCheck {
	s := a.s
	budget := s.timeout()
	if budget <= 0 {
		return nil
	}
	lc := &lateCheck{a: a}
	lc.t = s.e.clock.NewTimer(lc.next(budget))
	return lc
}

// next is how long until the check is worth making again.
func (lc *lateCheck) next(budget time.Duration) time.Duration {
	need := lc.a.need()
	if need == 0 {
		return lateCheckEvery
	}
	return min(max(budget-need-lc.a.s.since(), 0), lateCheckEvery)
}

// C fires when the check is due; nil for a nil check.
func (lc *lateCheck) C() <-chan time.Time {
	if lc == nil {
		return nil
	}
	return lc.t.C()
}

// due reports whether the call is too late, after C fired; if not, the
// timer is armed again.
func (lc *lateCheck) due() bool {
	if lc.a.tooLate() {
		return true
	}
	s := lc.a.s
	budget := s.timeout()
	// Never at once again: the median may have moved between the two
	// reads, and a zero wait would spin.
	lc.t = s.e.clock.NewTimer(max(lc.next(budget), time.Millisecond))
	return false
}

func (lc *lateCheck) stop() {
	if lc != nil {
		lc.t.Stop()
	}
}

// skipLate ends a queued attempt, given its slot too late to finish or
// still in line when it became too late, as skipped (deadline), on its
// own goroutine: its breaker ticket is handed
// back without evidence and the session learns of it as of any ended
// attempt (see [session.wait]).
func (a *attempt) skipLate() {
	s := a.s
	a.status, a.reason = AttemptSkippedStatus, ReasonDeadline
	a.endedAt = s.since()
	s.emitAt(a.endedAt, int(a.idx), AttemptSkipped, func(e *Event) {
		e.Model, e.Role, e.Reason, e.Attempt, e.Stage = a.m.cfg.ID, a.role, ReasonDeadline, a.id(), a.stage
	})
	a.endPhase = 1
	if a.admitted {
		a.endPhase = 2
		s.breakerEvents(a, a.m.breaker.report(a.ticket, outcomeExcluded, 0, s.start.Add(a.endedAt)))
	}
}

// timeout is the session's timeout (its tier's; auto's route may change
// it while attempts read it), 0 for none.
func (s *session) timeout() time.Duration {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.tier.timeout
}

// leftOf is what is left of the session's timeout, for messages.
func (s *session) leftOf() time.Duration { return max(s.timeout()-s.since(), 0) }

// need is what a's model needs to answer: the deadlineQuantile of its
// calls' total latency, or with no whole call yet, the median time to
// first token of its calls cut short (less than a whole answer takes,
// so a call is skipped on it only when even that does not fit); 0 when
// nothing is known.
func (a *attempt) need() time.Duration {
	if need, n := a.m.stats.quantile(deadlineQuantile); n > 0 {
		return need
	}
	ttft, _ := a.m.firstToks.median()
	return ttft
}

// firstTokens is a model's last times to first token of calls that were
// cut before they ended (lost a race, decided without them): a model that
// always loses has no whole call to judge it by, but these.
type firstTokens struct {
	mu sync.Mutex
	d  [32]time.Duration
	n  int
}

func (f *firstTokens) add(d time.Duration) {
	f.mu.Lock()
	f.d[f.n%len(f.d)] = d
	f.n++
	f.mu.Unlock()
}

// median is the median of the kept times; ok is false when there are none.
func (f *firstTokens) median() (time.Duration, bool) {
	f.mu.Lock()
	buf := slices.Clone(f.d[:min(f.n, len(f.d))])
	f.mu.Unlock()
	if len(buf) == 0 {
		return 0, false
	}
	slices.Sort(buf)
	return buf[(len(buf)-1)/2], true
}
