package engine

import (
	"math"
	"sync"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Hedge, Stages: []Stage{StageNone}, PromptAlone: true, FreeText: true,
			Summary: "the primary alone; a backup once it is slower than usual or fails"},
		run:      (*session).hedge,
		estimate: (*session).hedgeEstimate,
	})
}

// hedgeEstimate is the primary, and the backup failed over once: a
// backup withheld by max_extra may still fail over. With hedge.replace,
// or the primary, its backup, and the primary asked again when the
// backup that replaced it failed, if that is dearer.
func (s *session) hedgeEstimate() float64 {
	p, b := s.hedgeModels()
	wp := s.worstOf(p, 0)
	c := wp
	if b != nil {
		wb := s.worstOf(b, 0)
		c += 2 * wb
		if s.e.cfg.Hedge.Replace {
			c = max(c, 2*wp+wb)
		}
	}
	return c
}

// hedgeModels picks the primary and the backup: hedge.primary and
// hedge.backup when they are among the session's models, else the first
// two models.
func (s *session) hedgeModels() (primary, backup *model) {
	h := s.e.cfg.Hedge
	find := func(id string, not *model) *model {
		for _, m := range s.models {
			if m.cfg.ID == id && m != not {
				return m
			}
		}
		return nil
	}
	primary = find(h.Primary, nil)
	if primary == nil {
		primary = s.models[0]
	}
	backup = find(h.Backup, primary)
	if backup == nil {
		for _, m := range s.models {
			if m != primary {
				backup = m
				break
			}
		}
	}
	return primary, backup
}

// minHedgeSamples is how many completions a quantile hedge delay needs
// before it is trusted over fallback_delay.
const minHedgeSamples = 20

// hedgeDelay is how long the backup waits: the fixed delay, or one read
// from the primary's latency window (see [adaptiveDelay]); knee reports
// that it is the knee of the primary's slow mode.
func (s *session) hedgeDelay(primary *model) (d time.Duration, knee bool) {
	h := s.e.cfg.Hedge
	if h.Delay.Quantile == 0 {
		return h.Delay.Fixed, false
	}
	return adaptiveDelay(s.e.latencyWindow(primary), h.Delay.Quantile, h.FallbackDelay.Duration)
}

// adaptiveDelay is the hedge delay read from a primary's window: its
// q-quantile, unless the window has a slow mode holding more than 1-q of
// its calls. The quantile then lies inside the slow mode, where a backup
// starts after the slow calls have already cost their time; it fires at
// the knee instead (knee true), before the slow mode. When the slow share
// is above max_extra the hedge budget picks which slow calls get a backup
// (and hedge.replace what becomes of the others): firing at the knee
// rather than at the lowest quantile that fits max_extra measured the same
// p95 on the demo's straggler and a lower mean and cost (the backups it
// pays for start earlier). The fallback delay applies until
// minHedgeSamples calls are in the window.
func adaptiveDelay(w latWindow, q float64, fallback time.Duration) (d time.Duration, knee bool) {
	d, n := w.quantile(q)
	if n < minHedgeSamples {
		return fallback, false
	}
	// A share above 1-q puts the quantile at or past the knee, or on a
	// call cut there to replace it (cuts keep the value they were cut at,
	// and count in the slow mode whatever it is).
	if m, ok := w.slowMode(); ok && m.Share > 1-q {
		return m.Knee, true
	}
	return d, false
}

// lateHedge reports whether a backup fired at delay would most likely
// lose to the primary anyway: of the primary's calls that ran past delay,
// fewer than half ran on past delay plus the backup's median latency. It
// does not fire then: it would spend max_extra on a call that cannot win,
// and a primary that then fails still fails over. Without enough samples
// of either model it cannot tell, and the backup fires. A replica without
// a window of its own reads the fleet's as last cached.
func (e *Engine) lateHedge(primary, backup *model, delay time.Duration) bool {
	b50, n := e.cachedWindow(backup).quantile(0.5)
	if n < minHedgeSamples {
		return false
	}
	share, ok := e.cachedWindow(primary).pastShare(delay, delay+b50)
	return ok && share < 0.5
}

