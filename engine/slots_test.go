package engine

import (
	"context"
	"testing"
	"time"
)

// TestSlotsFirstLaunchedFirstServed: calls launched with no free slot get
// one in the order they were launched, whatever order they wait in; a call
// whose context ends gives up its place, or passes on a slot it was given.
func TestSlotsFirstLaunchedFirstServed(t *testing.T) {
	q := newSlots(1)
	a, b, c := &attempt{}, &attempt{}, &attempt{}
	if !q.reserve(a) || q.reserve(b) || q.reserve(c) {
		t.Fatal("with one slot the first call should run and the next two wait")
	}
	q.release() // a ends: b, launched before c, is next
	if len(q.line) != 1 || q.line[0].a != c {
		t.Fatalf("after a freed its slot the line is %v, want c alone", q.line)
	}
	if err := q.wait(context.Background(), b); err != nil {
		t.Fatalf("b: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.wait(ctx, c); err == nil {
		t.Fatal("c waited on with its context ended: want its error")
	}
	if len(q.line) != 0 || q.free != 0 {
		t.Fatalf("c gave up its place: line %d, free %d; want 0 and 0 (b holds the slot)", len(q.line), q.free)
	}
	q.release() // b ends
	if q.free != 1 {
		t.Fatalf("free %d, want 1", q.free)
	}

	// A slot given as the context ends is passed on, not lost.
	if !q.reserve(a) || q.reserve(b) {
		t.Fatal("reserve")
	}
	q.release() // b is given the slot...
	if err := q.wait(ctx, b); err == nil {
		q.release() // ...and took it: it ends now
	}
	if q.free != 1 || len(q.line) != 0 {
		t.Fatalf("free %d, line %d: the slot was lost", q.free, len(q.line))
	}
}

// TestSlotsGiveUpWhenLate: a call whose late channel fires while it
// waits leaves the line with errTooLate, its place given to the next.
func TestSlotsGiveUpWhenLate(t *testing.T) {
	q := newSlots(1)
	a, b, c := &attempt{}, &attempt{}, &attempt{}
	if !q.reserve(a) || q.reserve(b) || q.reserve(c) {
		t.Fatal("with one slot the first call should run and the next two wait")
	}
	// Looked at twice: not late the first time, late the second.
	late := &fakeLate{c: make(chan time.Time, 2), answers: []bool{false, true}}
	late.c <- time.Time{}
	late.c <- time.Time{}
	if err := q.waitOr(context.Background(), b, late); err != errTooLate || len(late.answers) != 0 {
		t.Fatalf("b: %v after %d looks, want errTooLate after 2", err, 2-len(late.answers))
	}
	q.release() // a ends: c, not b, is given the slot
	if err := q.wait(context.Background(), c); err != nil || len(q.line) != 0 || q.free != 0 {
		t.Fatalf("c: %v, line %d, free %d; want the slot", err, len(q.line), q.free)
	}
}

type fakeLate struct {
	c       chan time.Time
	answers []bool
}

func (f *fakeLate) C() <-chan time.Time { return f.c }
func (f *fakeLate) due() bool {
	late := f.answers[0]
	f.answers = f.answers[1:]
	return late
}
