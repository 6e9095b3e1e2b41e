package engine

import (
	"time"

	"github.com/council-dev/council/engine/config"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Hedge, Stages: []Stage{StageNone}, PromptAlone: true,
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

// hedgeDelay is how long the backup waits: the fixed delay, or the
// primary's observed latency quantile once it has enough samples.
func (s *session) hedgeDelay(primary *model) time.Duration {
	h := s.e.cfg.Hedge
	if h.Delay.Quantile == 0 {
		return h.Delay.Fixed
	}
	if q, n := primary.stats.quantile(h.Delay.Quantile); n >= minHedgeSamples {
		return q
	}
	return h.FallbackDelay.Duration
}

// hedge starts the primary, and the backup after the hedge delay (or at
// once when the primary fails or is skipped). A primary that completes
// within hedge.budget wins even if the backup finished first; after the
// budget the first success wins. A delayed backup is subject to
// max_extra; a failover backup never is, since without it there is no
// answer: a backup withheld by max_extra still fails over when the
// primary then fails.
func (s *session) hedge() {
	pm, bm := s.hedgeModels()
	h := s.e.cfg.Hedge
	slot := s.e.hedgeBegin()
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
		if !s.e.hedgeTake(slot, h.MaxExtra) {
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
		if w == primary {
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
		switch {
		case a == primary && ok:
			decide(a)
		case a == primary:
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
	if s.winner == nil {
		s.fail(s.noAnswer())
	}
}
