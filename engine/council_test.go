package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// A strategy that launches two attempts of every model: the results of
// six attempts must all be taken whatever order the strategy waits in. In
// the design before the attempt was the unit, attempts reported on a
// channel sized for one attempt per model plus one, before they were
// counted done, so this strategy's awaitAll waited for ever (3 models x 2
// attempts, capacity 4).
func TestAwaitAllWithTwoAttemptsPerModel(t *testing.T) {
	register(&strategy{StrategyInfo: StrategyInfo{Name: "test-double"}, run: func(s *session) {
		for _, m := range s.models {
			s.launch(m, RoleRacer, StageNone, nil)
			s.launch(m, RoleReviewer, StageReview, nil)
		}
		s.awaitAll() // every attempt has ended: none may be blocked reporting
		first := s.next()
		for s.pending > 0 {
			s.next()
		}
		s.win(first)
	}})
	defer delete(strategyTable, "test-double")
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{}
		for i, id := range []string{"x", "y", "z"} {
			fakes[id] = fixed(script{ttft: time.Duration(i+1) * 10 * time.Millisecond, text: "answer " + id})
		}
		e := newTestEngine(testConfig("x", "y", "z"), fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: "test-double"})
		if len(sum.Models) != 6 || sum.Status != StatusDecided {
			t.Fatalf("got %d rows, status %s; want 6 attempts decided", len(sum.Models), sum.Status)
		}
		ids := map[string]bool{}
		for _, r := range sum.Models {
			ids[r.Attempt] = true
		}
		if len(ids) != 6 {
			t.Errorf("attempt ids %v, want 6 distinct", ids)
		}
		for _, ev := range evs {
			if ev.Type == AttemptStarted && (ev.Attempt == "" || (ev.Role == RoleReviewer) != (ev.Stage == StageReview)) {
				t.Errorf("attempt_started %+v: want its attempt id and stage", ev)
			}
		}
	})
}

// councilFakes answer as council members: text for a member, a ranking
// for a reviewer (by prefs: the answers whose text names a preferred model
// first), a synthesis for a chairman.
type member struct {
	answer    script
	review    time.Duration // when the review comes
	badReview bool          // an unparseable ranking
	synthErr  error         // the synthesis fails
}

// responseRE reads the answers quoted in a review prompt.
var responseRE = regexp.MustCompile(`(?s)<response label="([A-Z])">\n(.*?)\n</response>`)

func councilFake(id string, mb member, prefs []string) *fake {
	return byKind(func(req providers.Request) script {
		switch req.Kind {
		case providers.KindRank:
			if mb.badReview {
				return script{ttft: mb.review, text: "They are all fine, I think."}
			}
			found := responseRE.FindAllStringSubmatch(req.Prompt(), -1)
			var out []string
			for _, p := range prefs {
				for _, f := range found {
					if strings.Contains(f[2], "from "+p+".") {
						out = append(out, fmt.Sprintf("%d. Response %s", len(out)+1, f[1]))
					}
				}
			}
			return script{ttft: mb.review, text: "A is good. B less so.\n\nFINAL RANKING:\n" + strings.Join(out, "\n")}
		case providers.KindSynthesize:
			if mb.synthErr != nil {
				return script{ttft: 10 * time.Millisecond, err: mb.synthErr}
			}
			return script{ttft: 50 * time.Millisecond, gap: time.Millisecond, text: "synthesis by " + id}
		}
		return mb.answer
	})
}

func answer(id string, at time.Duration) script {
	return script{ttft: at, text: "answer from " + id + "."}
}

func councilEngine(t *testing.T, c *config.Config, fakes map[string]*fake) *Engine {
	t.Helper()
	c.Council.MinResponses = max(c.Council.MinResponses, 1)
	return newTestEngine(c, fakes)
}

