package engine

import (
	"fmt"
	"sort"
	"time"

	"github.com/council-dev/council/engine/config"
)

// race starts every model at once; the first success wins and the others
// are cancelled at once (lost_race). Failures do not end the race unless
// every model fails.
func (s *session) race() {
	for _, m := range s.models {
		s.launch(m, RoleRacer)
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
		s.failure = s.noAnswer()
	}
}

// noAnswer explains why no model answered.
func (s *session) noAnswer() string {
	if s.cancelled() {
		for _, a := range s.attempts {
			if a.reason == ReasonBudget {
				return fmt.Sprintf("no answer within the tier's timeout %s", s.tier.Timeout.Duration)
			}
			if a.reason == ReasonUser {
				return "cancelled by the user"
			}
		}
	}
	launched := 0
	for _, a := range s.attempts {
		if a.status != AttemptSkippedStatus {
			launched++
		}
	}
	if launched == 0 {
		return fmt.Sprintf("no model was called: all %d breakers are open", len(s.attempts))
	}
	return fmt.Sprintf("every model failed (%d of %d)", launched, len(s.attempts))
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
// budget the first success wins. A delayed backup is subject to max_extra;
// a failover backup is not, since without it there is no answer.
func (s *session) hedge() {
	pm, bm := s.hedgeModels()
	h := s.e.cfg.Hedge
	slot := s.e.hedges.begin()
	primary := s.launch(pm, RolePrimary)
	backupTried := bm == nil

	delay := s.hedgeDelay(pm)
	fire := time.NewTimer(delay)
	defer fire.Stop()
	budget := time.NewTimer(h.Budget.Duration)
	defer budget.Stop()
	budgetOver := false

	fireBackup := func(failover bool) {
		if backupTried {
			return
		}
		backupTried = true
		fire.Stop()
		if !failover && !s.e.hedges.take(slot, h.MaxExtra) {
			s.emitWith(-1, AttemptSkipped, func(e *Event) { e.Model, e.Role, e.Reason = bm.cfg.ID, RoleBackup, ReasonHedgeBudget })
			return
		}
		s.hedgeFired = true
		d := delay
		if failover {
			d = s.since()
		}
		s.emitWith(-1, HedgeFired, func(e *Event) { e.Model, e.Delay = bm.cfg.ID, d })
		s.launch(bm, RoleBackup)
	}
	if primary == nil {
		fireBackup(true)
	}

	var waiting *attempt // the backup's success, held until the budget ends
	decide := func(w *attempt) {
		s.win(w)
		if w == primary {
			s.cancelRunning(causePrimaryWon)
		} else {
			s.cancelRunning(causeHedgeWon)
		}
		backupTried = true
		fire.Stop()
	}
	for s.pending > 0 {
		if s.winner != nil {
			s.awaitAll()
		}
		select {
		case <-fire.C:
			if s.winner == nil {
				fireBackup(false)
			}
		case <-budget.C:
			budgetOver = true
			if s.winner == nil && waiting != nil {
				decide(waiting)
			}
		case i := <-s.results:
			a := s.attempts[i]
			a.reported = true
			s.pending--
			if s.winner != nil {
				continue
			}
			ok := a.status == AttemptDoneStatus
			switch {
			case a == primary && ok:
				decide(a)
			case a == primary:
				s.degraded = true
				if waiting != nil {
					decide(waiting)
				} else {
					fireBackup(true)
				}
			case ok && (budgetOver || primary == nil || primary.reported):
				decide(a)
			case ok:
				waiting = a
			}
		}
	}
	if s.winner == nil {
		s.failure = s.noAnswer()
	}
}

// consensus asks voters to classify the prompt, decides the moment the
// leader cannot be caught, cancels the stragglers (decided), and applies
// the quorum and the tie-break.
func (s *session) consensus() {
	c := s.e.cfg.Consensus
	n := min(max(c.Voters, 1), len(s.models))
	s.votes = make(map[string]int)
	started := 0
	for _, m := range s.models {
		if started == n {
			break
		}
		if s.launch(m, RoleVoter) != nil {
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
		leader, lc, second := s.tally()
		switch {
		case s.valid+s.pending < c.MinResponses:
			decided = true
			s.failure = fmt.Sprintf("quorum not reached: %d valid votes, %d required", s.valid+s.pending, c.MinResponses)
			s.cancelRunning(causeDecided)
		case s.valid >= c.MinResponses && lc > second+s.pending:
			decided = true
			s.answer = leader
			s.emitWith(-1, Decided, func(e *Event) { e.Text = leader })
			s.cancelRunning(causeDecided)
		}
	}
	if decided {
		if s.answer == "" && s.failure == "" {
			s.failure = "no valid votes"
		}
		return
	}
	// Every voter is in and nobody leads alone.
	leader, lc, second := s.tally()
	switch {
	case s.valid < c.MinResponses:
		s.failure = fmt.Sprintf("quorum not reached: %d valid votes, %d required", s.valid, c.MinResponses)
	case lc > second:
		s.answer = leader
		s.emitWith(-1, Decided, func(e *Event) { e.Text = leader })
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
	s.emitWith(-1, VoteCast, func(e *Event) { e.Model, e.Text, e.Vote, e.Err = a.m.cfg.ID, text, v, errString(err) })
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
		s.answer = Normalize(c.DefaultAnswer)
		s.degraded = true
		s.emitWith(-1, Decided, func(e *Event) { e.Text, e.TieBreak = s.answer, s.tieBreak })
	case config.TieEscalate:
		m := s.escalationModel()
		if m == nil {
			s.failure = fmt.Sprintf("tie between %v and no model to escalate to", tied)
			return
		}
		a := s.launch(m, RoleEscalated)
		if a == nil {
			s.failure = fmt.Sprintf("tie between %v; escalation model %s skipped (breaker open)", tied, m.cfg.ID)
			return
		}
		a = s.next()
		if a.status != AttemptDoneStatus {
			s.failure = fmt.Sprintf("tie between %v; escalation to %s failed: %s", tied, m.cfg.ID, a.err)
			return
		}
		v, err := ParseVote(a.text.String(), c.Categories)
		s.emitWith(-1, VoteCast, func(e *Event) { e.Model, e.Text, e.Vote, e.Err = m.cfg.ID, a.text.String(), v, errString(err) })
		if err != nil {
			a.err = "invalid vote: " + err.Error()
			s.failure = fmt.Sprintf("tie between %v; escalation to %s gave an invalid answer", tied, m.cfg.ID)
			return
		}
		a.vote = v
		s.answer = v
		s.emitWith(-1, Decided, func(e *Event) { e.Model, e.Text, e.TieBreak = m.cfg.ID, v, s.tieBreak })
	default:
		s.failure = fmt.Sprintf("tie between %v (tie_break = fail)", tied)
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