// HedgeTail is what a hedge reads from its primary's latency window.
type HedgeTail struct {
	Model   string
	Samples int
	// Knee is the fast mode's slowest call, when the window shows a slow
	// mode (0 when it does not); SlowShare the share of calls beyond it.
	Knee      time.Duration
	SlowShare float64
	// NeedsMaxExtra is the max_extra that lets every slow call hedge at
	// the knee: the slow share, with room for its swings over the
	// sessions the hedge budget counts (two standard deviations over
	// hedgeWindow), rounded up to a hundredth; 0 without a slow mode. At
	// the bare share the budget runs out in every stretch of sessions
	// slower than the average, and those stretches make the p95.
	NeedsMaxExtra float64
	// Delay is what a hedge with this primary would wait now.
	Delay time.Duration
}

// HedgeTail reads model id's latency window as the hedge does; ok is
// false for an unknown model.
func (e *Engine) HedgeTail(id string) (t HedgeTail, ok bool) {
	m := e.models[id]
	if m == nil {
		return t, false
	}
	h := e.cfg.Hedge
	t = HedgeTail{Model: id, Delay: h.Delay.Fixed}
	if h.Delay.Quantile > 0 {
		t.Delay, _ = adaptiveDelay(e.latencyWindow(m), h.Delay.Quantile, h.FallbackDelay.Duration)
	}
	sm, found := e.latencyWindow(m).slowMode()
	t.Samples = sm.Samples
	if found {
		t.Knee, t.SlowShare = sm.Knee, sm.Share
		need := sm.Share + 2*math.Sqrt(sm.Share*(1-sm.Share)/hedgeWindow)
		t.NeedsMaxExtra = min(math.Ceil(need*100-1e-9)/100, 1)
	}
	return t, true
}

// hedge starts the primary, and the backup after the hedge delay (or at
// once when the primary fails or is skipped); a quantile delay's backup
// that would most likely lose to the primary does not fire (lateHedge).
// A primary that completes within hedge.budget wins even if the backup
// finished first; after the budget the first success wins. A delayed
// backup is subject to max_extra; a failover backup never is, since
// without it there is no answer: a backup withheld by max_extra (or as
// late) still fails over when the primary then fails. At the knee of the
// primary's slow mode a backup max_extra withholds replaces the primary
// instead, with hedge.replace (see [hedgeRun.replacePrimary]).
func (s *session) hedge() {
	r := hedgeRun{s: s}
	r.pm, r.bm = s.hedgeModels()
	r.slot = s.e.hedgeBegin()
	r.primary = s.launch(r.pm, RolePrimary, StageNone, nil)
	r.launched = r.bm == nil
	r.hedged = r.launched

	clock := s.e.clock
	r.delay, r.knee = s.hedgeDelay(r.pm)
	if r.bm != nil && s.e.cfg.Hedge.Delay.Quantile > 0 {
		// lateHedge reads the backup's window from the cache when the
		// backup is about to fire; a replica without calls of its own
		// fills it from the fleet's here (at most once a second a model).
		s.e.latencyWindow(r.bm)
	}
	r.fire = clock.NewTimer(r.delay)
	defer r.fire.Stop()
	budget := clock.NewTimer(s.e.cfg.Hedge.Budget.Duration)
	defer budget.Stop()

	if r.primary == nil {
		r.launchBackup(true, "")
	}
	for s.pending > 0 {
		if s.winner != nil {
			s.awaitAll()
		}
		a, fired := s.wait(r.fire.C(), budget.C())
		switch {
		case fired == 1:
			if s.winner == nil {
				r.fireHedge()
			}
		case fired == 2:
			r.budgetOver = true
			if s.winner == nil && r.waiting != nil {
				r.decide(r.waiting)
			}
		case s.winner == nil:
			r.reported(a)
		}
	}
	r.end()
}

