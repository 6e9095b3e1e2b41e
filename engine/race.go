package engine

import "github.com/council-dev/council/engine/config"

func init() { register(config.Race, (*session).race) }

// race starts every model at once; the first success wins and the others
// are cancelled at once (lost_race). Failures do not end the race unless
// every model fails.
func (s *session) race() {
	for _, m := range s.models {
		s.launch(m, RoleRacer, StageNone, nil)
	}
	for s.pending > 0 {
		a := s.next()
		if s.winner == nil && a.status == AttemptDoneStatus {
			s.win(a)
			s.cancelRunning(causeLostRace)
			s.awaitAll()
		}
	}
	if s.winner == nil {
		s.fail(s.noAnswer())
	}
}
