package engine

// The section strategy's merge stage: the sections' results concatenated
// in document order, or merged by a synthesis call, with the sections
// missing named and the disagreements of voted sections noted.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// sectionMerge runs stage merge.
func (s *session) sectionMerge(st *sectionState, cfg config.SectionConfig) {
	start := s.stageStart(StageMerge)
	mr := &MergeResult{Mode: cfg.Merge, Status: "done"}
	st.merge = mr
	for _, r := range st.results {
		if r.Status != "done" {
			mr.Missing = append(mr.Missing, r.Title)
		}
	}
	finish := func(model, text string) {
		mr.ElapsedMS = Millis(s.since() - start)
		s.stageDone(StageMerge, start, mr.Status)
		s.decide(model, mergeNotes(st)+text+disagreements(st))
	}
	if cfg.Merge != config.MergeSynthesis {
		finish("", concatSections(st))
		return
	}
	req := userRequest(providers.KindSynthesize, mergeSystem, mergePrompt(s.prompt, st))
	a, fellBack := s.chair(s.sectionChairmen(), StageMerge, req)
	if fellBack || s.fellBackIn(StageMerge) {
		mr.Status = "degraded"
	}
	if a != nil {
		mr.Model, mr.Attempt = a.m.cfg.ID, a.id()
		finish(a.m.cfg.ID, strings.TrimSpace(a.text.String()))
		return
	}
	if s.userCancelled() {
		s.stageDone(StageMerge, start, "cancelled")
		s.fail(s.noAnswer())
		return
	}
	if s.cancelledBy() == causeBudget {
		s.degrade(DegradedBudget)
	}
	// No chairman: the sections as they are, flagged.
	s.degrade(DegradedNoSynthesis)
	mr.Status = "degraded"
	finish("", concatSections(st))
}

// sectionChairmen are who merges by synthesis, in order: council.chairman,
// else the fastest healthy model of the session (lowest p95, models
// without samples last); then council.fallback_chairman, else the next
// healthy one.
func (s *session) sectionChairmen() []*model {
	cc := s.e.cfg.Council
	type cand struct {
		m   *model
		p95 time.Duration
		n   int
	}
	var cands []cand
	for _, m := range s.models {
		if m.breaker.snapshot().State == BreakerOpen {
			continue
		}
		q, n := m.stats.quantile(0.95)
		cands = append(cands, cand{m, q, n})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if (a.n == 0) != (b.n == 0) {
			if a.n == 0 {
				return 1
			}
			return -1
		}
		return int((a.p95 - b.p95) / time.Microsecond)
	})
	var chairs []*model
	add := func(m *model) {
		if m != nil && !slices.Contains(chairs, m) && len(chairs) < 2 {
			chairs = append(chairs, m)
		}
	}
	if cc.Chairman != "" {
		add(s.e.models[cc.Chairman])
	}
	if len(chairs) == 0 && len(cands) > 0 {
		add(cands[0].m)
	}
	if cc.FallbackChairman != "" {
		add(s.e.models[cc.FallbackChairman])
	}
	for _, c := range cands {
		add(c.m)
	}
	return chairs
}

// concatSections is every section in document order under its title; a
// missing one says so and why.
func concatSections(st *sectionState) string {
	var b strings.Builder
	for i, r := range st.results {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "## %s", r.Title)
		if r.Verdict != "" {
			fmt.Fprintf(&b, " [%s]", r.Verdict)
		}
		b.WriteString("\n\n")
		if r.Status != "done" {
			fmt.Fprintf(&b, "[missing: no result for this section: %s]", r.Error)
			continue
		}
		b.WriteString(r.Text)
	}
	return b.String()
}

// mergePrompt quotes the instruction and the sections' results, in order,
// after "Answer N (title):" lines.
func mergePrompt(instruction string, st *sectionState) string {
	var b strings.Builder
	b.WriteString("Question:\n")
	b.WriteString(instruction)
	n := 0
	for _, r := range st.results {
		if r.Status != "done" {
			continue
		}
		n++
		title := strings.ReplaceAll(r.Title, ":", " -")
		if r.Verdict != "" {
			title += ", verdict " + r.Verdict
		}
		fmt.Fprintf(&b, "\n\nAnswer %d (%s):\n%s", n, title, r.Text)
	}
	b.WriteString("\n")
	return b.String()
}

// mergeNotes opens a merged answer that lacks sections by naming them.
func mergeNotes(st *sectionState) string {
	if st.merge == nil || len(st.merge.Missing) == 0 {
		return ""
	}
	return fmt.Sprintf("MISSING %d of %d sections, not covered below: %s.\n\n",
		len(st.merge.Missing), len(st.results), strings.Join(st.merge.Missing, "; "))
}

// disagreements closes a merged answer by flagging the voted sections
// whose runs did not agree.
func disagreements(st *sectionState) string {
	var flags []string
	for _, r := range st.results {
		if r.Disagree {
			flags = append(flags, fmt.Sprintf("%s (verdicts %s)", r.Title, strings.Join(r.Votes, ", ")))
		}
	}
	if len(flags) == 0 {
		return ""
	}
	return "\n\nDISAGREEMENT between the runs on: " + strings.Join(flags, "; ") + "."
}
