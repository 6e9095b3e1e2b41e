package engine

import (
	"context"
	"sync"
	"time"
)

// attemptCtx is the context a provider call runs under: cancelled on its
// own (lost_race, a timeout, a stall) or with its session, and carrying the
// caller's values and deadline. It lives inside its attempt, which lives
// inside its session, so an attempt's context costs no allocation, where
// context.WithCancelCause cost two per model and made the session's own
// context allocate a done channel and a children map.
//
// It follows the context.Context contract. Done's channel is made only when
// somebody asks for it. A context derived from it with context.WithCancel
// (as net/http does) registers through AfterFunc, which the context package
// uses instead of starting a goroutine to watch Done. The caller's
// cancellation reaches it through its session, which cancels every attempt.
// context.Cause of it is its Err (the engine reads the cause from the
// attempt itself), or the caller's cause when the caller was cancelled.
type attemptCtx struct {
	caller *context.Context // the session's caller: its values and deadline

	mu    sync.Mutex
	done  chan struct{} // made by the first Done; closed by cancel
	cause error         // why it was cancelled; nil while it runs
	after *[]*afterFunc // registered by AfterFunc, run by cancel; made by the first
}

type afterFunc struct{ f func() }

// closedChan is the Done of a context cancelled before anyone asked.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *attemptCtx) Deadline() (time.Time, bool) { return (*c.caller).Deadline() }

func (c *attemptCtx) Value(key any) any { return (*c.caller).Value(key) }

func (c *attemptCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.cause != nil {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *attemptCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return context.Canceled
	}
	return nil
}

// Cause is why the context was cancelled, nil while it runs.
func (c *attemptCtx) Cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// AfterFunc runs f in its own goroutine once c is cancelled (at once if it
// is), unless stop is called first; stop reports whether it stopped f.
func (c *attemptCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f}
	if c.after == nil {
		c.after = new([]*afterFunc)
	}
	*c.after = append(*c.after, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range *c.after {
			if x == a {
				*c.after = append((*c.after)[:i], (*c.after)[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel cancels the context with cause; later calls do nothing.
func (c *attemptCtx) cancel(cause error) {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return
	}
	c.cause = cause
	if c.done != nil {
		close(c.done)
	}
	var after []*afterFunc
	if c.after != nil {
		after, *c.after = *c.after, nil
	}
	c.mu.Unlock()
	for _, a := range after {
		go a.f()
	}
}

func (c *attemptCtx) String() string { return "council.attemptCtx" }
