package engine

import "time"

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
	s.cmu.Lock()
	budget := s.tier.timeout
	s.cmu.Unlock()
	if budget <= 0 {
		return false
	}
	left := budget - at
	if slow, n := a.m.stats.slowest(); n == 0 || slow < left {
		return false // every call in the window fitted: no sort needed
	}
	need, _ := a.m.stats.quantile(0.5)
	return need >= left // one needing all that is left ends as it is cut
}

// lateTimer fires when a's call, waiting for a slot, becomes too late by
// its model's median call as it stands now; nil (and a no-op stop) when
// it never does: no timeout or no samples.
func (a *attempt) lateTimer() (<-chan time.Time, func()) {
	s := a.s
	s.cmu.Lock()
	budget := s.tier.timeout
	s.cmu.Unlock()
	if budget <= 0 {
		return nil, func() {}
	}
	need, n := a.m.stats.quantile(0.5)
	if n == 0 {
		return nil, func() {}
	}
	// Too late once no more than need is left, as tooLate has it.
	t := s.e.clock.NewTimer(max(budget-need-s.since(), 0))
	return t.C(), func() { t.Stop() }
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

// leftOf is what is left of the session's timeout, for messages.
func (s *session) leftOf() time.Duration {
	s.cmu.Lock()
	budget := s.tier.timeout
	s.cmu.Unlock()
	return max(budget-s.since(), 0)
}
