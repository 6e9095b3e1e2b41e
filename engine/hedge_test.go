package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

const ms = time.Millisecond

// window fills a model's latency window: finished calls, then lower bounds.
func window(finished, bounds []time.Duration) *modelStats {
	st := &modelStats{}
	for _, d := range finished {
		st.addOK(d/4, d)
	}
	for _, d := range bounds {
		st.addLowerBound(d)
	}
	return st
}

// spread is n latencies from lo in steps of step.
func spread(n int, lo, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + time.Duration(i)*step
	}
	return out
}

// TestAdaptiveDelay: the delay is the configured quantile unless a slow
// mode holds more of the calls than the quantile leaves out; then it is
// the knee, also once the hedges themselves have cut the slow calls (lower
// bounds just past the knee, which must not move it).
func TestAdaptiveDelay(t *testing.T) {
	fast := spread(70, 1000*ms, 10*ms) // 1.00s .. 1.69s
	for _, c := range []struct {
		name             string
		finished, bounds []time.Duration
		want             time.Duration
		share            float64 // 0: no slow mode
	}{
		{"too few samples: the fallback", spread(10, 100*ms, 10*ms), nil, 400 * ms, 0},
		{"one mode: p95", spread(100, 10*ms, 10*ms), nil, 950 * ms, 0},
		{"3% slow: p95 lies before the slow mode", append(spread(97, 1000*ms, 5*ms), spread(3, 9*time.Second, 100*ms)...), nil, 1470 * ms, 0.03},
		{"30% slow: the knee", append(fast, spread(30, 8*time.Second, 100*ms)...), nil, 1690 * ms, 0.3},
		{"30% slow, most cut by hedges: still the knee", append(fast, spread(5, 8*time.Second, 100*ms)...), spread(25, 2400*ms, 20*ms), 1690 * ms, 0.3},
		{"30% slow, all cut by hedges: the knee below the bounds", fast, spread(30, 2400*ms, 20*ms), 1690 * ms, 0.3},
		{"2% of calls cut by hedges above every finished one: p95", spread(98, 1000*ms, 5*ms), spread(2, 2000*ms, 5*ms), 1470 * ms, 0.02},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := window(c.finished, c.bounds)
			got, knee := adaptiveDelay(st.sorted(), 0.95, 400*ms)
			if got != c.want || knee != (c.share > 0.05) {
				t.Errorf("delay %v at the knee %v, want %v at the knee %v", got, knee, c.want, c.share > 0.05)
			}
			m, ok := st.slowMode()
			if ok != (c.share > 0) || ok && (m.Share < c.share-1e-9 || m.Share > c.share+1e-9) {
				t.Errorf("slow mode %+v found %v, want share %v", m, ok, c.share)
			}
		})
	}
}

// TestLateHedge: a backup that would most likely end after the primary
// does not fire; one fired before a slow mode does; without enough
// samples of the backup nothing is judged.
func TestLateHedge(t *testing.T) {
	backup := &model{}
	for range minHedgeSamples {
		backup.stats.addOK(100*ms, 800*ms)
	}
	// Calls past 2s end by 2.3s: a backup needing 800ms cannot win.
	smooth := &model{}
	for _, d := range append(spread(90, 1000*ms, 10*ms), spread(10, 2000*ms, 30*ms)...) {
		smooth.stats.addOK(d/4, d)
	}
	if !(&Engine{}).lateHedge(smooth, backup, 2000*ms) {
		t.Errorf("a backup at 2s + 800ms against calls that end by 2.3s fired")
	}
	// Calls past the knee are eight times slower: the backup wins.
	bimodal := &model{}
	for _, d := range append(spread(70, 1000*ms, 10*ms), spread(30, 8*time.Second, 100*ms)...) {
		bimodal.stats.addOK(d/4, d)
	}
	if (&Engine{}).lateHedge(bimodal, backup, 1690*ms) {
		t.Errorf("a backup at the knee, before a slow mode, was held as late")
	}
	if (&Engine{}).lateHedge(smooth, &model{}, 2000*ms) {
		t.Errorf("judged late without the backup's latencies")
	}
}

