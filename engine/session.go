package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// cancelCause is the cause an attempt is cancelled with; it carries the
// reason reported in attempt_cancelled.
type cancelCause struct{ reason Reason }

func (c *cancelCause) Error() string { return "cancelled: " + string(c.reason) }

// The causes are allocated once: cancelling costs nothing.
var (
	causeLostRace   = &cancelCause{ReasonLostRace}
	causeDecided    = &cancelCause{ReasonDecided}
	causeHedgeWon   = &cancelCause{ReasonHedgeWon}
	causePrimaryWon = &cancelCause{ReasonPrimaryWon}
	causeBudget     = &cancelCause{ReasonBudget}
	causeUser       = &cancelCause{ReasonUser}
)

// errModelTimeout is the cause of an attempt stopped by per_model_timeout.
var errModelTimeout = errors.New("per-model timeout")

// ErrUnknownModel is returned by [Engine.Start] for a model id not in the config.
var ErrUnknownModel = errors.New("unknown model")

// ErrClosed is returned by [Engine.Start] once [Engine.Close] has been called.
var ErrClosed = errors.New("engine closed")

// inlineAttempts is how many attempts a session holds inside itself
// without allocating: enough for an 8-way race, or 7 voters and an
// escalation. Eight keep a session within a 3.5 KB size class; a ninth
// attempt is allocated on its own.
const inlineAttempts = 8

// session is one prompt under one strategy.
type session struct {
	e        *Engine
	id       string
	strategy config.Strategy
	tierName string
	tier     config.TierConfig
	prompt   string
	models   []*model
	start    time.Time
	base     time.Duration   // start in engine time (see watchdog)
	caller   context.Context // the ctx given to Start
	// stopCaller unregisters the session from caller's cancellation.
	stopCaller func() bool
	baseReq    [2]providers.Request // text and classify requests, Model unset
	messages   [1]providers.Message // what baseReq asks
	q          eventQueue
	// livePrev and liveNext link the engine's live sessions, for Close.
	livePrev, liveNext *session
	// results carries the index of each attempt that has finished: a
	// channel of integers is one allocation, of pointers two.
	results chan int32
	pending int
	// reported counts the attempts that have not yet reported, so that a
	// session with nothing left to decide waits for them all with one
	// wake-up rather than one each (see awaitAll).
	unreported sync.WaitGroup

	// cmu guards attempts (appended by the session goroutine, walked by
	// whoever cancels the session) and cause.
	cmu      sync.Mutex
	attempts []*attempt
	cause    error // why the session was cancelled; nil while it runs

	// A session of up to inlineAttempts attempts keeps its models and its
	// attempts, contexts included, inside itself: one allocation.
	modelBuf   [inlineAttempts]*model
	attemptPtr [inlineAttempts]*attempt
	attemptBuf [inlineAttempts]attempt

	sum        *summaryBuf // filled by summary at the end
	winner     *attempt
	answer     string
	failure    string
	votes      map[string]int
	valid      int
	invalid    int
	tieBreak   string
	hedgeFired bool
	degraded   bool
}

// attempt is one call to one model within a session. Its fields after
// startedAt are written by its goroutine and read by the session only after
// the attempt has reported on s.results.
type attempt struct {
	s   *session
	idx int
	// running is set while the watchdog watches the attempt.
	running atomic.Bool
	// reported is set by the session when the attempt has reported.
	reported          bool
	gotFirst, started bool
	kind              providers.Kind
	m                 *model
	role              Role
	ctx               attemptCtx
	done              func(error)        // the breaker's callback for this call
	base              *providers.Request // the session's request, for the model to be set
	// deadline is when per_model_timeout ends the attempt (since the
	// session start); 0 for none.
	deadline time.Duration
	// lastChunk is when the latest chunk came (since the session start; 0
	// before the first token), for the watchdog's stall check.
	lastChunk atomic.Int64

	startedAt, firstTok, endedAt time.Duration
	text                         answerText
	usage                        providers.Usage
	status                       AttemptStatus
	reason                       Reason
	err                          string
	cost                         float64
	vote                         string
}

// Start begins a session and returns its events. The channel is closed
// after session_done; the consumer must drain it until then (cancelling ctx
// ends the session early, with reason "user", but the final events still
// arrive). It returns an error, and starts nothing, for a bad request or a
// closed engine.
func (e *Engine) Start(ctx context.Context, req SessionRequest) (<-chan Event, error) {
	s, err := e.newSession(ctx, req)
	if err != nil {
		return nil, err
	}
	// Counted under the lock Close takes before it waits: a session
	// started concurrently with Close is either counted before Close waits
	// or refused (WaitGroup.Add must not race with Wait).
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go s.run() // which calls e.wg.Done
	return s.q.out, nil
}

