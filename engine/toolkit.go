package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/council-dev/council/providers"
)

// A strategy is a function that drives one session, on the session's own
// goroutine, through a small toolkit of session methods, the way an HTTP
// handler is written against a ResponseWriter:
//
//   - launch(m, role, stage, req) starts an attempt of model m asking req
//     (nil: the session's prompt), unless m's breaker holds it back, when it
//     records the attempt as skipped and returns nil; skip records an
//     attempt that is not made at all (a hedge withheld by max_extra).
//   - next() waits for the next launched attempt to end and returns it;
//     nextOr(c) does the same unless c fires first. pending counts the
//     attempts launched and not yet taken.
//   - cancelRunning(cause) cancels every attempt still running, with the
//     reason its attempt_cancelled will carry; awaitAll() then waits for
//     them all at once.
//   - win(a) makes a the winner and its text the answer; decide(model,
//     answer) decides without a winning attempt (a vote, a synthesis);
//     fail(msg) says why there is no answer.
//   - degrade(reason) adds a reason to the summary's degraded list;
//     stageStart and stageDone bracket a stage.
//
// A strategy returns once the session has its result; the session then
// publishes the summary. Each strategy is one file that registers its
// descriptor ([strategy]: run, estimate, validate, stages...) from an init
// function.

// mailbox is where attempts report that they have ended, in the order
// they ended. Any number of attempts may report without the session
// taking them: an attempt never blocks on reporting, so no capacity fixed
// when the session starts can be overrun by a strategy that launches more.
type mailbox struct {
	mu     sync.Mutex
	q      []int32
	head   int
	inline [inlineAttempts]int32
	signal chan struct{} // holds a wake-up while reports wait
}

func (b *mailbox) init() {
	b.q = b.inline[:0]
	b.signal = make(chan struct{}, 1)
}

