package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Single is the baseline bench runs beside the strategies: the first
// model alone, a race of one, what a user gets without any redundancy.
const Single = "single"

// Clients builds one provider per model id of cfg, seeded (the program's
// own wiring, so that bench sees the models exactly as `council run` does).
type Clients func(cfg *config.Config, seed int64) (map[string]providers.Provider, error)

// Workload is what every strategy of a bench is measured on.
type Workload struct {
	Config   *config.Config
	Clients  Clients
	Tier     string   // empty: the config's default_tier
	Models   []string // empty: the tier's
	Sessions int      // per strategy, or per concurrency of a sweep
	Seed     int64
	// Prompt is asked in every session; empty: a classification for
	// consensus (a support ticket), a question for the others.
	Prompt   string
	Settings engine.Settings
	// MaxCostUSD caps each session, as `council run --max-cost`.
	MaxCostUSD float64
	// Parallel is how many sessions are in flight at once (0: one).
	Parallel int
	// Real runs on the real clock even when every model is simulated
	// (make bench compares the two).
	Real bool
	// Progress, when set, is told how many sessions of the whole bench
	// (every strategy, or every concurrency of a sweep) have ended, and
	// which batch is running; it is called from the goroutine that called
	// the bench, never from the sessions'.
	Progress func(batch string, done, total int)
}

// Prompts bench asks when the workload names none.
const (
	ClassifyPrompt = "I was charged twice for my subscription this month"
	TextPrompt     = "How do database indexes work?"
)

// Simulated reports whether every model of cfg that the workload uses is
// simulated, so that it can run on the virtual clock and costs nothing.
func (w *Workload) Simulated() bool {
	for _, m := range w.models() {
		mc, ok := w.Config.Model(m)
		if !ok {
			return false
		}
		f, ok := providers.Lookup(w.Config.Providers[mc.Provider].Kind)
		if !ok || !f.Simulated {
			return false
		}
	}
	return true
}

// models are the ids the workload's sessions may call.
func (w *Workload) models() []string {
	if len(w.Models) > 0 {
		return w.Models
	}
	tier := w.Tier
	if tier == "" {
		tier = w.Config.DefaultTier
	}
	t, _ := w.Config.Tier(tier)
	return t.Models
}

// clockSetter is a provider that can wait on another clock (the simulator).
type clockSetter interface{ SetClock(providers.Clock) }

// run is one measured batch: sessions of one strategy on a fresh engine
// (fresh breakers, statistics and simulated models, seeded alike).
type run struct {
	w        *Workload
	strategy string
	label    string // for Progress
	cfg      *config.Config
	parallel int
	// before is how many sessions the bench's batches before this one
	// ran, of total: the progress is the whole bench's.
	before, total int
}

// sample is what one session leaves behind.
type sample struct {
	sum      *engine.Summary
	trips    int // breakers that opened during it
	votes    int // votes cast before it was decided
	decidedV bool
}

// result is a batch's samples, and the virtual (or real) time it took.
type result struct {
	samples []sample
	elapsed time.Duration
	virtual bool
	partial bool
	stopped string // why the batch ended early, other than a cancel
	// tail is what the hedge read from its primary's window at the end
	// (strategy hedge only).
	tail *engine.HedgeTail
}