func (e *Engine) newSession(ctx context.Context, req SessionRequest) (*session, error) {
	strategy := req.Strategy
	if strategy == "" {
		strategy = e.cfg.DefaultStrategy
	}
	if _, err := config.ParseStrategy(string(strategy)); err != nil {
		return nil, err
	}
	tierName := req.Tier
	if tierName == "" {
		tierName = e.cfg.DefaultTier
	}
	tier, ok := e.cfg.Tiers[tierName]
	if !ok {
		return nil, fmt.Errorf("unknown tier %q", tierName)
	}
	ids := req.Models
	if len(ids) == 0 {
		ids = tier.Models
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("tier %q has no models", tierName)
	}
	s := &session{e: e, strategy: strategy, tierName: tierName, tier: tier, prompt: req.Prompt}
	s.models = s.modelBuf[:0]
	for _, id := range ids {
		m, ok := e.models[id]
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownModel, id)
		}
		s.models = append(s.models, m)
	}
	s.id = sessionID(e.nsess.Add(1))
	s.newSummary()
	maxAttempts := len(s.models) + 1 // an escalation may follow the voters
	s.attempts = s.attemptPtr[:0]
	s.results = make(chan int32, maxAttempts)
	s.q.init(maxAttempts, &e.wg, e.ctx.Done())
	s.caller = ctx
	s.start = time.Now()
	s.base = s.start.Sub(e.watch.epoch)
	return s, nil
}

func (s *session) since() time.Duration { return time.Since(s.start) }

// emitWith queues an event of type t about attempt (or -1), built in
// place in the queue: fill, when not nil, sets its other fields (under the
// queue's lock: it must not emit). An Event is a few hundred bytes; built
// on the callers' frames, events made goroutine stacks grow.
func (s *session) emitWith(attempt int, t EventType, fill func(e *Event)) {
	s.emitAt(s.since(), attempt, t, fill)
}

// emitAt is emitWith for an event at a time the caller has read.
func (s *session) emitAt(now time.Duration, attempt int, t EventType, fill func(e *Event)) {
	e, _ := s.q.open(t, attempt) // never merged: only deltas merge
	e.Type, e.Session, e.T = t, s.id, now
	if fill != nil {
		fill(e)
	}
	s.q.commit()
}

// emitAttempt queues an event about attempt a, at time now, that needs no
// other field than text, built in place in the queue. The caller passes
// the time it has already read.
func (s *session) emitAttempt(t EventType, a *attempt, now time.Duration, text string) {
	e, merged := s.q.open(t, a.idx)
	s.fillAttempt(e, merged, t, a, now, text)
	s.q.commit()
}

// emitFirst queues first_token and the first delta, under one lock.
func (s *session) emitFirst(a *attempt, now time.Duration, text string) {
	e, merged := s.q.open(FirstToken, a.idx)
	s.fillAttempt(e, merged, FirstToken, a, now, "")
	e, merged = s.q.another(Delta, a.idx)
	s.fillAttempt(e, merged, Delta, a, now, text)
	s.q.commit()
}

func (s *session) fillAttempt(e *Event, merged bool, t EventType, a *attempt, now time.Duration, text string) {
	if merged {
		e.Text += text
	} else {
		e.Type, e.Session, e.T, e.Model, e.Role, e.Text = t, s.id, now, a.m.cfg.ID, a.role, text
	}
}

// cancel cancels the session with cause: every attempt, and every attempt
// launched after. The first cause stays.
func (s *session) cancel(cause error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.cause == nil {
		s.cause = cause
	}
	for _, a := range s.attempts {
		a.ctx.cancel(cause)
	}
}

// cancelled reports whether the session was cancelled.
func (s *session) cancelled() bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.cause != nil
}

// run is the session goroutine. It calls its phases one after another,
// so that each one's frame is gone before the next: a new goroutine starts
// on a small stack, and a deep one is copied to a larger stack first, which
// cost a session more than its breakers.
func (s *session) run() {
	s.begin()
	switch s.strategy {
	case config.Race:
		s.race()
	case config.Hedge:
		s.hedge()
	case config.Consensus:
		s.consensus()
	}
	s.end()
}

// begin registers the session with its caller's context and with the
// engine (closing the engine cancels it, its watchdog enforces its
// timeout), and announces it.
//
//go:noinline
func (s *session) begin() {
	if s.caller.Done() != nil {
		s.stopCaller = context.AfterFunc(s.caller, func() { s.cancel(causeUser) })
	}
	if !s.e.track(s) {
		s.cancel(causeUser)
	}
	// Tracked first: the watchdog finds a session's deadlines on the
	// engine's live list.
	if d := s.tier.Timeout.Duration; d > 0 {
		s.e.watch.ensure(s.base + d)
	}
	s.emitWith(-1, SessionStarted, func(e *Event) { e.Text = s.prompt })
}

