package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	causeReplaced   = &cancelCause{ReasonReplaced}
	causeBudget     = &cancelCause{ReasonBudget}
	causeUser       = &cancelCause{ReasonUser}
	causeShutdown   = &cancelCause{ReasonShutdown}
	causeNoQuorum   = &cancelCause{ReasonNoQuorum}
)

// errModelTimeout is the cause of an attempt stopped by per_model_timeout.
var errModelTimeout = errors.New("per-model timeout")

// ErrUnknownModel is returned by [Engine.Start] for a model id not in the config.
var ErrUnknownModel = errors.New("unknown model")

// ErrClosed is returned by [Engine.Start] once [Engine.Close] has been called.
var ErrClosed = errors.New("engine closed")

// ErrShutdown, as the cause of the context given to [Engine.Start]
// (context.WithCancelCause), cancels the session with reason shutdown
// rather than user: a server draining on SIGTERM says so.
var ErrShutdown = errors.New("server shutting down")

// ErrPromptTooLarge is returned by [Engine.Start] for a prompt over
// limits.max_prompt_bytes.
var ErrPromptTooLarge = errors.New("prompt too large")

// inlineAttempts is how many attempts a session holds inside itself
// without allocating: enough for an 8-way race, or 7 voters and an
// escalation. Eight keep a session within a 3.5 KB size class; a ninth
// attempt is allocated on its own.
const inlineAttempts = 8

// session is one prompt under one strategy. Its strategy drives it
// through the toolkit (toolkit.go) on the session goroutine.
type session struct {
	e        *Engine
	id       string
	strategy config.Strategy
	tierName string
	tier     timeouts
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
	// box is where finished attempts report; pending counts the attempts
	// launched that the strategy has not taken from it yet.
	box     mailbox
	pending int
	// unreported counts the attempts that have not yet reported, so that
	// a session with nothing left to decide waits for them all with one
	// wake-up rather than one each (see awaitAll).
	unreported sync.WaitGroup

	// cmu guards attempts (appended by the session goroutine, walked by
	// whoever cancels the session), cause, cacheWrites, and the tier
	// (which the router may change, and the watchdog reads). The tier
	// changes only while no attempt runs, so an attempt reads it without
	// the lock.
	cmu      sync.Mutex
	attempts []*attempt
	cause    error // why the session was cancelled; nil while it runs
	// cacheWrites are the prompt-cache writes of the attempts whose
	// vendor reported some, by attempt index; nil until one does.
	cacheWrites map[int32]int32

	// A session of up to inlineAttempts attempts keeps its models and its
	// attempts, contexts included, inside itself: one allocation.
	modelBuf   [inlineAttempts]*model
	attemptPtr [inlineAttempts]*attempt
	attemptBuf [inlineAttempts]attempt

	sum      *summaryBuf // filled by summary at the end
	winner   *attempt
	answer   string
	failure  string
	votes    map[string]int
	valid    int32 // int32: the session stays within its allocation size class (size_test.go)
	invalid  int32
	tieBreak string
	// degraded lists why the answer came with less redundancy than asked.
	degraded []string
	// extras is the session's extras (see sessionExtras); nil for a plain
	// session.
	extras *sessionExtras
	// ownDegraded is set by a strategy that names its own degraded reasons
	// instead of the generic model_failed / model_skipped; explicitModels
	// when the request named its models, so a route's tier does not
	// replace them.
	hedgeFired, hedgeReplaced, ownDegraded, explicitModels bool
	// internal is the bug the session hit (a recovered panic), nil
	// while it has hit none; set from any goroutine (see crashed).
	internal atomic.Pointer[crash]
}

// timeouts are a tier's, as a session uses them (the rest of the tier is
// read from the config when needed: a session keeps only what it checks
// on every attempt).
type timeouts struct{ timeout, perModel, stall time.Duration }

func timeoutsOf(t config.TierConfig) timeouts {
	return timeouts{t.Timeout.Duration, t.PerModelTimeout.Duration, t.StallTimeout.Duration}
}

// sessionExtras is what a session holds beyond what a plain race needs:
// the request's settings, spending cap, turns and document, the notes and
// requests of settings applied per model, the cap's reservations, the
// fallbacks, and a multi-stage strategy's state. Kept apart, behind a
// pointer made on first use (extrasOf), so that a plain session stays
// small.
type sessionExtras struct {
	// The request's settings and spending cap; the conversation the
	// session continues (see [Turn]); the name of the document a section
	// session splits.
	settings Settings
	capUSD   float64
	turns    []Turn
	input    string
	// notes are the settings dropped for a model (by attempt); asked is
	// what an attempt of a model with fallbacks was asked before its
	// settings and history were applied, for its fallback (by attempt).
	notes map[int]string
	asked map[int]*providers.Request
	// The cap's reservations (by attempt), what is reserved and what was
	// spent (see budget.go).
	reserve         map[int]float64
	reserved, spent float64
	// fallbackFor is the model each fallback attempt stands in for;
	// standsIn the attempt (both by attempt).
	fallbackFor map[int]string
	standsIn    map[int]int

	stage stageState
}

