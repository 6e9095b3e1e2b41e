package engine

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Council, Stages: []Stage{StageAnswers, StageReview, StageSynthesis}, PromptAlone: true, FreeText: true,
			Summary: "every member answers, reviews the others anonymously, a chairman synthesises"},
		run:      (*session).councilRun,
		estimate: (*session).councilEstimate,
	})
}

// councilEstimate: every member answers, then reviews every answer at its
// longest, and a chairman (failed over once) reads them all.
func (s *session) councilEstimate() float64 {
	answers := len(s.models) * assumedMaxTokens
	return s.sumWorst(s.models, 0) + s.sumWorst(s.models, answers) + 2*s.priciest(s.models, answers)
}

// councilResult is what a council session adds to its summary.
type councilResult struct {
	rankings  map[string][]string // reviewer model id -> ranked model ids, best first
	borda     map[string]int      // model id -> points
	chairman  string
	synthesis string
}

// reviewSystem is what a reviewer is told; the answers follow in the
// user's message, anonymised.
const reviewSystem = `You are reviewing answers to a question, written by other models and shown anonymously. Judge each on accuracy, completeness and clarity. First write a short evaluation of each response. Then end your reply with the line "FINAL RANKING:" followed by every response from best to worst, one per line, numbered, for example:
FINAL RANKING:
1. Response B
2. Response A`

// synthesisSystem is what the chairman is told.
const synthesisSystem = `You are the chairman of a council of models. Several models answered the question below and then ranked each other's answers anonymously; the answers follow, best ranked first. Write the single best final answer: accurate, complete and concise, keeping the strongest points of the answers and correcting their mistakes. Do not mention the council, the rankings or the models.`

// councilRun is the three-stage council: every member answers (stage
// answers), each reviews the others' answers anonymously and ranks them
// (stage review, aggregated by Borda count), and a chairman writes the
// final answer from the answers and rankings (stage synthesis).
func (s *session) councilRun() {
	cc := s.e.cfg.Council
	s.ownDegraded = true
	s.stagesOf().council = &councilResult{}
	answers := s.councilAnswers(cc)
	if len(answers) == 0 {
		return
	}
	order := s.councilReview(cc, answers)
	if s.userCancelled() {
		return
	}
	s.councilSynthesis(cc, order)
}

// councilAnswers runs stage 1: every member answers in parallel; once
// council.min_responses answers are in, the stragglers are cancelled
// (decided). It returns the answers in the order they came.
func (s *session) councilAnswers(cc config.CouncilConfig) []*attempt {
	start := s.stageStart(StageAnswers)
	need := min(max(cc.MinResponses, 1), len(s.models))
	for _, m := range s.models {
		s.launch(m, RoleCouncil, StageAnswers, nil)
	}
	var answers []*attempt
	lost := false // a member failed, timed out or was skipped
	for _, a := range s.attempts {
		lost = lost || (a.reported && a.status == AttemptSkippedStatus) // reported: skipped at launch
	}
	for s.pending > 0 {
		a := s.next()
		switch a.status {
		case AttemptDoneStatus:
			answers = append(answers, a)
		case AttemptFailedStatus, AttemptTimeout:
			lost = true
		}
		if len(answers) >= need && s.pending > 0 {
			s.cancelRunning(causeDecided)
		}
	}
	status := "done"
	if s.cancelledBy() == causeBudget {
		s.degrade(DegradedBudget)
	}
	if lost {
		s.degrade(DegradedFewAnswers)
		status = "degraded"
	}
	if len(answers) == 0 {
		status = "failed"
		if s.userCancelled() {
			status = "cancelled"
		}
		s.fail("no council member answered: " + s.noAnswer())
	}
	s.stageDone(StageAnswers, start, status)
	return answers
}

// review is one reviewer's task: the answers it sees, by label.
type review struct {
	labels []string   // "A", "B", ... in the order shown
	shown  []*attempt // the answers behind the labels
}

