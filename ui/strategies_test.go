package ui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/themes"
)

// countingProvider counts its calls; each fails.
type countingProvider struct{ n *atomic.Int64 }

func (c countingProvider) Stream(context.Context, providers.Request) (providers.Stream, error) {
	c.n.Add(1)
	return nil, providers.Errorf(providers.KindHTTP, "down")
}

// TestImpossibleQuorumOnTheEngine: the dashboard over a real engine
// refuses a consensus its tier can never give a quorum, with the engine's
// message naming the keys, and no model is called.
func TestImpossibleQuorumOnTheEngine(t *testing.T) { synctest.Test(t, testImpossibleQuorumOnTheEngine) }

func testImpossibleQuorumOnTheEngine(t *testing.T) {
	cfg := &config.Config{
		DefaultStrategy: config.Race, DefaultTier: "two", MaxConcurrency: 4,
		Tiers:     map[string]config.TierConfig{"two": {Models: []string{"a", "b"}}},
		Consensus: config.ConsensusConfig{Voters: 5, MinResponses: 3, Categories: []string{"x", "y"}},
		Providers: map[string]config.ProviderConfig{"p": {Kind: "sim"}},
		Models:    []config.ModelConfig{{ID: "a", Provider: "p"}, {ID: "b", Provider: "p"}},
	}
	var calls atomic.Int64
	eng, err := engine.New(cfg, map[string]providers.Provider{"a": countingProvider{&calls}, "b": countingProvider{&calls}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	m := New(eng, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "I was charged twice"})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	press(m, "esc", "m", "m") // race → hedge → consensus
	if m.strategy != config.Consensus {
		t.Fatalf("strategy %s after m m, want consensus", m.strategy)
	}
	press(m, "r")
	if m.running || calls.Load() != 0 {
		t.Errorf("running %v, %d calls: a consensus that can never reach quorum was started", m.running, calls.Load())
	}
	for _, w := range []string{"consensus.min_responses", "tiers.two.models"} {
		if !strings.Contains(m.status, w) {
			t.Errorf("status %q does not name %s", m.status, w)
		}
	}
}

// TestStrategyCycleIsTheRegistry: m cycles through the engine's
// strategies that run on a prompt alone; given a document, through those
// that need one too, starting on it.
func TestStrategyCycleIsTheRegistry(t *testing.T) { synctest.Test(t, testStrategyCycleIsTheRegistry) }

func testStrategyCycleIsTheRegistry(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	var seen []string
	press(m, "esc")
	for range strings.Count(engine.StrategyNames(",", true), ",") + 1 {
		seen = append(seen, string(m.strategy))
		press(m, "m")
	}
	if got, want := strings.Join(seen, ","), engine.StrategyNames(",", true); got != want {
		t.Errorf("m cycles %s, want %s", got, want)
	}
	if m.strategy != config.Strategy(seen[0]) {
		t.Errorf("the cycle does not come back to %s: %s", seen[0], m.strategy)
	}
	d := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Document: "# A\n\ntext"})
	if info, ok := engine.LookupStrategy(d.strategy); !ok || info.PromptAlone {
		t.Errorf("with a document the dashboard starts on %s, want one that needs it", d.strategy)
	}
	if got, want := len(d.strategies), strings.Count(engine.StrategyNames(",", false), ",")+1; got != want {
		t.Errorf("with a document m cycles %d strategies, want all %d", got, want)
	}
}

// TestUnknownStageIsNotACouncil: a stage no strategy declares leaves the
// screen as it is; a stage the council declares makes it the council's.
func TestUnknownStageIsNotACouncil(t *testing.T) { synctest.Test(t, testUnknownStageIsNotACouncil) }

func testUnknownStageIsNotACouncil(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 48)
	press(m, "esc", "r")
	m.apply(engine.Event{Type: engine.StageStarted, Stage: engine.Stage(99)})
	if m.council() || m.sessStrategy != config.Race {
		t.Errorf("an undeclared stage made the screen %s (council %v)", m.sessStrategy, m.council())
	}
	m.apply(engine.Event{Type: engine.StageStarted, Stage: engine.StageReview})
	if !m.council() || m.sessStrategy != config.Council {
		t.Errorf("the council's review stage: screen %s (council %v)", m.sessStrategy, m.council())
	}
}

// TestTimelineStagesInRegistryOrder: the timeline orders stages as the
// registry declares them, a router's first, an undeclared one last.
func TestTimelineStagesInRegistryOrder(t *testing.T) {
	synctest.Test(t, testTimelineStagesInRegistryOrder)
}

func testTimelineStagesInRegistryOrder(t *testing.T) {
	order := []engine.Stage{engine.StageClassify, engine.StageNone, engine.StageAnswers, engine.StageReview,
		engine.StageSynthesis, engine.StageSections, engine.StageMerge, engine.Stage(99)}
	for i := 1; i < len(order); i++ {
		if stageRank(order[i-1]) >= stageRank(order[i]) {
			t.Errorf("stage %q ranks %d, not before %q at %d", order[i-1], stageRank(order[i-1]), order[i], stageRank(order[i]))
		}
	}
}