// end publishes the summary and releases what begin took. Cancelling the
// session last ends its attempts' contexts, and with them whatever the
// providers derived from them.
//
//go:noinline
func (s *session) end() {
	sum := s.summary()
	s.emitAt(sum.Elapsed, -1, SessionDone, func(e *Event) { e.Summary, e.Err = sum, sum.Error })
	s.e.untrack(s)
	if s.stopCaller != nil {
		s.stopCaller()
	}
	s.cancel(context.Canceled)
	s.e.wg.Done()
}

// baseRequest is what every attempt of role is asked, without the model:
// the prompt, or for a voter the classification request. It is built on
// the session goroutine the first time, before any attempt that reads it
// starts, and only read after; its messages live in the session.
func (s *session) baseRequest(role Role) *providers.Request {
	classify := role == RoleVoter || role == RoleEscalated
	i := 0
	if classify {
		i = 1
	}
	r := &s.baseReq[i]
	if r.Messages == nil {
		s.messages[0] = providers.Message{Role: "user", Content: s.prompt}
		r.Messages = s.messages[:]
		if classify {
			r.Kind = providers.KindClassify
			r.System = classifyPrompt(s.e.cfg.Consensus.Categories)
		}
	}
	return r
}

// launch starts an attempt of m, unless its breaker is open: then the
// model is skipped with an event and launch returns nil.
func (s *session) launch(m *model, role Role) *attempt {
	var a *attempt
	if n := len(s.attempts); n < len(s.attemptBuf) {
		a = &s.attemptBuf[n]
	} else {
		a = new(attempt)
	}
	a.s, a.idx, a.m, a.role, a.base = s, len(s.attempts), m, role, s.baseRequest(role)
	a.ctx.caller = &s.caller
	s.cmu.Lock()
	s.attempts = append(s.attempts, a)
	a.ctx.cause = s.cause // a session cancelled already starts it cancelled
	s.cmu.Unlock()
	done, changes, ok := m.breaker.allow()
	s.breakerEvents(a, changes)
	if !ok {
		a.status, a.reason = AttemptSkippedStatus, ReasonBreakerOpen
		s.degraded = true
		m.stats.addOutcome(OutcomeSkipped)
		s.emitWith(a.idx, AttemptSkipped, func(e *Event) { e.Model, e.Role, e.Reason = m.cfg.ID, role, ReasonBreakerOpen })
		return nil
	}
	a.done = done
	s.pending++
	s.unreported.Add(1)
	go a.run()
	return a
}

func (s *session) breakerEvents(a *attempt, changes []breakerChange) {
	for _, c := range changes {
		s.emitWith(a.idx, BreakerChanged, func(e *Event) { e.Model, e.From, e.To = a.m.cfg.ID, c.from, c.to })
	}
}

// awaitAll waits until every running attempt has reported; next then
// returns their results without waiting. A session that has decided calls
// it after cancelling the rest: waking once for all of them, not once per
// attempt, was a tenth of an 8-way race.
func (s *session) awaitAll() { s.unreported.Wait() }

// next waits for the next attempt to report.
func (s *session) next() *attempt {
	a := s.attempts[<-s.results]
	a.reported = true
	s.pending--
	return a
}

// cancelRunning cancels every attempt still running.
func (s *session) cancelRunning(cause *cancelCause) {
	for _, a := range s.attempts {
		if !a.reported {
			a.ctx.cancel(cause)
		}
	}
}

// win makes a the session's winner.
func (s *session) win(a *attempt) {
	a.status = AttemptWon
	s.winner = a
	s.answer = a.text.String()
	s.emitWith(-1, Decided, func(e *Event) { e.Model, e.Text = a.m.cfg.ID, s.answer })
}

func (a *attempt) run() {
	s := a.s
	defer func() {
		s.results <- int32(a.idx)
		s.unreported.Done()
	}()
	if !s.e.slots.TryAcquire(1) {
		s.emitAttempt(AttemptQueued, a, s.since(), "")
		if s.e.slots.Acquire(&a.ctx, 1) != nil {
			a.finish(a.ctx.Cause())
			return
		}
	}
	defer s.e.slots.Release(1)
	a.started = true
	a.startedAt = s.since()
	s.emitAttempt(AttemptStarted, a, a.startedAt, "")

	if d := s.tier.PerModelTimeout.Duration; d > 0 {
		a.deadline = a.startedAt + d
	}
	s.e.watch.watch(a)
	defer s.e.watch.unwatch(a)

	req := *a.base
	req.Model, req.MaxTokens = a.m.cfg.Model, a.m.cfg.MaxTokens
	stream, err := a.m.client.Stream(&a.ctx, req)
	if err == nil {
		for stream.Next() {
			c := stream.Chunk()
			if c.Usage != nil {
				a.usage = *c.Usage
			}
			if c.Text == "" {
				continue
			}
			now := s.since()
			a.text.WriteString(c.Text)
			if !a.gotFirst {
				a.gotFirst = true
				a.firstTok = now
				s.emitFirst(a, now, c.Text)
				s.e.watch.streaming(a, now)
				continue
			}
			a.lastChunk.Store(int64(now))
			s.emitAttempt(Delta, a, now, c.Text)
		}
		err = stream.Err()
		stream.Close()
	}
	if err == nil && a.text.Len() == 0 {
		err = providers.Errorf(providers.KindInvalid, "empty answer")
	}
	a.finish(err)
}