// councilReview runs stage 2: each reviewer ranks the other members'
// answers, anonymised as Response A, B, ... in an order shuffled per
// reviewer (seeded), its own answer left out. Valid rankings add Borda
// points (k-1 for the first of k, ... 0 for the last); an unparseable one is
// shown as invalid and left out. The stage ends, cancelling the reviewers
// still at work, the moment the leader cannot be caught. It returns the
// answers best first (ties: the earlier answer first).
func (s *session) councilReview(cc config.CouncilConfig, answers []*attempt) []*attempt {
	reviewers := s.reviewers(cc, answers)
	start := s.stageStart(StageReview)
	h := fnv.New64a()
	h.Write([]byte(s.id))
	rng := rand.New(rand.NewPCG(uint64(s.e.seed), h.Sum64()))

	tasks := map[*attempt]*review{}
	missing := false
	for _, m := range reviewers {
		var others []*attempt
		for _, a := range answers {
			if a.m != m {
				others = append(others, a)
			}
		}
		if len(others) < 2 {
			continue // nothing to rank
		}
		rv := &review{}
		for _, i := range rng.Perm(len(others)) {
			rv.shown = append(rv.shown, others[i])
			rv.labels = append(rv.labels, string(rune('A'+len(rv.labels))))
		}
		a := s.launch(m, RoleReviewer, StageReview, userRequest(providers.KindRank, reviewSystem, reviewPrompt(s.prompt, rv)))
		if a == nil {
			missing = true
			continue
		}
		tasks[a] = rv
	}

	borda := make(map[*attempt]int, len(answers))
	for _, a := range answers {
		borda[a] = 0
	}
	c := s.multi.council
	c.rankings = map[string][]string{}
	decided := false
	for s.pending > 0 {
		a := s.next()
		rv := tasks[a]
		switch a.status {
		case AttemptDoneStatus:
			ranked, raw, ok := parseRanking(a.text.String(), rv)
			if !ok {
				missing = true
				s.emitWith(int(a.idx), RankingCast, func(e *Event) {
					e.Model, e.Attempt, e.Role, e.Stage = a.m.cfg.ID, a.id(), a.role, StageReview
					e.Detail = &Detail{Reviewer: a.id(), Invalid: true, Raw: raw}
				})
				continue
			}
			ids := make([]string, len(ranked))
			models := make([]string, len(ranked))
			for i, x := range ranked {
				borda[x] += len(ranked) - 1 - i
				ids[i], models[i] = x.id(), x.m.cfg.ID
			}
			c.rankings[a.m.cfg.ID] = models
			s.emitWith(int(a.idx), RankingCast, func(e *Event) {
				e.Model, e.Attempt, e.Role, e.Stage = a.m.cfg.ID, a.id(), a.role, StageReview
				e.Detail = &Detail{Reviewer: a.id(), Ranking: ids}
			})
		case AttemptFailedStatus, AttemptTimeout:
			missing = true
		case AttemptCancelledStatus:
			missing = missing || a.reason == ReasonBudget
		}
		if !decided && s.pending > 0 && leaderSafe(answers, borda, tasks) {
			decided = true
			s.cancelRunning(causeDecided)
		}
	}

	order := slices.Clone(answers)
	slices.SortStableFunc(order, func(x, y *attempt) int { return borda[y] - borda[x] })
	c.borda = make(map[string]int, len(answers))
	for _, a := range answers {
		c.borda[a.m.cfg.ID] = borda[a]
	}
	status := "done"
	if len(tasks) == 0 && !missing {
		status = "skipped" // fewer than two answers to compare
	}
	if missing {
		s.degrade(DegradedReviewersMissing)
		status = "degraded"
	}
	if s.cancelledBy() == causeBudget {
		s.degrade(DegradedBudget)
	}
	if s.userCancelled() {
		status = "cancelled"
	}
	s.stageDone(StageReview, start, status)
	return order
}

// reviewers are council.reviewers, else the models that answered.
func (s *session) reviewers(cc config.CouncilConfig, answers []*attempt) []*model {
	var ms []*model
	if len(cc.Reviewers) > 0 {
		for _, id := range cc.Reviewers {
			if m := s.e.models[id]; m != nil {
				ms = append(ms, m)
			}
		}
		return ms
	}
	for _, a := range answers {
		ms = append(ms, a.m)
	}
	return ms
}

// leaderSafe reports whether the Borda leader can no longer be caught by
// any answer, whatever the reviewers still at work say: an answer can gain
// at most k-1 points from each pending reviewer that shows it k answers.
func leaderSafe(answers []*attempt, borda map[*attempt]int, tasks map[*attempt]*review) bool {
	var leader *attempt
	for _, a := range answers { // the earlier answer leads a tie
		if leader == nil || borda[a] > borda[leader] {
			leader = a
		}
	}
	for _, a := range answers {
		if a == leader {
			continue
		}
		gain := 0
		for r, rv := range tasks {
			if !r.reported && slices.Contains(rv.shown, a) {
				gain += len(rv.shown) - 1
			}
		}
		if borda[a]+gain >= borda[leader] {
			return false
		}
	}
	return true
}

