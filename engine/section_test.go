package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func sectionConfig(ids ...string) *config.Config {
	c := testConfig(ids...)
	c.Section = config.SectionConfig{Split: config.SplitHeadings, ChunkTokens: 100, MaxSections: 40,
		Merge: config.MergeConcat, VoteCategories: []string{"ok", "risk"}}
	return c
}

// doc is a Markdown document of n sections "# S1" ... with a sentence each.
func doc(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "# S%d\n\nClause %d says something.\n\n", i, i)
	}
	return b.String()
}

var sectionTitleRE = regexp.MustCompile(`(?m)^Section: (\S+)`)

// titleIn is the section a request asks about ("S3").
func titleIn(req providers.Request) string {
	if m := sectionTitleRE.FindStringSubmatch(req.Prompt()); m != nil {
		return m[1]
	}
	return ""
}

func TestSplitHeadings(t *testing.T) {
	d := "Intro text.\n\n# One\nfirst\n```\n# not a heading\n```\n## Two ##\nsecond\n"
	secs := splitHeadings(d)
	var titles []string
	for _, s := range secs {
		titles = append(titles, s.Title)
	}
	if !slices.Equal(titles, []string{"Preamble", "One", "Two"}) {
		t.Fatalf("titles %q", titles)
	}
	if !strings.Contains(secs[1].Text, "# not a heading") || !strings.HasPrefix(secs[2].Text, "## Two") {
		t.Errorf("texts %q", secs)
	}
	if s := splitHeadings("no headings at all"); len(s) != 1 || s[0].Title != "Document" {
		t.Errorf("no headings: %+v", s)
	}
}

func TestSplitParagraphs(t *testing.T) {
	secs := splitParagraphs("First para has seven words in it here.\n\n  \nSecond.\n\n\nThird one\non two lines.")
	if len(secs) != 3 {
		t.Fatalf("%d sections: %+v", len(secs), secs)
	}
	if secs[0].Title != "§1 First para has seven words in…" || secs[2].Text != "Third one\non two lines." {
		t.Errorf("%+v", secs)
	}
}

func TestSplitTokensNeverCutsASentence(t *testing.T) {
	var sents []string
	for i := range 30 {
		sents = append(sents, fmt.Sprintf("Sentence number %d is about %s.", i, strings.Repeat("words ", i%7)))
	}
	long := "This one sentence is far longer than the chunk " + strings.Repeat("really ", 60) + "long."
	d := strings.Join(sents[:15], " ") + "\n\n" + long + " " + strings.Join(sents[15:], " ")
	secs := splitTokens(d, 60)
	if len(secs) < 5 {
		t.Fatalf("only %d sections", len(secs))
	}
	var joined []string
	for _, s := range secs {
		if approxTokens(s.Text) > 60 && s.Text != long {
			t.Errorf("section over the target and not a single sentence: %d tokens %q", approxTokens(s.Text), s.Text)
		}
		if !strings.HasSuffix(s.Text, ".") {
			t.Errorf("section cut mid-sentence: %q", s.Text)
		}
		joined = append(joined, s.Text)
	}
	if got := strings.Join(strings.Fields(strings.Join(joined, " ")), " "); got != strings.Join(strings.Fields(d), " ") {
		t.Errorf("the sections do not add up to the document")
	}
}

