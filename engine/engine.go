package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Engine runs sessions. Breakers, latency statistics, the concurrency cap
// and the hedge budget are shared by every session of one Engine, so they
// outlive sessions. The zero value is not usable: call [New].
type Engine struct {
	cfg    *config.Config
	routes []routeRules // the router's rules, compiled
	// anySettings: a tier or a model sets how models are asked.
	anySettings bool
	clock       providers.Clock
	seed        int64
	models      map[string]*model
	order       []*model
	slots       *slots // max_concurrency
	hedges      hedgeBudget
	// shared is the fleet's state (breakers, holds, spending); nil: none.
	shared SharedState
	// unwatch ends the watch of the fleet's breaker moves; onMove is told
	// of each one adopted (WithSharedMoves).
	unwatch func()
	onMove  func(model string)
	watch   watchdog
	nsess   atomic.Int64
	bugs    bugLog // where recovered panics' stacks go

	ctx  context.Context // cancelled by Close
	stop context.CancelFunc
	wg   sync.WaitGroup
	// workers are the attempts' goroutines (workers.go).
	workers workers

	// live is the list of running sessions, which Close cancels. A list
	// (not context.AfterFunc on ctx) keeps starting a session cheap.
	mu       sync.Mutex
	live     *session
	closed   bool
	runSpent float64              // what ended sessions have cost, against max_run_cost_usd
	runHolds map[*session]float64 // the worst case of each running session, held against it
	// sharedHolds names each running session's hold in the fleet's
	// spending; nonce and nhold make the names.
	sharedHolds map[*session]string
	nonce       string
	nhold       atomic.Int64
}

// model is one configured model and its state across sessions.
type model struct {
	cfg     config.ModelConfig
	kind    string
	client  providers.Provider
	breaker *breaker
	stats   modelStats
	// fleetLat is the fleet's latency window, nil without shared state
	// or a quantile hedge delay.
	fleetLat *fleetLatency
	// firstToks are the times to first token of its calls cut before
	// they ended, for a model with no whole call yet (see tooLate).
	firstToks firstTokens
}

// Option changes how [New] builds an engine.
type Option func(*Engine)

// WithClock makes the engine (its sessions, timeouts, hedge delays and
// breakers) read time from c instead of the real clock.
func WithClock(c providers.Clock) Option { return func(e *Engine) { e.clock = c } }

// WithSeed seeds what the engine draws at random (the order a council's
// reviewers see the answers in), for reproducible sessions.
func WithSeed(seed int64) Option { return func(e *Engine) { e.seed = seed } }

// New builds an engine for cfg, a validated config. clients maps every
// model id of cfg to the provider that serves it.
func New(cfg *config.Config, clients map[string]providers.Provider, opts ...Option) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("engine: nil config")
	}
	e := &Engine{
		cfg:    cfg,
		clock:  providers.RealClock,
		models: make(map[string]*model, len(cfg.Models)),
		slots:  newSlots(cfg.MaxConcurrency),
	}
	e.workers.work = make(chan func())
	for _, o := range opts {
		o(e)
	}
	e.ctx, e.stop = context.WithCancel(context.Background())
	if e.shared != nil {
		e.nonce = rand.Text()[:10]
	}
	e.watch.e, e.watch.epoch = e, e.clock.Now()
	e.routes = compileRoutes(cfg.Router.Routes)
	e.anySettings = hasSettings(cfg)
	for _, mc := range cfg.Models {
		c := clients[mc.ID]
		if c == nil {
			return nil, fmt.Errorf("engine: no provider for model %q", mc.ID)
		}
		m := &model{cfg: mc, kind: cfg.Providers[mc.Provider].Kind, client: c,
			breaker: newBreaker(cfg.Breaker, e.clock)}
		if e.shared != nil {
			m.breaker.fleet = &fleetBreaker{st: e.shared, ctx: e.ctx, model: mc.ID, owner: e.nonce}
			if cfg.Hedge.Delay.Quantile > 0 { // a fixed hedge delay reads no window
				m.fleetLat = &fleetLatency{st: e.shared, ctx: e.ctx, model: mc.ID}
			}
		}
		e.models[mc.ID] = m
		e.order = append(e.order, m)
	}
	if e.shared != nil {
		e.unwatch = e.shared.WatchBreakers(e.sharedMoved)
	}
	return e, nil
}

// Config returns the engine's configuration. Do not modify it.
func (e *Engine) Config() *config.Config { return e.cfg }

// Close cancels every running session and waits until all their
// goroutines are gone. A session's channel is closed either way, but a
// consumer that is not taking events when Close is called may not get the
// rest of them: it gets a gap-free prefix, perhaps without session_done.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	for s := e.live; s != nil; s = s.liveNext {
		s.cancel(causeShutdown)
	}
	e.mu.Unlock()
	e.stop()
	if e.unwatch != nil {
		e.unwatch()
	}
	e.wg.Wait()
	e.watch.stop()
}

// track adds a running session to the live list; false when the engine
// is closed (the session must then end at once).
func (e *Engine) track(s *session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	s.liveNext = e.live
	if e.live != nil {
		e.live.livePrev = s
	}
	e.live = s
	return true
}

// untrack removes an ended session from the live list.
func (e *Engine) untrack(s *session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.livePrev != nil {
		s.livePrev.liveNext = s.liveNext
	} else if e.live == s {
		e.live = s.liveNext
	}
	if s.liveNext != nil {
		s.liveNext.livePrev = s.livePrev
	}
	s.livePrev, s.liveNext = nil, nil
}

// Run runs one session to its end, calling onEvent (when non-nil) for each
// event in order, and returns the summary. A panic in onEvent is the
// session's bug: it fails the session (error kind internal), onEvent is
// called no more, and Run returns the summary once the session has ended.
func (e *Engine) Run(ctx context.Context, req SessionRequest, onEvent func(Event)) (*Summary, error) {
	s, err := e.start(ctx, req)
	if err != nil {
		return nil, err
	}
	var sum *Summary
	for ev := range s.q.out {
		if onEvent != nil && !s.consume(onEvent, ev) {
			onEvent = nil
		}
		if ev.Type == SessionDone {
			sum = ev.Summary
		}
	}
	if sum == nil {
		return nil, errors.New("engine closed before the session ended")
	}
	if s.internal.Load() != nil && sum.ErrorKind != ErrorKindInternal {
		// The callback panicked on events the session had already
		// summed up: the session is still its failure.
		s.internalResult(sum)
	}
	return sum, nil
}

// Health returns every model's breaker, latency and recent outcomes, in
// config order. It changes nothing: a breaker whose cooldown has passed
// reads half_open, and reports its move there in the next session that
// calls the model.
func (e *Engine) Health() []ModelHealth {
	out := make([]ModelHealth, 0, len(e.order))
	for _, m := range e.order {
		h := ModelHealth{ID: m.cfg.ID, Provider: m.cfg.Provider, ProviderKind: m.kind}
		if m.breaker.fleet != nil {
			m.breaker.refresh() // the fleet's breaker, even here where no call went out
		}
		h.Breaker = m.breaker.snapshot()
		h.Latency, h.Recent = m.stats.snapshot()
		if t, ok := m.client.(tunable); ok {
			h.Knobs = t.Knobs()
		}
		out = append(out, h)
	}
	return out
}

func sessionID(n int64) string { return "s" + strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

func joinList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// modelIDs lists the configured model ids in config order.
func (e *Engine) modelIDs() []string {
	ids := make([]string, len(e.order))
	for i, m := range e.order {
		ids[i] = m.cfg.ID
	}
	return ids
}
