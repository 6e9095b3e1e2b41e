package engine

import "github.com/council-dev/council/providers"

// summaryBuf is a summary and room for its models' lines: one allocation
// for a session of up to inlineAttempts attempts.
type summaryBuf struct {
	sum    Summary
	models [inlineAttempts]ModelResult
}

// newSummary allocates the session's summary and its breakers' map when
// the session is made, on the caller's goroutine. Made at the end, on the
// session goroutine's small stack, the map's first group sometimes took
// the allocator's slow path deep enough to make that stack grow.
func (s *session) newSummary() {
	s.sum = new(summaryBuf)
	b := make(map[string]BreakerSnapshot, len(s.models))
	b[s.models[0].cfg.ID] = BreakerSnapshot{} // makes the map's first group
	s.sum.sum.Breakers = b
}

// summary builds the session's [Summary] once every attempt has reported.
func (s *session) summary() *Summary {
	buf := s.sum
	models := buf.models[:0]
	if len(s.attempts) > len(buf.models) {
		models = make([]ModelResult, 0, len(s.attempts))
	}
	// Set field by field: a composite literal is built on the stack and
	// copied, and this runs on the session goroutine's small stack.
	sum := &buf.sum
	sum.Session, sum.Strategy, sum.Tier, sum.Prompt = s.id, s.strategy, s.tierName, s.prompt
	sum.Answer, sum.Error, sum.TieBreak, sum.HedgeFired = s.answer, s.failure, s.tieBreak, s.hedgeFired
	sum.Votes, sum.Invalid, sum.HedgeReplaced = s.votes, s.invalid, s.hedgeReplaced
	sum.Elapsed = s.since()
	sum.ElapsedMS = Millis(sum.Elapsed)
	if s.winner != nil {
		sum.Winner = s.winner.m.cfg.ID
	}
	if s.valid > 0 && s.answer != "" && s.votes != nil {
		sum.Agreement = float64(s.votes[s.answer]) / float64(s.valid)
	}
	sum.Models = s.modelResults(models)
	for _, a := range s.attempts {
		sum.CostUSD += a.cost
	}
	sum.CostUSD = roundUSD(sum.CostUSD)
	s.breakerStates(sum)
	sum.Degraded = noReasons
	switch {
	case s.internal.Load() != nil:
		s.internalResult(sum)
	case s.answer == "" && s.userCancelled():
		sum.Status = StatusCancelled
		sum.Error = s.noAnswer()
	case s.answer == "":
		sum.Status = StatusFailed
		if sum.Error == "" {
			sum.Error = "no answer"
		}
	case len(s.degraded) > 0:
		sum.Status = StatusDegraded
		sum.Degraded = s.degraded
	default:
		sum.Status = StatusDecided
	}
	sum.CostCapUSD = s.costCap()
	if s.extras != nil {
		s.multiResults(sum)
	}
	return sum
}

// multiResults fills what a multi-stage strategy, settings or a cap add
// to the summary. Apart from summary, like modelResults: a map's iterator
// on summary's frame made the session goroutine outgrow its stack.
//
//go:noinline
func (s *session) multiResults(sum *Summary) {
	ms := s.extras
	sum.Stages, sum.Route = ms.stage.stages, ms.stage.route
	for i, note := range ms.notes {
		sum.Models[i].aside().Note = note
	}
	for i, id := range ms.fallbackFor {
		if i < len(sum.Models) {
			sum.Models[i].aside().FallbackFor = id
		}
	}
	if sc := ms.stage.section; sc != nil {
		// Saved is against the session's wall clock, merge included: what
		// running the sections at once saved end to end.
		sum.Sections, sum.Merge, sum.SerialMS, sum.SavedMS = sc.results, sc.merge, Millis(sc.serial), Millis(max(sc.serial-sum.Elapsed, 0))
	}
	if c := ms.stage.council; c != nil {
		sum.Rankings, sum.Borda, sum.Chairman, sum.Synthesis = c.rankings, c.borda, c.chairman, c.synthesis
		sum.Reviews = c.reviews
		if sum.Rankings == nil {
			sum.Rankings = map[string][]string{} // a council always says what it counted
		}
		for i, why := range c.invalid {
			if i < len(sum.Models) && sum.Models[i].Error == "" {
				sum.Models[i].Error = why
			}
		}
	}
}

// internalResult makes the summary of a session that hit a bug: failed,
// whatever it had decided, with the bug's message and stack.
//
//go:noinline
func (s *session) internalResult(sum *Summary) {
	c := s.internal.Load()
	sum.Status, sum.ErrorKind, sum.Error, sum.Stack = StatusFailed, ErrorKindInternal, c.message(), string(c.stack)
	sum.Answer, sum.Winner, sum.Agreement, sum.Degraded = "", "", 0, noReasons
}

// noReasons is the degraded list of a session that is not degraded: an
// empty list, never null, in JSON.
var noReasons = []string{}

// modelResults appends each attempt's line to models. It and breakerStates
// are apart from summary so that their frames are not on the stack
// together (see session.run).
//
//go:noinline
func (s *session) modelResults(models []ModelResult) []ModelResult {
	for _, a := range s.attempts {
		models = append(models, ModelResult{})
		r := &models[len(models)-1]
		r.Attempt, r.Stage, r.Retries = a.id(), a.stage, a.retries
		r.ID, r.Provider, r.Role, r.Status = a.m.cfg.ID, a.m.cfg.Provider, a.role, a.status
		r.Reason, r.Error, r.Vote, r.Text = string(a.reason), a.err, a.vote, a.text.String()
		r.InputTokens, r.OutputTokens, r.CostUSD = int(a.usage.in), int(a.usage.out), a.cost
		r.CachedInputTokens, r.ReasoningTokens = int(a.usage.cached), int(a.usage.reasoning)
		if w := a.cacheWrites(); w > 0 {
			r.aside().CacheWriteTokens = int(w)
		}
		if f := a.finishReason(); f != providers.FinishNone {
			r.Finish, r.Truncated = f, f == providers.FinishLength
		}
		if a.gotReasoning {
			r.FirstReasoningMS = Millis(a.firstReason)
		}
		if a.started {
			r.StartedMS = Millis(a.startedAt)
			r.ElapsedMS = Millis(a.endedAt - a.startedAt)
		}
		if a.gotFirst {
			r.FirstTokenMS = Millis(a.firstTok)
		}
		if a.status == AttemptFailedStatus || a.status == AttemptTimeout {
			r.Reason = a.kind.String()
		}
	}
	return models
}

// breakerStates fills the summary's breakers.
//
//go:noinline
func (s *session) breakerStates(sum *Summary) {
	for _, m := range s.models {
		sum.Breakers[m.cfg.ID] = m.breaker.settled()
	}
	for _, a := range s.attempts { // models from outside the tier: an escalation, a chairman
		if _, ok := sum.Breakers[a.m.cfg.ID]; !ok {
			sum.Breakers[a.m.cfg.ID] = a.m.breaker.settled()
		}
	}
}

// aside returns the row's rarer part, made on first use.
func (r *ModelResult) aside() *Aside {
	if r.Aside == nil {
		r.Aside = new(Aside)
	}
	return r.Aside
}
