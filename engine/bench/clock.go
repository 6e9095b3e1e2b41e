package bench

import (
	"container/heap"
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/council-dev/council/providers"
)

// ErrStuck is returned by [Virtual.Drive] when every goroutine is blocked,
// no timer is pending, and the work has not ended: nothing could ever wake
// it.
var ErrStuck = errors.New("bench: virtual clock: every goroutine is blocked and no timer is pending")

// Virtual is a [providers.Clock] whose time moves only when [Virtual.Drive]
// moves it: when no goroutine of the process is running or ready to run,
// it jumps to the earliest pending timer and fires that one timer, then
// waits for the program to be quiet again. Timers due at the same instant
// fire in the order they were set (a sequence number breaks the tie), one
// at a time, so a program whose goroutines only wait on this clock and on
// each other runs the same way every time, however long its waits are:
// seconds of simulated latency take the microseconds of work they hide.
//
// Quiet is read from the runtime's scheduler metrics
// (/sched/goroutines/running and /runnable): the driver itself is the one
// goroutine running. Goroutines in a system call are not counted (a
// participant never makes one; a left-behind stdin reader must not stall
// the clock), and unrelated goroutines that run now and then (the
// collector's workers) only delay a step, they never change its result.
type Virtual struct {
	mu    sync.Mutex
	now   time.Time
	seq   uint64
	q     timerQueue
	steps uint64
}

var _ providers.Clock = (*Virtual)(nil)

// NewVirtual returns a virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Since returns the virtual time elapsed since t.
func (v *Virtual) Since(t time.Time) time.Duration { return v.Now().Sub(t) }

// NewTimer returns a timer whose channel receives the virtual time d from
// now.
func (v *Virtual) NewTimer(d time.Duration) providers.Timer {
	t := &vtimer{v: v, ch: make(chan time.Time, 1), idx: -1}
	t.Reset(d)
	return t
}

// AfterFunc calls f on its own goroutine d from now.
func (v *Virtual) AfterFunc(d time.Duration, f func()) providers.Timer {
	t := &vtimer{v: v, f: f, idx: -1}
	t.Reset(d)
	return t
}

// Steps is how many timers have fired.
func (v *Virtual) Steps() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.steps
}

// Drive moves the clock until done is closed: each step waits until the
// process is quiet, then fires the earliest timer. It returns nil once
// done is closed, [ErrStuck] when nothing can ever close it, or ctx's
// error when ctx ends while the program is quiet with no timer pending.
// Drive must run on a goroutine that takes no other part in the work.
// tick, when not nil, is called on Drive's goroutine about ten times a
// second (real time), between steps: the place to report progress, since
// a participant that wrote to a terminal would let the clock move while
// it sat in the system call.
func (v *Virtual) Drive(ctx context.Context, done <-chan struct{}, tick func()) error {
	q := newQuiet()
	last := time.Now()
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if tick != nil && time.Since(last) >= 100*time.Millisecond {
			tick()
			last = time.Now()
		}
		q.wait()
		select {
		case <-done:
			return nil
		default:
		}
		v.mu.Lock()
		if v.q.Len() == 0 {
			v.mu.Unlock()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrStuck
		}
		t := heap.Pop(&v.q).(*vtimer)
		if t.when.After(v.now) {
			v.now = t.when
		}
		now := v.now
		v.steps++
		v.mu.Unlock()
		if t.f != nil {
			go t.f()
		} else {
			select {
			case t.ch <- now:
			default:
			}
		}
	}
}

// quiet tells when no goroutine but the caller is running or runnable.
type quiet struct{ s []metrics.Sample }

func newQuiet() *quiet {
	return &quiet{s: []metrics.Sample{
		{Name: "/sched/goroutines/running:goroutines"},
		{Name: "/sched/goroutines/runnable:goroutines"},
	}}
}

// wait returns once the process has been seen quiet twice in a row, with
// the other goroutines given the processor in between: one reading could
// fall between one goroutine waking another and the woken one being
// queued.
func (q *quiet) wait() {
	for seen, polls := 0, 0; seen < 2; polls++ {
		runtime.Gosched()
		if polls > 1000 {
			// Something runs for long (the collector, another program's
			// work in a test binary): stop spinning on the processor.
			time.Sleep(50 * time.Microsecond)
		}
		metrics.Read(q.s)
		if q.s[0].Value.Uint64() <= 1 && q.s[1].Value.Uint64() == 0 {
			seen++
		} else {
			seen = 0
		}
	}
}

// vtimer is a [Virtual] clock's timer: a channel timer, or an AfterFunc
// when f is set.
type vtimer struct {
	v    *Virtual
	ch   chan time.Time
	f    func()
	when time.Time
	seq  uint64
	idx  int // in the queue; -1 when not pending
}

func (t *vtimer) C() <-chan time.Time { return t.ch }

// Stop unschedules the timer and, as package time's timers do since Go
// 1.23, discards a time sent but not yet received.
func (t *vtimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	return t.stopLocked()
}

func (t *vtimer) stopLocked() bool {
	if t.ch != nil {
		select {
		case <-t.ch:
		default:
		}
	}
	if t.idx < 0 {
		return false
	}
	heap.Remove(&t.v.q, t.idx)
	return true
}

// Reset schedules the timer d from now (d <= 0: at the next step).
func (t *vtimer) Reset(d time.Duration) bool {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	active := t.stopLocked()
	t.when = v.now.Add(max(d, 0))
	v.seq++
	t.seq = v.seq
	heap.Push(&v.q, t)
	return active
}

// timerQueue is a min-heap of pending timers by (when, seq).
type timerQueue []*vtimer

func (q timerQueue) Len() int { return len(q) }
func (q timerQueue) Less(i, j int) bool {
	if !q[i].when.Equal(q[j].when) {
		return q[i].when.Before(q[j].when)
	}
	return q[i].seq < q[j].seq
}
func (q timerQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *timerQueue) Push(x any) {
	t := x.(*vtimer)
	t.idx = len(*q)
	*q = append(*q, t)
}
func (q *timerQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.idx = -1
	*q = old[:len(old)-1]
	return t
}
