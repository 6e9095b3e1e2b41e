package engine

import "github.com/council-dev/council/engine/config"

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Race, Stages: []Stage{StageNone}, PromptAlone: true, FreeText: true,
			Summary: "every model at once; the first whole answer wins, the others are cancelled"},
		run: (*session).race,
		// Every model, each failed over once (a fallback).
		estimate: func(s *session) float64 { return 2 * s.sumWorst(s.models, 0) },
	})
}

// race starts every model at once; the first success wins and the others
// are cancelled at once (lost_race). Failures do not end the race unless
// every model fails. An answer cut by its token limit (finish length) does
// not win while a whole one may still come, unless race.accept_truncated;
// when every answer is truncated the first wins, degraded (truncated).
func (s *session) race() {
	for _, m := range s.models {
		s.launch(m, RoleRacer, StageNone, nil)
	}
	var truncated *attempt
	for s.pending > 0 {
		a := s.next()
		if s.winner != nil || a.status != AttemptDoneStatus {
			continue
		}
		if a.truncated() && !s.e.cfg.Race.AcceptTruncated {
			if truncated == nil {
				truncated = a
			}
			continue
		}
		s.win(a)
		s.cancelRunning(causeLostRace)
		s.awaitAll()
	}
	if s.winner == nil && truncated != nil {
		s.win(truncated)
	}
	if s.winner == nil {
		s.fail(s.noAnswer())
	}
}