// staggeredCouncil is three members answering and reviewing at 100, 200
// and 300 ms, each ranking m1 > m2 > m3, all three answers required.
func staggeredCouncil() (map[string]*fake, *config.Config) {
	prefs := []string{"m1", "m2", "m3"}
	fakes := map[string]*fake{}
	for i, id := range prefs {
		d := time.Duration(i+1) * 100 * time.Millisecond
		fakes[id] = councilFake(id, member{answer: answer(id, d), review: d}, prefs)
	}
	c := testConfig(prefs...)
	c.Council.MinResponses = 3
	return fakes, c
}

func TestCouncilThreeStages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes, c := staggeredCouncil()
		e := councilEngine(t, c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council})

		if sum.Status != StatusDecided || sum.Answer != "synthesis by m1" || sum.Synthesis != sum.Answer || sum.Chairman != "m1" {
			t.Fatalf("got %s %q chairman %q; want decided, m1's synthesis (the Borda leader chairs)", sum.Status, sum.Answer, sum.Chairman)
		}
		// m1 is ranked first by m2 and m3 (1 point each of 2 answers shown);
		// m2 is first for m1 and second for m3.
		if want := map[string]float64{"m1": 2, "m2": 1, "m3": 0}; !maps.Equal(sum.Borda, want) {
			t.Errorf("borda %v, want %v", sum.Borda, want)
		}
		if got := sum.Rankings["m3"]; !slices.Equal(got, []string{"m1", "m2"}) {
			t.Errorf("m3's ranking %v, want [m1 m2]", got)
		}
		var stages []string
		for _, st := range sum.Stages {
			stages = append(stages, st.Name.String()+":"+st.Status)
		}
		if want := []string{"answers:done", "review:done", "synthesis:done"}; !slices.Equal(stages, want) {
			t.Errorf("stages %v, want %v", stages, want)
		}
		if len(sum.Models) != 7 {
			t.Errorf("%d attempt rows, want 3 members + 3 reviewers + 1 chairman", len(sum.Models))
		}
		if len(sum.Degraded) != 0 {
			t.Errorf("degraded %v, want none", sum.Degraded)
		}
		// Every attempt event carries its attempt and stage; rankings name
		// stage-1 attempts.
		members := map[string]string{} // attempt id -> model
		for _, ev := range evs {
			if ev.Type == AttemptStarted {
				if ev.Attempt == "" || ev.Stage == StageNone {
					t.Errorf("attempt_started without attempt or stage: %+v", ev)
				}
				if ev.Stage == StageAnswers {
					members[ev.Attempt] = ev.Model
				}
			}
		}
		n := 0
		for _, ev := range evs {
			if ev.Type == RankingCast {
				n++
				for _, id := range ev.Detail.Ranking {
					if members[id] == "" || members[id] == ev.Model {
						t.Errorf("ranking_cast %+v names %s, which is not another member's answer", ev, id)
					}
				}
			}
		}
		if n != 3 || count(evs, StageStarted) != 3 || count(evs, StageDone) != 3 {
			t.Errorf("%d rankings, %d stage_started, %d stage_done; want 3 each", n, count(evs, StageStarted), count(evs, StageDone))
		}
	})
}

