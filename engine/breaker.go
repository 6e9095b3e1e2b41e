package engine

import (
	"sync"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// BreakerState is a circuit breaker's state.
type BreakerState uint8

// Breaker states.
const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerHalfOpen
)

// String returns "closed", "open" or "half_open".
func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	}
	return "closed"
}

// MarshalText implements encoding.TextMarshaler.
func (s BreakerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Force overrides a breaker, as the Hystrix dashboard's forceOpen and
// forceClosed do.
type Force uint8

// Force modes.
const (
	ForceNone   Force = iota // the breaker decides
	ForceOpen                // every call is skipped
	ForceClosed              // every call goes through; outcomes still count
)

// String returns "none", "open" or "closed".
func (f Force) String() string {
	switch f {
	case ForceOpen:
		return "open"
	case ForceClosed:
		return "closed"
	}
	return "none"
}

// BreakerSnapshot is a breaker's state at one moment.
type BreakerSnapshot struct {
	State       BreakerState `json:"state"`
	FailureRate float64      `json:"failure_rate"`
	// Requests and Failures are finished calls in the rolling window; for an
	// open or half-open breaker, those that tripped it.
	Requests int    `json:"requests"`
	Failures int    `json:"failures"`
	Forced   string `json:"forced,omitempty"` // "open" or "closed" when forced
	// HalfOpenIn is the time left until an open breaker half-opens.
	HalfOpenIn time.Duration `json:"-"`
	// HalfOpenInMS is HalfOpenIn in milliseconds, for JSON.
	HalfOpenInMS float64 `json:"half_open_in_ms,omitempty"`
	// HeldFor is the time left of a rate-limit hold (the server's
	// Retry-After): the model is skipped until it ends.
	HeldFor time.Duration `json:"-"`
	// HeldForMS is HeldFor in milliseconds, for JSON.
	HeldForMS float64 `json:"held_ms,omitempty"`
}

// breakerChange is a state transition seen while using a breaker.
type breakerChange struct{ from, to BreakerState }

// outcome is what an attempt reports to its breaker.
type outcome uint8

const (
	outcomeSuccess  outcome = iota
	outcomeFailure          // error, timeout, stall, 5xx, 429, malformed
	outcomeExcluded         // cancelled before it showed anything: no evidence
	// outcomeHealthy is a call cancelled (another answer won) while it
	// streamed: evidence of health, counted as a success by the breaker
	// but not as a completion by the latency statistics.
	outcomeHealthy
)

// breakerBuckets is how many buckets the rolling window is kept in.
const breakerBuckets = 10

// ticket is a breaker's admission of one call: report it exactly once.
type ticket struct {
	gen   uint16 // the breaker's generation when it admitted the call
	probe bool   // the half-open probe
}

// breaker is one model's circuit breaker, with the semantics of
// gobreaker's rolling-window breaker (failures / finished calls over a
// window kept in ten buckets; trip above failure_rate after min_requests; open
// for cooldown; then one half-open probe whose success closes it and whose
// failure opens it again; a call admitted before a state change is not
// counted after it), plus forcing, rate-limit holds, and time read through
// the engine's clock. gobreaker reads time.Now itself, so it cannot run on
// a virtual clock.
type breaker struct {
	mu          sync.Mutex
	clock       providers.Clock
	epoch       time.Time
	rate        float64
	minRequests int
	bucket      time.Duration // window / breakerBuckets
	cooldown    time.Duration

	state    BreakerState
	lastN    int64  // the bucket of the latest call counted
	gen      uint16 // counts state changes; wraps harmlessly
	probing  bool   // the half-open probe is out
	openedAt time.Time
	heldTill time.Time
	force    Force
	// window's buckets: the bucket number (time since epoch / bucket) and
	// its counts.
	buckets [breakerBuckets]struct {
		n             int64
		succ, failure int
	}
	// tripped are the window's counts when the breaker last opened: a
	// board should show the error rate that tripped an open breaker.
	trippedReq, trippedFail int

	// fleet is the breaker's shared state across replicas; nil (the
	// default) keeps the breaker to itself.
	fleet *fleetBreaker
}

func newBreaker(c config.BreakerConfig, clock providers.Clock) *breaker {
	b := &breaker{clock: clock, epoch: clock.Now(), rate: c.FailureRate,
		minRequests: max(c.MinRequests, 1), cooldown: c.Cooldown.Duration,
		bucket: max(c.Window.Duration/breakerBuckets, time.Nanosecond)}
	for i := range b.buckets {
		b.buckets[i].n = -1
	}
	return b
}

// counts sums the window's buckets as of bucket number n.
func (b *breaker) counts(n int64) (req, fail int) {
	for _, bk := range b.buckets {
		if bk.n >= 0 && bk.n > n-breakerBuckets && bk.n <= n {
			req += bk.succ + bk.failure
			fail += bk.failure
		}
	}
	return req, fail
}

func (b *breaker) clear() {
	for i := range b.buckets {
		b.buckets[i].n = -1
		b.buckets[i].succ, b.buckets[i].failure = 0, 0
	}
}

// setState moves the breaker to st, starting a new generation.
//
//go:noinline
func (b *breaker) setState(st BreakerState, now time.Time, changes *[]breakerChange) {
	if st == b.state {
		return
	}
	*changes = append(*changes, breakerChange{b.state, st})
	b.state = st
	b.gen++
	b.probing = false
	if st == BreakerOpen {
		b.openedAt = now
	}
	if st != BreakerHalfOpen {
		b.clear()
	}
}

// allow asks whether a call may go out. It returns the call's ticket,
// the transitions it caused (an open breaker whose cooldown has passed
// half-opens here, and only here, so the change is always seen), and why
// not when the call must not go out: breaker_open, or retry_after while a
// rate-limit hold lasts.
func (b *breaker) allow() (ticket, []breakerChange, Reason) {
	if b.fleet != nil {
		return b.allowShared()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerClosed && b.force == ForceNone && b.heldTill.IsZero() {
		return ticket{gen: b.gen}, nil, ReasonNone // nothing here depends on the time
	}
	return b.decide(nil)
}

// decide is allow's judgement, under b.mu, after changes already seen.
func (b *breaker) decide(changes []breakerChange) (ticket, []breakerChange, Reason) {
	now := b.clock.Now()
	if !b.heldTill.IsZero() && !now.Before(b.heldTill) {
		b.heldTill = time.Time{} // the hold is over
	}
	if b.state == BreakerOpen && now.Sub(b.openedAt) >= b.cooldown {
		b.setState(BreakerHalfOpen, now, &changes)
	}
	switch b.force {
	case ForceOpen:
		return ticket{}, changes, ReasonBreakerOpen
	case ForceClosed:
		return ticket{gen: b.gen}, changes, ReasonNone
	}
	switch {
	case b.state == BreakerOpen, b.state == BreakerHalfOpen && b.probing:
		return ticket{}, changes, ReasonBreakerOpen
	case now.Before(b.heldTill):
		return ticket{}, changes, ReasonRetryAfter
	case b.state == BreakerHalfOpen:
		b.probing = true
		return ticket{gen: b.gen, probe: true}, changes, ReasonNone
	}
	return ticket{gen: b.gen}, changes, ReasonNone
}

// report records a call's outcome, at now (the caller's reading of the
// engine's clock), and returns the transitions it caused. hold, when
// positive, is how long the server asked to be left alone (a 429's
// Retry-After): the model is skipped for that long, without the skips
// counting as more failures.
func (b *breaker) report(t ticket, o outcome, hold time.Duration, now time.Time) []breakerChange {
	if b.fleet != nil {
		return b.reportShared(t, o, hold, now)
	}
	return b.reportLocal(t, o, hold, now)
}

// reportLocal is report on the breaker's own state.
func (b *breaker) reportLocal(t ticket, o outcome, hold time.Duration, now time.Time) []breakerChange {
	b.mu.Lock()
	defer b.mu.Unlock()
	if hold > 0 {
		if till := now.Add(hold); till.After(b.heldTill) {
			b.heldTill = till
		}
	}
	if t.gen != b.gen {
		return nil // admitted before a state change: it does not count after it
	}
	var changes []breakerChange
	if t.probe {
		switch o {
		case outcomeSuccess, outcomeHealthy:
			b.setState(BreakerClosed, now, &changes)
		case outcomeFailure:
			b.trippedReq, b.trippedFail = 1, 1
			b.setState(BreakerOpen, now, &changes)
		default:
			b.probing = false // no evidence: let another probe through
		}
		return changes
	}
	if o == outcomeExcluded || b.state != BreakerClosed {
		return nil
	}
	return b.count(now, o)
}

// count adds a finished call to the window and trips the breaker when the
// failure rate exceeds its threshold (strictly: 2 failures in 8 do not
// trip it at 0.25). Apart from report so that report's
// frame stays small on the attempt goroutine.
//
//go:noinline
func (b *breaker) count(now time.Time, o outcome) []breakerChange {
	n := int64(now.Sub(b.epoch) / b.bucket)
	b.lastN = max(b.lastN, n)
	bk := &b.buckets[n%breakerBuckets]
	if bk.n != n {
		bk.n, bk.succ, bk.failure = n, 0, 0
	}
	if o != outcomeFailure {
		bk.succ++
		return nil
	}
	bk.failure++
	req, fail := b.counts(n)
	if req < b.minRequests || float64(fail)/float64(req) <= b.rate {
		return nil
	}
	var changes []breakerChange
	b.trippedReq, b.trippedFail = req, fail
	b.setState(BreakerOpen, now, &changes)
	return changes
}

// settled is snapshot for a model a session has just called: a closed
// breaker with no hold is read as of its latest call, without the clock.
func (b *breaker) settled() BreakerSnapshot {
	b.mu.Lock()
	if b.state == BreakerClosed && b.force == ForceNone && b.heldTill.IsZero() {
		defer b.mu.Unlock()
		s := BreakerSnapshot{}
		s.Requests, s.Failures = b.counts(b.lastN)
		if s.Requests > 0 {
			s.FailureRate = float64(s.Failures) / float64(s.Requests)
		}
		return s
	}
	b.mu.Unlock()
	return b.snapshot()
}

// setForce overrides the breaker.
func (b *breaker) setForce(f Force) {
	b.mu.Lock()
	b.force = f
	b.mu.Unlock()
	if fl := b.fleet; fl != nil {
		_ = fl.st.ForceBreaker(fl.ctx, fl.model, f) // unreached: this replica's force stands
	}
}

// snapshot returns the breaker's state now. It changes nothing: an open
// breaker whose cooldown has passed reads as half-open, and makes the move
// (and reports it) at its next call.
func (b *breaker) snapshot() BreakerSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	st := b.state
	if st == BreakerOpen && now.Sub(b.openedAt) >= b.cooldown {
		st = BreakerHalfOpen
	}
	s := BreakerSnapshot{State: st}
	if st == BreakerClosed {
		s.Requests, s.Failures = b.counts(int64(now.Sub(b.epoch) / b.bucket))
	} else {
		s.Requests, s.Failures = b.trippedReq, b.trippedFail
	}
	if s.Requests > 0 {
		s.FailureRate = float64(s.Failures) / float64(s.Requests)
	}
	switch b.force {
	case ForceOpen:
		s.State, s.Forced = BreakerOpen, "open"
	case ForceClosed:
		s.State, s.Forced = BreakerClosed, "closed"
	}
	if st == BreakerOpen && b.force == ForceNone {
		s.HalfOpenIn = max(0, b.cooldown-now.Sub(b.openedAt))
		s.HalfOpenInMS = Millis(s.HalfOpenIn)
	}
	if left := b.heldTill.Sub(now); left > 0 && b.force != ForceClosed {
		s.HeldFor, s.HeldForMS = left, Millis(left)
	}
	return s
}

// reset clears the breaker for an operator (see [Engine.ResetBreaker]):
// the window's counts go, an open or half-open breaker closes in a new
// generation, and the fleet's breaker closes too. It returns the state it
// left.
func (b *breaker) reset() BreakerState {
	b.mu.Lock()
	from := b.state
	var changes []breakerChange
	b.setState(BreakerClosed, b.clock.Now(), &changes)
	b.clear()
	b.gen++ // reports of calls admitted before the reset are stale
	b.probing = false
	b.trippedReq, b.trippedFail = 0, 0
	b.mu.Unlock()
	if b.fleet != nil {
		b.publish(BreakerClosed, time.Time{}, 0, 0) // the fleet's breaker too
	}
	return from
}
