package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// wholeProblems lists what a strategy's descriptor lacks.
func wholeProblems(st *strategy) []string {
	var out []string
	if st.run == nil {
		out = append(out, "no run function")
	}
	if st.estimate == nil {
		out = append(out, "no estimate: the spending cap could not reserve its worst case")
	}
	if len(st.Stages) == 0 {
		out = append(out, "no stages declared ({StageNone} for a one-stage strategy)")
	}
	if slices.Contains(st.Stages, StageNone) && len(st.Stages) > 1 {
		out = append(out, "StageNone beside named stages")
	}
	if strings.TrimSpace(st.Summary) == "" || strings.Contains(st.Summary, "\n") {
		out = append(out, "no one-line summary for the usage")
	}
	if !st.PromptAlone && st.validate == nil {
		out = append(out, "needs more than a prompt but has no validate to refuse a request without it")
	}
	if st.Routes && st.validate == nil {
		out = append(out, "routes but has no validate to check its route")
	}
	return out
}

// TestEveryStrategyIsWhole: every registered strategy has every piece of
// its descriptor, and no named stage belongs to two strategies (the
// dashboard tells a session's strategy by its stages).
func TestEveryStrategyIsWhole(t *testing.T) {
	if len(strategyTable) < 6 {
		t.Fatalf("%d strategies registered, want at least 6", len(strategyTable))
	}
	owner := map[Stage]config.Strategy{}
	for name, st := range strategyTable {
		if st.Name != name {
			t.Errorf("%s is registered under %q", st.Name, name)
		}
		for _, p := range wholeProblems(st) {
			t.Errorf("strategy %s: %s", name, p)
		}
		for _, sg := range st.Stages {
			if sg == StageNone {
				continue
			}
			if o, ok := owner[sg]; ok {
				t.Errorf("stage %s is declared by %s and %s", sg, o, name)
			}
			owner[sg] = name
		}
	}
	// The check itself catches an incomplete descriptor.
	half := &strategy{StrategyInfo: StrategyInfo{Name: "half", Routes: true}, run: (*session).race}
	if got := wholeProblems(half); len(got) != 5 {
		t.Errorf("an incomplete descriptor: %q, want 5 problems (estimate, stages, summary, needs validate twice)", got)
	}
}

// TestRegistryAgreesWithConfig: config parses strategy names on its own
// (a config file is validated without the engine), so its lists must be
// the registry's: every name config accepts is registered, every
// registered one parses, and the dashboard's cycle (config.Strategies) is
// exactly those that run on a prompt alone.
func TestRegistryAgreesWithConfig(t *testing.T) {
	for _, st := range append(slices.Clone(config.Strategies), config.Section) {
		if lookup(st) == nil {
			t.Errorf("config accepts %s, which is not registered", st)
		}
	}
	for _, info := range Strategies() {
		if _, err := config.ParseStrategy(string(info.Name)); err != nil {
			t.Errorf("%s is registered but config refuses it: %v", info.Name, err)
		}
		if got := slices.Contains(config.Strategies, info.Name); got != info.PromptAlone {
			t.Errorf("%s: in config.Strategies %v, PromptAlone %v", info.Name, got, info.PromptAlone)
		}
	}
	if got, want := StrategyNames(",", true), "race,hedge,consensus,council,auto"; got != want {
		t.Errorf("StrategyNames = %q, want %q (config's order)", got, want)
	}
	if _, err := ParseStrategy("vote"); err == nil || !strings.Contains(err.Error(), "section (with a document)") {
		t.Errorf("ParseStrategy(vote) = %v, want an error listing every strategy", err)
	}
	if info, ok := StrategyOfStage(StageReview); !ok || info.Name != config.Council {
		t.Errorf("StrategyOfStage(review) = %v %v, want council", info.Name, ok)
	}
	if _, ok := StrategyOfStage(StageNone); ok {
		t.Error("StrategyOfStage(none) names a strategy")
	}
}

// anyKind answers every kind of request the strategies make.
func anyKind(id string) *fake {
	return byKind(func(req providers.Request) script {
		switch req.Kind {
		case providers.KindClassify:
			return vote("billing", 10*time.Millisecond)
		case providers.KindRank:
			return script{ttft: 20 * time.Millisecond, text: "fine.\nFINAL RANKING:\n1. Response A\n2. Response B\n3. Response C"}
		}
		return script{ttft: 30 * time.Millisecond, text: "an answer by " + id}
	})
}

// TestStrategiesDeclareTheirStages: run each strategy, every attempt and
// stage event carries a stage its descriptor declares (or, for a
// strategy that routes, its route's), and the session costs no more than
// its estimate said it might.
func TestStrategiesDeclareTheirStages(t *testing.T) {
	for _, info := range Strategies() {
		t.Run(string(info.Name), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ids := []string{"a", "b", "c"}
				fakes := map[string]*fake{}
				for _, id := range ids {
					fakes[id] = anyKind(id)
				}
				c := sectionConfig(ids...)
				c.Consensus.Voters, c.Consensus.MinResponses = 3, 2
				c.Router = config.RouterConfig{Classifier: "a", DefaultRoute: "r", Routes: []config.RouteConfig{{Name: "billing", Strategy: config.Council}}}
				e := newTestEngine(c, fakes)
				defer e.Close()
				req := SessionRequest{Prompt: "x", Strategy: info.Name, Document: doc(2)}
				est, err := e.Estimate(req)
				if err != nil || est <= 0 {
					t.Fatalf("Estimate = %v, %v; want a positive worst case", est, err)
				}
				evs, sum := collect(e, t.Context(), req)
				// Degraded is fine (a reviewer's fixed ranking may name an
				// answer it was not shown): the stages ran.
				if sum.Answer == "" || sum.Status == StatusFailed {
					t.Fatalf("status %s (%s, degraded %v), want an answer", sum.Status, sum.Error, sum.Degraded)
				}
				allowed := slices.Clone(info.Stages)
				if info.Routes {
					r, ok := LookupStrategy(sum.Strategy)
					if !ok || r.Name == info.Name {
						t.Fatalf("routed to %q", sum.Strategy)
					}
					allowed = append(allowed, r.Stages...)
				}
				for _, ev := range evs {
					if (ev.Attempt != "" || ev.Type == StageStarted || ev.Type == StageDone) && !slices.Contains(allowed, ev.Stage) {
						t.Errorf("%s event in stage %q, which %s does not declare (%v)", ev.Type, ev.Stage, info.Name, allowed)
					}
				}
				if sum.CostUSD > est+1e-12 {
					t.Errorf("cost %v over the estimate %v", sum.CostUSD, est)
				}
			})
		})
	}
}