// Reviewers see the other answers anonymised, never their own, never a
// model's name, in an order shuffled per reviewer.
func TestCouncilReviewIsAnonymousShuffledAndExcludesSelf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"m1", "m2", "m3", "m4", "m5"}
		fakes := map[string]*fake{}
		for i, id := range ids {
			fakes[id] = councilFake(id, member{answer: answer(id, time.Duration(i+1)*10*time.Millisecond), review: 10 * time.Millisecond}, ids)
		}
		c := testConfig(ids...)
		c.Council.MinResponses = 5
		e := councilEngine(t, c, fakes)
		defer e.Close()
		orders := map[string]bool{}
		for range 4 {
			collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
		}
		for _, id := range ids {
			for _, req := range fakes[id].requests() {
				if req.Kind != providers.KindRank {
					continue
				}
				p := req.Prompt()
				if strings.Contains(p, "from "+id+".") {
					t.Errorf("%s was shown its own answer:\n%s", id, p)
				}
				for _, other := range ids {
					if strings.Contains(strings.ReplaceAll(p, "from "+other+".", ""), other) {
						t.Errorf("%s's review names model %s:\n%s", id, other, p)
					}
				}
				var order []string
				for _, f := range responseRE.FindAllStringSubmatch(p, -1) {
					order = append(order, f[2])
				}
				if len(order) != 4 {
					t.Errorf("%s saw %d answers, want 4", id, len(order))
				}
				orders[strings.Join(order, "|")] = true
			}
		}
		if len(orders) < 4 {
			t.Errorf("only %d distinct orders over 20 reviews: the order is not shuffled", len(orders))
		}
	})
}

// The review stage ends, cancelling the reviewers still at work, the
// moment the Borda leader cannot be caught.
func TestCouncilReviewEndsEarlyWhenTheLeaderCannotBeCaught(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefs := []string{"m1", "m2", "m3", "m4"}
		at := map[string]time.Duration{"m1": 5 * time.Second, "m2": 100 * time.Millisecond, "m3": 200 * time.Millisecond, "m4": 300 * time.Millisecond}
		fakes := map[string]*fake{}
		for i, id := range prefs {
			fakes[id] = councilFake(id, member{answer: answer(id, time.Duration(i+1)*10*time.Millisecond), review: at[id]}, prefs)
		}
		c := testConfig(prefs...)
		c.Council.MinResponses = 4
		e := councilEngine(t, c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
		// After m2, m3 and m4 have ranked m1 first, m1 has 6 points and
		// nobody else more than 2 + the 2 that m1's own review can give.
		var cancelled Event
		for _, ev := range evs {
			if ev.Type == AttemptCancelled && ev.Stage == StageReview {
				cancelled = ev
			}
		}
		if cancelled.Model != "m1" || cancelled.Reason != ReasonDecided {
			t.Fatalf("cancelled reviewer %+v, want m1's review cancelled (decided)", cancelled)
		}
		var review StageResult
		for _, st := range sum.Stages {
			if st.Name == StageReview {
				review = st
			}
		}
		if review.StartedMS+review.ElapsedMS != 340 || review.Status != "done" {
			t.Errorf("review stage %+v, want done at 340ms (answers at 40ms + the third review at 300ms)", review)
		}
		if sum.Borda["m1"] != 6 || sum.Chairman != "m1" {
			t.Errorf("borda %v chairman %s, want m1 on 6 in the chair", sum.Borda, sum.Chairman)
		}
		if len(sum.Degraded) != 0 {
			t.Errorf("degraded %v: a reviewer cancelled because the vote was decided is not missing", sum.Degraded)
		}
	})
}

