package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// slots is max_concurrency: the calls in flight across the engine's
// sessions. A call beyond it waits, and a freed slot goes to the call that
// has waited longest. A call takes its place in line when its session
// launches it, not when its goroutine first runs: the attempts a session
// launches side by side then queue in the order it launched them, so a run
// on a virtual clock (council bench) hands out slots the same way every
// time, and the first model asked is the first served.
type slots struct {
	mu   sync.Mutex
	free int
	// line holds the waiting calls, first come first; a call's channel is
	// closed when it is given a slot.
	line []*slotWait
}

type slotWait struct {
	a     *attempt
	ready chan struct{}
}

func newSlots(n int) *slots { return &slots{free: max(n, 1)} }

// reserve takes a slot for a at once if one is free and no call waits
// before it (true), or puts a in line (false: a must [slots.wait]).
func (q *slots) reserve(a *attempt) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.free > 0 && len(q.line) == 0 {
		q.free--
		return true
	}
	q.line = append(q.line, &slotWait{a: a, ready: make(chan struct{})})
	return false
}

// wait waits until a, put in line by reserve, is given a slot, or ctx
// ends first (its place in line is given up, or the slot it was given in
// the meantime passed on).
func (q *slots) wait(ctx context.Context, a *attempt) error {
	return q.waitOr(ctx, a, (*lateCheck)(nil))
}

// lateness tells a waiting call when to look whether it is too late (C,
// nil: never) and whether it is (due), as [lateCheck] does.
type lateness interface {
	C() <-chan time.Time
	due() bool
}

// errTooLate is [slots.waitOr]'s when its late channel fired first.
var errTooLate = errors.New("too late for the session's timeout")

// waitOr is wait that also gives up its place, with errTooLate, once late
// says the call is too late (nil: never): a call that can no longer
// finish in its session's timeout stops waiting for a slot it could not
// use.
func (q *slots) waitOr(ctx context.Context, a *attempt, late lateness) error {
	q.mu.Lock()
	var w *slotWait
	for _, x := range q.line {
		if x.a == a {
			w = x
			break
		}
	}
	q.mu.Unlock()
	if w == nil {
		return nil // given a slot already (release removes it from line)
	}
	err := errTooLate
wait:
	for {
		select {
		case <-w.ready:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		case <-late.C():
			if late.due() {
				break wait
			}
		}
	}
	q.mu.Lock()
	for i, x := range q.line {
		if x == w {
			q.line = append(q.line[:i], q.line[i+1:]...)
			q.mu.Unlock()
			return err
		}
	}
	q.mu.Unlock()
	q.release() // it was given a slot as it gave up: the next in line has it
	return err
}

// release frees a slot: the first call in line gets it, if any waits.
func (q *slots) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.line) == 0 {
		q.free++
		return
	}
	w := q.line[0]
	q.line[0] = nil
	q.line = q.line[1:]
	close(w.ready)
}
