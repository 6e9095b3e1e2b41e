package engine

import (
	"fmt"
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
	return m.breaker.reset(), nil
}