// finish classifies how the attempt ended, emits its final event, and
// reports to the breaker and the statistics.
func (a *attempt) finish(err error) {
	s := a.s
	a.endedAt = s.since()
	var out outcome
	if err == nil {
		out = outcomeSuccess
		a.status = AttemptDoneStatus
	} else {
		var cc *cancelCause
		switch cause := a.ctx.Cause(); {
		case cause == nil:
			a.status, a.kind, a.err = AttemptFailedStatus, providers.KindOf(err), err.Error()
			out = outcomeFailure
		case errors.As(cause, &cc):
			a.status, a.reason = AttemptCancelledStatus, cc.reason
			out = outcomeExcluded
		case cause == errModelTimeout:
			a.status, a.kind = AttemptTimeout, providers.KindTimeout
			a.err = fmt.Sprintf("no answer within per_model_timeout %s", s.tier.PerModelTimeout.Duration)
			out = outcomeFailure
		case errors.Is(cause, providers.ErrStalled):
			a.status, a.kind = AttemptFailedStatus, providers.KindStalled
			a.err = fmt.Sprintf("stream silent for stall_timeout %s", s.tier.StallTimeout.Duration)
			out = outcomeFailure
		default: // the caller's context: the user cancelled
			a.status, a.reason = AttemptCancelledStatus, ReasonUser
			out = outcomeExcluded
		}
	}
	a.fillUsage()
	a.emitEnd()
	switch out {
	case outcomeSuccess:
		a.m.stats.addOK(a.firstTok-a.startedAt, a.endedAt-a.startedAt)
	case outcomeFailure:
		a.m.stats.addOutcome(OutcomeFailed)
	default:
		a.m.stats.addOutcome(OutcomeCancelled)
	}
	if a.started || a.done != nil {
		s.breakerEvents(a, a.m.breaker.report(a.done, out))
	}
}

// answerText accumulates a stream's text. An answer that comes in one
// chunk (an instant provider, a cached reply, a one-word vote) is kept as
// the chunk's own string, without a copy; a second chunk starts a builder.
type answerText struct {
	one string
	b   strings.Builder
}

func (t *answerText) WriteString(s string) {
	switch {
	case t.b.Len() > 0:
		t.b.WriteString(s)
	case t.one == "":
		t.one = s
	default:
		t.b.Grow(len(t.one) + len(s))
		t.b.WriteString(t.one)
		t.b.WriteString(s)
		t.one = ""
	}
}

func (t *answerText) String() string {
	if t.b.Len() > 0 {
		return t.b.String()
	}
	return t.one
}

func (t *answerText) Len() int { return len(t.one) + t.b.Len() }

// emitEnd queues the attempt's final event, built in place.
func (a *attempt) emitEnd() {
	s := a.s
	e, _ := s.q.open(AttemptDone, a.idx)
	e.Session, e.T, e.Model = s.id, a.endedAt, a.m.cfg.ID
	e.InputTokens, e.OutputTokens, e.Cost = a.usage.InputTokens, a.usage.OutputTokens, a.cost
	switch a.status {
	case AttemptDoneStatus:
		e.Type, e.Text = AttemptDone, a.text.String()
	case AttemptCancelledStatus:
		e.Type, e.Reason = AttemptCancelled, a.reason
	default:
		e.Type, e.Kind, e.Err = AttemptFailed, a.kind, a.err
	}
	s.q.commit()
}

// fillUsage estimates tokens the provider did not report (a cancelled
// stream rarely gets its usage chunk) and prices the attempt: a cancelled
// attempt's burn is a real cost.
func (a *attempt) fillUsage() {
	if !a.started {
		return
	}
	if a.usage.InputTokens == 0 {
		a.usage.InputTokens = (len(a.s.prompt) + 3) / 4
	}
	if a.usage.OutputTokens == 0 && a.text.Len() > 0 {
		a.usage.OutputTokens = (a.text.Len() + 3) / 4
	}
	a.cost = (float64(a.usage.InputTokens)*a.m.cfg.InputPerMTok +
		float64(a.usage.OutputTokens)*a.m.cfg.OutputPerMTok) / 1e6
}