func TestSplitTooManySectionsIsAnError(t *testing.T) {
	sc := sectionConfig("x").Section
	sc.MaxSections = 3
	_, err := splitDocument(doc(4), sc, 0)
	if !errors.Is(err, ErrDocument) || !strings.Contains(err.Error(), "4 sections, over section.max_sections (3)") {
		t.Fatalf("err %v", err)
	}
	if _, err := splitDocument(doc(3), sc, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := splitDocument("  \n", sc, 0); !errors.Is(err, ErrDocument) {
		t.Fatalf("empty document: %v", err)
	}
	if _, err := splitDocument(doc(2), sc, 10); err == nil || !strings.Contains(err.Error(), "max_prompt_bytes") {
		t.Fatalf("a section over max_prompt_bytes: %v", err)
	}
	e := newTestEngine(sectionConfig("x"), map[string]*fake{"x": fixed(script{text: "a"})})
	defer e.Close()
	if _, err := e.Start(t.Context(), SessionRequest{Prompt: "sum up", Strategy: config.Section}); !errors.Is(err, ErrDocument) {
		t.Fatalf("no document: %v", err)
	}
}

// sectionFake answers a section after the delay given for its title (1s
// when none), and a synthesis after synth.
func sectionFake(id string, delay map[string]time.Duration, fail map[string]bool, synth time.Duration) *fake {
	return byKind(func(req providers.Request) script {
		switch req.Kind {
		case providers.KindSection:
			ti := titleIn(req)
			d := delay[ti]
			if d == 0 {
				d = time.Second
			}
			if fail[ti] || fail["*"] {
				return script{ttft: d, err: &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}}
			}
			return script{ttft: d, text: ti + " by " + id}
		case providers.KindSynthesize:
			if synth < 0 {
				return script{ttft: time.Second, err: &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}}
			}
			return script{ttft: synth, text: "merged by " + id}
		}
		return script{err: errors.New("unexpected kind")}
	})
}

// With as many sections as max_concurrency allows and no failover, the
// session takes the slowest section plus the merge, not the sum.
func TestSectionTakesTheSlowestSectionPlusTheMerge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"a", "b", "c", "d"}
		delay := map[string]time.Duration{"S1": time.Second, "S2": 2 * time.Second, "S3": 3 * time.Second, "S4": 4 * time.Second}
		fakes := map[string]*fake{}
		for _, id := range ids {
			fakes[id] = sectionFake(id, delay, nil, 500*time.Millisecond)
		}
		c := sectionConfig(ids...)
		c.MaxConcurrency = 4
		c.Section.Merge = config.MergeSynthesis
		e := newTestEngine(c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(4)})
		if sum.Status != StatusDecided {
			t.Fatalf("status %s %v: %s", sum.Status, sum.Degraded, sum.Error)
		}
		if sum.Elapsed != 4500*time.Millisecond {
			t.Errorf("elapsed %v, want the slowest section (4s) plus the merge (0.5s)", sum.Elapsed)
		}
		if sum.SerialMS != 10000 || sum.SavedMS != 5500 {
			t.Errorf("serial %v ms saved %v ms, want 10000 and 5500 (against the session's 4.5 s, merge included)", sum.SerialMS, sum.SavedMS)
		}
		if !strings.HasPrefix(sum.Answer, "merged by ") || sum.Merge == nil || sum.Merge.Mode != config.MergeSynthesis || sum.Merge.Model == "" {
			t.Errorf("answer %q merge %+v", sum.Answer, sum.Merge)
		}
		var stages []string
		for _, ev := range evs {
			if ev.Type == StageStarted || ev.Type == StageDone {
				stages = append(stages, ev.Type.String()+":"+ev.Stage.String())
			}
		}
		if want := []string{"stage_started:sections", "stage_done:sections", "stage_started:merge", "stage_done:merge"}; !slices.Equal(stages, want) {
			t.Errorf("stages %v, want %v", stages, want)
		}
		for _, r := range sum.Models {
			if r.Stage == StageSections && r.Role != RoleSection {
				t.Errorf("section attempt with role %s", r.Role)
			}
		}
	})
}

