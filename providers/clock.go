package providers

import "time"

// Clock is a time source. The engine, its breakers and the simulated
// provider read time only through one, so that sessions can run on a
// virtual clock; [RealClock] is the default. Real vendors' providers need
// none: their time is the network's.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t (cheaper than Now().Sub(t)
	// on the real clock: one monotonic reading).
	Since(t time.Time) time.Duration
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a [Clock]'s timer, as [time.Timer].
type Timer interface {
	// C is the channel the time is sent on when the timer fires (nil for
	// an AfterFunc timer).
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it had fired or stopped.
	Stop() bool
	// Reset makes the timer fire after d; false if it had fired or stopped.
	Reset(d time.Duration) bool
}

// RealClock is the [Clock] of package time. Inside a testing/synctest
// bubble it is the bubble's virtual clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Since(t time.Time) time.Duration { return time.Since(t) }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// DrawKey is a context key. A simulated model called with a uint64 under
// it draws the call's randomness from that value and its own count of
// calls made with it, rather than from its count of all calls, so that
// calls made at the same moment draw the same whatever order they reach it
// in: council bench gives each session its number, and sessions in flight
// at once stay reproducible.
type DrawKey struct{}
