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
			return vote("billing", at)
		case providers.KindRank:
			return script{ttft: at, text: "FINAL RANKING:\n1. Response A\n2. Response B"}
		}
		return script{ttft: at, text: "answer from " + id + "."}
	})
}

func routerEngine(t *testing.T, classifier *fake) (*Engine, map[string]*fake) {
	t.Helper()
	ids := []string{"m1", "m2", "m3"}
	fakes := map[string]*fake{}
	for i, id := range ids {
		fakes[id] = everything(id, time.Duration(i+1)*10*time.Millisecond)
	}
	c := testConfig(ids...)
	c.Council.MinResponses = 3
	c.Consensus.Voters, c.Consensus.MinResponses = 3, 2
	c.Router = config.RouterConfig{DefaultRoute: "chat", MinConfidence: 0.6, Routes: config.DefaultRoutes()}
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
		{"Is the billing page down right now?", "classification", config.Consensus, "/", 0.6},
		{"Classify this ticket: my card was charged twice", "classification", config.Consensus, `"classify"`, 0.6},
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
		c.Router.Routes[1].Tier = "deep" // code
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "fix this bug: ```x```", Strategy: config.Auto})
		if sum.Tier != "deep" || sum.Route.Tier != "deep" || sum.Winner != "m2" {
			t.Errorf("tier %s route %+v winner %s; want the race run in tier deep (m3, m2)", sum.Tier, sum.Route, sum.Winner)
		}
		if n := len(fakes["m1"].requests()); n != 0 {
			t.Errorf("m1 (not in tier deep) was called %d times", n)
		}
	})
}
