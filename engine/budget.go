package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/council-dev/council/providers"
)

// ErrOverBudget is returned by [Engine.Start] for a session whose worst
// case would cross max_cost_usd or what is left of max_run_cost_usd.
var ErrOverBudget = errors.New("over the spending cap")

// assumedMaxTokens is the answer length a cost estimate assumes for a
// model with no max_tokens: the worst case of a typical answer.
const assumedMaxTokens = 1024

// DegradedBudgetCost: an attempt was not launched because it would have
// crossed the session's spending cap.
const DegradedBudgetCost = "budget_cost"

// ReasonBudgetCost: skipped because it would have crossed the spending cap.
const ReasonBudgetCost Reason = "budget_cost"

// worstCost is what one attempt of m asking req costs at most: its input
// as sent (about four characters a token) plus extraIn tokens, and the
// longest answer it may give, at m's prices.
func worstCost(m *model, req *providers.Request, extraIn int) float64 {
	out := req.MaxTokens
	if out == 0 {
		out = m.cfg.MaxTokens
	}
	if out == 0 {
		out = assumedMaxTokens
	}
	in := (requestLen(req)+3)/4 + extraIn
	return (float64(in)*m.cfg.InputPerMTok + float64(out)*m.cfg.OutputPerMTok) / 1e6
}

// estimate is the session's worst case before it starts: what its
// strategy's estimate says every attempt it may make costs, each at its
// worst.
func (s *session) estimate() float64 { return lookup(s.strategy).estimate(s) }

// worstOf is what one attempt of m asking the session's prompt (with
// extraIn more tokens of input) costs at most.
func (s *session) worstOf(m *model, extraIn int) float64 {
	r, _ := s.withSettings(m, s.baseRequest(RoleRacer))
	return worstCost(m, r, extraIn)
}

// sumWorst is worstOf summed over ms.
func (s *session) sumWorst(ms []*model, extraIn int) (c float64) {
	for _, m := range ms {
		c += s.worstOf(m, extraIn)
	}
	return c
}

// priciest is the dearest worstOf among ms: what a stage asks of one
// model it picks from them (a chairman, a fallback) may cost.
func (s *session) priciest(ms []*model, extraIn int) (c float64) {
	for _, m := range ms {
		c = max(c, s.worstOf(m, extraIn))
	}
	return c
}

// costCap is the session's cap: the request's, else the config's; 0 for
// none.
func (s *session) costCap() float64 {
	if ms := s.extras; ms != nil && ms.capUSD > 0 {
		return ms.capUSD
	}
	return s.e.cfg.MaxCostUSD
}

// checkBudget refuses a session whose worst case crosses its cap or what
// is left of the run's.
func (e *Engine) checkBudget(s *session) error {
	capUSD, runCap := s.costCap(), e.cfg.MaxRunCostUSD
	dayCap := 0.0
	if e.shared != nil {
		dayCap = e.cfg.Shared.MaxCostUSDPerDay
	}
	if capUSD <= 0 && runCap <= 0 && dayCap <= 0 {
		return nil
	}
	est := s.estimate()
	if capUSD > 0 && est > capUSD {
		return fmt.Errorf("%w: this session may cost up to %s, over max_cost_usd %s (fewer models, a cheaper tier or max_tokens lower it)", ErrOverBudget, usd(est), usd(capUSD))
	}
	if e.shared != nil && (runCap > 0 || dayCap > 0) {
		if done, err := e.reserveShared(s, est, runCap); done {
			return err
		}
	}
	if runCap > 0 {
		e.mu.Lock()
		defer e.mu.Unlock()
		spent, held := e.runSpent, 0.0
		for _, h := range e.runHolds {
			held += h
		}
		if spent+held+est > runCap {
			running := ""
			if held > 0 {
				running = fmt.Sprintf(" and sessions running may cost up to %s more", usd(held))
			}
			return fmt.Errorf("%w: this session may cost up to %s and the run has spent %s%s of max_run_cost_usd %s", ErrOverBudget, usd(est), usd(spent), running, usd(runCap))
		}
		e.holdLocal(s, est)
	}
	return nil
}