// execute runs the batch. A cancelled ctx ends it early: the sessions
// that ended are kept and the result is marked partial.
func (r *run) execute(parent context.Context) (*result, error) {
	w := r.w
	// Cancelled when the clock cannot go on, so that no session outlives
	// the bench; the sessions ended by it are not measurements.
	ctx, stopAll := context.WithCancel(parent)
	defer stopAll()
	virtual := !w.Real && w.Simulated()
	clients, err := w.Clients(r.cfg, w.Seed)
	if err != nil {
		return nil, err
	}
	var clock providers.Clock = providers.RealClock
	var vc *Virtual
	if virtual {
		vc = NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		clock = vc
		for _, p := range clients {
			if cs, ok := p.(clockSetter); ok {
				cs.SetClock(vc)
			}
		}
	}
	eng, err := engine.New(r.cfg, clients, engine.WithClock(clock), engine.WithSeed(w.Seed))
	if err != nil {
		return nil, err
	}
	req, err := w.request(r.strategy)
	if err != nil {
		eng.Close()
		return nil, err
	}
	res := &result{samples: make([]sample, w.Sessions), virtual: virtual}
	var (
		next, ended atomic.Int64
		firstErr    error
		errOnce     sync.Once
		stop        atomic.Bool
	)
	start := clock.Now()
	var end time.Time
	var endMu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range max(r.parallel, 1) {
			// Each worker's first session starts on a timer of its own, set
			// here one after another: on the virtual clock they fire in that
			// order, a step each, so sessions in flight at once start (and
			// set their own timers) in the same order every time.
			first := clock.NewTimer(0)
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-first.C():
				case <-ctx.Done():
					return
				}
				for ctx.Err() == nil && !stop.Load() {
					i := int(next.Add(1) - 1)
					if i >= len(res.samples) {
						return
					}
					// The session's number is its draw key: its calls
					// draw alike whichever session reaches a model first.
					s, err := session(context.WithValue(ctx, providers.DrawKey{}, uint64(i)), eng, req)
					if err != nil {
						errOnce.Do(func() { firstErr = err })
						stop.Store(true)
						return
					}
					if s.sum.Status == engine.StatusCancelled && ctx.Err() != nil {
						return // the user's cancel: not a measurement
					}
					res.samples[i] = s
					ended.Add(1)
					endMu.Lock()
					end = clock.Now()
					endMu.Unlock()
				}
			}()
		}
		wg.Wait()
	}()
	tick := func() {
		if w.Progress != nil {
			w.Progress(r.label, r.before+int(ended.Load()), max(r.total, w.Sessions))
		}
	}
	if virtual {
		if err = vc.Drive(parent, done, tick); err != nil {
			stopAll()
			eng.Close()
			<-done
			if errors.Is(err, ErrStuck) {
				err = fmt.Errorf("%w: a session can never end (a model that stalls, with no timeout or stall_timeout on the tier?)", err)
			}
			return nil, err
		}
	} else {
		t := time.NewTicker(100 * time.Millisecond)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-t.C:
				tick()
			}
		}
		t.Stop()
	}
	eng.Close()
	tick()
	if err != nil {
		return nil, err
	}
	if req.Strategy == config.Hedge && r.strategy != Single {
		if t, ok := eng.HedgeTail(w.hedgePrimary(r.cfg)); ok {
			res.tail = &t
		}
	}
	if errors.Is(firstErr, engine.ErrOverBudget) {
		// A spending cap: what was measured stands, and says why it ends.
		res.stopped = firstErr.Error()
	} else if firstErr != nil {
		return nil, firstErr
	}
	// Keep the sessions that ended (all of them unless cancelled).
	kept := res.samples[:0]
	for _, s := range res.samples {
		if s.sum != nil {
			kept = append(kept, s)
		}
	}
	res.samples = kept
	res.partial = len(kept) < w.Sessions
	res.elapsed = end.Sub(start)
	return res, nil
}

// hedgePrimary is the model a hedge of the workload starts first, as the
// engine picks it: hedge.primary when among the models, else the first.
func (w *Workload) hedgePrimary(cfg *config.Config) string {
	ms := w.models()
	for _, m := range ms {
		if m == cfg.Hedge.Primary {
			return m
		}
	}
	if len(ms) == 0 {
		return ""
	}
	return ms[0]
}

