package engine

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// boom500 is a failure a fallback takes over from.
var boom500 = &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}

// withFallback adds model fb (outside the tier) and makes it of's fallback.
func withFallback(c *config.Config, of, fb string) {
	c.Models = append(c.Models, config.ModelConfig{ID: fb, Provider: "fake", Model: fb, InputPerMTok: 1, OutputPerMTok: 2})
	for i := range c.Models {
		if c.Models[i].ID == of {
			c.Models[i].Fallbacks = append(c.Models[i].Fallbacks, fb)
		}
	}
}

// fallbackRow returns the summary row of the attempt standing in for of.
func fallbackRow(sum *Summary, of string) (ModelResult, bool) {
	for _, r := range sum.Models {
		if r.Aside != nil && r.FallbackFor == of {
			return r, true
		}
	}
	return ModelResult{}, false
}

// reviewFails is a council member that answers, but fails to review.
func reviewFails(id string, at time.Duration) *fake {
	return byKind(func(req providers.Request) script {
		if req.Kind == providers.KindRank {
			return script{ttft: 50 * time.Millisecond, err: boom500}
		}
		if req.Kind == providers.KindSynthesize {
			return script{ttft: 50 * time.Millisecond, text: "synthesis by " + id}
		}
		return answer(id, at)
	})
}

// A council reviewer that fails and whose fallback ranks: the fallback's
// ranking counts in the reviewer's place, its row names whom it stands
// in for, and the summary says a fallback was needed. This panicked in
// parseRanking (the fallback's attempt had no review task).
func TestCouncilReviewerFallbackRanks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefs := []string{"m1", "m2", "m3"}
		fakes := map[string]*fake{
			"m1": councilFake("m1", member{answer: answer("m1", 100*time.Millisecond), review: 100 * time.Millisecond}, prefs),
			"m2": councilFake("m2", member{answer: answer("m2", 200*time.Millisecond), review: 400 * time.Millisecond}, prefs),
			"m3": reviewFails("m3", 300*time.Millisecond),
			"fb": councilFake("fb", member{review: 100 * time.Millisecond}, prefs),
		}
		c := testConfig(prefs...)
		withFallback(c, "m3", "fb")
		c.Council.MinResponses = 3
		e := councilEngine(t, c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council})
		if sum.ErrorKind != "" {
			t.Fatalf("the session hit a bug: %s\n%s", sum.Error, sum.Stack)
		}
		fb, ok := fallbackRow(sum, "m3")
		if !ok || fb.ID != "fb" || fb.Role != RoleReviewer || fb.Stage != StageReview || fb.Status != AttemptDoneStatus {
			t.Fatalf("rows %+v: want fb's review row standing in for m3", sum.Models)
		}
		if got := sum.Rankings["fb"]; !slices.Equal(got, []string{"m1", "m2"}) {
			t.Errorf("rankings %v: want fb's ranking (m1, m2) counted", sum.Rankings)
		}
		if sum.Status != StatusDegraded || !slices.Contains(sum.Degraded, DegradedFallback) {
			t.Errorf("status %s degraded %v: want degraded, %s", sum.Status, sum.Degraded, DegradedFallback)
		}
	})
}

