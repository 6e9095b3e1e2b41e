package engine

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// everything answers every kind of request: text, a vote, a ranking, a
// synthesis.
func everything(id string, at time.Duration) *fake {
	return byKind(func(req providers.Request) script {
		switch req.Kind {
		case providers.KindClassify:
			if strings.Contains(req.System, "yes/no question") {
				return vote("yes", at)
			}
			return vote("billing", at)
		case providers.KindRank:
			return script{ttft: at, text: "FINAL RANKING:\n1. Response A\n2. Response B"}
		}
		return script{ttft: at, text: "answer from " + id + "."}
	})
}

// routerEngineConfig is three models m1..m3 under the default routes.
func routerEngineConfig() *config.Config {
	c := testConfig("m1", "m2", "m3")
	c.Council.MinResponses = 3
	c.Consensus.Voters, c.Consensus.MinResponses = 3, 2
	c.Router = config.RouterConfig{DefaultRoute: "chat", MinConfidence: 0.6, Routes: config.DefaultRoutes()}
	return c
}

func routerEngine(t *testing.T, classifier *fake) (*Engine, map[string]*fake) {
	t.Helper()
	fakes := map[string]*fake{}
	for i, id := range []string{"m1", "m2", "m3"} {
		fakes[id] = everything(id, time.Duration(i+1)*10*time.Millisecond)
	}
	c := routerEngineConfig()
	if classifier != nil {
		c.Models = append(c.Models, config.ModelConfig{ID: "judge", Provider: "fake", Model: "judge"})
		fakes["judge"] = classifier
		c.Router.Classifier = "judge"
	}
	return newTestEngine(c, fakes), fakes
}

func TestRouterRules(t *testing.T) {
	long := strings.Repeat("We must weigh the options with care and think about each consequence. ", 20)
	tests := []struct {
		prompt       string
		route        string
		strategy     config.Strategy
		whyHas       string
		minConfident float64
	}{
		{"Is the billing page down right now?", "yes-no", config.Consensus, "/", 0.6},
		{"Classify this ticket: my card was charged twice", "classification", config.Consensus, "classify", 0.6},
		{"Why does this panic?\n```go\nfunc main() { var m map[string]int; m[\"a\"] = 1 }\n```", "code", config.Race, "```", 0.6},
		{"Tell me something nice about autumn.", "chat", config.Hedge, "default route", 0},
		{long, "high-stakes", config.Council, "words", 0.6},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			e, _ := routerEngine(t, nil)
			defer e.Close()
			evs, sum := collect(e, t.Context(), SessionRequest{Prompt: tt.prompt, Strategy: config.Auto})
			r := sum.Route
			if r == nil || r.Name != tt.route || r.Strategy != tt.strategy || sum.Strategy != tt.strategy {
				t.Fatalf("%.40q: route %+v, strategy %s; want %s (%s)", tt.prompt, r, sum.Strategy, tt.route, tt.strategy)
			}
			if !strings.Contains(r.Why, tt.whyHas) || r.Confidence < tt.minConfident {
				t.Errorf("%.40q: why %q confidence %.2f; want %q in it, at least %.2f", tt.prompt, r.Why, r.Confidence, tt.whyHas, tt.minConfident)
			}
			ev, ok := find(evs, RouteChosen, "")
			if !ok || ev.Detail == nil || ev.Detail.Route.Name != tt.route {
				t.Errorf("%.40q: route_chosen %+v, want %s", tt.prompt, ev, tt.route)
			}
			if sum.Answer == "" {
				t.Errorf("%.40q: the routed strategy gave no answer (%s: %s)", tt.prompt, sum.Status, sum.Error)
			}
		})
	}
}

func TestRouterClassifier(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		prompt string
		want   string
		why    string
	}{
		{"confident classifier beats no rule", `{"category": "code", "confidence": 0.9}`, "Tell me about autumn.", "code", "classifier judge said code (0.90)"},
		{"unsure classifier: default route", `{"category": "code", "confidence": 0.3}`, "Tell me about autumn.", "chat", "below router.min_confidence"},
		{"classifier outside the routes: rules decide", `{"category": "poetry", "confidence": 0.99}`, "Classify this: refund please", "classification", "rules matched"},
		{"agreement keeps the higher confidence", `{"category": "classification", "confidence": 0.97}`, "Classify this: refund please", "classification", "classifier judge said classification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e, fakes := routerEngine(t, fixed(script{ttft: 5 * time.Millisecond, text: tt.answer}))
				defer e.Close()
				evs, sum := collect(e, t.Context(), SessionRequest{Prompt: tt.prompt, Strategy: config.Auto})
				if sum.Route == nil || sum.Route.Name != tt.want || !strings.Contains(sum.Route.Why, tt.why) {
					t.Fatalf("route %+v, want %s because %q", sum.Route, tt.want, tt.why)
				}
				reqs := fakes["judge"].requests()
				if len(reqs) != 1 || reqs[0].Kind != providers.KindClassify || !strings.Contains(reqs[0].System, "high-stakes") {
					t.Errorf("classifier asked %+v, want one classify request naming the routes", reqs)
				}
				var classify ModelResult
				for _, r := range sum.Models {
					if r.Role == RoleClassifier {
						classify = r
					}
				}
				if classify.Stage != StageClassify || classify.ID != "judge" {
					t.Errorf("classifier row %+v, want judge in stage classify", classify)
				}
				if _, ok := find(evs, StageDone, ""); !ok {
					t.Errorf("no stage_done for the classify stage")
				}
			})
		})
	}
}

func TestRouterRouteTierMovesTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, fakes := routerEngine(t, nil)
		defer e.Close()
		c := e.Config()
		c.Tiers["deep"] = config.TierConfig{Models: []string{"m3", "m2"}, Timeout: config.Duration{Duration: time.Minute},
			PerModelTimeout: config.Duration{Duration: 30 * time.Second}, StallTimeout: config.Duration{Duration: 5 * time.Second}}
		for i := range c.Router.Routes {
			if c.Router.Routes[i].Name == "code" {
				c.Router.Routes[i].Tier = "deep"
			}
		}
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "fix this bug: ```x```", Strategy: config.Auto})
		if sum.Tier != "deep" || sum.Route.Tier != "deep" || sum.Winner != "m2" {
			t.Errorf("tier %s route %+v winner %s; want the race run in tier deep (m3, m2)", sum.Tier, sum.Route, sum.Winner)
		}
		if n := len(fakes["m1"].requests()); n != 0 {
			t.Errorf("m1 (not in tier deep) was called %d times", n)
		}
	})
}

// TestRouterYesNoRouteVotesYesOrNo: a yes/no question runs a consensus
// among the route's own categories, never the ticket categories: the
// voters are asked for yes or no, a ticket category is an invalid vote,
// and a tie cannot fall back to a default answer outside yes and no.
func TestRouterYesNoRouteVotesYesOrNo(t *testing.T) {
	const q = "Is 97 a prime number?"
	t.Run("yes or no", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e, fakes := routerEngine(t, nil)
			defer e.Close()
			fakes["m3"] = fixed(vote("billing", 5*time.Millisecond)) // the ticket answer: invalid here
			e2 := newTestEngine(e.Config(), fakes)
			defer e2.Close()
			_, sum := collect(e2, t.Context(), SessionRequest{Prompt: q, Strategy: config.Auto})
			if sum.Route == nil || sum.Route.Name != "yes-no" || strings.Join(sum.Route.Categories, ",") != "yes,no" {
				t.Fatalf("route %+v, want yes-no with categories yes, no", sum.Route)
			}
			if sum.Status != StatusDecided || sum.Answer != "yes" || sum.Votes["yes"] != 2 || len(sum.Votes) != 1 {
				t.Errorf("status %s answer %q votes %v; want decided yes by 2 votes", sum.Status, sum.Answer, sum.Votes)
			}
			if r := result(sum, "m3"); r.Vote != "" || !strings.Contains(r.Error, "invalid vote") {
				t.Errorf("m3 voted billing on a yes/no question: %+v, want an invalid vote", r)
			}
			for _, id := range []string{"m1", "m2"} {
				reqs := fakes[id].requests()
				if len(reqs) != 1 || !strings.Contains(reqs[0].System, "categories: yes, no.") || strings.Contains(reqs[0].System, "billing") {
					t.Errorf("%s was asked %q; want the yes/no question's categories only", id, reqs[0].System)
				}
			}
		})
	})
	t.Run("a tie cannot default outside yes and no", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := routerEngineConfig()
			c.Consensus.TieBreak, c.Consensus.DefaultAnswer = config.TieDefault, "general"
			fakes := map[string]*fake{"m1": fixed(vote("yes", 10*time.Millisecond)), "m2": fixed(vote("no", 20*time.Millisecond)),
				"m3": fixed(vote("billing", 30*time.Millisecond))}
			e := newTestEngine(c, fakes)
			defer e.Close()
			_, sum := collect(e, t.Context(), SessionRequest{Prompt: q, Strategy: config.Auto})
			if sum.Status != StatusFailed || !strings.Contains(sum.Error, `default_answer "general" is not among this route's categories`) {
				t.Errorf("status %s error %q; want failed, saying the default answer is not yes or no", sum.Status, sum.Error)
			}
		})
	})
}
