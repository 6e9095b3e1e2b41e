package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type ctxKey struct{}

func newTestAttemptCtx(caller context.Context) *attemptCtx {
	return &attemptCtx{caller: &caller}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestAttemptCtxCancel(t *testing.T) {
	c := newTestAttemptCtx(context.Background())
	done := c.Done()
	if c.Err() != nil || c.Cause() != nil || isClosed(done) {
		t.Fatalf("a new context is done: err %v, cause %v", c.Err(), c.Cause())
	}
	if c.Done() != done {
		t.Fatal("Done returned a different channel the second time")
	}
	c.cancel(causeLostRace)
	c.cancel(causeBudget) // the first cause stays
	if !isClosed(done) {
		t.Fatal("Done not closed by cancel")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", c.Err())
	}
	if c.Cause() != causeLostRace {
		t.Fatalf("Cause = %v, want %v", c.Cause(), causeLostRace)
	}
	// Cancelled before anyone asked: Done is a closed channel.
	c2 := newTestAttemptCtx(context.Background())
	c2.cancel(errModelTimeout)
	if !isClosed(c2.Done()) {
		t.Fatal("Done of a context cancelled before the first Done is not closed")
	}
}

// The caller's values and deadline reach the provider; the caller's live
// cancelCtx must not answer context.Cause for a cancelled attempt with nil
// (a provider reporting context.Cause(ctx) would report no error).
func TestAttemptCtxCallerValuesNotCause(t *testing.T) {
	defer goleak.VerifyNone(t)
	deadline := time.Now().Add(time.Hour)
	caller, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "v"), deadline)
	defer cancel()
	c := newTestAttemptCtx(caller)
	if got := c.Value(ctxKey{}); got != "v" {
		t.Fatalf("Value = %v, want the caller's", got)
	}
	if d, ok := c.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("Deadline = %v %v, want the caller's %v", d, ok, deadline)
	}
	c.cancel(causeDecided)
	if err := context.Cause(c); err == nil {
		t.Fatal("context.Cause of a cancelled attempt context is nil: it found the caller's live cancelCtx")
	}
	if caller.Err() != nil {
		t.Fatal("cancelling an attempt cancelled its caller")
	}
}

// A context derived with context.WithCancel, as net/http derives one for
// each request, registers through AfterFunc (no watcher goroutine), is
// cancelled with its parent, and unregisters when cancelled first.
func TestAttemptCtxDerived(t *testing.T) {
	defer goleak.VerifyNone(t)
	c := newTestAttemptCtx(context.Background())
	child, cancelChild := context.WithCancel(c)
	if n := len(*c.after); n != 1 {
		t.Fatalf("WithCancel registered %d AfterFuncs, want 1", n)
	}
	cancelChild()
	if n := len(*c.after); n != 0 {
		t.Fatalf("a cancelled child left %d AfterFuncs registered", n)
	}
	if !isClosed(child.Done()) {
		t.Fatal("child not done after its own cancel")
	}

	child2, cancel2 := context.WithCancel(c)
	defer cancel2()
	ran := make(chan struct{})
	stop := context.AfterFunc(c, func() { close(ran) })
	stopped := context.AfterFunc(c, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped() {
		t.Fatal("stop of a pending AfterFunc returned false")
	}
	c.cancel(causeHedgeWon)
	select {
	case <-child2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a derived context was not cancelled with its parent")
	}
	if !errors.Is(child2.Err(), context.Canceled) {
		t.Fatalf("child Err = %v", child2.Err())
	}
	<-ran
	if stop() {
		t.Fatal("stop after the AfterFunc ran returned true")
	}
	// Registered after the cancel: runs at once.
	late := make(chan struct{})
	if c.AfterFunc(func() { close(late) })() {
		t.Fatal("stop of an AfterFunc on a cancelled context returned true")
	}
	<-late
}

func TestAttemptCtxConcurrent(t *testing.T) {
	defer goleak.VerifyNone(t)
	c := newTestAttemptCtx(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-c.Done()
			if c.Err() == nil || c.Cause() != causeUser {
				t.Errorf("after Done: err %v cause %v", c.Err(), c.Cause())
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.cancel(causeUser)
		}()
	}
	wg.Wait()
}