// stageState is a multi-stage strategy's state: the stages run so far
// and what the strategy keeps (the council's reviews, the router's
// route, the section strategy's sections).
type stageState struct {
	stages  []StageResult
	council *councilResult
	route   *Route
	section *sectionState
}

// extrasOf returns the session's extras, made on first use.
func (s *session) extrasOf() *sessionExtras {
	if s.extras == nil {
		s.extras = new(sessionExtras)
	}
	return s.extras
}

// Start begins a session and returns its events. The channel is closed
// after session_done; the consumer must drain it until then (cancelling ctx
// ends the session early, with reason "user", but the final events still
// arrive). It returns an error, and starts nothing, for a bad request or a
// closed engine.
func (e *Engine) Start(ctx context.Context, req SessionRequest) (<-chan Event, error) {
	s, err := e.start(ctx, req)
	if err != nil {
		return nil, err
	}
	return s.q.out, nil
}

// start is Start, returning the session.
func (e *Engine) start(ctx context.Context, req SessionRequest) (*session, error) {
	s, err := e.newSession(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := e.checkBudget(s); err != nil {
		return nil, err
	}
	// Counted under the lock Close takes before it waits: a session
	// started concurrently with Close is either counted before Close waits
	// or refused (WaitGroup.Add must not race with Wait).
	e.mu.Lock()
	if e.closed {
		delete(e.runHolds, s)
		e.mu.Unlock()
		return nil, ErrClosed
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go s.runSession() // which calls e.wg.Done
	return s, nil
}

func (e *Engine) newSession(ctx context.Context, req SessionRequest) (*session, error) {
	strategy := req.Strategy
	if strategy == "" {
		strategy = e.cfg.DefaultStrategy
	}
	if lookup(strategy) == nil {
		return nil, unknownStrategy(strategy)
	}
	if max := e.cfg.Limits.MaxPromptBytes; max > 0 && len(req.Prompt) > max {
		return nil, fmt.Errorf("%w: %d bytes, over limits.max_prompt_bytes (%d)", ErrPromptTooLarge, len(req.Prompt), max)
	}
	tierName := req.Tier
	if tierName == "" {
		tierName = e.cfg.DefaultTier
	}
	tier, ok := e.cfg.Tiers[tierName]
	if !ok {
		return nil, fmt.Errorf("unknown tier %q (tiers: %s)", tierName, joinList(e.cfg.TierOrder()))
	}
	ids := req.Models
	explicit := len(ids) > 0
	if len(ids) == 0 {
		ids = tier.Models
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("tier %q has no models", tierName)
	}
	s := &session{e: e, strategy: strategy, tierName: tierName, tier: timeoutsOf(tier), prompt: req.Prompt, explicitModels: explicit}
	s.models = s.modelBuf[:0]
	for i, id := range ids {
		m, ok := e.models[id]
		if !ok {
			return nil, fmt.Errorf("%w %q (models: %s)", ErrUnknownModel, id, joinList(e.modelIDs()))
		}
		if slices.Contains(ids[:i], id) {
			return nil, fmt.Errorf("model %q is listed twice: each model is called once per session", id)
		}
		s.models = append(s.models, m)
	}
	// The strategy refuses what it could only fail, before any call (a
	// plan is made only for one that may: a race allocates none).
	if st := lookup(strategy); st.validate != nil {
		r := req // not &req, which would move every session's request to the heap
		p := &plan{cfg: e.cfg, req: &r, strategy: strategy, tier: tierName, models: ids, explicit: explicit, routes: e.routes}
		if err := st.validate(p); err != nil {
			return nil, err
		}
	}
	var secs []docSection
	if strategy == config.Section {
		var err error
		if secs, err = splitDocument(req.Document, e.cfg.Section, e.cfg.Limits.MaxPromptBytes); err != nil {
			return nil, err
		}
	}
	if !req.Settings.empty() || req.MaxCostUSD > 0 {
		ms := s.extrasOf()
		ms.settings, ms.capUSD = req.Settings, req.MaxCostUSD
	}
	if len(req.Turns) > 0 {
		s.extrasOf().turns = req.Turns
	}
	if secs != nil {
		s.extrasOf().stage.section = &sectionState{parts: secs}
		s.extras.input = req.DocumentName
	}
	s.id = sessionID(e.nsess.Add(1))
	s.newSummary()
	s.attempts = s.attemptPtr[:0]
	s.box.init()
	s.q.init(len(s.models)+1, &e.wg, e.ctx.Done())
	s.caller = ctx
	s.start = e.clock.Now()
	s.base = s.start.Sub(e.watch.epoch)
	return s, nil
}

func (s *session) since() time.Duration { return s.e.clock.Since(s.start) }

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
	e, merged := s.q.open(t, int(a.idx))
	s.fillAttempt(e, merged, t, a, now, text)
	s.q.commit()
}

// emitFirst queues first_token and the first delta, under one lock.
func (s *session) emitFirst(a *attempt, now time.Duration, text string) {
	e, merged := s.q.open(FirstToken, int(a.idx))
	s.fillAttempt(e, merged, FirstToken, a, now, "")
	e, merged = s.q.another(Delta, int(a.idx))
	s.fillAttempt(e, merged, Delta, a, now, text)
	s.q.commit()
}

// emitFirstReasoning queues first_reasoning and the first
// reasoning_delta, under one lock.
func (s *session) emitFirstReasoning(a *attempt, now time.Duration, text string) {
	e, merged := s.q.open(FirstReasoning, int(a.idx))
	s.fillAttempt(e, merged, FirstReasoning, a, now, "")
	e, merged = s.q.another(ReasoningDelta, int(a.idx))
	s.fillAttempt(e, merged, ReasoningDelta, a, now, text)
	s.q.commit()
}

func (s *session) fillAttempt(e *Event, merged bool, t EventType, a *attempt, now time.Duration, text string) {
	if merged {
		e.Text += text
	} else {
		e.Type, e.Session, e.T, e.Model, e.Role, e.Text = t, s.id, now, a.m.cfg.ID, a.role, text
		e.Attempt, e.Stage = a.id(), a.stage
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

// cancelledBy returns why the session was cancelled, nil while it runs.
func (s *session) cancelledBy() error {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.cause
}

// userCancelled reports whether the user (or the engine's shutdown)
// cancelled the session: its outcome is then "cancelled", never a failure.
func (s *session) userCancelled() bool {
	c := s.cancelledBy()
	return c == causeUser || c == causeShutdown
}

// runSession is the session goroutine. It calls its phases one after
// another, so that each one's frame is gone before the next: a new
// goroutine starts on a small stack, and a deep one is copied to a larger
// stack first, which cost a session more than its breakers.
func (s *session) runSession() {
	s.begin()
	s.runStrategy()
	s.end()
}

// begin registers the session with its caller's context and with the
// engine (closing the engine cancels it, its watchdog enforces its
// timeout), and announces it.
//
//go:noinline
func (s *session) begin() {
	switch {
	case s.caller.Err() != nil:
		// Cancelled before it began (a signal while an api_key_cmd ran):
		// a cancel at once, before any attempt is launched and fails.
		s.callerDone()
	case s.caller.Done() != nil:
		s.stopCaller = context.AfterFunc(s.caller, s.callerDone)
	}
	if !s.e.track(s) {
		s.cancel(causeShutdown)
	}
	// Tracked first: the watchdog finds a session's deadlines on the
	// engine's live list.
	if d := s.tier.timeout; d > 0 {
		s.e.watch.ensure(s.base + d)
	}
	d := s.started()
	s.emitWith(-1, SessionStarted, func(e *Event) { e.Text, e.Detail = s.prompt, d })
}

// started is session_started's description of the session. The detail
// and its description are one allocation.
func (s *session) started() *Detail {
	x := &struct {
		d    Detail
		info SessionInfo
	}{}
	in := &x.info
	in.Strategy, in.Tier, in.CostCapUSD, in.Turn = s.strategy, s.tierName, s.costCap(), 1
	in.Models = make([]string, len(s.models))
	for i, m := range s.models {
		in.Models[i] = m.cfg.ID
	}
	if ms := s.extras; ms != nil {
		in.Settings, in.Turn, in.Input = ms.settings, len(ms.turns)+1, ms.input
	}
	x.d.Info = in
	return &x.d
}

// callerDone cancels the session as its caller's context says: shutdown
// or user.
func (s *session) callerDone() {
	if errors.Is(context.Cause(s.caller), ErrShutdown) {
		s.cancel(causeShutdown)
		return
	}
	s.cancel(causeUser)
}

// end publishes the summary and releases what begin took. Cancelling the
// session last ends its attempts' contexts, and with them whatever the
// providers derived from them.
//
//go:noinline
func (s *session) end() {
	sum := s.summary()
	s.e.spend(s, sum.CostUSD)
	s.emitAt(sum.Elapsed, -1, SessionDone, func(e *Event) {
		e.Summary, e.Err = sum, sum.Error
		if sum.ErrorKind == ErrorKindInternal {
			e.Kind = providers.KindInternal
		}
	})
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
			r.System = classifyPrompt(s.voteCategories())
		}
	}
	return r
}

// userRequest is a request of kind k with one user message and a system
// prompt, for an attempt with a request of its own (a reviewer, the
// chairman, the classifier).
func userRequest(k providers.RequestKind, system, content string) *providers.Request {
	return &providers.Request{Kind: k, System: system, Messages: []providers.Message{{Role: "user", Content: content}}}
}

func (s *session) breakerEvents(a *attempt, changes []breakerChange) {
	for _, c := range changes {
		s.emitWith(int(a.idx), BreakerChanged, func(e *Event) { e.Model, e.From, e.To = a.m.cfg.ID, c.from, c.to })
	}
}