// impossibleConfig is a tier of two models under a consensus that needs
// three valid votes, and a rule that routes "refund" to that consensus.
func impossibleConfig(classifier string) *config.Config {
	c := testConfig("a", "b")
	c.Consensus.Voters, c.Consensus.MinResponses = 5, 3
	c.Router = config.RouterConfig{Classifier: classifier, DefaultRoute: "chat", MinConfidence: 0.5, Routes: []config.RouteConfig{
		{Name: "classification", Strategy: config.Consensus, Keywords: []string{"refund"}},
		{Name: "chat", Strategy: config.Race},
	}}
	return c
}

// TestImpossibleQuorumRefusedBeforeAnyCall: Start, Run, Estimate and
// Check refuse a consensus its models can never give a quorum, naming the
// keys, and no model is called; so does auto whose rules route there.
func TestImpossibleQuorumRefusedBeforeAnyCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{"a": anyKind("a"), "b": anyKind("b")}
		c := impossibleConfig("")
		e := newTestEngine(c, fakes)
		defer e.Close()
		for _, req := range []SessionRequest{
			{Prompt: "x", Strategy: config.Consensus},
			{Prompt: "x", Strategy: config.Consensus, Models: []string{"a", "b"}},
			{Prompt: "I want a refund", Strategy: config.Auto},
		} {
			want := []string{"consensus.min_responses = 3", "tiers.t.models"}
			if len(req.Models) > 0 {
				want[1] = "the models asked for: 2"
			}
			_, errStart := e.Start(t.Context(), req)
			_, errRun := e.Run(t.Context(), req, nil)
			_, errEst := e.Estimate(req)
			errCheck := Check(c, req)
			for name, err := range map[string]error{"Start": errStart, "Run": errRun, "Estimate": errEst, "Check": errCheck} {
				if !errors.Is(err, ErrNoQuorum) {
					t.Errorf("%s(%s %v): %v, want ErrNoQuorum", name, req.Strategy, req.Models, err)
					continue
				}
				for _, w := range want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q does not say %q", name, err, w)
					}
				}
			}
		}
		// A prompt whose rules route elsewhere runs.
		if _, sum := collect(e, t.Context(), SessionRequest{Prompt: "hello", Strategy: config.Auto}); sum.Status != StatusDecided {
			t.Errorf("auto routed to race: %s (%s)", sum.Status, sum.Error)
		}
		calls := fakes["a"].Calls() + fakes["b"].Calls()
		if calls != 2 {
			t.Errorf("%d calls, want 2 (the race only)", calls)
		}
		if got := ConfigProblems(c); len(got) != 1 || !strings.Contains(got[0], "tier t:") {
			t.Errorf("ConfigProblems = %q, want tier t's", got)
		}
	})
}

// TestAutoRouteToImpossibleQuorumFails: with a classifier the route is
// known only after it answers; a route to a consensus that can never
// reach quorum then fails the session before any voter is called.
func TestAutoRouteToImpossibleQuorumFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{"a": anyKind("a"), "b": anyKind("b"),
			"cls": fixed(script{ttft: 10 * time.Millisecond, text: `{"category": "classification", "confidence": 0.9}`})}
		c := impossibleConfig("cls")
		c.Models = append(c.Models, config.ModelConfig{ID: "cls", Provider: "fake", Model: "cls"})
		e := newTestEngine(c, fakes)
		defer e.Close()
		if err := Check(c, SessionRequest{Prompt: "x", Strategy: config.Auto}); err != nil {
			t.Errorf("Check refused a route it cannot know yet: %v", err)
		}
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Auto})
		if sum.Status != StatusFailed || !strings.Contains(sum.Error, "consensus.min_responses") {
			t.Errorf("got %s %q, want failed naming consensus.min_responses", sum.Status, sum.Error)
		}
		if n := fakes["a"].Calls() + fakes["b"].Calls(); n != 0 {
			t.Errorf("%d voters called, want none", n)
		}
		if n := fakes["cls"].Calls(); n != 1 {
			t.Errorf("classifier called %d times, want 1", n)
		}
	})
}

// Example_strategies lists the strategies as the CLI's usage does.
func Example_strategies() {
	for _, info := range Strategies() {
		fmt.Printf("%-10s %v\n", info.Name, info.Stages)
	}
	// Output:
	// race       []
	// hedge      []
	// consensus  []
	// council    [answers review synthesis]
	// auto       [classify]
	// section    [sections merge]
}