// A reviewer that fails and falls back is reported even when the leader
// is safe before its fallback ranks: the fallback is cancelled (decided),
// but the summary still says a fallback was needed. This said decided with
// an empty degraded list.
func TestCouncilReviewerFallbackReportedWhenLeaderSafe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefs := []string{"m1", "m2", "m3"}
		fakes := map[string]*fake{}
		for i, id := range prefs {
			fakes[id] = councilFake(id, member{answer: answer(id, time.Duration(i+1)*100*time.Millisecond)}, prefs)
		}
		ids := append(slices.Clone(prefs), "r1", "r2", "r3", "r4")
		for i, id := range []string{"r1", "r2", "r3"} {
			fakes[id] = councilFake(id, member{review: time.Duration(i+1) * 100 * time.Millisecond}, prefs)
		}
		fakes["r4"] = reviewFails("r4", 0)
		fakes["fb"] = councilFake("fb", member{review: 10 * time.Second}, prefs)
		c := testConfig(ids...)
		c.Tiers["t"] = config.TierConfig{Models: prefs, Timeout: c.Tiers["t"].Timeout, PerModelTimeout: c.Tiers["t"].PerModelTimeout, StallTimeout: c.Tiers["t"].StallTimeout}
		withFallback(c, "r4", "fb")
		c.Council.MinResponses, c.Council.Reviewers, c.Council.Chairman = 3, []string{"r1", "r2", "r3", "r4"}, "m1"
		e := councilEngine(t, c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council})
		fb, ok := fallbackRow(sum, "r4")
		if !ok || fb.ID != "fb" || fb.Status != AttemptCancelledStatus || fb.Reason != string(ReasonDecided) {
			t.Fatalf("rows %+v: want fb standing in for r4, cancelled once the leader was safe", sum.Models)
		}
		if sum.Status != StatusDegraded || !slices.Contains(sum.Degraded, DegradedFallback) {
			t.Errorf("status %s degraded %v: want the failed reviewer's fallback reported", sum.Status, sum.Degraded)
		}
		if st := stageStatus(evs, StageReview); st != "degraded" {
			t.Errorf("review stage %q, want degraded", st)
		}
	})
}

// stageStatus is how stage st ended, from its stage_done event.
func stageStatus(evs []Event, st Stage) string {
	for _, ev := range evs {
		if ev.Type == StageDone && ev.Stage == st && ev.Detail != nil {
			return ev.Detail.Status
		}
	}
	return ""
}

// checkFallback checks that of failed and fb took its place in stage with
// role: its row names of, the stage and the summary say degraded.
func checkFallback(t *testing.T, evs []Event, sum *Summary, of, fb string, role Role, stage Stage) {
	t.Helper()
	if sum.ErrorKind != "" {
		t.Fatalf("the session hit a bug: %s\n%s", sum.Error, sum.Stack)
	}
	r, ok := fallbackRow(sum, of)
	if !ok || r.ID != fb || r.Role != role || r.Stage != stage || r.Status == AttemptFailedStatus {
		t.Errorf("rows %+v: want %s standing in for %s as %s in stage %q", sum.Models, fb, of, role, stage)
	}
	if sum.Status != StatusDegraded || !slices.Contains(sum.Degraded, DegradedFallback) {
		t.Errorf("status %s degraded %v: want degraded, %s", sum.Status, sum.Degraded, DegradedFallback)
	}
	if stage != StageNone {
		if st := stageStatus(evs, stage); st != "degraded" {
			t.Errorf("stage %s ended %q, want degraded", stage, st)
		}
	}
}