// hedgeRun is a hedge session's state while it runs.
type hedgeRun struct {
	s       *session
	pm, bm  *model    // the primary and the backup (nil without one)
	primary *attempt  // the primary's attempt; nil when it was skipped
	slot    hedgeSlot // the session's place in the hedge budget (the fleet's too)
	delay   time.Duration
	fire    providers.Timer // fires the delayed backup
	// launched: the backup has been launched (or there is none); hedged:
	// the delayed hedge has been decided, fired or withheld; budgetOver:
	// hedge.budget has passed, so the first success wins; knee: the delay
	// is the knee of the primary's slow mode; replaced: the backup took
	// the primary's place (replacePrimary).
	launched, hedged, budgetOver, knee, replaced bool
	waiting                                      *attempt // the backup's success, held until the budget ends
}

// launchBackup starts the backup, once: delayed (failover false), in the
// primary's place (reason replaced), or because the primary failed or was
// skipped. It returns the backup's attempt, nil when none was made.
func (r *hedgeRun) launchBackup(failover bool, reason Reason) *attempt {
	if r.launched {
		return nil
	}
	s := r.s
	r.hedged, r.launched = true, true
	r.fire.Stop()
	s.hedgeFired = true
	d := r.delay
	if failover {
		d = s.since()
	}
	s.emitWith(-1, HedgeFired, func(e *Event) { e.Model, e.Delay, e.Reason = r.bm.cfg.ID, d, reason })
	return s.launch(r.bm, RoleBackup, StageNone, nil)
}

// replacePrimary cancels the primary (reason replaced) and launches the
// backup in its place: the hedge's timer fired at the knee of the
// primary's slow mode, so the call still running is most likely a slow
// one, and max_extra refused a second call beside it. No call is added in
// flight, so max_extra (which bounds duplicate load) is not asked; the
// backup's call is a request made all the same, which hedge_fired (reason
// replaced) says, and the summary (hedge_replaced, the primary's reason)
// once the primary has ended cancelled: one that finished as it was
// cancelled answers, and was not replaced. Replacements last only while
// the window shows a slow mode, which needs at least half its calls below
// the knee: a model whose calls all turn slow stops being replaced once
// half its window is slow (cuts included), so the backup never takes over
// the primary's whole load.
func (r *hedgeRun) replacePrimary() {
	r.replaced = true
	r.s.cancelRunning(causeReplaced) // the primary (or its fallback): the backup is not out yet
	if r.launchBackup(false, ReasonReplaced) == nil {
		r.relaunchPrimary()
	}
}

// relaunchPrimary asks the primary's model again, once, when the backup
// that replaced it failed or could not be made: a session whose primary
// was cancelled for its backup must not end without an answer the
// primary's model could still give.
func (r *hedgeRun) relaunchPrimary() {
	if !r.replaced || r.primary == nil || r.s.cancelledBy() != nil {
		return
	}
	r.replaced = false // once
	r.primary = r.s.launch(r.pm, RolePrimary, StageNone, nil)
}

// fireHedge decides the delayed hedge when its timer fires: withheld as
// late, skipped by max_extra, or launched.
func (r *hedgeRun) fireHedge() {
	if r.hedged {
		return
	}
	r.hedged = true
	s, h := r.s, &r.s.e.cfg.Hedge
	if h.Delay.Quantile > 0 && s.e.lateHedge(r.pm, r.bm, r.delay) {
		return
	}
	if !s.e.hedgeTake(r.slot, h.MaxExtra) {
		if r.knee && h.Replace {
			r.replacePrimary()
			return
		}
		s.skip(r.bm, RoleBackup, StageNone, ReasonHedgeBudget)
		return
	}
	r.launchBackup(false, "")
}

// decide makes w the winner and cancels the rest.
func (r *hedgeRun) decide(w *attempt) {
	s := r.s
	s.win(w)
	if s.origin(w) == r.primary {
		s.cancelRunning(causePrimaryWon)
	} else {
		s.cancelRunning(causeHedgeWon)
	}
	r.hedged, r.launched = true, true
	r.fire.Stop()
}

