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

// ForceBreaker forces a model's breaker open or closed, or gives it back
// to its own judgement with [ForceNone].
func (e *Engine) ForceBreaker(id string, f Force) error {
	m, ok := e.models[id]
	if !ok {
		return fmt.Errorf("unknown model %q", id)
	}
	m.breaker.setForce(f)
	return nil
}

// tunable is a provider whose behaviour can be changed while it runs: the
// simulator's chaos knobs.
type tunable interface {
	Tune(knob string, delta float64) (float64, error)
	Knobs() map[string]float64
}

// Tune changes a simulated model's knob ("error_rate", "stall_rate", ...)
// by delta and returns the new value. Real models cannot be tuned.
func (e *Engine) Tune(id, knob string, delta float64) (float64, error) {
	m, ok := e.models[id]
	if !ok {
		return 0, fmt.Errorf("unknown model %q", id)
	}
	t, ok := m.client.(tunable)
	if !ok {
		return 0, fmt.Errorf("%s is not a simulated model: chaos knobs only apply to sim models", id)
	}
	return t.Tune(knob, delta)
}
