package engine

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/council-dev/council/providers"
)

// A session's bug is that session's failure, never the process's: a panic
// in a strategy, in an attempt's goroutine, or in [Engine.Run]'s event
// callback is recovered, its stack written to the engine's bug log
// (stderr unless [WithBugLog]) and kept in the summary, and the session
// ends failed with error kind internal, after its attempts have ended and
// with its one session_done.

// ErrorKindInternal is [Summary].ErrorKind of a session that failed by a
// bug in council (a recovered panic).
const ErrorKindInternal = "internal"

// causeInternal cancels what a session still runs once it has hit a bug.
var causeInternal = &cancelCause{ReasonInternal}

// bugLog is where recovered panics' stacks go.
type bugLog struct {
	mu sync.Mutex
	w  io.Writer
}

// WithBugLog makes the engine write the stack of a recovered panic (a bug
// in council, which fails its session) to w rather than os.Stderr.
func WithBugLog(w io.Writer) Option { return func(e *Engine) { e.bugs.w = w } }

// crash is a recovered panic: where it happened, its value and stack.
type crash struct {
	where string
	value any
	stack []byte
}

// message is what the session's summary says about the crash.
func (c *crash) message() string {
	return fmt.Sprintf("internal error: a bug in council (panic in %s: %v); please report it, with the stack printed to stderr", c.where, c.value)
}

// crashed records that the session hit a bug: the first crash is kept and
// logged (later ones are logged too), and everything the session still
// runs is cancelled. Safe from any goroutine.
func (s *session) crashed(c *crash) {
	s.e.bugs.write(s.id, c)
	if s.internal.CompareAndSwap(nil, c) {
		s.cancel(causeInternal)
	}
}

func (b *bugLog) write(session string, c *crash) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.w
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "council: session %s: panic in %s: %v\n%s\n", session, c.where, c.value, c.stack)
}

// runStrategy runs the session's strategy, turning a panic into the
// session's failure. Whatever the strategy left running is cancelled and
// waited for: every attempt ends before the summary is made.
//
//go:noinline
func (s *session) runStrategy() {
	defer func() {
		if v := recover(); v != nil {
			s.crashed(&crash{where: "strategy " + string(s.strategy), value: v, stack: debug.Stack()})
		}
		if s.pending > 0 {
			s.cancelRunning(causeInternal)
			s.awaitAll()
		}
	}()
	lookup(s.strategy).run(s)
}

// recovered ends an attempt whose goroutine panicked: its one final event
// (attempt_failed, kind internal) unless it was already sent, its breaker
// ticket handed back as no evidence, and its session failed.
func (a *attempt) recovered(v any) {
	s := a.s
	s.crashed(&crash{where: "attempt " + a.id() + " (" + a.m.cfg.ID + ")", value: v, stack: debug.Stack()})
	if a.endPhase == 0 {
		a.endedAt = s.since()
		a.status, a.kind = AttemptFailedStatus, providers.KindInternal
		a.err = "internal error: a bug in council"
		a.emitEnd()
	}
	if a.admitted && a.endPhase < 2 {
		a.endPhase = 2
		s.breakerEvents(a, a.m.breaker.report(a.ticket, outcomeExcluded, 0, s.start.Add(a.endedAt)))
	}
}

// consume hands ev to the consumer's callback; false when the callback
// panicked, which fails the session.
func (s *session) consume(onEvent func(Event), ev Event) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.crashed(&crash{where: "the event consumer (" + ev.Type.String() + ")", value: v, stack: debug.Stack()})
		}
	}()
	onEvent(ev)
	return true
}