func TestCouncilInvalidRankingIsShownAndLeftOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefs := []string{"m1", "m2", "m3"}
		fakes := map[string]*fake{
			"m1": councilFake("m1", member{answer: answer("m1", 10*time.Millisecond), review: 100 * time.Millisecond}, prefs),
			"m2": councilFake("m2", member{answer: answer("m2", 20*time.Millisecond), review: 200 * time.Millisecond, badReview: true}, prefs),
			"m3": councilFake("m3", member{answer: answer("m3", 30*time.Millisecond), review: 300 * time.Millisecond}, prefs),
		}
		c := testConfig(prefs...)
		c.Council.MinResponses = 3
		e := councilEngine(t, c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
		var invalid Event
		for _, ev := range evs {
			if ev.Type == RankingCast && ev.Detail.Invalid {
				invalid = ev
			}
		}
		if invalid.Detail == nil || invalid.Model != "m2" || invalid.Detail.Raw == "" || invalid.Detail.Ranking != nil {
			t.Fatalf("invalid ranking_cast %+v, want m2's, with its raw text and no ranking", invalid)
		}
		if _, ok := sum.Rankings["m2"]; ok {
			t.Errorf("rankings %v: an invalid ranking must be left out", sum.Rankings)
		}
		if !slices.Contains(sum.Degraded, DegradedReviewersMissing) || sum.Status != StatusDegraded {
			t.Errorf("status %s degraded %v, want degraded with reviewers_missing", sum.Status, sum.Degraded)
		}
		// m1 reviews m2 > m3 (1 point to m2), m3 reviews m1 > m2 (1 to m1).
		if want := map[string]float64{"m1": 1, "m2": 1, "m3": 0}; !maps.Equal(sum.Borda, want) {
			t.Errorf("borda %v, want %v", sum.Borda, want)
		}
		// A tie on points: m1 was first on its one ballot, m2 first on one
		// and last on the other, so m1's average rank is better. The
		// summary says a tie decided (it used to go to the earlier answer).
		if sum.Chairman != "m1" || sum.TieBreak != "borda tie: average rank" {
			t.Errorf("chairman %s tie_break %q, want m1 by average rank, said", sum.Chairman, sum.TieBreak)
		}
		var rows []ReviewResult
		for _, r := range sum.Reviews {
			if r.Reviewer == "m2" {
				rows = append(rows, r)
			}
		}
		if len(rows) != 1 || rows[0].Invalid != "no FINAL RANKING section" || rows[0].Raw == "" || rows[0].Ranking != nil || len(rows[0].Labels) != 2 {
			t.Errorf("m2's review row %+v, want invalid (no FINAL RANKING section) with its raw text and the two labels it saw", rows)
		}
		for _, r := range sum.Models {
			if r.Role == RoleReviewer && r.ID == "m2" && r.Error != "invalid ranking: no FINAL RANKING section" {
				t.Errorf("m2's review row %s error %q, want the invalid ranking's reason", r.Status, r.Error)
			}
		}
	})
}

func TestCouncilFallbackChairmanAndLastResort(t *testing.T) {
	boom := providers.Errorf(providers.KindHTTP, "down")
	prefs := []string{"m1", "m2", "m3"}
	for _, tt := range []struct {
		name         string
		m2fails      bool
		wantAnswer   string
		wantDegraded []string
		wantChair    string
	}{
		{"fallback", false, "synthesis by m2", []string{DegradedFallbackChairman}, "m2"},
		{"every chairman fails", true, "answer from m1.", []string{DegradedFallbackChairman, DegradedNoSynthesis}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m2 := member{answer: answer("m2", 20*time.Millisecond), review: 100 * time.Millisecond}
				if tt.m2fails {
					m2.synthErr = boom
				}
				fakes := map[string]*fake{
					"m1": councilFake("m1", member{answer: answer("m1", 10*time.Millisecond), review: 100 * time.Millisecond, synthErr: boom}, prefs),
					"m2": councilFake("m2", m2, prefs),
					"m3": councilFake("m3", member{answer: answer("m3", 30*time.Millisecond), review: 100 * time.Millisecond}, prefs),
				}
				c := testConfig(prefs...)
				c.Council = config.CouncilConfig{MinResponses: 3, Chairman: "m1", FallbackChairman: "m2"}
				e := councilEngine(t, c, fakes)
				defer e.Close()
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
				if sum.Answer != tt.wantAnswer || sum.Chairman != tt.wantChair || sum.Status != StatusDegraded {
					t.Errorf("got %s %q chairman %q, want degraded %q chairman %q", sum.Status, sum.Answer, sum.Chairman, tt.wantAnswer, tt.wantChair)
				}
				if !slices.Equal(sum.Degraded, tt.wantDegraded) {
					t.Errorf("degraded %v, want %v", sum.Degraded, tt.wantDegraded)
				}
				chairs := 0
				for _, r := range sum.Models {
					if r.Role == RoleChairman {
						chairs++
					}
				}
				if chairs != 2 {
					t.Errorf("%d chairman attempts, want 2 (the chairman and the fallback)", chairs)
				}
			})
		})
	}
}

