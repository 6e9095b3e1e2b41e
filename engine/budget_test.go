package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func ptr(f float64) *float64 { return &f }

// A request's settings reach every attempt, over the model's and the
// tier's; a user's system prompt comes before the engine's instructions;
// a setting a model refuses is dropped for it, with a note.
func TestRequestSettingsReachEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(vote("billing", 10*time.Millisecond)),
			"b": fixed(vote("billing", 20*time.Millisecond)),
			"c": fixed(vote("billing", 30*time.Millisecond)),
		}
		c := testConfig("a", "b", "c")
		c.Consensus.Voters, c.Consensus.MinResponses = 3, 2
		tier := c.Tiers["t"]
		tier.System, tier.MaxTokens, tier.Temperature = "tier system", 300, ptr(1.0)
		c.Tiers["t"] = tier
		c.Models[1].System = "model b system"
		c.Models[2].Model = "o4-mini" // refuses a temperature
		e := newTestEngine(c, fakes)
		defer e.Close()

		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus,
			Settings: Settings{MaxTokens: 50, Temperature: ptr(0.3)}})
		for id, wantSys := range map[string]string{"a": "tier system", "b": "model b system", "c": "tier system"} {
			r := fakes[id].requests()[0]
			if !strings.HasPrefix(r.System, wantSys+"\n\n") || !strings.Contains(r.System, "Classify") {
				t.Errorf("%s's system prompt %q, want %q before the voter's instructions", id, r.System, wantSys)
			}
			if r.MaxTokens != 50 {
				t.Errorf("%s asked for %d tokens, want the request's 50", id, r.MaxTokens)
			}
		}
		if r := fakes["a"].requests()[0]; r.Temperature == nil || *r.Temperature != 0.3 {
			t.Errorf("a's temperature %v, want the request's 0.3", r.Temperature)
		}
		if r := fakes["c"].requests()[0]; r.Temperature != nil {
			t.Errorf("o4-mini was sent temperature %v; it refuses one", *r.Temperature)
		}
		if n := result(sum, "c").Noted(); !strings.Contains(n, "temperature dropped") {
			t.Errorf("c's note %q, want the dropped temperature named", n)
		}
		if n := result(sum, "a").Noted(); n != "" {
			t.Errorf("a's note %q, want none", n)
		}
	})
}

func pricey(ids ...string) *config.Config {
	c := testConfig(ids...)
	for i := range c.Models {
		c.Models[i].InputPerMTok, c.Models[i].OutputPerMTok, c.Models[i].MaxTokens = 10, 100, 1000 // up to $0.1 an answer
	}
	return c
}

// A session whose worst case crosses its cap does not start, and says why.
func TestSpendingCapRefusesASessionUpFront(t *testing.T) {
	c := pricey("a", "b", "c")
	e := newTestEngine(c, map[string]*fake{"a": fixed(script{text: "x"}), "b": fixed(script{text: "x"}), "c": fixed(script{text: "x"})})
	defer e.Close()
	_, err := e.Start(t.Context(), SessionRequest{Prompt: "x", MaxCostUSD: 0.05})
	if !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "max_cost_usd $0.05 ") {
		t.Errorf("Start over the cap: %v, want ErrOverBudget naming the cap", err)
	}
	// Unpriced (simulated) models cost nothing against any cap.
	free := testConfig("a")
	free.Models[0].InputPerMTok, free.Models[0].OutputPerMTok = 0, 0
	free.MaxCostUSD = 0.000001
	e2 := newTestEngine(free, map[string]*fake{"a": fixed(script{text: "x"})})
	defer e2.Close()
	if ch, err := e2.Start(t.Context(), SessionRequest{Prompt: "x"}); err != nil {
		t.Errorf("an unpriced model against a cap: %v", err)
	} else {
		for range ch {
		}
	}
}

// While a session runs, an attempt that would cross the cap is not
// launched: skipped (budget_cost), the session degraded, the cap reported.
func TestSpendingCapStopsAttemptsMidSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		fakes := map[string]*fake{
			// Streams 600 tokens ($0.06) and then fails.
			"p": fixed(script{ttft: 10 * time.Millisecond, text: strings.Repeat("w ", 700), after: 600, err: boom}),
			"b": fixed(script{ttft: 10 * time.Millisecond, text: "backup"}),
		}
		c := pricey("p", "b")
		e := newTestEngine(c, fakes)
		defer e.Close()
		// The hedge's worst case (a primary and a backup that may fail over
		// twice) is about $0.3; a $0.15 cap admits the session, not both.
		c.Hedge.MaxExtra = 0
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, MaxCostUSD: 0.35})
		if sum.CostCapUSD != 0.35 {
			t.Errorf("cost_cap_usd %v, want 0.35", sum.CostCapUSD)
		}
		// Now a cap that lets the primary go but not its failover: after the
		// primary's $0.06, a backup's worst $0.1 would cross $0.15.
		e2 := newTestEngine(pricey("p", "b"), fakes)
		defer e2.Close()
		sum2 := runPastTheEstimate(t, e2, SessionRequest{Prompt: "x", Strategy: config.Hedge, MaxCostUSD: 0.15})
		var skipped []string
		for _, r := range sum2.Models {
			if r.Status == AttemptSkippedStatus {
				skipped = append(skipped, r.ID+"/"+r.Reason)
			}
		}
		if !slices.Contains(skipped, "b/budget_cost") || sum2.Status != StatusFailed || !strings.Contains(sum2.Error, "spending cap ($0.15)") {
			t.Errorf("skipped %v, %s %q; want b skipped for budget_cost and the session failed naming the cap", skipped, sum2.Status, sum2.Error)
		}
	})
}

