package sim

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/providers"
)

// fakeClock is a providers.Clock whose timers fire only when the test says
// so. It records every duration a timer was set to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waits  []time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

func (c *fakeClock) NewTimer(d time.Duration) providers.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (c *fakeClock) AfterFunc(time.Duration, func()) providers.Timer {
	panic("the simulator should not need AfterFunc")
}

// fire advances the clock by the last wait and fires every timer.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waits) > 0 {
		c.now = c.now.Add(c.waits[len(c.waits)-1])
	}
	for _, t := range c.timers {
		select {
		case t.ch <- c.now:
		default:
		}
	}
}

func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }
func (t *fakeTimer) Stop() bool          { return true }
func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.waits = append(t.c.waits, d)
	return true
}

// TestClockInjection proves that a stream waits through the model's clock:
// with a fake clock, Next blocks until the fake timer fires (the bubble's
// own clock never moves), and the waits it asks for are the delays the same
// call has on the real clock.
func TestClockInjection(t *testing.T) {
	p := Params{TTFT: time.Hour, TTFTP95: 2 * time.Hour, TokensPerSec: 0.01, OutputTokens: 12}
	req := textReq("How do database indexes work?")

	// The reference: the same call on RealClock, in a bubble.
	var want []time.Duration
	var wantText string
	synctest.Test(t, func(t *testing.T) {
		tr := run(t, t.Context(), New("clocked", p, 3), req)
		if tr.err != nil {
			t.Fatal(tr.err)
		}
		prev := time.Duration(0)
		for _, at := range tr.times {
			want = append(want, at-prev)
			prev = at
		}
		wantText = tr.text
	})

	synctest.Test(t, func(t *testing.T) {
		fc := &fakeClock{}
		m := New("clocked", p, 3)
		m.SetClock(fc)
		s, _ := m.Stream(t.Context(), req)
		defer s.Close()
		start := time.Now()
		var text string
		for i := 0; ; i++ {
			got := make(chan bool)
			go func() { got <- s.Next() }()
			synctest.Wait()
			select {
			case ok := <-got:
				// Only the end of a clean stream needs no timer.
				if ok {
					t.Fatalf("chunk %d arrived before the fake clock fired", i)
				}
			default:
				fc.fire()
				if !<-got {
					t.Fatalf("stream ended after %d chunks: %v", i, s.Err())
				}
				text += s.Chunk().Text
				continue
			}
			break
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the bubble's clock moved by %v: the stream used real timers", d)
		}
		if text != wantText {
			t.Errorf("got text %q, want %q (the clock must not change the answer)", text, wantText)
		}
		got := fc.recorded()
		if len(got) != len(want) {
			t.Fatalf("got %d waits, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("wait %d: got %v, want %v", i, got[i], want[i])
			}
		}
	})

	// nil restores the real clock.
	synctest.Test(t, func(t *testing.T) {
		m := New("clocked", p, 3)
		m.SetClock(&fakeClock{})
		m.SetClock(nil)
		if tr := run(t, t.Context(), m, req); tr.text != wantText || tr.err != nil {
			t.Errorf("after SetClock(nil): got %q, %v, want %q", tr.text, tr.err, wantText)
		}
	})
}