// Past max_concurrency the sections queue: 6 one-second sections two at
// a time take three seconds.
func TestSectionWithinMaxConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"a", "b", "c"}
		fakes := map[string]*fake{}
		for _, id := range ids {
			fakes[id] = sectionFake(id, nil, nil, 0)
		}
		c := sectionConfig(ids...)
		c.MaxConcurrency = 2
		e := newTestEngine(c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(6)})
		if sum.Status != StatusDecided || sum.Elapsed != 3*time.Second {
			t.Fatalf("status %s elapsed %v, want decided in 3s", sum.Status, sum.Elapsed)
		}
		for _, f := range fakes {
			if f.peak.Load() > 2 {
				t.Errorf("a model ran %d at once", f.peak.Load())
			}
		}
	})
}

// Sections are spread: the least loaded model first, then the lowest p95.
func TestSectionSpreadsOverTheModels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"a", "b", "c", "d"}
		fakes := map[string]*fake{}
		for _, id := range ids {
			fakes[id] = sectionFake(id, nil, nil, 0)
		}
		e := newTestEngine(sectionConfig(ids...), fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(8)})
		per := map[string]int{}
		for _, s := range sum.Sections {
			per[s.Model]++
		}
		for _, id := range ids {
			if per[id] != 2 {
				t.Errorf("per model %v, want 2 each", per)
				break
			}
		}
		// c and d have been fast, a and b slow: two sections go to c and d.
		for id, p := range map[string]time.Duration{"a": 9 * time.Second, "b": 8 * time.Second, "c": time.Second, "d": 2 * time.Second} {
			for range 5 {
				e.models[id].stats.addOK(p/2, p)
			}
		}
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
		if got := []string{sum.Sections[0].Model, sum.Sections[1].Model}; !slices.Equal(got, []string{"c", "d"}) {
			t.Errorf("models %v, want the lowest p95 first: [c d]", got)
		}
	})
}

// A failed or timed-out section fails over to another model, once; a
// section whose failover fails too is missing, named, and the result
// degraded.
func TestSectionFailoverAndTheDegradedPath(t *testing.T) {
	boom := map[string]bool{"*": true}
	for _, tc := range []struct {
		name        string
		first       *fake // the tier's first model: S1 goes to it
		goodFails   map[string]bool
		wantStatus  Status
		wantRetried []bool
		wantMissing []string
	}{
		{"failed", sectionFake("first", nil, boom, 0), nil, StatusDecided, []bool{true, false}, nil},
		{"stalled", fixed(script{ttft: 100 * time.Millisecond, text: "never ends", after: 1, stall: true}), nil, StatusDecided, []bool{true, false}, nil},
		{"missing", sectionFake("first", nil, boom, 0), map[string]bool{"S2": true}, StatusDegraded, []bool{true, true}, []string{"S2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fakes := map[string]*fake{"first": tc.first, "good": sectionFake("good", nil, tc.goodFails, 0)}
				e := newTestEngine(sectionConfig("first", "good"), fakes)
				defer e.Close()
				evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
				if sum.Status != tc.wantStatus {
					t.Fatalf("status %s degraded %v, want %s", sum.Status, sum.Degraded, tc.wantStatus)
				}
				var missing []string
				for i, s := range sum.Sections {
					if s.Retried != tc.wantRetried[i] {
						t.Errorf("%s retried %v, want %v", s.Title, s.Retried, tc.wantRetried[i])
					}
					if n := len(s.Attempts); s.Retried && n != 2 || !s.Retried && n != 1 {
						t.Errorf("%s (retried %v) lists attempts %v, want every attempt it made", s.Title, s.Retried, s.Attempts)
					}
					if s.Status == "failed" {
						missing = append(missing, s.Title)
						if !strings.Contains(s.Error, "first") || !strings.Contains(s.Error, "good") {
							t.Errorf("missing section %s should name both failures: %q", s.Title, s.Error)
						}
					} else if s.Status != "done" || s.Model != "good" {
						t.Errorf("%s %s by %s, want done by good", s.Title, s.Status, s.Model)
					}
				}
				if !slices.Equal(missing, tc.wantMissing) {
					t.Errorf("missing %v, want %v", missing, tc.wantMissing)
				}
				if tc.wantMissing != nil {
					if !slices.Contains(sum.Degraded, DegradedSectionMissing) {
						t.Errorf("degraded %v lacks section_missing", sum.Degraded)
					}
					if !strings.HasPrefix(sum.Answer, "MISSING 1 of 2 sections, not covered below: S2.") || !strings.Contains(sum.Answer, "## S2\n\n[missing:") {
						t.Errorf("the answer hides the missing section:\n%s", sum.Answer)
					}
				}
				// Never more than one failover: one attempt a section, one
				// more for each retried.
				want := 2
				for _, r := range tc.wantRetried {
					if r {
						want++
					}
				}
				if n := count(evs, AttemptStarted); n != want {
					t.Errorf("%d attempts, want %d", n, want)
				}
			})
		})
	}
}