// TestHedgeFiresAtTheKnee: a primary with three calls in ten eight times
// slower hedges at the fast mode's slowest call, not at its p95 (inside
// the slow mode), and HedgeTail reports the slow share and what it needs.
func TestHedgeFiresAtTheKnee(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.Budget = config.Duration{}
		// 100..190ms, every call%10 < 3 eight seconds.
		p := newFake(func(call int) script {
			if call%10 < 3 {
				return script{ttft: 8 * time.Second, text: "p"}
			}
			return script{ttft: time.Duration(call%10+10) * 10 * ms, text: "p"}
		})
		e := newTestEngine(c, map[string]*fake{"p": p, "b": fixed(script{ttft: 50 * ms, text: "b"})})
		defer e.Close()
		for range 40 {
			collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Models: []string{"p"}})
		}
		tail, ok := e.HedgeTail("p")
		if !ok || tail.Knee != 190*ms || tail.SlowShare != 0.3 || tail.Delay != 190*ms || tail.NeedsMaxExtra != 0.4 {
			t.Fatalf("tail %+v: want the knee at 190ms, 30%% slow, the delay there, 0.40 needed (0.3 + 2 sd over 100)", tail)
		}
		p.scripts = func(int) script { return script{ttft: 8 * time.Second, text: "p"} }
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		if h, ok := find(evs, HedgeFired, "b"); !ok || h.T != 190*ms {
			t.Errorf("hedge fired %v at %v, want at the knee 190ms", ok, h.T)
		}
		if sum.Winner != "b" {
			t.Errorf("winner %q, want the backup", sum.Winner)
		}
	})
}

// kneeRig is an engine whose primary p shows a slow mode (calls of 100 to
// 190ms, three in ten eight seconds: the knee at 190ms) after 40 races of
// p alone, and whose next calls of p are all slow; b answers in 50ms
// unless backup says otherwise.
func kneeRig(t *testing.T, c *config.Config, backup *fake) (*Engine, *fake) {
	t.Helper()
	p := newFake(func(call int) script {
		if call%10 < 3 {
			return script{ttft: 8 * time.Second, text: "p"}
		}
		return script{ttft: time.Duration(call%10+10) * 10 * ms, text: "p"}
	})
	if backup == nil {
		backup = fixed(script{ttft: 50 * ms, text: "b"})
	}
	e := newTestEngine(c, map[string]*fake{"p": p, "b": backup})
	for range 40 {
		collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Models: []string{"p"}})
	}
	p.mu.Lock()
	p.scripts = func(int) script { return script{ttft: 8 * time.Second, text: "p"} }
	p.mu.Unlock()
	return e, p
}

// replaced is what a hedge session says about a replacement: hedge_fired
// with reason replaced and its time, and the primary's summary row.
func replaced(evs []Event, sum *Summary) (fired Event, ok bool, primary ModelResult) {
	for _, ev := range evs {
		if ev.Type == HedgeFired && ev.Reason == ReasonReplaced {
			fired, ok = ev, true
		}
	}
	for _, r := range sum.Models {
		if r.ID == "p" && r.Role == RolePrimary {
			primary = r
			break
		}
	}
	return fired, ok, primary
}

// TestHedgeReplacesAtTheKnee: the timer fires at the knee of the
// primary's slow mode, max_extra refuses a backup beside it, and with
// hedge.replace the primary is cancelled (replaced, not failed) and the
// backup asked in its place, whose answer wins; no call more was in
// flight at any time.
func TestHedgeReplacesAtTheKnee(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.MaxExtra, c.Hedge.Replace = 0, true
		e, p := kneeRig(t, c, nil)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		h, ok, pr := replaced(evs, sum)
		if !ok || h.T != 190*ms || h.Model != "b" || h.Delay != 190*ms {
			t.Errorf("hedge_fired replaced %v %+v: want at the knee 190ms, for b", ok, h)
		}
		if pr.Status != AttemptCancelledStatus || pr.Reason != string(ReasonReplaced) {
			t.Errorf("primary %s/%s, want cancelled/replaced", pr.Status, pr.Reason)
		}
		if sum.Winner != "b" || sum.Answer != "b" || sum.Elapsed != 240*ms || !sum.HedgeFired || !sum.HedgeReplaced {
			t.Errorf("winner %q %q at %v, fired %v replaced %v: want b at 240ms, both true", sum.Winner, sum.Answer, sum.Elapsed, sum.HedgeFired, sum.HedgeReplaced)
		}
		if sum.Status != StatusDecided || len(sum.Degraded) != 0 {
			t.Errorf("status %s %v: a replacement is not a failure", sum.Status, sum.Degraded)
		}
		if line := sum.Line(); !strings.Contains(line, "p primary cancelled (replaced)") {
			t.Errorf("summary line %q does not say the primary was replaced", line)
		}
		if _, skipped := find(evs, AttemptSkipped, "b"); skipped {
			t.Errorf("the backup was also skipped as hedge_budget")
		}
		if c, err := find(evs, AttemptCancelled, "p"); !err || c.Reason != ReasonReplaced || c.T != 190*ms {
			t.Errorf("attempt_cancelled %+v: want p replaced at 190ms", c)
		}
		if peak := p.peak.Load(); peak != 1 {
			t.Errorf("primary calls in flight %d", peak)
		}
		if ok := e.models["p"].breaker.snapshot(); ok.State != BreakerClosed {
			t.Errorf("breaker %s after a replacement", ok.State)
		}
		// A recording (events as --events writes them) reads back as it
		// was, the replacement with it.
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if b2, _ := json.Marshal(back); string(b2) != string(b) {
				t.Errorf("read back %s\n  as %s", b, b2)
			}
			if ev.Type == HedgeFired && !strings.Contains(string(b), `"reason":"replaced"`) {
				t.Errorf("hedge_fired %s without its reason", b)
			}
			if ev.Type == SessionDone && !strings.Contains(string(b), `"hedge_replaced":true`) {
				t.Errorf("session_done %s without hedge_replaced", b)
			}
		}
		// The cut counts in the slow mode it was cut for.
		if m, ok := e.models["p"].stats.slowMode(); !ok || m.Knee != 190*ms || m.Share < 0.3 {
			t.Errorf("slow mode %+v %v after the cut: want the knee 190ms kept, share at least 0.3", m, ok)
		}
	})
}

