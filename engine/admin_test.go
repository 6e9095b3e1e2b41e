package engine

import (
	"testing"
	"time"
)

// TestResetBreaker: a reset closes an open breaker and forgets its counts;
// a report from a call admitted before the reset counts for nothing.
func TestResetBreaker(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	b := testBreaker(c)
	for range 4 {
		call(b, outcomeFailure)
	}
	if s := b.snapshot(); s.State != BreakerOpen {
		t.Fatalf("state %s, want open", s.State)
	}
	e := &Engine{models: map[string]*model{"m": {breaker: b}}}
	from, err := e.ResetBreaker("m")
	if err != nil || from != BreakerOpen {
		t.Fatalf("reset: from %s, err %v", from, err)
	}
	if s := b.snapshot(); s.State != BreakerClosed || s.Requests != 0 || s.Failures != 0 {
		t.Errorf("after reset %+v, want closed with no counts", s)
	}
	tk, _, why := b.allow()
	if why != ReasonNone {
		t.Fatalf("a reset breaker refused a call: %s", why)
	}
	e.ResetBreaker("m")
	b.report(tk, outcomeFailure, 0, c.Now())
	if s := b.snapshot(); s.Requests != 0 {
		t.Errorf("a call admitted before the reset was counted: %+v", s)
	}
	if _, err := e.ResetBreaker("nope"); err == nil {
		t.Error("reset of an unknown model did not fail")
	}
}