// put reports attempt i; it never blocks.
func (b *mailbox) put(i int32) {
	b.mu.Lock()
	b.q = append(b.q, i)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// take returns the next report, if there is one.
func (b *mailbox) take() (int32, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.head == len(b.q) {
		return 0, false
	}
	i := b.q[b.head]
	b.head++
	return i, true
}

// launch starts an attempt of m in role and stage asking req (nil: the
// session's base request for role), unless m's breaker or a rate-limit
// hold keeps it back: then the attempt is recorded as skipped, with an
// event, and launch returns nil.
func (s *session) launch(m *model, role Role, stage Stage, req *providers.Request) *attempt {
	if req == nil {
		req = s.baseRequest(role)
	}
	var note string
	asked := req
	if s.e.anySettings || s.extras != nil {
		req, note = s.withSettings(m, req)
	}
	a := s.newAttempt(m, role, stage, req)
	if req != asked && len(m.cfg.Fallbacks) > 0 {
		// A fallback is asked what a was before the settings and history
		// made it m's: it gets them applied as its own, once.
		ms := s.extrasOf()
		if ms.asked == nil {
			ms.asked = map[int]*providers.Request{}
		}
		ms.asked[int(a.idx)] = asked
	}
	if note != "" {
		ms := s.extrasOf()
		if ms.notes == nil {
			ms.notes = map[int]string{}
		}
		ms.notes[int(a.idx)] = note
	}
	if !s.admit(a) {
		s.skipped(a, ReasonBudgetCost)
		return nil
	}
	if a.tooLate() {
		s.release(a)
		s.skipped(a, ReasonDeadline)
		return s.fallback(a)
	}
	tk, changes, why := m.breaker.allow()
	s.breakerEvents(a, changes)
	if why != ReasonNone {
		s.release(a)
		s.skipped(a, why)
		return s.fallback(a)
	}
	a.ticket, a.admitted = tk, true
	s.pending++
	s.unreported.Add(1)
	a.queued = !s.e.slots.reserve(a) // in line in the order launched
	s.e.goAttempt(a.run)
	return a
}

// fallback launches the first of a's model's fallbacks that can go, in
// a's place (its role, stage and request kept), when a was held back or
// failed for good; nil when there is none. A fallback's own fallbacks are
// not tried, nor a model already called in the same stage.
func (s *session) fallback(a *attempt) *attempt {
	fbs := a.m.cfg.Fallbacks
	if len(fbs) == 0 || s.cancelledBy() != nil {
		return nil
	}
	ms := s.extrasOf()
	if _, isFallback := ms.fallbackFor[int(a.idx)]; isFallback {
		return nil
	}
	for _, id := range fbs {
		fm := s.e.models[id]
		if fm == nil || s.calledIn(fm, a.stage) {
			continue
		}
		if fm.breaker.snapshot().State == BreakerOpen {
			continue
		}
		if ms.fallbackFor == nil {
			ms.fallbackFor, ms.standsIn = map[int]string{}, map[int]int{}
		}
		ms.fallbackFor[len(s.attempts)] = a.m.cfg.ID // the index the next attempt gets
		ms.standsIn[len(s.attempts)] = int(a.idx)
		req := a.req
		if r := ms.asked[int(a.idx)]; r != nil {
			req = r
		}
		if f := s.launch(fm, a.role, a.stage, req); f != nil {
			// Reported, never swallowed, whatever the strategy makes of it.
			s.degrade(DegradedFallback)
			return f
		}
	}
	return nil
}

// origin returns the attempt a stands in for as its fallback, or a.
func (s *session) origin(a *attempt) *attempt {
	if s.extras != nil {
		if i, ok := s.extras.standsIn[int(a.idx)]; ok {
			return s.attempts[i]
		}
	}
	return a
}

// standIn returns the fallback that took a's place, nil when none did.
func (s *session) standIn(a *attempt) *attempt {
	if s.extras == nil {
		return nil
	}
	var last *attempt
	for f, o := range s.extras.standsIn {
		if o == int(a.idx) && (last == nil || f > int(last.idx)) {
			last = s.attempts[f]
		}
	}
	return last
}

// fellBackIn reports whether a fallback took a model's place in stage.
func (s *session) fellBackIn(st Stage) bool {
	if s.extras == nil {
		return false
	}
	for f := range s.extras.standsIn {
		if s.attempts[f].stage == st {
			return true
		}
	}
	return false
}

// calledIn reports whether m has an attempt in stage already.
func (s *session) calledIn(m *model, stage Stage) bool {
	for _, b := range s.attempts {
		if b.m == m && b.stage == stage {
			return true
		}
	}
	return false
}

// newAttempt adds an attempt to the session, not yet started.
func (s *session) newAttempt(m *model, role Role, stage Stage, req *providers.Request) *attempt {
	var a *attempt
	if n := len(s.attempts); n < len(s.attemptBuf) {
		a = &s.attemptBuf[n]
	} else {
		a = new(attempt)
	}
	a.s, a.idx, a.m, a.role, a.stage, a.req = s, int32(len(s.attempts)), m, role, stage, req
	a.ctx.caller = &s.caller
	s.cmu.Lock()
	s.attempts = append(s.attempts, a)
	a.ctx.cause = s.cause // a session cancelled already starts it cancelled
	s.cmu.Unlock()
	return a
}

// skip records an attempt of m that is not made, for reason.
func (s *session) skip(m *model, role Role, stage Stage, reason Reason) *attempt {
	a := s.newAttempt(m, role, stage, s.baseRequest(role))
	s.skipped(a, reason)
	return a
}

func (s *session) skipped(a *attempt, reason Reason) {
	a.status, a.reason, a.reported = AttemptSkippedStatus, reason, true
	a.endedAt = s.since()
	if reason == ReasonBreakerOpen || reason == ReasonRetryAfter {
		a.m.stats.addOutcome(OutcomeSkipped)
	}
	s.emitWith(int(a.idx), AttemptSkipped, func(e *Event) {
		e.Model, e.Role, e.Reason, e.Attempt, e.Stage = a.m.cfg.ID, a.role, reason, a.id(), a.stage
	})
	switch {
	case reason == ReasonBudgetCost:
		s.degrade(DegradedBudgetCost)
	case !s.ownDegraded && reason != ReasonHedgeBudget:
		s.degrade(DegradedModelSkipped)
	}
}

// awaitAll waits until every running attempt has reported; next then
// returns their results without waiting. A session that has decided calls
// it after cancelling the rest: waking once for all of them, not once per
// attempt, was a tenth of an 8-way race.
func (s *session) awaitAll() { s.unreported.Wait() }

// next waits for the next attempt to end. Only call it while pending > 0.
func (s *session) next() *attempt {
	a, _ := s.nextOr(nil)
	return a
}

// nextOr waits for the next attempt to end, or for c to fire (then it
// returns nil, true). A nil c never fires.
func (s *session) nextOr(c <-chan time.Time) (*attempt, bool) {
	a, fired := s.wait(c, nil)
	return a, fired != 0
}

// wait waits for the next attempt to end (fired 0), or for c1 (fired 1)
// or c2 (fired 2) to fire; a nil channel never fires.
func (s *session) wait(c1, c2 <-chan time.Time) (a *attempt, fired int) {
	for {
		if i, ok := s.box.take(); ok {
			a := s.attempts[i]
			a.reported = true
			s.pending--
			s.settle(a)
			failed := a.status == AttemptFailedStatus || a.status == AttemptTimeout
			late := a.status == AttemptSkippedStatus // given its slot too late (deadline)
			if !s.ownDegraded && failed {
				s.degrade(DegradedModelFailed)
			}
			if !s.ownDegraded && late {
				s.degrade(DegradedModelSkipped)
			}
			if (failed || late) && s.fallback(a) != nil {
				continue // its fallback answers in its place
			}
			return a, 0
		}
		select {
		case <-s.box.signal:
		case <-c1:
			return nil, 1
		case <-c2:
			return nil, 2
		}
	}
}

// cancelRunning cancels every attempt still running.
func (s *session) cancelRunning(cause *cancelCause) {
	for _, a := range s.attempts {
		if !a.reported {
			a.ctx.cancel(cause)
		}
	}
}

// win makes a the session's winner.
func (s *session) win(a *attempt) {
	a.status = AttemptWon
	s.winner = a
	s.answer = a.text.String()
	if a.truncated() {
		s.degrade(DegradedTruncated)
	}
	s.emitWith(-1, Decided, func(e *Event) { e.Model, e.Text, e.Attempt = a.m.cfg.ID, s.answer, a.id() })
}

// decide settles the session on answer without a winning attempt; model
// is who gave it, if anyone did.
func (s *session) decide(model, answer string) {
	s.answer = answer
	s.emitWith(-1, Decided, func(e *Event) { e.Model, e.Text, e.TieBreak = model, answer, s.tieBreak })
}

// fail says why the session has no answer.
func (s *session) fail(msg string) {
	if s.failure == "" {
		s.failure = msg
	}
}

// degrade adds reason to the summary's degraded list, once.
func (s *session) degrade(reason string) {
	if !slices.Contains(s.degraded, reason) {
		s.degraded = append(s.degraded, reason)
	}
}

// stageStart announces a stage and returns when it started.
func (s *session) stageStart(st Stage) time.Duration {
	now := s.since()
	s.emitAt(now, -1, StageStarted, func(e *Event) { e.Stage = st })
	ms := s.extrasOf()
	ms.stage.stages = append(ms.stage.stages, StageResult{Name: st, StartedMS: Millis(now)})
	return now
}

// stageDone announces how a stage that started at start ended. A stage
// that needed a fallback did not go as asked: done becomes degraded.
func (s *session) stageDone(st Stage, start time.Duration, status string) {
	if status == "done" && s.fellBackIn(st) {
		status = "degraded"
	}
	now := s.since()
	s.emitAt(now, -1, StageDone, func(e *Event) { e.Stage, e.Detail = st, &Detail{Status: status, Elapsed: now - start} })
	ms := s.extrasOf()
	for i := range ms.stage.stages {
		if ms.stage.stages[i].Name == st {
			ms.stage.stages[i].Status, ms.stage.stages[i].ElapsedMS = status, Millis(now-start)
		}
	}
}

// noAnswer explains why no model answered.
func (s *session) noAnswer() string {
	switch s.cancelledBy() {
	case causeBudget:
		return "no answer within the tier's timeout " + s.tier.timeout.String()
	case causeUser:
		return "cancelled by the user"
	case causeShutdown:
		return "cancelled: the engine shut down"
	}
	launched, capped, held, late := 0, 0, 0, 0
	var stopped []string // models whose breaker stopped their last retry
	for _, a := range s.attempts {
		if a.started {
			launched++
		}
		if a.status == AttemptSkippedStatus && (a.reason == ReasonBreakerOpen || a.reason == ReasonRetryAfter) {
			held++
		}
		if a.status == AttemptFailedStatus && (a.reason == ReasonBreakerOpen || a.reason == ReasonRetryAfter) {
			stopped = append(stopped, a.m.cfg.ID+" "+a.stoppedBy())
		}
		if a.reason == ReasonBudgetCost {
			capped++
		}
		if a.status == AttemptSkippedStatus && a.reason == ReasonDeadline {
			late++
		}
	}
	if capped > 0 {
		return fmt.Sprintf("no answer within the spending cap (%s): %d attempts were not launched", usd(s.costCap()), capped)
	}
	if launched == 0 && late > 0 && late+held == len(s.attempts) {
		return fmt.Sprintf("no model was called: %d could not answer in the %s left of the tier's timeout %s (their median call is longer)",
			late, s.leftOf().Round(time.Millisecond), s.tier.timeout)
	}
	if launched == 0 && held == len(s.attempts) {
		return "no model was called: all " + itoa(len(s.attempts)) + " breakers are open"
	}
	if launched == 0 {
		return "no model was called (" + itoa(held) + " of " + itoa(len(s.attempts)) + " held back by their breakers)"
	}
	msg := "every model failed (" + itoa(launched) + " of " + itoa(len(s.attempts)) + ")"
	if len(stopped) > 0 {
		msg += ": " + strings.Join(stopped, "; ")
	}
	if late > 0 {
		msg += "; " + itoa(late) + " not called: less of the timeout left than their median call (deadline)"
	}
	return msg
}

// chair asks the chairmen in turn to write the final answer from req, in
// stage, until one succeeds: it returns that attempt (its status won),
// and whether a fallback had to take over (degraded fallback_chairman);
// nil when every chairman failed, was held back, or the session was
// cancelled.
func (s *session) chair(chairs []*model, stage Stage, req *providers.Request) (won *attempt, fellBack bool) {
	for i, m := range chairs {
		if s.cancelledBy() != nil {
			return nil, fellBack
		}
		if i > 0 {
			s.degrade(DegradedFallbackChairman)
			fellBack = true
		}
		a := s.launch(m, RoleChairman, stage, req)
		if a == nil {
			continue
		}
		if a = s.next(); a.status == AttemptDoneStatus {
			a.status = AttemptWon
			return a, fellBack
		}
	}
	return nil, fellBack
}