// TestHedgeReplacesOnlyAtAKneeItsBudgetRefuses: no replacement with
// hedge.replace off, with a fixed delay or a quantile without a slow
// mode, nor when max_extra allows the backup beside the primary.
func TestHedgeReplacesOnlyAtAKneeItsBudgetRefuses(t *testing.T) {
	for _, c := range []struct {
		name      string
		delay     config.HedgeDelay
		maxExtra  float64
		replace   bool
		oneMode   bool // p's window has no slow mode
		want      string
		wantReasn Reason // the primary's
	}{
		{"replace off: the primary runs on", config.HedgeDelay{Quantile: 0.95}, 0, false, false, "p", ""},
		{"fixed delay: no slow mode asked", config.HedgeDelay{Fixed: 190 * ms}, 0, true, false, "p", ""},
		{"quantile without a slow mode", config.HedgeDelay{Quantile: 0.95}, 0, true, true, "p", ""},
		{"max_extra allows it: a hedge beside the primary", config.HedgeDelay{Quantile: 0.95}, 1, true, false, "b", ReasonHedgeWon},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig("p", "b")
				cfg.Hedge.Delay, cfg.Hedge.MaxExtra, cfg.Hedge.Replace = c.delay, c.maxExtra, c.replace
				cfg.Hedge.Budget = config.Duration{}
				e, p := kneeRig(t, cfg, nil)
				defer e.Close()
				if c.oneMode {
					for range 256 {
						e.models["p"].stats.addOK(50*ms, 190*ms)
					}
					p.mu.Lock()
					p.scripts = func(int) script { return script{ttft: time.Second, text: "p"} }
					p.mu.Unlock()
				}
				evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
				if _, ok, pr := replaced(evs, sum); ok || sum.HedgeReplaced || pr.Reason == string(ReasonReplaced) {
					t.Errorf("replaced the primary (%s/%s)", pr.Status, pr.Reason)
				}
				if sum.Winner != c.want || Reason(result(sum, "p").Reason) != c.wantReasn {
					t.Errorf("winner %q, primary %s: want %q, %q", sum.Winner, result(sum, "p").Reason, c.want, c.wantReasn)
				}
				if c.maxExtra == 0 {
					if s, ok := find(evs, AttemptSkipped, "b"); !ok || s.Reason != ReasonHedgeBudget {
						t.Errorf("backup not skipped as hedge_budget: %+v", s)
					}
				}
			})
		})
	}
}

// TestHedgeReplacementFailsOver: a backup that replaced the primary and
// then failed leaves the session to a new call of the primary's model,
// never without an answer.
func TestHedgeReplacementFailsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.MaxExtra, c.Hedge.Replace = 0, true
		e, _ := kneeRig(t, c, fixed(script{ttft: 50 * ms, err: providers.Errorf(providers.KindHTTP, "500")}))
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		if _, ok, _ := replaced(evs, sum); !ok {
			t.Fatalf("no replacement")
		}
		var rows []string
		for _, r := range sum.Models {
			rows = append(rows, string(r.Role)+"/"+string(r.Status)+"/"+r.Reason)
		}
		want := []string{"primary/cancelled/replaced", "backup/failed/http", "primary/won/"}
		if !slices.Equal(rows, want) || sum.Winner != "p" {
			t.Errorf("rows %v, winner %q: want %v, p", rows, sum.Winner, want)
		}
	})
}