// Every section failing: no answer at all.
func TestSectionAllMissingFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{"a": sectionFake("a", nil, map[string]bool{"*": true}, 0), "b": sectionFake("b", nil, map[string]bool{"*": true}, 0)}
		e := newTestEngine(sectionConfig("a", "b"), fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
		if sum.Status != StatusFailed || !strings.Contains(sum.Error, "no section was answered") {
			t.Fatalf("status %s error %q", sum.Status, sum.Error)
		}
	})
}

// Sections matching vote_when run section.vote times, each ending with a
// verdict; the others once; disagreement is flagged.
func TestSectionVoteOnMatchingSections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		verdict := map[string]string{"a": "risk", "b": "risk", "c": "ok"}
		fakes := map[string]*fake{}
		for id, v := range verdict {
			fakes[id] = byKind(func(req providers.Request) script {
				text := "summary by " + id
				if strings.Contains(req.System, "categories: ok, risk") {
					text += "\n{\"category\": \"" + v + "\"}"
				}
				return script{ttft: time.Second, text: text}
			})
		}
		c := sectionConfig("a", "b", "c")
		c.Section.Vote, c.Section.VoteWhen = 3, []string{"indemnif", "/liabilit(y|ies)/"}
		e := newTestEngine(c, fakes)
		defer e.Close()
		d := "# Fees\nPay monthly.\n\n# Liability\nUnlimited liability for the customer.\n\n# Indemnity\nThe customer shall INDEMNIFY.\n"
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Check", Strategy: config.Section, Document: d})
		if sum.Status != StatusDecided {
			t.Fatalf("status %s %v", sum.Status, sum.Degraded)
		}
		if s := sum.Sections[0]; s.Votes != nil || s.Disagree {
			t.Errorf("Fees was voted on: %+v", s)
		}
		for _, s := range sum.Sections[1:] {
			if len(s.Votes) != 3 || s.Verdict != "risk" || !s.Disagree {
				t.Errorf("%s: votes %v verdict %q disagree %v; want 3 votes, risk, disagreement", s.Title, s.Votes, s.Verdict, s.Disagree)
			}
			if len(s.Attempts) != 3 || !slices.Contains(s.Attempts, s.Attempt) {
				t.Errorf("%s: attempts %v, want its three runs (the answer's %s among them)", s.Title, s.Attempts, s.Attempt)
			}
			if strings.Contains(s.Text, "category") {
				t.Errorf("%s: the verdict is left in the text %q", s.Title, s.Text)
			}
		}
		if n := count(evs, AttemptStarted); n != 7 {
			t.Errorf("%d attempts, want 1 + 3 + 3", n)
		}
		if n := count(evs, VoteCast); n != 6 {
			t.Errorf("%d vote_cast, want 6", n)
		}
		if !strings.Contains(sum.Answer, "DISAGREEMENT between the runs on: Liability") || !strings.Contains(sum.Answer, "## Liability [risk]") {
			t.Errorf("answer does not flag the disagreement:\n%s", sum.Answer)
		}
	})
}

