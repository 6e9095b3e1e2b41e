package engine

import (
	"fmt"
	"sort"

	"github.com/council-dev/council/engine/config"
)

func init() { register(config.Consensus, (*session).consensus) }

// consensus asks voters to classify the prompt, decides the moment the
// leader cannot be caught, cancels the stragglers (decided), and applies
// the quorum and the tie-break. A user's cancel is a cancel: it is never
// reported as a missed quorum.
func (s *session) consensus() {
	c := s.e.cfg.Consensus
	n := min(max(c.Voters, 1), len(s.models))
	s.votes = make(map[string]int)
	started := 0
	for _, m := range s.models {
		if started == n {
			break
		}
		if s.launch(m, RoleVoter, StageNone, nil) != nil {
			started++
		}
	}
	decided := false
	for s.pending > 0 {
		a := s.next()
		if a.status == AttemptDoneStatus {
			s.castVote(a)
		}
		if decided {
			s.awaitAll() // the stragglers are cancelled: their votes still count
			continue
		}
		if s.userCancelled() {
			continue
		}
		leader, lc, second := s.tally()
		switch {
		case s.valid+s.pending < c.MinResponses:
			decided = true
			s.fail(fmt.Sprintf("quorum not reached: %d valid votes, %d required", s.valid+s.pending, c.MinResponses))
			s.cancelRunning(causeNoQuorum) // not "decided": nothing was
		case s.valid >= c.MinResponses && lc > second+s.pending:
			decided = true
			s.decide("", leader)
			s.cancelRunning(causeDecided)
		}
	}
	if s.userCancelled() && s.answer == "" {
		s.fail(s.noAnswer())
		return
	}
	if decided {
		if s.answer == "" {
			s.fail("no valid votes")
		}
		return
	}
	// Every voter is in and nobody leads alone.
	leader, lc, second := s.tally()
	switch {
	case s.valid < c.MinResponses:
		s.fail(fmt.Sprintf("quorum not reached: %d valid votes, %d required", s.valid, c.MinResponses))
	case lc > second:
		s.decide("", leader)
	default:
		s.breakTie(lc)
	}
}

// castVote parses a finished voter's answer and emits vote_cast.
func (s *session) castVote(a *attempt) {
	text := a.text.String()
	v, err := ParseVote(text, s.e.cfg.Consensus.Categories)
	if err != nil {
		s.invalid++
		a.err = "invalid vote: " + err.Error()
	} else {
		s.valid++
		s.votes[v]++
		a.vote = v
	}
	s.emitWith(int(a.idx), VoteCast, func(e *Event) {
		e.Model, e.Text, e.Vote, e.Err, e.Attempt, e.Role = a.m.cfg.ID, text, v, errString(err), a.id(), a.role
	})
}

// tally returns the leading answer, its votes and the runner-up's votes.
// Ties between leaders are broken alphabetically, for determinism.
func (s *session) tally() (leader string, lc, second int) {
	keys := make([]string, 0, len(s.votes))
	for k := range s.votes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch n := s.votes[k]; {
		case n > lc:
			leader, second, lc = k, lc, n
		case n > second:
			second = n
		}
	}
	return leader, lc, second
}

// breakTie settles a tie as consensus.tie_break says.
func (s *session) breakTie(top int) {
	c := s.e.cfg.Consensus
	var tied []string
	for k, n := range s.votes {
		if n == top {
			tied = append(tied, k)
		}
	}
	sort.Strings(tied)
	s.tieBreak = string(c.TieBreak)
	switch c.TieBreak {
	case config.TieDefault:
		s.degrade(DegradedTieDefault)
		s.decide("", Normalize(c.DefaultAnswer))
	case config.TieEscalate:
		m := s.escalationModel()
		if m == nil {
			s.fail(fmt.Sprintf("tie between %v and no model to escalate to", tied))
			return
		}
		a := s.launch(m, RoleEscalated, StageNone, nil)
		if a == nil {
			s.fail(fmt.Sprintf("tie between %v; escalation model %s skipped (breaker open)", tied, m.cfg.ID))
			return
		}
		a = s.next()
		if a.status != AttemptDoneStatus {
			s.fail(fmt.Sprintf("tie between %v; escalation to %s failed: %s", tied, m.cfg.ID, a.err))
			return
		}
		v, err := ParseVote(a.text.String(), c.Categories)
		s.emitWith(int(a.idx), VoteCast, func(e *Event) {
			e.Model, e.Text, e.Vote, e.Err, e.Attempt, e.Role = a.m.cfg.ID, a.text.String(), v, errString(err), a.id(), a.role
		})
		if err != nil {
			a.err = "invalid vote: " + err.Error()
			s.fail(fmt.Sprintf("tie between %v; escalation to %s gave an invalid answer", tied, m.cfg.ID))
			return
		}
		a.vote = v
		s.decide(a.m.cfg.ID, v)
	default:
		s.fail(fmt.Sprintf("tie between %v (tie_break = fail)", tied))
	}
}

// escalationModel is consensus.escalate_to, else the first session model
// that did not vote.
func (s *session) escalationModel() *model {
	if id := s.e.cfg.Consensus.EscalateTo; id != "" {
		return s.e.models[id]
	}
	voted := make(map[*model]bool, len(s.attempts))
	for _, a := range s.attempts {
		voted[a.m] = true
	}
	for _, m := range s.models {
		if !voted[m] {
			return m
		}
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