// TestCutsCountInTheSlowMode: primaries cut at an earlier, lower knee to
// replace them stay in the slow mode once the knee has risen past them;
// and once more than half the window is slow (cut or not) no slow mode is
// reported, so replacements stop: the delay is no longer a knee.
func TestCutsCountInTheSlowMode(t *testing.T) {
	fast := spread(70, 1000*ms, 10*ms) // 1.00s .. 1.69s
	st := window(fast, nil)
	for range 30 {
		st.addCut(1500 * ms)
	}
	if m, ok := st.slowMode(); !ok || m.Knee != 1690*ms || m.Share < 0.3-1e-9 || m.Share > 0.3+1e-9 {
		t.Errorf("slow mode %+v %v: want the knee 1.69s, share 0.3 (the cuts below it included)", m, ok)
	}
	if d, knee := adaptiveDelay(st.sorted(), 0.95, 400*ms); d != 1690*ms || !knee {
		t.Errorf("delay %v knee %v, want 1.69s at the knee", d, knee)
	}
	// The model turns slow: 60 of 100 calls cut, 40 finished.
	over := window(spread(40, 1000*ms, 10*ms), nil)
	for range 60 {
		over.addCut(1390 * ms)
	}
	if m, ok := over.slowMode(); ok {
		t.Errorf("slow mode %+v with 60%% of the window slow: want none (replacements stop)", m)
	}
	if _, knee := adaptiveDelay(over.sorted(), 0.95, 400*ms); knee {
		t.Errorf("the delay is a knee with 60%% of the window slow")
	}
}

// TestHedgeReplacementsStopWhenEveryCallIsSlow: a primary whose calls all
// turn slow is replaced only while its window still shows a slow mode
// (at least half its calls in the fast mode): here 28 fast calls of 40
// allow at most 28 replacements, and then none, however long it stays
// slow; its sessions wait on it and fail over as before, so the backup
// never takes the whole of the primary's load.
func TestHedgeReplacementsStopWhenEveryCallIsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.MaxExtra, c.Hedge.Replace = 0, true
		c.Hedge.Budget = config.Duration{}
		e, _ := kneeRig(t, c, nil)
		defer e.Close()
		var at []int
		for i := range 80 {
			_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
			if sum.HedgeReplaced {
				at = append(at, i)
			}
		}
		if len(at) == 0 || len(at) > 28 || at[len(at)-1] >= 40 {
			t.Errorf("replaced in sessions %v: want some, at most 28, none after the window turned slow", at)
		}
		if m, ok := e.models["p"].stats.slowMode(); ok {
			t.Errorf("a slow mode %+v reported with every recent call slow (replaced in %v): %v", m, at, e.models["p"].stats.sorted())
		}
	})
}

// TestSnapshotLowerBounds: the latency the breaker board shows says when
// a quantile is only a lower bound. A primary its hedge beat every time
// never finished a call: its p50 is the time it ran before it was
// cancelled, at least (P50AtLeast), not a latency it was measured at.
// Finished calls alone are exact, and a quantile stays exact while no
// cut call lies at or below it.
func TestSnapshotLowerBounds(t *testing.T) {
	beaten, _ := window(nil, spread(10, 400*ms, 10*ms)).snapshot()
	if beaten.Total.P50 != 440*ms || !beaten.Total.P50AtLeast || !beaten.Total.P99AtLeast {
		t.Errorf("every call beaten: Total = %+v, want p50 440ms marked at least, p99 at least", beaten.Total)
	}
	exact, _ := window(spread(10, 100*ms, 10*ms), nil).snapshot()
	if exact.Total.P50 != 140*ms || exact.Total.P50AtLeast || exact.Total.P95AtLeast || exact.Total.P99AtLeast {
		t.Errorf("finished calls only: Total = %+v, want exact quantiles", exact.Total)
	}
	// A recording's health line is as before when no quantile is a bound.
	if b, _ := json.Marshal(exact.Total); strings.Contains(string(b), "AtLeast") {
		t.Errorf("exact quantiles encode a bound mark: %s", b)
	}
	// 18 finished at 100-270ms, two cut at 2s: p50 exact, p99 at least.
	mixed, _ := window(spread(18, 100*ms, 10*ms), []time.Duration{2000 * ms, 2000 * ms}).snapshot()
	if mixed.Total.P50 != 190*ms || mixed.Total.P50AtLeast || mixed.Total.P99 != 2000*ms || !mixed.Total.P99AtLeast {
		t.Errorf("mixed: Total = %+v, want p50 190ms exact, p99 2s at least", mixed.Total)
	}
}
