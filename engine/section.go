package engine

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Section, Stages: []Stage{StageSections, StageMerge},
			Summary: "a document cut into sections, each answered at once, then merged"},
		run:      (*session).sectionRun,
		estimate: (*session).sectionEstimate,
		validate: func(p *plan) error {
			if p.req.Document == "" {
				return fmt.Errorf("%w: strategy section needs a document to split (--input FILE, or --input - for stdin)", ErrDocument)
			}
			return nil
		},
	})
}

// sectionEstimate: every section at its longest, failed over once, each
// voted run too, then the merge reading every result.
func (s *session) sectionEstimate() float64 {
	parts := s.extrasOf().stage.section.parts
	longest := 0
	for _, p := range parts {
		longest = max(longest, (len(p.Text)+3)/4)
	}
	runs := len(parts) * max(s.e.cfg.Section.Vote, 1)
	return 2*float64(runs)*s.priciest(s.models, longest) + 2*s.priciest(s.models, len(parts)*assumedMaxTokens)
}

// SectionResult is one section of a section session (the summary's
// sections, and section_changed events).
type SectionResult struct {
	Index int    `json:"index"` // 1, 2, ... in document order
	Title string `json:"title"`
	// Model and Attempt answered the section (while it runs: are
	// answering it).
	Model   string `json:"model,omitempty"`
	Attempt string `json:"attempt,omitempty"`
	// Attempts are every attempt made for the section (its runs and
	// their failovers), in launch order.
	Attempts []string `json:"attempts,omitempty"`
	// Status is pending, running, retrying, done or failed (the section
	// is missing from the result).
	Status string `json:"status"`
	// ElapsedMS is from the section's first attempt's start to its result.
	ElapsedMS float64 `json:"elapsed_ms"`
	// Retried is set when an attempt failed or timed out and another
	// model was asked.
	Retried bool `json:"retried,omitempty"`
	// Votes are the verdicts of a voted section's runs, in run order (""
	// for a run that failed or gave no valid verdict); Verdict is the
	// majority and Disagree says the runs did not all agree.
	Votes    []string `json:"votes,omitempty"`
	Verdict  string   `json:"verdict,omitempty"`
	Disagree bool     `json:"disagree,omitempty"`
	Text     string   `json:"text,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// MergeResult is how a section session combined its sections.
type MergeResult struct {
	Mode config.MergeMode `json:"mode"`
	// Model and Attempt wrote the synthesis (merge = synthesis).
	Model   string `json:"model,omitempty"`
	Attempt string `json:"attempt,omitempty"`
	// Status is done, degraded (a fallback chairman, or the concatenation
	// after every chairman failed) or failed.
	Status    string  `json:"status"`
	ElapsedMS float64 `json:"elapsed_ms"`
	// Missing names the sections the result lacks.
	Missing []string `json:"missing,omitempty"`
}

// sectionState is what a section session keeps, in its extras' stage
// state (see stageState).
type sectionState struct {
	parts   []docSection
	results []SectionResult
	merge   *MergeResult
	// serial is the sum of the section attempts' times (the summary's
	// saved_ms is it less the session's wall clock).
	serial time.Duration
}

// secRun is one run of a section: once, or section.vote times for a
// section matching vote_when.
type secRun struct {
	sec, vote int
	tried     []*model // the models it was launched on (or skipped by)
	a         *attempt // the current attempt
	ids       []string // every attempt it made
	failures  int
	done, ok  bool
	verdict   string
	err       string
}

// sectionSystem is what every section's model is told.
const sectionSystem = `You are given one section of a longer document, and an instruction. Follow the instruction for this section only, from what the section says; do not invent what other sections might say. Be concise.`

// verdictSystem is added for a voted section; the categories end the line.
const verdictSystem = "\nThen end your reply with one line of JSON giving your verdict on the section, {\"category\": \"<verdict>\"}, the verdict being exactly one of these categories: "

// mergeSystem is what the model that merges the sections is told.
const mergeSystem = `You are combining the results of an instruction that was applied to each section of a document separately; they follow in document order, each headed by its section's title. Write one coherent answer to the instruction for the whole document, keeping every section's substance and the order. Do not mention sections that are not given.`

// sectionRun runs the section strategy: the document, split when the
// session was made, runs section by section at once (stage sections), each
// on one of the tier's healthy models (the least loaded, then the lowest
// p95), a failed or timed-out section failing over to another model once,
// sections matching section.vote_when running section.vote times with a
// verdict each; then the results are merged (stage merge) by concatenation
// or by a synthesis call. A section with no result is named, in the
// answer and in degraded (section_missing), never smoothed over.
func (s *session) sectionRun() {
	st := s.extras.stage.section
	cfg := s.e.cfg.Section
	s.ownDegraded = true
	st.results = make([]SectionResult, len(st.parts))
	for i, p := range st.parts {
		st.results[i] = SectionResult{Index: i + 1, Title: p.Title, Status: "pending"}
	}
	start := s.stageStart(StageSections)
	plan := slices.Clone(st.results)
	s.emitWith(-1, SectionChanged, func(e *Event) { e.Stage, e.Detail = StageSections, &Detail{Sections: plan} })

	s.sectionsRun(st, cfg)

	for _, a := range s.attempts {
		if a.stage == StageSections && a.started {
			st.serial += a.endedAt - a.startedAt
		}
	}
	answered := 0
	for _, r := range st.results {
		if r.Status == "done" {
			answered++
		}
	}
	status := "done"
	switch {
	case s.userCancelled():
		status = "cancelled"
	case answered == 0:
		status = "failed"
	case answered < len(st.results) || slices.Contains(s.degraded, DegradedFewVerdicts):
		status = "degraded"
	}
	if s.cancelledBy() == causeBudget {
		s.degrade(DegradedBudget)
	}
	s.stageDone(StageSections, start, status)
	if s.userCancelled() {
		return
	}
	if answered == 0 {
		s.fail(fmt.Sprintf("no section was answered (%d sections): %s", len(st.results), s.noAnswer()))
		return
	}
	s.sectionMerge(st, cfg)
}

// sectionsRun launches every section's runs and waits for them all,
// failing a run over to another model once.
func (s *session) sectionsRun(st *sectionState, cfg config.SectionConfig) {
	sr := s.planSections(st, cfg)
	for _, r := range sr.runs {
		if s.cancelledBy() != nil || !sr.launchRun(r) {
			r.done, r.err = true, "no healthy model to ask"
		}
	}
	for i := range st.parts {
		s.sectionProgress(st, i, sr.bySec[i], sr.firstStart)
	}
	for s.pending > 0 {
		sr.ended(s.next())
	}
}

// sectionRound is the sections stage's state while it runs.
type sectionRound struct {
	s   *session
	st  *sectionState
	cfg config.SectionConfig
	// p95 is each model's latency when the stage began; load how many
	// runs each is answering now.
	p95  map[*model]time.Duration
	load map[*model]int

	runs      []*secRun
	bySec     [][]*secRun          // each section's runs
	reqs      []*providers.Request // each section's request
	byAttempt map[*attempt]*secRun
	// firstStart is when each section's first attempt started; -1 until
	// one has.
	firstStart []time.Duration
}

// planSections makes each section's request and its runs: one, or
// section.vote for a section matching vote_when (with a verdict asked).
func (s *session) planSections(st *sectionState, cfg config.SectionConfig) *sectionRound {
	sr := &sectionRound{s: s, st: st, cfg: cfg,
		p95:  make(map[*model]time.Duration, len(s.models)),
		load: make(map[*model]int, len(s.models)),
	}
	for _, m := range s.models {
		sr.p95[m], _ = m.stats.quantile(0.95)
	}
	sr.bySec = make([][]*secRun, len(st.parts))
	sr.reqs = make([]*providers.Request, len(st.parts))
	voteWhen := compileVoteWhen(cfg.VoteWhen)
	for i, p := range st.parts {
		n := 1
		system := sectionSystem
		if cfg.Vote > 1 && matchesAny(p.Title+"\n"+p.Text, cfg.VoteWhen, voteWhen) {
			n = cfg.Vote
			system += verdictSystem + strings.Join(cfg.VoteCategories, ", ")
		}
		sr.reqs[i] = userRequest(providers.KindSection, system, sectionPrompt(s.prompt, p, i+1, len(st.parts)))
		for v := range n {
			r := &secRun{sec: i, vote: v}
			sr.runs = append(sr.runs, r)
			sr.bySec[i] = append(sr.bySec[i], r)
		}
	}
	sr.byAttempt = make(map[*attempt]*secRun, len(sr.runs))
	sr.firstStart = make([]time.Duration, len(st.parts))
	for i := range sr.firstStart {
		sr.firstStart[i] = -1
	}
	return sr
}

// pick is the healthy model to ask next: not among hard, preferably not
// among avoid, then the least loaded, then the lowest p95, then the
// tier's order.
func (sr *sectionRound) pick(avoid, hard []*model) *model {
	var best *model
	key := func(m *model) [3]int64 {
		av := int64(0)
		if slices.Contains(avoid, m) {
			av = 1
		}
		return [3]int64{av, int64(sr.load[m]), int64(sr.p95[m])}
	}
	for _, m := range sr.s.models {
		if slices.Contains(hard, m) || m.breaker.snapshot().State == BreakerOpen {
			continue
		}
		if best == nil || cmpKey(key(m), key(best)) < 0 {
			best = m
		}
	}
	return best
}

// launchRun starts r on the best model it has not tried, past any whose
// breaker keeps it back; false when none is left.
func (sr *sectionRound) launchRun(r *secRun) bool {
	for {
		var avoid []*model
		for _, o := range sr.bySec[r.sec] {
			if o != r && o.a != nil {
				avoid = append(avoid, o.a.m)
			}
		}
		m := sr.pick(avoid, r.tried)
		if m == nil {
			return false
		}
		r.tried = append(r.tried, m)
		if a := sr.s.launch(m, RoleSection, StageSections, sr.reqs[r.sec]); a != nil {
			r.a, r.ids = a, append(r.ids, a.id())
			sr.load[m]++
			sr.byAttempt[a] = r
			return true
		}
	}
}

// ended takes a section attempt that ended: its run is done, or, on its
// first failure, launched again on another model.
func (sr *sectionRound) ended(a *attempt) {
	s := sr.s
	o := s.origin(a) // a fallback stands in for the run's attempt
	r := sr.byAttempt[a]
	if r == nil {
		r = sr.byAttempt[o]
		r.a, sr.byAttempt[a] = a, r
	}
	sr.load[o.m]-- // the model picked carries the load launchRun counted
	if a.started && (sr.firstStart[r.sec] < 0 || a.startedAt < sr.firstStart[r.sec]) {
		sr.firstStart[r.sec] = a.startedAt
	}
	switch a.status {
	case AttemptDoneStatus:
		r.done, r.ok = true, true
		if len(sr.bySec[r.sec]) > 1 {
			r.verdict = s.sectionVerdict(a, sr.cfg.VoteCategories)
		}
	case AttemptFailedStatus, AttemptTimeout:
		r.failures++
		why := a.m.cfg.ID + ": " + string(a.status)
		if a.err != "" {
			why += " (" + clip(a.err, 80) + ")"
		}
		if r.err != "" {
			why = r.err + "; then " + why
		}
		r.err = why
		// On its first failure it runs again, on another model.
		if r.failures > 1 || s.cancelledBy() != nil || !sr.launchRun(r) {
			r.done = true
		}
	default: // cancelled: the budget, the user
		r.done, r.err = true, a.m.cfg.ID+": cancelled ("+string(a.reason)+")"
	}
	s.sectionProgress(sr.st, r.sec, sr.bySec[r.sec], sr.firstStart)
}

func cmpKey(a, b [3]int64) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// sectionProgress recomputes section i's result from its runs and
// announces it (section_changed).
func (s *session) sectionProgress(st *sectionState, i int, runs []*secRun, firstStart []time.Duration) {
	r := &st.results[i]
	prev := r.Status
	r.Status, r.Retried, r.Votes, r.Attempts = "running", false, nil, nil
	all, anyOK := true, false
	var winner *secRun
	for _, x := range runs {
		r.Attempts = append(r.Attempts, x.ids...)
		r.Retried = r.Retried || x.failures > 0
		all = all && x.done
		if x.ok && winner == nil {
			winner = x
		}
		anyOK = anyOK || x.ok
	}
	// In launch order: "a9" before "a10".
	slices.SortFunc(r.Attempts, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
	if winner == nil && len(runs) > 0 && runs[0].a != nil {
		r.Model, r.Attempt = runs[0].a.m.cfg.ID, runs[0].a.id()
	}
	if r.Retried && !all {
		r.Status = "retrying"
	}
	if !all {
		if prev == r.Status && prev != "retrying" && prev != "pending" {
			return // nothing new to announce
		}
		s.sectionChanged(*r)
		return
	}
	if firstStart[i] >= 0 {
		r.ElapsedMS = Millis(s.since() - firstStart[i])
	}
	if !anyOK {
		r.Status = "failed"
		var errs []string
		for _, x := range runs {
			if x.err != "" {
				errs = append(errs, x.err)
			}
		}
		r.Error = strings.Join(errs, "; ")
		s.degrade(DegradedSectionMissing)
		s.sectionChanged(*r)
		return
	}
	r.Status = "done"
	r.Model, r.Attempt = winner.a.m.cfg.ID, winner.a.id()
	r.Text = stripVerdict(winner.a.text.String(), len(runs) > 1)
	if len(runs) > 1 {
		counts := map[string]int{}
		for _, x := range runs {
			r.Votes = append(r.Votes, x.verdict)
			if x.verdict == "" {
				s.degrade(DegradedFewVerdicts)
				continue
			}
			counts[x.verdict]++
		}
		r.Disagree = len(counts) > 1
		// The majority; a tie goes to the category listed later in
		// vote_categories (list the cautious verdict last).
		best := -1
		for _, c := range s.e.cfg.Section.VoteCategories {
			if n := counts[Normalize(c)]; n > 0 && n >= best {
				best, r.Verdict = n, Normalize(c)
			}
		}
	}
	s.sectionChanged(*r)
}

// sectionChanged announces a section's state.
func (s *session) sectionChanged(r SectionResult) {
	s.emitWith(-1, SectionChanged, func(e *Event) {
		e.Stage, e.Model, e.Attempt, e.Detail = StageSections, r.Model, r.Attempt, &Detail{Section: &r}
	})
}

// sectionVerdict parses the verdict a voted run ends with, as a consensus
// vote is parsed, and announces it (vote_cast); "" when it is invalid.
func (s *session) sectionVerdict(a *attempt, cats []string) string {
	text := a.text.String()
	tail := text
	if i := strings.LastIndexByte(text, '{'); i >= 0 {
		tail = text[i:]
	} else {
		tail = lastLines(text, 1)
	}
	v, err := ParseVote(tail, cats)
	if err != nil {
		v = ""
	}
	a.vote = v
	s.emitWith(int(a.idx), VoteCast, func(e *Event) {
		e.Model, e.Text, e.Vote, e.Err, e.Attempt, e.Role, e.Stage = a.m.cfg.ID, clip(tail, 200), v, errString(err), a.id(), a.role, StageSections
	})
	return v
}

// stripVerdict drops a voted answer's closing JSON verdict.
func stripVerdict(text string, voted bool) string {
	text = strings.TrimSpace(text)
	if !voted {
		return text
	}
	if i := strings.LastIndexByte(text, '{'); i >= 0 && strings.Contains(text[i:], "category") {
		return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text[:i]), "```json"))
	}
	return text
}

// compileVoteWhen compiles vote_when's /patterns/ (validated by config).
func compileVoteWhen(when []string) []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, w := range when {
		if p, ok := config.VotePattern(w); ok {
			if re, err := regexp.Compile("(?i)" + p); err == nil {
				res = append(res, re)
			}
		}
	}
	return res
}

// matchesAny reports whether text holds one of when's keywords
// (case-insensitively) or matches one of its patterns.
func matchesAny(text string, when []string, patterns []*regexp.Regexp) bool {
	lower := strings.ToLower(text)
	for _, w := range when {
		if _, ok := config.VotePattern(w); !ok && w != "" && strings.Contains(lower, strings.ToLower(strings.TrimSpace(w))) {
			return true
		}
	}
	for _, re := range patterns {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// sectionPrompt is one section's request: the instruction, then the
// section after its title line.
func sectionPrompt(instruction string, p docSection, i, n int) string {
	return fmt.Sprintf("Instruction:\n%s\n\nSection: %s (%d of %d)\n%s\n", instruction, p.Title, i, n, p.Text)
}
