package engine

// summaryBuf is a summary and room for its models' lines: one allocation
// for a session of up to inlineAttempts attempts.
type summaryBuf struct {
	sum    Summary
	models [inlineAttempts]ModelResult
}

// summary builds the session's [Summary] once every attempt has reported.
func (s *session) summary() *Summary {
	buf := new(summaryBuf)
	models := buf.models[:0]
	if len(s.attempts) > len(buf.models) {
		models = make([]ModelResult, 0, len(s.attempts))
	}
	sum := &buf.sum
	*sum = Summary{
		Session:    s.id,
		Strategy:   s.strategy,
		Tier:       s.tierName,
		Prompt:     s.prompt,
		Answer:     s.answer,
		Error:      s.failure,
		Votes:      s.votes,
		Invalid:    s.invalid,
		TieBreak:   s.tieBreak,
		HedgeFired: s.hedgeFired,
		Models:     models,
		Breakers:   make(map[string]BreakerSnapshot, len(s.models)),
	}
	sum.Elapsed = s.since()
	sum.ElapsedMS = Millis(sum.Elapsed)
	if s.winner != nil {
		sum.Winner = s.winner.m.cfg.ID
	}
	if s.valid > 0 && s.answer != "" && s.votes != nil {
		sum.Agreement = float64(s.votes[s.answer]) / float64(s.valid)
	}
	for _, a := range s.attempts {
		r := ModelResult{
			ID:           a.m.cfg.ID,
			Provider:     a.m.cfg.Provider,
			Role:         a.role,
			Status:       a.status,
			Reason:       string(a.reason),
			Error:        a.err,
			InputTokens:  a.usage.InputTokens,
			OutputTokens: a.usage.OutputTokens,
			CostUSD:      a.cost,
			Vote:         a.vote,
			Text:         a.text.String(),
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
			s.degraded = true
		}
		sum.CostUSD += a.cost
		sum.Models = append(sum.Models, r)
	}
	for _, m := range s.models {
		sum.Breakers[m.cfg.ID] = m.breaker.settled()
	}
	switch {
	case s.answer == "":
		sum.Status = StatusFailed
		if sum.Error == "" {
			sum.Error = "no answer"
		}
	case s.degraded:
		sum.Status = StatusDegraded
	default:
		sum.Status = StatusDecided
	}
	return sum
}
