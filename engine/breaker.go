package engine

import (
	"errors"
	"sync"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/sony/gobreaker/v2"
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
}

// breakerChange is a state transition seen while reporting to a breaker.
type breakerChange struct{ from, to BreakerState }

// errFailure is what the engine reports to gobreaker for a failed attempt.
var errFailure = errors.New("attempt failed")

// breaker is one model's circuit breaker: gobreaker's rolling-window
// two-step breaker plus forcing and the moment it opened.
type breaker struct {
	mu       sync.Mutex
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	cooldown time.Duration
	force    Force
	openedAt time.Time
	state    BreakerState    // as of the last call to cb, kept by OnStateChange
	changes  []breakerChange // filled by OnStateChange while mu is held
	// tripped are the window's counts when the breaker last opened:
	// gobreaker clears its counts on every state change, but a board
	// should show the error rate that tripped an open breaker.
	tripped gobreaker.Counts
}

func newBreaker(name string, c config.BreakerConfig) *breaker {
	b := &breaker{cooldown: c.Cooldown.Duration}
	window := c.Window.Duration
	minReq := uint32(max(c.MinRequests, 1))
	rate := c.FailureRate
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         name,
		MaxRequests:  1, // one half-open probe
		Interval:     window,
		BucketPeriod: window / 10,
		Timeout:      c.Cooldown.Duration,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			done := n.TotalSuccesses + n.TotalFailures
			return done >= minReq && float64(n.TotalFailures)/float64(done) >= rate
		},
		IsExcluded: func(err error) bool { return err == errExcluded },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.changes = append(b.changes, breakerChange{fromGo(from), fromGo(to)})
			b.state = fromGo(to)
			if to == gobreaker.StateOpen {
				b.openedAt = time.Now()
			}
		},
	})
	return b
}

func fromGo(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// outcome is what an attempt reports to its breaker.
type outcome uint8

const (
	outcomeSuccess  outcome = iota
	outcomeFailure          // error, timeout, stall, 5xx, 429, malformed
	outcomeExcluded         // cancelled because another model won: not a failure
)

// allow asks whether a call may go out. When it may, done is non-nil
// unless the breaker is forced closed and would have refused; the caller
// must then pass done to [breaker.report] exactly once with the call's
// outcome. It returns the transitions it caused.
func (b *breaker) allow() (done func(error), changes []breakerChange, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	done, err := b.cb.Allow()
	changes = b.takeChanges()
	switch {
	case b.force == ForceOpen:
		if err == nil {
			done(errExcluded)
		}
		return nil, changes, false
	case err != nil && b.force != ForceClosed:
		return nil, changes, false
	}
	return done, changes, true
}

// report records a call's outcome and returns the transitions it caused.
func (b *breaker) report(done func(error), o outcome) []breakerChange {
	if done == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var before gobreaker.Counts // only a failure can open the breaker
	switch o {
	case outcomeSuccess:
		done(nil)
	case outcomeFailure:
		before = b.cb.Counts()
		done(errFailure)
		before.TotalFailures++
	default:
		done(errExcluded)
	}
	changes := b.takeChanges()
	for _, c := range changes {
		if c.to == BreakerOpen {
			b.tripped = before
		}
	}
	return changes
}

var errExcluded = errors.New("excluded")

func (b *breaker) takeChanges() []breakerChange {
	c := b.changes
	b.changes = nil
	return c
}

// setForce overrides the breaker.
func (b *breaker) setForce(f Force) {
	b.mu.Lock()
	b.force = f
	b.mu.Unlock()
}

// snapshot returns the breaker's state now; it also applies a due
// open -> half-open transition, which it returns.
func (b *breaker) snapshot() (BreakerSnapshot, []breakerChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.snapshotLocked(fromGo(b.cb.State()))
	return s, b.takeChanges()
}

// settled is snapshot for a model that has just been called: only an open
// breaker can have changed since (by its cooldown ending), so a closed or
// half-open one is read without asking gobreaker, which reads the clock.
// Its counts are as of the model's last call.
func (b *breaker) settled() BreakerSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state
	if st == BreakerOpen {
		st = fromGo(b.cb.State())
	}
	return b.snapshotLocked(st)
}

func (b *breaker) snapshotLocked(st BreakerState) BreakerSnapshot {
	n := b.cb.Counts()
	if st != BreakerClosed {
		n = b.tripped
	}
	s := BreakerSnapshot{
		State:    st,
		Requests: int(n.TotalSuccesses + n.TotalFailures),
		Failures: int(n.TotalFailures),
	}
	if s.Requests > 0 {
		s.FailureRate = float64(n.TotalFailures) / float64(s.Requests)
	}
	switch b.force {
	case ForceOpen:
		s.State, s.Forced = BreakerOpen, "open"
	case ForceClosed:
		s.State, s.Forced = BreakerClosed, "closed"
	}
	if st == BreakerOpen && b.force == ForceNone {
		s.HalfOpenIn = max(0, b.cooldown-time.Since(b.openedAt))
		s.HalfOpenInMS = Millis(s.HalfOpenIn)
	}
	return s
}