// Stragglers are cancelled once min_responses answers are in; a member
// that failed is not few_answers while min_responses others answered, and
// is when fewer did.
func TestCouncilMinResponsesAndFewAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failing []string
		want    map[string]string
		few     bool
		at      float64
	}{
		{"enough", []string{"m2"}, map[string]string{"m1": "done/", "m2": "failed/http", "m3": "done/", "m4": "done/", "m5": "cancelled/decided"}, false, 400},
		{"too few", []string{"m2", "m3", "m4"}, map[string]string{"m1": "done/", "m2": "failed/http", "m3": "failed/http", "m4": "failed/http", "m5": "done/"}, true, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ids := []string{"m1", "m2", "m3", "m4", "m5"}
				boom := providers.Errorf(providers.KindHTTP, "down")
				fakes := map[string]*fake{}
				for i, id := range ids {
					fakes[id] = councilFake(id, member{answer: answer(id, time.Duration(i+1)*100*time.Millisecond), review: 10 * time.Millisecond}, ids)
				}
				for _, id := range tc.failing {
					fakes[id] = councilFake(id, member{answer: script{ttft: 150 * time.Millisecond, err: boom}, review: 10 * time.Millisecond}, ids)
				}
				c := testConfig(ids...)
				c.Council.MinResponses = 3
				e := councilEngine(t, c, fakes)
				defer e.Close()
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
				got := map[string]string{}
				for _, r := range sum.Models {
					if r.Stage == StageAnswers {
						got[r.ID] = string(r.Status) + "/" + r.Reason
					}
				}
				for id, w := range tc.want {
					if got[id] != w {
						t.Errorf("%s: %s, want %s", id, got[id], w)
					}
				}
				if few := slices.Contains(sum.Degraded, DegradedFewAnswers); few != tc.few || sum.Stages[0].ElapsedMS != tc.at {
					t.Errorf("degraded %v, answers stage %+v; want few_answers %v, done at %vms", sum.Degraded, sum.Stages[0], tc.few, tc.at)
				}
			})
		})
	}
}

func TestCouncilBudgetOverrunFallsBackToTheBordaWinner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prefs := []string{"m1", "m2", "m3"}
		fakes := map[string]*fake{}
		for i, id := range prefs {
			fakes[id] = councilFake(id, member{answer: answer(id, time.Duration(i+1)*10*time.Millisecond), review: 100 * time.Millisecond}, prefs)
		}
		fakes["m3"] = councilFake("m3", member{answer: answer("m3", 30*time.Millisecond), review: 10 * time.Second}, prefs)
		c := testConfig(prefs...)
		c.Council.MinResponses = 3
		c.Tiers["t"] = config.TierConfig{Models: prefs, Timeout: config.Duration{Duration: time.Second},
			PerModelTimeout: config.Duration{Duration: 20 * time.Second}, StallTimeout: config.Duration{Duration: 3 * time.Second}}
		e := councilEngine(t, c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "Q", Strategy: config.Council})
		// m1 and m2 each ranked the other first: a tie on points and average
		// rank, which the seeded draw settles.
		if (sum.Answer != "answer from m1." && sum.Answer != "answer from m2.") || sum.Elapsed != time.Second || sum.TieBreak != "borda tie: seeded draw" {
			t.Errorf("answer %q at %v tie_break %q, want m1's or m2's stage-1 answer (a seeded draw) at the 1s budget", sum.Answer, sum.Elapsed, sum.TieBreak)
		}
		for _, r := range []string{DegradedBudget, DegradedNoSynthesis, DegradedReviewersMissing} {
			if !slices.Contains(sum.Degraded, r) {
				t.Errorf("degraded %v, want %s among them", sum.Degraded, r)
			}
		}
	})
}