// concat keeps the document's order and titles whatever order the
// sections finish in.
func TestSectionMergeConcatInDocumentOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		delay := map[string]time.Duration{"S1": 3 * time.Second, "S2": 2 * time.Second, "S3": time.Second}
		fakes := map[string]*fake{"a": sectionFake("a", delay, nil, 0), "b": sectionFake("b", delay, nil, 0)}
		e := newTestEngine(sectionConfig("a", "b"), fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(3)})
		want := regexp.MustCompile(`(?s)^## S1\n\nS1 by \w\n\n## S2\n\nS2 by \w\n\n## S3\n\nS3 by \w$`)
		if !want.MatchString(sum.Answer) {
			t.Errorf("answer:\n%s", sum.Answer)
		}
		// section_changed: the plan, then each section as it runs and ends,
		// S3 done first.
		var done []string
		for _, ev := range evs {
			if ev.Type == SectionChanged && ev.Detail.Section != nil && ev.Detail.Section.Status == "done" {
				done = append(done, ev.Detail.Section.Title)
			}
		}
		if !slices.Equal(done, []string{"S3", "S2", "S1"}) {
			t.Errorf("done order %v", done)
		}
		if first, _ := find(evs, SectionChanged, ""); len(first.Detail.Sections) != 3 {
			t.Errorf("the first section_changed should list the plan: %+v", first.Detail)
		}
	})
}

// synthesis: council.chairman writes it; when it fails the fallback does
// (degraded); when every chairman fails, the concatenation (no_synthesis).
func TestSectionMergeSynthesisAndItsFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failChairs []string
		wantModel  string
		wantDeg    []string
	}{
		{"chairman", nil, "c", nil},
		{"fallback", []string{"c"}, "b", []string{DegradedFallbackChairman}},
		{"none", []string{"c", "b"}, "", []string{DegradedFallbackChairman, DegradedNoSynthesis}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fakes := map[string]*fake{}
				for _, id := range []string{"a", "b", "c"} {
					synth := 500 * time.Millisecond
					if slices.Contains(tc.failChairs, id) {
						synth = -1
					}
					fakes[id] = sectionFake(id, nil, nil, synth)
				}
				c := sectionConfig("a", "b", "c")
				c.Section.Merge = config.MergeSynthesis
				c.Council.Chairman, c.Council.FallbackChairman = "c", "b"
				e := newTestEngine(c, fakes)
				defer e.Close()
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
				if sum.Merge.Model != tc.wantModel || !slices.Equal(sum.Degraded, append([]string{}, tc.wantDeg...)) {
					t.Errorf("merge %+v degraded %v; want model %q degraded %v", sum.Merge, sum.Degraded, tc.wantModel, tc.wantDeg)
				}
				if tc.wantModel != "" && sum.Answer != "merged by "+tc.wantModel {
					t.Errorf("answer %q", sum.Answer)
				}
				if tc.wantModel == "" && !strings.HasPrefix(sum.Answer, "## S1") {
					t.Errorf("without a chairman the answer should be the sections: %q", sum.Answer)
				}
				for _, r := range fakes["a"].requests() {
					if r.Kind == providers.KindSynthesize {
						t.Errorf("a is neither chairman nor fallback but merged")
					}
				}
			})
		})
	}
}

// Each section's request is the instruction and that section only.
func TestSectionRequestIsTheInstructionAndTheSection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := sectionFake("a", nil, nil, 0)
		e := newTestEngine(sectionConfig("a"), map[string]*fake{"a": f})
		defer e.Close()
		collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(3)})
		reqs := f.requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests", len(reqs))
		}
		for i, r := range reqs {
			p := r.Prompt()
			if r.Kind != providers.KindSection || !strings.HasPrefix(p, "Instruction:\nSummarise\n\nSection: S") || strings.Count(p, "Clause") != 1 {
				t.Errorf("request %d: kind %s prompt %q", i, r.Kind, p)
			}
		}
	})
}