// reported takes an attempt that ended while no winner is decided: the
// primary (or its fallback) wins or fails over; a backup's success wins
// once the primary cannot, else waits for the budget to end.
func (r *hedgeRun) reported(a *attempt) {
	s := r.s
	ok := a.status == AttemptDoneStatus
	isPrimary := s.origin(a) == r.primary // or its fallback
	switch {
	case isPrimary && ok:
		r.decide(a)
	case isPrimary:
		if r.waiting != nil {
			r.decide(r.waiting)
		} else {
			r.launchBackup(true, "")
		}
	case ok && (r.budgetOver || r.replaced || r.primary == nil || r.primary.reported):
		r.decide(a)
	case ok:
		r.waiting = a
	case r.replaced:
		r.relaunchPrimary() // the backup that replaced the primary failed
	}
}

// end records a timed-out primary's latency and fails a session without
// an answer.
func (r *hedgeRun) end() {
	s := r.s
	for _, a := range s.attempts {
		if a.reason == ReasonReplaced && a.status == AttemptCancelledStatus {
			s.hedgeReplaced = true
		}
	}
	if r.primary != nil && r.primary.status == AttemptTimeout {
		// A call at least this slow: left out, the window would lose the
		// slowest of the slow mode, and with them the share that needs a
		// hedge.
		s.e.addLowerBound(r.pm, r.primary.endedAt-r.primary.startedAt)
	}
	if s.winner == nil {
		s.fail(s.noAnswer())
	}
}

// hedgeBudget enforces hedge.max_extra over the last hedgeWindow hedge
// sessions: a backup may fire while the fired count stays within
// ceil(max_extra x sessions), so a fresh process may hedge once, and a
// long run never exceeds the fraction (The Tail at Scale; gRPC's hedging
// throttle).
type hedgeBudget struct {
	mu    sync.Mutex
	ring  [hedgeWindow]bool // whether each recent hedge session fired
	n     int
	fired int
}

const hedgeWindow = 100

// begin registers a hedge session and returns its slot.
func (h *hedgeBudget) begin() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := h.n % hedgeWindow
	if h.n >= hedgeWindow && h.ring[i] {
		h.fired--
	}
	h.ring[i] = false
	h.n++
	return i
}

// take asks to fire a backup for the session in slot i.
func (h *hedgeBudget) take(i int, maxExtra float64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	sessions := min(h.n, hedgeWindow)
	allowed := int(math.Ceil(maxExtra*float64(sessions) - 1e-9))
	if h.fired >= allowed {
		return false
	}
	h.ring[i] = true
	h.fired++
	return true
}

// fire counts a backup fired for slot i, as the fleet's budget allowed.
func (h *hedgeBudget) fire(i int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ring[i] {
		h.ring[i] = true
		h.fired++
	}
}

// hedgeSlot is a hedge session's place in the engine's hedge budget and,
// when it has one, in the fleet's.
type hedgeSlot struct {
	local  int
	shared int64
	fleet  bool // registered in the fleet's budget
}

// hedgeBegin registers a hedge session in the engine's budget and the
// fleet's.
func (e *Engine) hedgeBegin() hedgeSlot {
	sl := hedgeSlot{local: e.hedges.begin()}
	if e.shared != nil {
		if n, err := e.shared.HedgeBegin(e.ctx); err == nil {
			sl.shared, sl.fleet = n, true
		}
	}
	return sl
}

// hedgeTake asks to fire a backup: the fleet's budget decides when it
// can be reached, the engine's own otherwise (which counts it either way).
func (e *Engine) hedgeTake(sl hedgeSlot, maxExtra float64) bool {
	if sl.fleet {
		if ok, err := e.shared.HedgeTake(e.ctx, sl.shared, maxExtra); err == nil {
			if ok {
				e.hedges.fire(sl.local)
			}
			return ok
		}
	}
	return e.hedges.take(sl.local, maxExtra)
}
