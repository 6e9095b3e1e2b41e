package engine

import (
	"context"
	"time"
)

// fleetBreaker ties a breaker to its model's shared breaker: the breaker
// reads the shared one before each call it admits (so a trip on any
// replica stops this one's next call), adds each finished call to the
// shared window, and publishes the moves it makes itself. While the store
// cannot be reached it goes on alone, and publishes its state once it can.
type fleetBreaker struct {
	st    SharedState
	ctx   context.Context // the engine's: ends with it
	model string
	owner string // this replica, for the half-open probe's claim
	// seen is the latest shared Seq adopted or made (under breaker.mu).
	seen int64
	// dirty: a move was made while the store could not be reached.
	dirty bool
}

// allowShared is allow for a breaker in a fleet.
//
//go:noinline
func (b *breaker) allowShared() (ticket, []breakerChange, Reason) {
	fl := b.fleet
	sb, err := fl.st.LoadBreaker(fl.ctx, fl.model)
	b.mu.Lock()
	var changes []breakerChange
	publish := false
	if err == nil {
		publish = fl.dirty
		b.adopt(sb, !publish, &changes)
	}
	t, changes, why := b.decide(changes)
	st, at, req, fail := b.state, b.openedAt, b.trippedReq, b.trippedFail
	b.mu.Unlock()
	if publish {
		b.publish(st, at, req, fail)
	}
	if t.probe && why == ReasonNone && !b.claim(t, at) {
		return ticket{}, changes, ReasonBreakerOpen // another replica probes
	}
	return t, changes, why
}

// claim takes the fleet's one half-open probe for t; false (and t given
// back) when another replica has it. Unreached, the replica probes alone.
func (b *breaker) claim(t ticket, openedAt time.Time) bool {
	fl := b.fleet
	now := b.clock.Now()
	ok, err := fl.st.ClaimProbe(fl.ctx, fl.model, fl.owner, openedAt, now, b.cooldown)
	if err != nil || ok {
		return true
	}
	b.mu.Lock()
	if b.gen == t.gen {
		b.probing = false
	}
	b.mu.Unlock()
	return false
}

// reportShared is report for a breaker in a fleet: the outcome counts in
// the shared window, and a move it makes here is published.
//
//go:noinline
func (b *breaker) reportShared(t ticket, o outcome, hold time.Duration, now time.Time) []breakerChange {
	fl := b.fleet
	if hold > 0 {
		_ = fl.st.Hold(fl.ctx, fl.model, now.Add(hold)) // unreached: this replica holds alone
	}
	b.mu.Lock()
	counted := t.gen == b.gen && !t.probe && o != outcomeExcluded && b.state == BreakerClosed
	b.mu.Unlock()
	changes := b.reportLocal(t, o, hold, now)
	if len(changes) > 0 {
		b.mu.Lock()
		st, at, req, fail := b.state, b.openedAt, b.trippedReq, b.trippedFail
		b.mu.Unlock()
		b.publish(st, at, req, fail)
		return changes
	}
	if !counted {
		return nil
	}
	sb, err := fl.st.CountBreaker(fl.ctx, fl.model, BreakerCount{Now: now, Failure: o == outcomeFailure,
		Bucket: b.bucket, MinRequests: b.minRequests, Rate: b.rate, Owner: fl.owner})
	if err != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if fl.dirty {
		return nil // our own state goes first, at the next admission
	}
	b.adopt(sb, true, &changes)
	return changes
}

// adopt takes the shared breaker's hold and force, and (when moves) its
// state when it has moved since this replica last saw it. Under b.mu.
func (b *breaker) adopt(sb SharedBreaker, moves bool, changes *[]breakerChange) {
	if sb.HeldTill.After(b.heldTill) {
		b.heldTill = sb.HeldTill
	}
	b.force = sb.Force
	if sb.Seq == 0 && b.fleet.seen > 0 {
		// The store lost the breaker (Redis restarted without saving, or
		// its key expired): count its moves afresh, and share this one's
		// state again if it is open.
		b.fleet.seen = 0
		b.fleet.dirty = b.fleet.dirty || b.state == BreakerOpen
	}
	if !moves || sb.Seq <= b.fleet.seen {
		return
	}
	b.fleet.seen = sb.Seq
	switch {
	case sb.State == BreakerOpen:
		if b.state != BreakerOpen || !b.openedAt.Equal(sb.OpenedAt) {
			b.setState(BreakerOpen, sb.OpenedAt, changes)
			b.openedAt = sb.OpenedAt
			b.trippedReq, b.trippedFail = sb.Req, sb.Fail
		}
	case b.state != BreakerClosed:
		b.setState(BreakerClosed, b.clock.Now(), changes)
	}
}

// publish shares a move this breaker made (half-open is never shared).
func (b *breaker) publish(st BreakerState, at time.Time, req, fail int) {
	if st == BreakerHalfOpen {
		b.mu.Lock()
		b.fleet.dirty = false
		b.mu.Unlock()
		return
	}
	fl := b.fleet
	sb, err := fl.st.PublishBreaker(fl.ctx, fl.model, fl.owner, st, at, req, fail)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		fl.dirty = true
		return
	}
	fl.dirty = false
	fl.seen = max(fl.seen, sb.Seq)
}

// refresh adopts the shared breaker without a call: a board shows the
// fleet's state on a replica that has not called the model since it moved.
// The move is not reported as an event here; the replica that made it
// reported it.
func (b *breaker) refresh() {
	fl := b.fleet
	sb, err := fl.st.LoadBreaker(fl.ctx, fl.model)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var changes []breakerChange
	// A dirty breaker's own state goes first, at the next admission; the
	// fleet's hold and force it takes now, as an admission does.
	b.adopt(sb, !fl.dirty, &changes)
}

// WithSharedMoves calls f each time the engine adopts a move another
// replica made to model's shared breaker, as the fleet publishes it (""
// when it read every model's breaker again, after its watch was lost):
// a server pushes its health to its watchers then.
func WithSharedMoves(f func(model string)) Option { return func(e *Engine) { e.onMove = f } }

// sharedMoved applies a move of a shared breaker another replica
// published: the replica's own view shows it at once, before its next
// call of the model. Its own moves it made and reported already.
func (e *Engine) sharedMoved(model, origin string) {
	if origin != "" && origin == e.nonce {
		return
	}
	if model == "" {
		for _, m := range e.order {
			m.breaker.refresh()
		}
	} else if m := e.models[model]; m != nil && m.breaker.fleet != nil {
		m.breaker.refresh()
	} else {
		return
	}
	if e.onMove != nil {
		e.onMove(model)
	}
}
