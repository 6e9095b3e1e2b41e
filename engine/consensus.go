package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/council-dev/council/engine/config"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Consensus, Stages: []Stage{StageNone}, PromptAlone: true,
			Summary: "voters classify the prompt; decided once the leader cannot be caught"},
		run: (*session).consensus,
		// The voters, and one escalation to the dearest model.
		estimate: func(s *session) float64 {
			voters := min(max(s.e.cfg.Consensus.Voters, 1), len(s.models))
			return s.sumWorst(s.models[:voters], 0) + s.priciest(s.models, 0)
		},
		validate: func(p *plan) error { return quorumProblem(p.cfg, p.tier, len(p.models), p.from()) },
		problems: quorumProblems,
	})
}

// quorumProblems names each tier whose models can never give a consensus
// its quorum (fewer voters than consensus.min_responses), with the keys to
// change.
func quorumProblems(cfg *config.Config) []string {
	var out []string
	for _, name := range cfg.TierOrder() {
		t, _ := cfg.Tier(name)
		if err := quorumProblem(cfg, name, len(t.Models), "tiers."+name+".models"); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// quorumProblem is why a consensus over n models of tier (listed by from)
// can never reach quorum ([ErrNoQuorum]), or nil.
func quorumProblem(cfg *config.Config, tier string, n int, from string) error {
	c := cfg.Consensus
	voters := min(max(c.Voters, 1), n)
	if voters >= c.MinResponses {
		return nil
	}
	return fmt.Errorf("tier %s: %w: consensus.min_responses = %d, but only %d voter(s) (%s: %d, consensus.voters = %d); lower consensus.min_responses or add models",
		tier, ErrNoQuorum, c.MinResponses, voters, from, n, c.Voters)
}

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
		case int(s.valid)+s.pending < c.MinResponses:
			decided = true
			s.fail(fmt.Sprintf("quorum not reached: %d valid votes, %d required", int(s.valid)+s.pending, c.MinResponses))
			s.cancelRunning(causeNoQuorum) // not "decided": nothing was
		case int(s.valid) >= c.MinResponses && lc > second+s.pending:
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
	case int(s.valid) < c.MinResponses:
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
	v, err := ParseVote(text, s.voteCategories())
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
		isDefault := func(cat string) bool { return Normalize(cat) == Normalize(c.DefaultAnswer) }
		if cats := s.voteCategories(); len(cats) > 0 && !slices.ContainsFunc(cats, isDefault) {
			s.fail(fmt.Sprintf("tie between %v; consensus.default_answer %q is not among this route's categories (%s)", tied, c.DefaultAnswer, strings.Join(cats, ", ")))
			return
		}
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
		v, err := ParseVote(a.text.String(), s.voteCategories())
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

// voteCategories are the answers a vote may give: the route's own when
// the router chose a route that has them (a yes/no route's "yes", "no"),
// else consensus.categories (empty: any answer).
func (s *session) voteCategories() []string {
	if s.extras != nil && s.extras.stage.route != nil && len(s.extras.stage.route.Categories) > 0 {
		return s.extras.stage.route.Categories
	}
	return s.e.cfg.Consensus.Categories
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