// A model's fallback takes its place in every stage: answers, review
// (above), synthesis, classify, sections and merge, and a hedge's primary.
func TestFallbackInEveryStage(t *testing.T) {
	prefs := []string{"m1", "m2", "m3"}
	t.Run("answers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fakes := map[string]*fake{"fb": councilFake("fb", member{answer: answer("fb", 100*time.Millisecond), review: 100 * time.Millisecond}, prefs)}
			for i, id := range prefs {
				mb := member{answer: answer(id, time.Duration(i+1)*100*time.Millisecond), review: 100 * time.Millisecond}
				if id == "m3" {
					mb.answer = script{ttft: 50 * time.Millisecond, err: boom500}
				}
				fakes[id] = councilFake(id, mb, prefs)
			}
			c := testConfig(prefs...)
			withFallback(c, "m3", "fb")
			c.Council.MinResponses = 3
			e := councilEngine(t, c, fakes)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council})
			checkFallback(t, evs, sum, "m3", "fb", RoleCouncil, StageAnswers)
			if _, ok := sum.Borda["fb"]; !ok || len(sum.Borda) != 3 {
				t.Errorf("borda %v: want fb's answer among the three ranked", sum.Borda)
			}
		})
	})
	t.Run("synthesis", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fakes := map[string]*fake{"fb": councilFake("fb", member{}, prefs)}
			for i, id := range prefs {
				mb := member{answer: answer(id, time.Duration(i+1)*100*time.Millisecond), review: 100 * time.Millisecond}
				if id == "m1" {
					mb.synthErr = boom500
				}
				fakes[id] = councilFake(id, mb, prefs)
			}
			c := testConfig(prefs...)
			withFallback(c, "m1", "fb")
			c.Council.MinResponses, c.Council.Chairman = 3, "m1"
			e := councilEngine(t, c, fakes)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council})
			checkFallback(t, evs, sum, "m1", "fb", RoleChairman, StageSynthesis)
			if sum.Chairman != "fb" || sum.Answer != "synthesis by fb" {
				t.Errorf("chairman %q answer %q: want fb's synthesis", sum.Chairman, sum.Answer)
			}
		})
	})
	t.Run("classify", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e, fakes := routerEngine(t, fixed(script{ttft: 5 * time.Millisecond, err: boom500}))
			defer e.Close()
			c := e.Config()
			withFallback(c, "judge", "fb")
			fakes["fb"] = fixed(script{ttft: 5 * time.Millisecond, text: `{"category": "code", "confidence": 0.9}`})
			e2 := newTestEngine(c, fakes)
			defer e2.Close()
			evs, sum := collect(e2, t.Context(), SessionRequest{Prompt: "Tell me about autumn.", Strategy: config.Auto})
			checkFallback(t, evs, sum, "judge", "fb", RoleClassifier, StageClassify)
			if sum.Route == nil || sum.Route.Name != "code" || !strings.Contains(sum.Route.Why, "classifier fb said code") {
				t.Errorf("route %+v: want fb's choice, code, named as fb's", sum.Route)
			}
		})
	})
	t.Run("sections", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fakes := map[string]*fake{
				"a":  sectionFake("a", nil, map[string]bool{"S2": true}, 0),
				"fb": sectionFake("fb", nil, nil, 0),
			}
			c := sectionConfig("a")
			withFallback(c, "a", "fb")
			e := newTestEngine(c, fakes)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(3)})
			checkFallback(t, evs, sum, "a", "fb", RoleSection, StageSections)
			if len(sum.Sections) != 3 || sum.Sections[1].Model != "fb" || sum.Sections[1].Status != "done" || sum.Sections[1].Text != "S2 by fb" {
				t.Errorf("sections %+v: want S2 answered by fb", sum.Sections)
			}
		})
	})
	t.Run("merge", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fakes := map[string]*fake{
				"a":  sectionFake("a", nil, nil, -1),
				"fb": sectionFake("fb", nil, nil, 100*time.Millisecond),
			}
			c := sectionConfig("a")
			c.Section.Merge = config.MergeSynthesis
			c.Council.Chairman = "a"
			withFallback(c, "a", "fb")
			e := newTestEngine(c, fakes)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
			checkFallback(t, evs, sum, "a", "fb", RoleChairman, StageMerge)
			if sum.Merge == nil || sum.Merge.Model != "fb" || sum.Merge.Status != "degraded" || sum.Answer != "merged by fb" {
				t.Errorf("merge %+v answer %q: want fb's merge, degraded", sum.Merge, sum.Answer)
			}
		})
	})
	// A hedge's primary whose fallback fails too still fails over to the
	// backup at once: the fallback is the primary. The session failed.
	t.Run("hedge primary", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fakes := map[string]*fake{
				"p":  fixed(script{ttft: 10 * time.Millisecond, err: boom500}),
				"b":  fixed(script{ttft: 30 * time.Millisecond, text: "backup"}),
				"fb": fixed(script{ttft: 10 * time.Millisecond, err: boom500}),
			}
			c := testConfig("p", "b")
			c.Hedge.Delay.Fixed = 10 * time.Second
			c.Hedge.MaxExtra = 0
			withFallback(c, "p", "fb")
			e := newTestEngine(c, fakes)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Hedge})
			if sum.Winner != "b" || sum.Status != StatusDegraded || !slices.Contains(sum.Degraded, DegradedFallback) {
				t.Fatalf("winner %q status %s degraded %v: want the backup, degraded with the fallback reported", sum.Winner, sum.Status, sum.Degraded)
			}
			if ev, ok := find(evs, HedgeFired, ""); !ok || ev.Delay >= time.Second {
				t.Errorf("hedge_fired %+v: want a failover once the primary's fallback failed", ev)
			}
		})
	})
}
