package engine

import (
	"sync"
)

// eventQueue sits between a session's producers (the coordinator and the
// attempt goroutines) and its consumer. Producers never block: events go
// into an unbounded buffer, and a delta is merged into its model's pending
// delta when the consumer has not taken that one yet, so a slow consumer
// sees fewer, larger deltas and never slows the engine. Every other event
// is delivered, in order. Sequence numbers are given when an event enters
// the queue, so merged deltas leave no gaps.
//
// A producer hands events to the consumer itself while the channel has
// room. Only when it has not is a forwarder goroutine started, to wait on
// the consumer; the first session_done that finds no forwarder and room in
// the channel closes it. A session whose consumer keeps up has no forwarder
// at all.
type eventQueue struct {
	mu        sync.Mutex
	buf       []Event
	spare     []Event
	lastDelta []int // per attempt: index in buf of its pending delta, or -1
	inline    [16]int
	bufs      *[2][]Event
	seq       int
	// woken is set when a wake-up is owed to the forwarder (sent, not yet
	// acted on by take): events committed meanwhile need no other.
	woken bool
	// busy is set while the forwarder sends a batch it has taken: events
	// committed meanwhile must wait behind it.
	busy bool
	// started is set once the forwarder is started; abandoned once it has
	// stopped delivering because the engine is closing: from then on
	// nothing more is delivered, so a consumer gets a gap-free prefix.
	started, abandoned bool
	wake               chan struct{}
	out                chan Event
	wg                 *sync.WaitGroup // the engine's: the forwarder is one of its goroutines
	abandon            <-chan struct{} // closed when the engine closes
}

// eventBufs recycles the queue's two buffers across sessions: an Event is
// a few hundred bytes, and growing fresh buffers was a large share of a
// session's cost.
var eventBufs = sync.Pool{New: func() any { return &[2][]Event{make([]Event, 0, 64), make([]Event, 0, 64)} }}

func (q *eventQueue) init(attempts int, wg *sync.WaitGroup, abandon <-chan struct{}) {
	q.wg, q.abandon = wg, abandon
	q.out = make(chan Event, 8)
	b := eventBufs.Get().(*[2][]Event)
	q.bufs = b
	q.buf, q.spare = b[0][:0], b[1][:0]
	if attempts <= len(q.inline) {
		q.lastDelta = q.inline[:attempts]
	} else {
		q.lastDelta = make([]int, attempts)
	}
	for i := range q.lastDelta {
		q.lastDelta[i] = -1
	}
}

// release returns the buffers to the pool once the forwarder is done.
func (q *eventQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recycle()
}

// recycle returns the buffers to the pool; q.mu must be held.
func (q *eventQueue) recycle() {
	// The buffers are not cleared: open zeroes each slot as it hands it
	// out, and clearing them here too (with the collector's write barriers
	// on every pointer) was 4% of a session. Until they are reused, or the
	// pool is dropped at the second garbage collection, they keep the last
	// session's event texts and summary alive.
	q.bufs[0], q.bufs[1] = q.buf[:0], q.spare[:0]
	eventBufs.Put(q.bufs)
	q.bufs, q.buf, q.spare = nil, nil, nil
}

// open locks the queue and returns the slot the next event of type t goes
// in, with its sequence number set; attempt is the index of the attempt the
// event is about, or -1. A delta for an attempt whose previous delta has not
// been taken yet gets that delta's slot back (merged): the caller appends its
// text. The caller fills the slot and calls commit. Events are built in
// place: an Event is a few hundred bytes, and copies of it on the attempt
// goroutines' frames made their stacks grow on every session.
func (q *eventQueue) open(t EventType, attempt int) (ev *Event, merged bool) {
	q.mu.Lock()
	return q.another(t, attempt)
}

// another is open for a further event under the same lock, before commit.
func (q *eventQueue) another(t EventType, attempt int) (ev *Event, merged bool) {
	for attempt >= len(q.lastDelta) {
		q.lastDelta = append(q.lastDelta, -1) // a session may launch any number of attempts
	}
	track := attempt >= 0
	if (t == Delta || t == ReasoningDelta) && track {
		// An answer delta merges only into an answer delta, reasoning
		// into reasoning; the other kind ends the merging, in order.
		if i := q.lastDelta[attempt]; i >= 0 && q.buf[i].Type == t {
			return &q.buf[i], true
		}
		q.lastDelta[attempt] = len(q.buf)
	} else if track {
		// A later event of this attempt: later deltas must come after it.
		q.lastDelta[attempt] = -1
	}
	q.seq++
	q.buf = append(q.buf, Event{})
	ev = &q.buf[len(q.buf)-1]
	ev.Seq = q.seq
	return ev, false
}

// commit releases the slot open returned and hands what is pending to the
// consumer, or to the forwarder (started now if need be) when the channel
// is full.
func (q *eventQueue) commit() {
	if !q.busy {
		q.sendDirect()
	}
	if len(q.buf) == 0 {
		q.mu.Unlock()
		return
	}
	if !q.started {
		q.started = true
		q.wake = make(chan struct{}, 1)
		q.wg.Add(1) // the session goroutine, counted, is running
		go q.forward()
	}
	wake := !q.woken
	q.woken = true
	q.mu.Unlock()
	if wake {
		q.wake <- struct{}{} // never blocks: take empties the channel before it clears woken
	}
}

// sendDirect hands the pending events to the consumer itself, in order,
// as far as the channel has room for them without waiting, and keeps the
// rest for the forwarder: a forwarder parked and woken several times a
// session cost more than the sends it made. session_done, sent with no
// forwarder started, closes the channel; a forwarder, once started, sends
// it and closes the channel itself. q.mu must be held and the forwarder
// must not be busy.
func (q *eventQueue) sendDirect() {
	if q.abandoned {
		return
	}
	k := 0
send:
	for ; k < len(q.buf); k++ {
		done := q.buf[k].Type == SessionDone
		if done && q.started {
			break
		}
		select {
		case q.out <- q.buf[k]:
		default:
			break send // full
		}
		if done {
			close(q.out)
			q.recycle()
			return
		}
	}
	if k == 0 {
		return
	}
	q.buf = q.buf[:copy(q.buf, q.buf[k:])]
	for i, d := range q.lastDelta {
		if d >= 0 {
			q.lastDelta[i] = max(d-k, -1) // a delta already sent can no longer merge
		}
	}
}

// take returns the pending events and empties the buffer.
func (q *eventQueue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buf
	q.buf = q.spare[:0]
	q.spare = b
	q.woken = false
	q.busy = len(b) > 0
	for i := range q.lastDelta {
		q.lastDelta[i] = -1
	}
	return b
}

// forward delivers events to out until session_done, then closes out. When
// abandon is closed (the engine is closing) and the consumer is not taking
// events, it stops delivering for good and drains silently, so no goroutine
// outlives the session and the consumer has seen a prefix of the events.
func (q *eventQueue) forward() {
	defer q.wg.Done()
	defer q.release()
	defer close(q.out)
	abandon := q.abandon
	dropping := false
	for {
		<-q.wake
		b := q.take()
		if len(b) == 0 {
			continue
		}
		for i := range b {
			done := b[i].Type == SessionDone
			// A send that need not wait is a plain channel operation; only
			// a full channel pays for the two-way select.
			if !dropping {
				select {
				case q.out <- b[i]:
				default:
					select {
					case q.out <- b[i]:
					case <-abandon:
						dropping = true
					}
				}
			}
			if done {
				return
			}
		}
		q.mu.Lock()
		q.busy = false
		q.abandoned = dropping
		q.mu.Unlock()
	}
}
