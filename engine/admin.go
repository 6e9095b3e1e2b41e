package engine

import (
	"fmt"
	"time"
)

// ResetBreaker clears a model's breaker, as an operator would after
// fixing what tripped it: its window's counts go, and an open or
// half-open breaker closes (a new generation, so a late report from
// before the reset counts for nothing). A force stays: f gives it back.
// It returns the state the breaker left.
func (e *Engine) ResetBreaker(id string) (BreakerState, error) {
	m, ok := e.models[id]
	if !ok {
		return BreakerClosed, fmt.Errorf("unknown model %q", id)
	}
	b := m.breaker
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
	return from, nil
}