// reviewPrompt quotes the question and the anonymised answers.
func reviewPrompt(question string, rv *review) string {
	var b strings.Builder
	b.WriteString("Question:\n")
	b.WriteString(question)
	for i, a := range rv.shown {
		fmt.Fprintf(&b, "\n\nResponse %s:\n", rv.labels[i])
		b.WriteString(strings.TrimSpace(a.text.String()))
	}
	b.WriteString("\n")
	return b.String()
}

var (
	rankingHeader = regexp.MustCompile(`(?i)final\s+ranking\s*:`)
	rankingLabel  = regexp.MustCompile(`(?i)\bresponse\s+([A-Z])\b`)
)

// parseRanking reads a review's FINAL RANKING: the labels after the last
// such header, best first. It is valid only when it names every answer
// shown exactly once; otherwise it returns the text it could not use, for
// the user to see. A ranking is never guessed.
func parseRanking(text string, rv *review) (ranked []*attempt, raw string, ok bool) {
	locs := rankingHeader.FindAllStringIndex(text, -1)
	if len(locs) == 0 {
		return nil, clip(strings.TrimSpace(lastLines(text, 4)), 200), false
	}
	tail := text[locs[len(locs)-1][1]:]
	raw = clip(strings.TrimSpace(tail), 200)
	for line := range strings.SplitSeq(tail, "\n") {
		m := rankingLabel.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		i := slices.Index(rv.labels, strings.ToUpper(m[1]))
		if i < 0 || slices.Contains(ranked, rv.shown[i]) {
			return nil, raw, false
		}
		ranked = append(ranked, rv.shown[i])
	}
	if len(ranked) != len(rv.shown) {
		return nil, raw, false
	}
	return ranked, "", true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// councilSynthesis runs stage 3: the chairman (council.chairman, else the
// Borda leader's model) writes the final answer from the answers, best
// first; if it fails, council.fallback_chairman (else the next healthy
// model) takes over, flagged; if no chairman succeeds, the Borda winner's
// stage-1 answer is the result, flagged no_synthesis.
func (s *session) councilSynthesis(cc config.CouncilConfig, order []*attempt) {
	start := s.stageStart(StageSynthesis)
	chairs := s.chairmen(cc, order)
	req := userRequest(providers.KindSynthesize, synthesisSystem, synthesisPrompt(s.prompt, order, s.multi.council.borda))
	if a, fellBack := s.chair(chairs, StageSynthesis, req); a != nil {
		c := s.multi.council
		c.chairman, c.synthesis = a.m.cfg.ID, a.text.String()
		s.decide(a.m.cfg.ID, c.synthesis)
		status := "done"
		if fellBack {
			status = "degraded"
		}
		s.stageDone(StageSynthesis, start, status)
		return
	}
	if s.userCancelled() {
		s.stageDone(StageSynthesis, start, "cancelled")
		return
	}
	if s.cancelledBy() == causeBudget {
		s.degrade(DegradedBudget)
	}
	s.degrade(DegradedNoSynthesis)
	s.stageDone(StageSynthesis, start, "failed")
	best := order[0]
	best.status = AttemptWon
	s.decide(best.m.cfg.ID, best.text.String())
}

// chairmen are the chairman and the one fallback, in order.
func (s *session) chairmen(cc config.CouncilConfig, order []*attempt) []*model {
	var chair *model
	if cc.Chairman != "" {
		chair = s.e.models[cc.Chairman]
	}
	if chair == nil {
		chair = order[0].m
	}
	if id := cc.FallbackChairman; id != "" && id != chair.cfg.ID && s.e.models[id] != nil {
		return []*model{chair, s.e.models[id]}
	}
	// The next healthy model: the answers' models best first, then the
	// session's, skipping open breakers.
	var cands []*model
	for _, a := range order {
		cands = append(cands, a.m)
	}
	cands = append(cands, s.models...)
	for _, m := range cands {
		if m != chair && m.breaker.snapshot().State != BreakerOpen {
			return []*model{chair, m}
		}
	}
	return []*model{chair}
}

// synthesisPrompt quotes the question and the answers, best ranked first.
func synthesisPrompt(question string, order []*attempt, borda map[string]int) string {
	var b strings.Builder
	b.WriteString("Question:\n")
	b.WriteString(question)
	for i, a := range order {
		fmt.Fprintf(&b, "\n\nAnswer %d (%s, Borda %d):\n", i+1, a.m.cfg.ID, borda[a.m.cfg.ID])
		b.WriteString(strings.TrimSpace(a.text.String()))
	}
	b.WriteString("\n")
	return b.String()
}