// The tier's timeout in the middle: the sections done are kept, the rest
// are missing (budget), and the answer says so.
func TestSectionBudgetLeavesSectionsMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		delay := map[string]time.Duration{"S1": time.Second, "S2": 10 * time.Second}
		fakes := map[string]*fake{"a": sectionFake("a", delay, nil, 0), "b": sectionFake("b", delay, nil, 0)}
		c := sectionConfig("a", "b")
		tier := c.Tiers["t"]
		tier.Timeout.Duration = 3 * time.Second
		c.Tiers["t"] = tier
		e := newTestEngine(c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
		if sum.Status != StatusDegraded || !slices.Contains(sum.Degraded, DegradedSectionMissing) || !slices.Contains(sum.Degraded, DegradedBudget) {
			t.Fatalf("status %s degraded %v", sum.Status, sum.Degraded)
		}
		if sum.Elapsed != 3*time.Second || sum.Sections[0].Status != "done" || sum.Sections[1].Status != "failed" {
			t.Errorf("elapsed %v sections %+v", sum.Elapsed, sum.Sections)
		}
		if sum.Sections[1].Retried {
			t.Errorf("a section cancelled by the budget was retried")
		}
		if !strings.HasPrefix(sum.Answer, "MISSING 1 of 2 sections") {
			t.Errorf("answer %q", sum.Answer)
		}
	})
}

// The user cancelling: cancelled, not failed.
func TestSectionUserCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{"a": sectionFake("a", map[string]time.Duration{"S1": 5 * time.Second}, nil, 0)}
		e := newTestEngine(sectionConfig("a"), fakes)
		defer e.Close()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		_, sum := collect(e, ctx, SessionRequest{Prompt: "Summarise", Strategy: config.Section, Document: doc(2)})
		if sum.Status != StatusCancelled || sum.Elapsed != time.Second {
			t.Fatalf("status %s at %v (%s)", sum.Status, sum.Elapsed, sum.Error)
		}
	})
}

// A heading with nothing under it is no section of its own: it joins the
// next one, its line kept as that section's context; one at the end joins
// the section before it.
func TestSplitHeadingsEmptyHeadingJoinsTheNext(t *testing.T) {
	d := "# Agreement\n\n## 1. Fees\nPay.\n## 2. Term\n\n### 2.1 Start\nNow.\n## Annex\n"
	secs := splitHeadings(d)
	var titles []string
	for _, s := range secs {
		titles = append(titles, s.Title)
	}
	if !slices.Equal(titles, []string{"1. Fees", "2.1 Start"}) {
		t.Fatalf("titles %q, want the two sections with a body", titles)
	}
	if !strings.HasPrefix(secs[0].Text, "# Agreement\n") || !strings.Contains(secs[0].Text, "## 1. Fees\nPay.") {
		t.Errorf("the first section does not carry its parent heading: %q", secs[0].Text)
	}
	if !strings.HasPrefix(secs[1].Text, "## 2. Term\n") || !strings.Contains(secs[1].Text, "### 2.1 Start\nNow.") || !strings.HasSuffix(secs[1].Text, "## Annex") {
		t.Errorf("the second section: %q", secs[1].Text)
	}
	if s := splitHeadings("# Only a title\n"); len(s) != 1 || s[0].Title != "Only a title" {
		t.Errorf("a document that is one heading: %+v", s)
	}
}

// SectionTitles cuts as a session does, and fails as it would.
func TestSectionTitles(t *testing.T) {
	sc := config.SectionConfig{Split: config.SplitHeadings, MaxSections: 3}
	got, err := SectionTitles("# T\n\n## A\na\n## B\nb\n", sc, 0)
	if err != nil || !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("titles %q %v", got, err)
	}
	if _, err := SectionTitles("# A\na\n# B\nb\n# C\nc\n# D\nd\n", sc, 0); !errors.Is(err, ErrDocument) {
		t.Errorf("four sections over max_sections 3: %v", err)
	}
}