// holdLocal holds a session's worst case until it ends, so that sessions
// running at once cannot together cross the run's cap. Under e.mu.
func (e *Engine) holdLocal(s *session, est float64) {
	if e.runHolds == nil {
		e.runHolds = map[*session]float64{}
	}
	e.runHolds[s] = est
}

// reserveShared holds the session's worst case against the fleet's run
// cap and day cap; done is false when the shared state cannot be reached
// (the engine's own cap then decides).
func (e *Engine) reserveShared(s *session, est, runCap float64) (done bool, err error) {
	id := e.holdID(s)
	dayCap := e.cfg.Shared.MaxCostUSDPerDay
	ok, sp, err := e.shared.Reserve(e.ctx, id, est, runCap, dayCap, e.clock.Now())
	if err != nil {
		return false, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !ok {
		running := ""
		if sp.Held > 0 {
			running = fmt.Sprintf(" and sessions running in the fleet may cost up to %s more", usd(sp.Held))
		}
		if runCap > 0 && sp.Spent+sp.Held+est > runCap {
			return true, fmt.Errorf("%w: this session may cost up to %s and the fleet's run has spent %s%s of max_run_cost_usd %s", ErrOverBudget, usd(est), usd(sp.Spent), running, usd(runCap))
		}
		return true, fmt.Errorf("%w: this session may cost up to %s and the fleet has spent %s today%s of max_cost_usd_per_day %s", ErrOverBudget, usd(est), usd(sp.Day), running, usd(dayCap))
	}
	if e.sharedHolds == nil {
		e.sharedHolds = map[*session]string{}
	}
	e.sharedHolds[s] = id
	e.holdLocal(s, est) // for when the shared state cannot be reached
	return true, nil
}

// holdID names a session's hold in the fleet: this engine's nonce and the
// session's number.
func (e *Engine) holdID(s *session) string {
	return fmt.Sprintf("%s-%d", e.nonce, e.nhold.Add(1))
}

// admit reserves an attempt's worst case against the session's cap, and
// refuses it when that would cross the cap.
func (s *session) admit(a *attempt) bool {
	capUSD := s.costCap()
	if capUSD <= 0 {
		return true
	}
	ms := s.extrasOf()
	w := worstCost(a.m, a.req, 0)
	if ms.spent+ms.reserved+w > capUSD {
		return false
	}
	if ms.reserve == nil {
		ms.reserve = map[int]float64{}
	}
	ms.reserve[int(a.idx)] = w
	ms.reserved += w
	return true
}

// release gives back an attempt's reservation without a cost (it was not
// made after all).
func (s *session) release(a *attempt) {
	if ms := s.extras; ms != nil && ms.reserve != nil {
		ms.reserved -= ms.reserve[int(a.idx)]
		delete(ms.reserve, int(a.idx))
	}
}

// settle moves an ended attempt's reservation to what it really cost.
func (s *session) settle(a *attempt) {
	if ms := s.extras; ms != nil && ms.reserve != nil {
		ms.reserved -= ms.reserve[int(a.idx)]
		delete(ms.reserve, int(a.idx))
		ms.spent += a.cost
	}
}

// spend adds a finished session's cost to the run's, in place of the
// worst case it held.
func (e *Engine) spend(s *session, usd float64) {
	if e.cfg.MaxRunCostUSD <= 0 && e.shared == nil {
		return
	}
	e.mu.Lock()
	e.runSpent += usd
	delete(e.runHolds, s)
	id, shared := e.sharedHolds[s]
	delete(e.sharedHolds, s)
	e.mu.Unlock()
	if shared {
		_ = e.shared.Settle(e.ctx, id, usd, e.clock.Now()) // unreached: the hold expires
	}
}

// usd writes an amount of dollars to the millionth, without trailing
// zeros: $0.0381, $0.00001.
func usd(x float64) string {
	return "$" + strconv.FormatFloat(math.Round(x*1e6)/1e6, 'f', -1, 64)
}

// Estimate is the most req's session may cost at the config's prices,
// every attempt its strategy may make at its worst: what a spending cap
// is checked against, and what `council bench` shows before it spends
// money. The session is built to be measured, never started.
func (e *Engine) Estimate(req SessionRequest) (float64, error) {
	s, err := e.newSession(context.Background(), req)
	if err != nil {
		return 0, err
	}
	defer s.q.release()
	return s.estimate(), nil
}
