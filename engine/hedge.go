package engine

import (
	"math"
	"time"

	"github.com/council-dev/council/engine/config"
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
// backup withheld by max_extra may still fail over.
func (s *session) hedgeEstimate() float64 {
	p, b := s.hedgeModels()
	c := s.worstOf(p, 0)
	if b != nil {
		c += 2 * s.worstOf(b, 0)
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
// from the primary's latency window (see [adaptiveDelay]).
func (s *session) hedgeDelay(primary *model) time.Duration {
	h := s.e.cfg.Hedge
	if h.Delay.Quantile == 0 {
		return h.Delay.Fixed
	}
	return adaptiveDelay(&primary.stats, h.Delay.Quantile, h.FallbackDelay.Duration)
}

// adaptiveDelay is the hedge delay read from a primary's window: its
// q-quantile, unless the window has a slow mode holding more than 1-q of
// its calls. The quantile then lies inside the slow mode, where a backup
// starts after the slow calls have already cost their time; it fires at
// the knee instead, before the slow mode. When the slow share is above
// max_extra the hedge budget picks which slow calls get a backup: firing
// at the knee rather than at the lowest quantile that fits max_extra
// measured the same p95 on the demo's straggler and a lower mean and cost
// (the backups it pays for start earlier). The fallback delay applies
// until minHedgeSamples calls are in the window.
func adaptiveDelay(st *modelStats, q float64, fallback time.Duration) time.Duration {
	d, n := st.quantile(q)
	if n < minHedgeSamples {
		return fallback
	}
	if m, ok := st.slowMode(); ok && m.Share > 1-q && m.Knee < d {
		return m.Knee
	}
	return d
}

// lateHedge reports whether a backup fired at delay would most likely
// lose to the primary anyway: of the primary's calls that ran past delay,
// fewer than half ran on past delay plus the backup's median latency. It
// does not fire then: it would spend max_extra on a call that cannot win,
// and a primary that then fails still fails over. Without enough samples
// of either model it cannot tell, and the backup fires.
func lateHedge(primary, backup *model, delay time.Duration) bool {
	b50, n := backup.stats.quantile(0.5)
	if n < minHedgeSamples {
		return false
	}
	share, ok := primary.stats.pastShare(delay, delay+b50)
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
		t.Delay = adaptiveDelay(&m.stats, h.Delay.Quantile, h.FallbackDelay.Duration)
	}
	sm, found := m.stats.slowMode()
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
// late) still fails over when the primary then fails.
func (s *session) hedge() {
	pm, bm := s.hedgeModels()
	h := s.e.cfg.Hedge
	slot := s.e.hedges.begin()
	primary := s.launch(pm, RolePrimary, StageNone, nil)
	launched := bm == nil // the backup has been launched (or there is none)
	hedged := launched    // the delayed hedge has been decided, fired or withheld

	clock := s.e.clock
	delay := s.hedgeDelay(pm)
	fire := clock.NewTimer(delay)
	defer fire.Stop()
	budget := clock.NewTimer(h.Budget.Duration)
	defer budget.Stop()
	budgetOver := false

	launchBackup := func(failover bool) {
		if launched {
			return
		}
		hedged, launched = true, true
		fire.Stop()
		s.hedgeFired = true
		d := delay
		if failover {
			d = s.since()
		}
		s.emitWith(-1, HedgeFired, func(e *Event) { e.Model, e.Delay = bm.cfg.ID, d })
		s.launch(bm, RoleBackup, StageNone, nil)
	}
	fireHedge := func() {
		if hedged {
			return
		}
		hedged = true
		if h.Delay.Quantile > 0 && lateHedge(pm, bm, delay) {
			return
		}
		if !s.e.hedges.take(slot, h.MaxExtra) {
			s.skip(bm, RoleBackup, StageNone, ReasonHedgeBudget)
			return
		}
		launchBackup(false)
	}
	if primary == nil {
		launchBackup(true)
	}

	var waiting *attempt // the backup's success, held until the budget ends
	decide := func(w *attempt) {
		s.win(w)
		if s.origin(w) == primary {
			s.cancelRunning(causePrimaryWon)
		} else {
			s.cancelRunning(causeHedgeWon)
		}
		hedged, launched = true, true
		fire.Stop()
	}
	for s.pending > 0 {
		if s.winner != nil {
			s.awaitAll()
		}
		a, fired := s.wait(fire.C(), budget.C())
		switch fired {
		case 1:
			if s.winner == nil {
				fireHedge()
			}
			continue
		case 2:
			budgetOver = true
			if s.winner == nil && waiting != nil {
				decide(waiting)
			}
			continue
		}
		if s.winner != nil {
			continue
		}
		ok := a.status == AttemptDoneStatus
		isPrimary := s.origin(a) == primary // or its fallback
		switch {
		case isPrimary && ok:
			decide(a)
		case isPrimary:
			if waiting != nil {
				decide(waiting)
			} else {
				launchBackup(true)
			}
		case ok && (budgetOver || primary == nil || primary.reported):
			decide(a)
		case ok:
			waiting = a
		}
	}
	if primary != nil && primary.status == AttemptTimeout {
		// A call at least this slow: left out, the window would lose the
		// slowest of the slow mode, and with them the share that needs a
		// hedge.
		pm.stats.addLowerBound(primary.endedAt - primary.startedAt)
	}
	if s.winner == nil {
		s.fail(s.noAnswer())
	}
}