// request is the session every run of strategy asks.
func (w *Workload) request(strategy string) (engine.SessionRequest, error) {
	req := engine.SessionRequest{Prompt: w.Prompt, Tier: w.Tier, Models: w.Models,
		Settings: w.Settings, MaxCostUSD: w.MaxCostUSD}
	if strategy == Single {
		req.Strategy = config.Race
		req.Models = w.models()[:1]
	} else {
		st, err := engine.ParseStrategy(strategy)
		if err != nil {
			return req, err
		}
		req.Strategy = st
	}
	if req.Prompt == "" {
		req.Prompt = TextPrompt
		if req.Strategy == config.Consensus {
			req.Prompt = ClassifyPrompt
		}
	}
	// What the strategy refuses (a quorum its models can never give) is
	// refused before the engine is built and any model called.
	return req, engine.Check(w.Config, req)
}

// Estimate is the most the bench may cost at the config's prices: every
// session of every batch at its worst case (see [engine.Engine.Estimate]).
// batches is how many times each strategy runs (a sweep's points).
func Estimate(w *Workload, strategies []string, batches int) (float64, error) {
	clients, err := w.Clients(w.Config, w.Seed)
	if err != nil {
		return 0, err
	}
	eng, err := engine.New(w.Config, clients)
	if err != nil {
		return 0, err
	}
	defer eng.Close()
	total := 0.0
	for _, st := range strategies {
		req, err := w.request(st)
		if err != nil {
			return 0, err
		}
		c, err := eng.Estimate(req)
		if err != nil {
			return 0, err
		}
		total += c * float64(w.Sessions*batches)
	}
	return total, nil
}

// capLeft is the config a batch runs with: each batch has an engine of
// its own, so max_run_cost_usd, which an engine keeps, is lowered by what
// the batches before it spent, and the bench stops when nothing is left.
func (w *Workload) capLeft(rep *Report, spent float64) (*config.Config, bool) {
	cfg := *w.Config
	if w.Config.MaxRunCostUSD <= 0 {
		return &cfg, true
	}
	cfg.MaxRunCostUSD = w.Config.MaxRunCostUSD - spent
	if cfg.MaxRunCostUSD <= 0 {
		rep.Partial = true
		rep.Stopped = fmt.Sprintf("the bench has spent $%.6f of max_run_cost_usd $%g", spent, w.Config.MaxRunCostUSD)
		return nil, false
	}
	return &cfg, true
}

// session runs one session and counts what only its events tell.
func session(ctx context.Context, eng *engine.Engine, req engine.SessionRequest) (sample, error) {
	var s sample
	sum, err := eng.Run(ctx, req, func(ev engine.Event) {
		switch ev.Type {
		case engine.BreakerChanged:
			if ev.To == engine.BreakerOpen {
				s.trips++
			}
		case engine.VoteCast:
			if !s.decidedV {
				s.votes++
			}
		case engine.Decided:
			s.decidedV = true
		}
	})
	if err != nil {
		return s, err
	}
	s.sum = sum
	return s, nil
}

// Run measures each strategy (a [config.Strategy] name, or [Single]) on
// the workload, one after another, each on an engine of its own. A
// cancelled ctx stops it: the report holds what was measured, marked
// partial.
func Run(ctx context.Context, w *Workload, strategies []string) (*Report, error) {
	if w.Sessions < 1 {
		return nil, errors.New("bench: sessions must be at least 1")
	}
	rep := newReport(w)
	spent := 0.0
	for i, st := range strategies {
		if ctx.Err() != nil {
			rep.Partial = true
			break
		}
		cfg, ok := w.capLeft(rep, spent)
		if !ok {
			break
		}
		r := &run{w: w, strategy: st, label: st, cfg: cfg, parallel: w.Parallel,
			before: i * w.Sessions, total: len(strategies) * w.Sessions}
		res, err := r.execute(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st, err)
		}
		rep.note(res)
		s := summarise(w, st, res)
		spent += s.CostUSD
		rep.Strategies = append(rep.Strategies, s)
		if res.stopped != "" {
			break
		}
	}
	return rep, nil
}
