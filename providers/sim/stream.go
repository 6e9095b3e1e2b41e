package sim

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/council-dev/council/providers"
)

// errClosed ends a stream whose Close was called before it finished.
var errClosed = errors.New("sim: stream closed")

// stream plays out a script. Next does all the waiting itself, on one timer
// of its clock and ctx, so a stream owns no goroutine. Next, Chunk and Err belong to one
// goroutine; Close may be called from any, and unblocks a waiting Next.
type stream struct {
	ctx    context.Context
	sc     script
	i      int // next step
	cur    providers.Chunk
	output int // output tokens so far
	err    error
	done   bool
	clock  providers.Clock
	timer  providers.Timer

	closeOnce sync.Once
	closed    chan struct{}
	// ended, when set, is called once when the stream ends or is closed
	// (the model counts its calls in flight).
	ended   func()
	endOnce sync.Once
}

func newStream(ctx context.Context, sc script, clock providers.Clock) *stream {
	return &stream{ctx: ctx, sc: sc, clock: clock, closed: make(chan struct{})}
}

// Next waits for the next chunk; false at the end, on failure, when ctx is
// cancelled (at once) or after Close.
func (s *stream) Next() bool {
	s.cur = providers.Chunk{}
	if s.done {
		return false
	}
	if s.i < len(s.sc.steps) {
		st := s.sc.steps[s.i]
		if !s.wait(st.delay) {
			return false
		}
		s.i++
		s.output += st.tokens
		s.cur = providers.Chunk{
			Text:  st.text,
			Usage: &providers.Usage{InputTokens: s.sc.input, OutputTokens: s.output},
		}
		if s.i == len(s.sc.steps) && s.sc.end == endOK {
			s.cur.Finish = providers.FinishStop // the whole answer, as a vendor says it
			if s.sc.cut {
				s.cur.Finish = providers.FinishLength
			}
		}
		return true
	}
	switch s.sc.end {
	case endOK:
		if s.wait(0) {
			s.finish(nil)
		}
	case endErr:
		if s.wait(s.sc.endDelay) {
			s.finish(s.sc.err)
		}
	case endStall:
		s.wait(-1)
	}
	return false
}

// wait sleeps for d (forever if d < 0) and reports whether it did; if ctx
// is cancelled or the stream closed first, it ends the stream and reports
// false.
func (s *stream) wait(d time.Duration) bool {
	select {
	case <-s.ctx.Done():
		s.finish(context.Cause(s.ctx))
		return false
	case <-s.closed:
		s.finish(errClosed)
		return false
	default:
	}
	if d == 0 {
		return true
	}
	var fired <-chan time.Time // nil: never
	if d > 0 {
		if s.timer == nil {
			s.timer = s.clock.NewTimer(d)
		} else {
			s.timer.Reset(d)
		}
		fired = s.timer.C()
	}
	select {
	case <-fired:
		return true
	case <-s.ctx.Done():
		s.finish(context.Cause(s.ctx))
	case <-s.closed:
		s.finish(errClosed)
	}
	return false
}

func (s *stream) finish(err error) {
	s.done = true
	s.release()
	s.err = err
	s.cur = providers.Chunk{}
	if s.timer != nil {
		s.timer.Stop()
	}
}

// release tells the model, once, that the call is over.
func (s *stream) release() {
	if s.ended != nil {
		s.endOnce.Do(s.ended)
	}
}

// Chunk returns the current chunk. Every chunk carries the cumulative usage
// so far, so a stream that fails still tells how many tokens it burnt.
func (s *stream) Chunk() providers.Chunk { return s.cur }

// Err returns the error that ended the stream: nil after a clean end, an
// *[providers.Error] for a simulated failure, context.Cause(ctx) after
// cancellation.
func (s *stream) Err() error { return s.err }

// Close releases the stream; a Next waiting in another goroutine returns
// false at once. Safe to call twice.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.release()
	return nil
}