// The run's cap counts every session: once spent, a session that may
// cross it does not start.
func TestRunCapAcrossSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pricey("a")
		c.Models[0].MaxTokens = 10 // a session's worst case is about $0.002
		c.MaxRunCostUSD = 0.003
		e := newTestEngine(c, map[string]*fake{"a": fixed(script{ttft: time.Millisecond, text: strings.Repeat("w ", 10)})})
		defer e.Close()
		if _, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"}); sum.Answer == "" {
			t.Fatalf("the first session: %s %s", sum.Status, sum.Error)
		}
		if _, err := e.Start(t.Context(), SessionRequest{Prompt: "x"}); !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "the run has spent") {
			t.Errorf("second session: %v, want ErrOverBudget naming what the run has spent", err)
		}
	})
}

// An answer that came while the cap kept an attempt back is degraded,
// naming budget_cost.
func TestSpendingCapDegradesTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newTestEngine(pricey("a", "b", "c"), map[string]*fake{
			"a": fixed(script{ttft: time.Millisecond, text: "x"}), "b": fixed(script{ttft: time.Millisecond, text: "x"}), "c": fixed(script{ttft: time.Millisecond, text: "x"}),
		})
		defer e.Close()
		sum := runPastTheEstimate(t, e, SessionRequest{Prompt: "x", MaxCostUSD: 0.25}) // room for two answers of $0.1
		if sum.Status != StatusDegraded || !slices.Equal(sum.Degraded, []string{DegradedBudgetCost}) || result(sum, "c").Reason != "budget_cost" {
			t.Errorf("%s %v, c %+v; want degraded [budget_cost] with c skipped", sum.Status, sum.Degraded, result(sum, "c"))
		}
	})
}

// runPastTheEstimate runs a session without Start's check of its worst
// case, to test the cap while it runs.
func runPastTheEstimate(t *testing.T, e *Engine, req SessionRequest) *Summary {
	t.Helper()
	s, err := e.newSession(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	e.wg.Add(1)
	go s.runSession()
	var sum *Summary
	for ev := range s.q.out {
		if ev.Type == SessionDone {
			sum = ev.Summary
		}
	}
	return sum
}

// A kind that never sends a setting (Anthropic's temperature) has it
// dropped for its models with a note, not silently.
func TestKindThatRefusesASetting(t *testing.T) {
	providers.Register("refuses-temp-test", providers.Factory{Refuses: []string{"temperature"},
		New: func(context.Context, providers.Settings) (providers.Provider, error) { return nil, nil }})
	defer providers.Unregister("refuses-temp-test")
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("a")
		c.Providers["fake"] = config.ProviderConfig{Kind: "refuses-temp-test"}
		f := fixed(script{ttft: time.Millisecond, text: "x"})
		e := newTestEngine(c, map[string]*fake{"a": f})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Settings: Settings{Temperature: ptr(0.5)}})
		if r := f.requests()[0]; r.Temperature != nil || !strings.Contains(sum.Models[0].Noted(), "temperature dropped") {
			t.Errorf("temperature %v, note %q; want it dropped with a note", r.Temperature, sum.Models[0].Noted())
		}
	})
}

// Sessions running at once hold their worst case against the run's cap
// until they end: a second session that would cross it with the first's
// does not start, though nothing is spent yet; once the first has ended,
// only what it cost counts, and the hold is given back.
func TestRunCapHoldsWhatRunningSessionsMaySpend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pricey("a")
		c.Models[0].MaxTokens = 10 // a session's worst case is about $0.002
		c.MaxRunCostUSD = 0.003
		e := newTestEngine(c, map[string]*fake{"a": fixed(script{ttft: time.Second, text: "w"})})
		defer e.Close()
		first, err := e.Start(t.Context(), SessionRequest{Prompt: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Start(t.Context(), SessionRequest{Prompt: "x"}); !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "running") {
			t.Errorf("a second session while the first runs: %v, want ErrOverBudget naming what running sessions may cost", err)
		}
		for range first {
		}
		// The first cost a fraction of its worst case: the second fits now.
		if _, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"}); sum.Answer == "" {
			t.Errorf("after the first ended: %s %s, want the second to run", sum.Status, sum.Error)
		}
	})
}
