package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRaceFirstSuccessWinsAndLoserIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast := fixed(script{ttft: 40 * time.Millisecond, gap: 5 * time.Millisecond, text: "fast answer here"})
		slow := fixed(script{ttft: 2 * time.Second, gap: 5 * time.Millisecond, text: "slow answer"})
		e := newTestEngine(testConfig("fast", "slow"), map[string]*fake{"fast": fast, "slow": slow})
		defer e.Close()

		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})

		if sum.Status != StatusDecided || sum.Winner != "fast" || sum.Answer != "fast answer here" {
			t.Fatalf("got status %s winner %q answer %q, want decided fast %q", sum.Status, sum.Winner, sum.Answer, "fast answer here")
		}
		// A 50ms model (40ms to the first token, two 5ms gaps) against a 2s one.
		if sum.Elapsed != 50*time.Millisecond {
			t.Errorf("elapsed %v, want 50ms", sum.Elapsed)
		}
		c, ok := find(evs, AttemptCancelled, "slow")
		if !ok || c.Reason != ReasonLostRace {
			t.Fatalf("slow: got %+v, want attempt_cancelled lost_race", c)
		}
		if r := result(sum, "slow"); r.Status != AttemptCancelledStatus || r.Reason != "lost_race" {
			t.Errorf("slow result %s/%s, want cancelled/lost_race", r.Status, r.Reason)
		}
		// The loser's stream saw its context end the moment the race was won.
		if len(slow.cancelAt) != 1 || slow.cancelAt[0] != 50*time.Millisecond {
			t.Errorf("slow saw cancel at %v, want [50ms]", slow.cancelAt)
		}
		if n := slow.active.Load(); n != 0 {
			t.Errorf("slow has %d open streams after the session, want 0", n)
		}
	})
	// synctest.Test returns only when every goroutine of the bubble has exited.
}

func TestRaceFailuresDoNotEndTheRaceUnlessAllFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := providers.Errorf(providers.KindHTTP, "boom")
		bad := fixed(script{ttft: 10 * time.Millisecond, err: boom})
		good := fixed(script{ttft: 50 * time.Millisecond, text: "ok"})
		e := newTestEngine(testConfig("bad", "good"), map[string]*fake{"bad": bad, "good": good})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi"})
		if sum.Winner != "good" || sum.Status != StatusDegraded {
			t.Errorf("got winner %q status %s, want good degraded", sum.Winner, sum.Status)
		}
		if f, ok := find(evs, AttemptFailed, "bad"); !ok || f.Kind != providers.KindHTTP {
			t.Errorf("bad: got %+v, want attempt_failed http", f)
		}

		e2 := newTestEngine(testConfig("bad", "bad2"), map[string]*fake{"bad": bad, "bad2": fixed(script{ttft: 20 * time.Millisecond, err: boom})})
		defer e2.Close()
		_, sum = collect(e2, t.Context(), SessionRequest{Prompt: "hi"})
		if sum.Status != StatusFailed || sum.Answer != "" || sum.Error == "" {
			t.Errorf("all failed: got %s %q %q, want failed with an error", sum.Status, sum.Answer, sum.Error)
		}
	})
}

func TestEventsAreOrderedWithoutGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := fixed(script{ttft: 10 * time.Millisecond, gap: time.Millisecond, text: "one two three four"})
		b := fixed(script{ttft: 500 * time.Millisecond, text: "late"})
		e := newTestEngine(testConfig("a", "b"), map[string]*fake{"a": a, "b": b})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi"})
		for i, ev := range evs {
			if ev.Seq != i+1 {
				t.Fatalf("event %d (%s) has seq %d, want %d", i, ev.Type, ev.Seq, i+1)
			}
			if ev.Session != sum.Session {
				t.Fatalf("event %d has session %q, want %q", i, ev.Session, sum.Session)
			}
			if i > 0 && ev.T < evs[i-1].T {
				t.Fatalf("event %d goes back in time", i)
			}
		}
		if evs[0].Type != SessionStarted || evs[len(evs)-1].Type != SessionDone {
			t.Errorf("first %s last %s, want session_started ... session_done", evs[0].Type, evs[len(evs)-1].Type)
		}
		var text string
		for _, ev := range evs {
			if ev.Type == Delta && ev.Model == "a" {
				text += ev.Text
			}
		}
		if text != "one two three four" {
			t.Errorf("deltas of a join to %q, want the whole answer", text)
		}
		for _, want := range []EventType{SessionStarted, AttemptStarted, FirstToken, Delta, AttemptDone, Decided, AttemptCancelled, SessionDone} {
			if count(evs, want) == 0 {
				t.Errorf("no %s event", want)
			}
		}
	})
}

func TestSlowConsumerGetsCoalescedDeltasAndEveryOtherEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		words := ""
		for range 200 {
			words += "w "
		}
		a := fixed(script{ttft: time.Millisecond, gap: time.Microsecond, text: words})
		e := newTestEngine(testConfig("a"), map[string]*fake{"a": a})
		defer e.Close()
		ch, err := e.Start(t.Context(), SessionRequest{Prompt: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the consumer looks away; the engine must not wait
		synctest.Wait()
		var evs []Event
		for ev := range ch {
			evs = append(evs, ev)
		}
		deltas, text := 0, ""
		for _, ev := range evs {
			if ev.Type == Delta {
				deltas++
				text += ev.Text
			}
		}
		if text != words {
			t.Errorf("coalesced text has %d bytes, want %d", len(text), len(words))
		}
		if deltas >= 200 {
			t.Errorf("%d deltas reached a consumer that was away, want them merged", deltas)
		}
		if evs[len(evs)-1].Type != SessionDone || count(evs, AttemptDone) != 1 || count(evs, Decided) != 1 {
			t.Errorf("final events missing: %d events", len(evs))
		}
		if got := evs[len(evs)-1].Summary.Elapsed; got > 10*time.Millisecond {
			t.Errorf("the session took %v with a slow consumer; the engine must not wait for it", got)
		}
	})
}

func TestConsensusDecidesAtThirdAgreeingVoteAndCancelsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"v1": fixed(vote("billing", 100*time.Millisecond)),
			"v2": fixed(vote("billing", 200*time.Millisecond)),
			"v3": fixed(vote("technical", 250*time.Millisecond)),
			"v4": fixed(vote("billing", 300*time.Millisecond)),
			"v5": fixed(vote("billing", 5*time.Second)),
		}
		c := testConfig("v1", "v2", "v3", "v4", "v5")
		e := newTestEngine(c, fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "I was charged twice", Strategy: config.Consensus})
		if sum.Status != StatusDecided || sum.Answer != "billing" {
			t.Fatalf("got %s %q, want decided billing", sum.Status, sum.Answer)
		}
		// After v4: billing 3, technical 1, one voter left: 3 > 1+1.
		if sum.Elapsed != 300*time.Millisecond {
			t.Errorf("decided at %v, want 300ms (the third billing vote)", sum.Elapsed)
		}
		d, _ := find(evs, Decided, "")
		if d.T != 300*time.Millisecond || d.Text != "billing" {
			t.Errorf("decided event %+v, want billing at 300ms", d)
		}
		if r := result(sum, "v5"); r.Status != AttemptCancelledStatus || r.Reason != "decided" {
			t.Errorf("v5: %s/%s, want cancelled/decided", r.Status, r.Reason)
		}
		if sum.Votes["billing"] != 3 || sum.Votes["technical"] != 1 {
			t.Errorf("votes %v, want billing 3 technical 1", sum.Votes)
		}
		if sum.Agreement != 0.75 {
			t.Errorf("agreement %v, want 0.75", sum.Agreement)
		}
	})
}

func TestConsensusDecidesEarlyWithAUnanimousStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{}
		ids := []string{"v1", "v2", "v3", "v4", "v5"}
		for i, id := range ids {
			fakes[id] = fixed(vote("billing", time.Duration(i+1)*100*time.Millisecond))
		}
		e := newTestEngine(testConfig(ids...), fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
		if sum.Elapsed != 300*time.Millisecond || count(evs, AttemptCancelled) != 2 {
			t.Errorf("decided at %v with %d cancelled, want 300ms and 2", sum.Elapsed, count(evs, AttemptCancelled))
		}
	})
}

func TestConsensusTieBreaks(t *testing.T) {
	tie := func() map[string]*fake {
		return map[string]*fake{
			"v1":   fixed(vote("billing", 10*time.Millisecond)),
			"v2":   fixed(vote("technical", 20*time.Millisecond)),
			"v3":   fixed(vote("billing", 30*time.Millisecond)),
			"v4":   fixed(vote("technical", 40*time.Millisecond)),
			"sage": fixed(vote("technical", 50*time.Millisecond)),
		}
	}
	tests := []struct {
		policy     config.TieBreak
		wantStatus Status
		wantAnswer string
	}{
		{config.TieEscalate, StatusDecided, "technical"},
		{config.TieDefault, StatusDegraded, "general"},
		{config.TieFail, StatusFailed, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := testConfig("v1", "v2", "v3", "v4", "sage")
				c.Consensus.Voters = 4
				c.Consensus.TieBreak = tt.policy
				c.Consensus.EscalateTo = "sage"
				e := newTestEngine(c, tie())
				defer e.Close()
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
				if sum.Status != tt.wantStatus || sum.Answer != tt.wantAnswer || sum.TieBreak != string(tt.policy) {
					t.Errorf("got %s %q tie_break %q, want %s %q %q", sum.Status, sum.Answer, sum.TieBreak, tt.wantStatus, tt.wantAnswer, tt.policy)
				}
				escalated := false
				for _, r := range sum.Models {
					if r.Role == RoleEscalated {
						escalated = true
					}
				}
				if escalated != (tt.policy == config.TieEscalate) {
					t.Errorf("escalation attempt present = %v, want %v", escalated, tt.policy == config.TieEscalate)
				}
			})
		})
	}
}

func TestConsensusQuorumMissedFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := providers.Errorf(providers.KindHTTP, "down")
		fakes := map[string]*fake{
			"v1": fixed(vote("billing", 10*time.Millisecond)),
			"v2": fixed(script{ttft: 20 * time.Millisecond, text: "I refuse to classify this."}),
			"v3": fixed(script{ttft: 30 * time.Millisecond, err: boom}),
			"v4": fixed(script{ttft: 40 * time.Millisecond, err: boom}),
			"v5": fixed(vote("billing", 50*time.Millisecond)),
		}
		e := newTestEngine(testConfig("v1", "v2", "v3", "v4", "v5"), fakes)
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
		if sum.Status != StatusFailed || sum.Answer != "" {
			t.Fatalf("got %s %q, want failed with no answer", sum.Status, sum.Answer)
		}
		if sum.Invalid != 1 {
			t.Errorf("invalid votes %d, want 1", sum.Invalid)
		}
		if v, ok := find(evs, VoteCast, "v2"); !ok || v.Vote != "" || v.Err == "" {
			t.Errorf("v2's vote %+v, want an invalid vote with a reason", v)
		}
		// After v4 fails: 1 valid + 1 pending < 3: fail at once, cancel v5.
		if sum.Elapsed != 40*time.Millisecond {
			t.Errorf("failed at %v, want 40ms (as soon as quorum was out of reach)", sum.Elapsed)
		}
		// A failed vote was not "decided": v5 is cancelled for the lost quorum.
		if r := result(sum, "v5"); r.Status != AttemptCancelledStatus || r.Reason != "no_quorum" {
			t.Errorf("v5: %s/%s, want cancelled/no_quorum", r.Status, r.Reason)
		}
	})
}

func TestHedgeFiresAtTheDelayNotBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		primary := fixed(script{ttft: time.Second, text: "primary"})
		backup := fixed(script{ttft: 50 * time.Millisecond, text: "backup"})
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Fixed: 300 * time.Millisecond}
		c.Hedge.Budget = config.Duration{Duration: 500 * time.Millisecond}
		e := newTestEngine(c, map[string]*fake{"p": primary, "b": backup})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
		h, ok := find(evs, HedgeFired, "b")
		if !ok || h.T != 300*time.Millisecond || h.Delay != 300*time.Millisecond {
			t.Fatalf("hedge_fired %+v, want at 300ms", h)
		}
		if s, _ := find(evs, AttemptStarted, "b"); s.T != 300*time.Millisecond {
			t.Errorf("backup started at %v, want 300ms", s.T)
		}
		// The backup finishes at 350ms, but the primary is preferred until the
		// 500ms budget; it is still running then, so the backup wins at 500ms.
		if sum.Winner != "b" || sum.Elapsed != 500*time.Millisecond {
			t.Errorf("winner %q at %v, want b at 500ms", sum.Winner, sum.Elapsed)
		}
		if r := result(sum, "p"); r.Status != AttemptCancelledStatus || r.Reason != "hedge_won" {
			t.Errorf("primary %s/%s, want cancelled/hedge_won", r.Status, r.Reason)
		}
	})
}

func TestHedgePrimaryWithinBudgetWinsOverAnEarlierBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Fixed: 100 * time.Millisecond}
		c.Hedge.Budget = config.Duration{Duration: time.Second}
		e := newTestEngine(c, map[string]*fake{
			"p": fixed(script{ttft: 800 * time.Millisecond, text: "primary"}),
			"b": fixed(script{ttft: 100 * time.Millisecond, text: "backup"}),
		})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
		if sum.Winner != "p" || sum.Elapsed != 800*time.Millisecond {
			t.Errorf("winner %q at %v, want p at 800ms", sum.Winner, sum.Elapsed)
		}
		if r := result(sum, "b"); r.Status != AttemptDoneStatus {
			t.Errorf("backup %s, want done (finished, not chosen)", r.Status)
		}
	})
}

func TestHedgePrimaryFastNoBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		b := fixed(script{ttft: 10 * time.Millisecond, text: "backup"})
		e := newTestEngine(c, map[string]*fake{"p": fixed(script{ttft: 50 * time.Millisecond, text: "primary"}), "b": b})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
		if sum.Winner != "p" || count(evs, HedgeFired) != 0 || b.Calls() != 0 || sum.HedgeFired {
			t.Errorf("winner %q, hedges %d, backup calls %d: want p, no hedge", sum.Winner, count(evs, HedgeFired), b.Calls())
		}
	})
}

func TestHedgeFailoverFiresAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Fixed: 300 * time.Millisecond}
		c.Hedge.MaxExtra = 0 // failover is not a hedge: the budget does not apply
		e := newTestEngine(c, map[string]*fake{
			"p": fixed(script{ttft: 20 * time.Millisecond, err: providers.Errorf(providers.KindRateLimited, "429")}),
			"b": fixed(script{ttft: 30 * time.Millisecond, text: "backup"}),
		})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
		h, _ := find(evs, HedgeFired, "b")
		if h.T != 20*time.Millisecond || sum.Winner != "b" || sum.Elapsed != 50*time.Millisecond || sum.Status != StatusDegraded {
			t.Errorf("hedge at %v, winner %q at %v, %s; want 20ms, b at 50ms, degraded", h.T, sum.Winner, sum.Elapsed, sum.Status)
		}
	})
}

func TestHedgeSuppressedPastMaxExtra(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Fixed: 100 * time.Millisecond}
		c.Hedge.MaxExtra = 0.25
		c.Hedge.Budget = config.Duration{Duration: 0}
		e := newTestEngine(c, map[string]*fake{
			"p": fixed(script{ttft: 300 * time.Millisecond, text: "primary"}),
			"b": fixed(script{ttft: 10 * time.Millisecond, text: "backup"}),
		})
		defer e.Close()
		var fired []bool
		for range 8 {
			evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
			_, ok := find(evs, HedgeFired, "")
			if !ok {
				if s, ok := find(evs, AttemptSkipped, "b"); !ok || s.Reason != ReasonHedgeBudget {
					t.Errorf("suppressed hedge without attempt_skipped hedge_budget: %+v", s)
				}
			}
			fired = append(fired, ok)
		}
		// ceil(0.25 x n) hedges in n sessions: sessions 1 and 5 may hedge.
		want := []bool{true, false, false, false, true, false, false, false}
		for i := range want {
			if fired[i] != want[i] {
				t.Fatalf("hedges fired %v, want %v", fired, want)
			}
		}
	})
}

func TestHedgeAdaptiveDelayUsesThePrimarysQuantile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.FallbackDelay = config.Duration{Duration: 700 * time.Millisecond}
		c.Hedge.Budget = config.Duration{Duration: 0}
		p := newFake(func(call int) script {
			return script{ttft: time.Duration(call%20+1) * 10 * time.Millisecond, text: "p"}
		})
		e := newTestEngine(c, map[string]*fake{"p": p, "b": fixed(script{ttft: 5 * time.Second, text: "b"})})
		defer e.Close()
		// Too few samples: the fallback delay applies.
		evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		if count(evs, HedgeFired) != 0 {
			t.Fatalf("hedged before the 700ms fallback delay")
		}
		for range 19 {
			collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Models: []string{"p"}})
		}
		// 20 samples of 10..200ms: p95 is 190ms; the next call takes 10ms, so
		// make the primary slow to see the hedge fire at p95.
		p.scripts = func(int) script { return script{ttft: 2 * time.Second, text: "p"} }
		evs, _ = collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
		h, ok := find(evs, HedgeFired, "b")
		if !ok || h.T != 190*time.Millisecond {
			t.Errorf("hedge fired %v at %v, want at the primary's p95 190ms", ok, h.T)
		}
	})
}

func TestBreakerTripsSkipsHalfOpensAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		healthy := false
		flaky := newFake(func(int) script {
			if healthy {
				return script{ttft: 10 * time.Millisecond, text: "ok"}
			}
			return script{ttft: 10 * time.Millisecond, err: providers.Errorf(providers.KindHTTP, "500")}
		})
		c := testConfig("flaky")
		e := newTestEngine(c, map[string]*fake{"flaky": flaky})
		defer e.Close()
		// min_requests 4: the first three failures do not trip it.
		var last []Event
		for i := range 4 {
			last, _ = collect(e, t.Context(), SessionRequest{Prompt: "x"})
			if i < 3 && count(last, BreakerChanged) != 0 {
				t.Fatalf("breaker changed after %d failures, want it closed below min_requests", i+1)
			}
		}
		if b, ok := find(last, BreakerChanged, "flaky"); !ok || b.From != BreakerClosed || b.To != BreakerOpen {
			t.Fatalf("after 4 failures: %+v, want closed -> open", b)
		}
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if s, ok := find(evs, AttemptSkipped, "flaky"); !ok || s.Reason != ReasonBreakerOpen || flaky.Calls() != 4 {
			t.Fatalf("open breaker: skipped=%v calls=%d, want skipped breaker_open and no call", ok, flaky.Calls())
		}
		if sum.Status != StatusFailed || sum.Breakers["flaky"].State != BreakerOpen {
			t.Errorf("got %s, breaker %s; want failed, open", sum.Status, sum.Breakers["flaky"].State)
		}
		if h := e.Health()[0].Breaker; h.HalfOpenIn != 30*time.Second || h.FailureRate != 1 || h.Requests != 4 {
			t.Errorf("open breaker %+v, want half-open in 30s and the 4/4 failures that tripped it", h)
		}
		time.Sleep(30*time.Second + time.Millisecond)
		healthy = true
		evs, sum = collect(e, t.Context(), SessionRequest{Prompt: "x"})
		var changes []string
		for _, ev := range evs {
			if ev.Type == BreakerChanged {
				changes = append(changes, ev.From.String()+">"+ev.To.String())
			}
		}
		if len(changes) != 2 || changes[0] != "open>half_open" || changes[1] != "half_open>closed" {
			t.Errorf("changes %v, want [open>half_open half_open>closed]", changes)
		}
		if sum.Status != StatusDecided {
			t.Errorf("probe session %s, want decided", sum.Status)
		}
	})
}

func TestBreakerHalfOpenProbeFailureReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fixed(script{ttft: time.Millisecond, err: providers.Errorf(providers.KindHTTP, "500")})
		e := newTestEngine(testConfig("f"), map[string]*fake{"f": f})
		defer e.Close()
		for range 4 {
			collect(e, t.Context(), SessionRequest{Prompt: "x"})
		}
		time.Sleep(31 * time.Second)
		evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		last, _ := find(evs[len(evs)/2:], BreakerChanged, "f")
		if last.To != BreakerOpen || e.Health()[0].Breaker.State != BreakerOpen {
			t.Errorf("after a failed probe: %+v, want back to open", last)
		}
	})
}

func TestCancelledLoserIsNotABreakerFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast := fixed(script{ttft: 10 * time.Millisecond, text: "a"})
		slow := fixed(script{ttft: time.Second, text: "b"})
		e := newTestEngine(testConfig("fast", "slow"), map[string]*fake{"fast": fast, "slow": slow})
		defer e.Close()
		for range 10 {
			collect(e, t.Context(), SessionRequest{Prompt: "x"})
		}
		for _, h := range e.Health() {
			if h.Breaker.State != BreakerClosed || h.Breaker.Failures != 0 {
				t.Errorf("%s: %+v, want closed with no failures", h.ID, h.Breaker)
			}
		}
	})
}

func TestForcedBreakers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := fixed(script{ttft: 10 * time.Millisecond, text: "a"})
		b := fixed(script{ttft: 20 * time.Millisecond, text: "b"})
		e := newTestEngine(testConfig("a", "b"), map[string]*fake{"a": a, "b": b})
		defer e.Close()
		if err := e.ForceBreaker("a", ForceOpen); err != nil {
			t.Fatal(err)
		}
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if sum.Winner != "b" || a.Calls() != 0 || sum.Breakers["a"].Forced != "open" {
			t.Errorf("forced open: winner %q, a called %d times, %+v", sum.Winner, a.Calls(), sum.Breakers["a"])
		}
		if err := e.ForceBreaker("a", ForceNone); err != nil {
			t.Fatal(err)
		}
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if sum.Winner != "a" {
			t.Errorf("after unforcing: winner %q, want a", sum.Winner)
		}
		if err := e.ForceBreaker("nope", ForceOpen); err == nil {
			t.Error("forcing an unknown model: no error")
		}
	})
}

func TestStalledStreamFailsAfterStallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := fixed(script{ttft: 10 * time.Millisecond, gap: 10 * time.Millisecond, text: "a b c d e", after: 2, stall: true})
		e := newTestEngine(testConfig("st"), map[string]*fake{"st": st})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		f, ok := find(evs, AttemptFailed, "st")
		// Last token at 20ms; stall_timeout 3s.
		if !ok || f.Kind != providers.KindStalled || f.T != 3*time.Second+20*time.Millisecond {
			t.Fatalf("got %+v, want attempt_failed stalled at 3.02s", f)
		}
		if sum.Models[0].Reason != "stalled" || sum.Models[0].Status != AttemptFailedStatus {
			t.Errorf("result %+v, want failed/stalled", sum.Models[0])
		}
	})
}

func TestPerModelAndSessionTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("slow", "slower")
		c.Tiers["t"] = config.TierConfig{Models: []string{"slow", "slower"}, Timeout: config.Duration{Duration: 5 * time.Second},
			PerModelTimeout: config.Duration{Duration: 2 * time.Second}, StallTimeout: config.Duration{Duration: time.Second}}
		e := newTestEngine(c, map[string]*fake{
			"slow":   fixed(script{ttft: 10 * time.Second, text: "x"}),
			"slower": fixed(script{ttft: 10 * time.Second, text: "x"}),
		})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		for _, r := range sum.Models {
			if r.Status != AttemptTimeout || r.Reason != "timeout" {
				t.Errorf("%s: %s/%s, want timeout", r.ID, r.Status, r.Reason)
			}
		}
		if sum.Elapsed != 2*time.Second || sum.Status != StatusFailed {
			t.Errorf("session %s at %v, want failed at 2s", sum.Status, sum.Elapsed)
		}

		c.Tiers["t"] = config.TierConfig{Models: []string{"slow"}, Timeout: config.Duration{Duration: time.Second},
			PerModelTimeout: config.Duration{Duration: 2 * time.Second}}
		e2 := newTestEngine(c, map[string]*fake{"slow": fixed(script{ttft: 10 * time.Second, text: "x"}), "slower": fixed(script{})})
		defer e2.Close()
		_, sum = collect(e2, t.Context(), SessionRequest{Prompt: "x"})
		if r := sum.Models[0]; r.Status != AttemptCancelledStatus || r.Reason != "budget" || sum.Elapsed != time.Second {
			t.Errorf("session timeout: %+v at %v, want cancelled/budget at 1s", r, sum.Elapsed)
		}
	})
}

func TestUserCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newTestEngine(testConfig("a"), map[string]*fake{"a": fixed(script{ttft: 10 * time.Second, text: "x"})})
		defer e.Close()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		evs, sum := collect(e, ctx, SessionRequest{Prompt: "x"})
		c, ok := find(evs, AttemptCancelled, "a")
		if !ok || c.Reason != ReasonUser || sum.Status != StatusCancelled || sum.Elapsed != 100*time.Millisecond {
			t.Errorf("got %+v, %s at %v; want cancelled/user, session cancelled at 100ms", c, sum.Status, sum.Elapsed)
		}
		if len(sum.Degraded) != 0 || sum.Error != "cancelled by the user" {
			t.Errorf("degraded %v error %q; want none and the cancel named", sum.Degraded, sum.Error)
		}
	})
}

// TestShutdownCancel: a caller's context cancelled with ErrShutdown (a
// server draining) cancels the session with reason shutdown, and the
// summary says so: cancelled, not failed, not the user.
func TestShutdownCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newTestEngine(testConfig("a"), map[string]*fake{"a": fixed(script{ttft: 10 * time.Second, text: "x"})})
		defer e.Close()
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(100*time.Millisecond, func() { cancel(ErrShutdown) })
		evs, sum := collect(e, ctx, SessionRequest{Prompt: "x"})
		c, ok := find(evs, AttemptCancelled, "a")
		if !ok || c.Reason != ReasonShutdown || sum.Status != StatusCancelled || sum.Models[0].Reason != string(ReasonShutdown) {
			t.Errorf("got %+v, %s, row %+v; want cancelled/shutdown", c, sum.Status, sum.Models[0])
		}
		if !strings.Contains(sum.Error, "shut down") {
			t.Errorf("error %q; want the shutdown named", sum.Error)
		}
	})
}

func TestEngineCloseEndsRunningSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newTestEngine(testConfig("a"), map[string]*fake{"a": fixed(script{ttft: time.Hour, text: "x"})})
		if _, err := e.Start(t.Context(), SessionRequest{Prompt: "x"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		e.Close() // nobody reads the events: Close must still end everything
	})
}

func TestQueuedAttemptsNeverExceedMaxConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
		c := testConfig(ids...)
		c.MaxConcurrency = 2
		shared := newFake(func(call int) script {
			return script{ttft: time.Duration(call+1) * 10 * time.Millisecond, text: "x", err: providers.Errorf(providers.KindHTTP, "no")}
		})
		fakes := map[string]*fake{}
		for _, id := range ids {
			fakes[id] = shared
		}
		e := newTestEngine(c, fakes)
		defer e.Close()
		// Three sessions at once, six models each, two slots in all.
		done := make(chan []Event, 3)
		for range 3 {
			go func() {
				evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race})
				done <- evs
			}()
		}
		queued := 0
		for range 3 {
			queued += count(<-done, AttemptQueued)
		}
		if p := shared.peak.Load(); p != 2 {
			t.Errorf("peak in-flight calls %d, want 2 (max_concurrency)", p)
		}
		if queued < 12 {
			t.Errorf("%d attempts were queued, want at least 12 of 18 with 2 slots", queued)
		}
	})
}

func TestCostIncludesCancelledBurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast := fixed(script{ttft: 10 * time.Millisecond, text: "done"})
		slow := fixed(script{ttft: 5 * time.Millisecond, gap: 2 * time.Millisecond, text: "a b c d e f g h i j k l m n o p"})
		e := newTestEngine(testConfig("fast", "slow"), map[string]*fake{"fast": fast, "slow": slow})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		r := result(sum, "slow")
		// slow streamed tokens at 5, 7, 9ms before the 10ms win: 3 output tokens.
		if r.Status != AttemptCancelledStatus || r.OutputTokens != 3 || r.InputTokens != 10 {
			t.Fatalf("slow: %+v, want cancelled with 10 in / 3 out", r)
		}
		want := (10*1.0 + 3*2.0) / 1e6
		if r.CostUSD != want {
			t.Errorf("burn %v, want %v", r.CostUSD, want)
		}
		if sum.CostUSD != r.CostUSD+result(sum, "fast").CostUSD {
			t.Errorf("session cost %v is not the sum of its attempts", sum.CostUSD)
		}
	})
}

func TestStartRejectsBadRequests(t *testing.T) {
	e := newTestEngine(testConfig("a"), map[string]*fake{"a": fixed(script{text: "x"})})
	defer e.Close()
	for _, req := range []SessionRequest{
		{Prompt: "x", Strategy: "nope"},
		{Prompt: "x", Tier: "nope"},
		{Prompt: "x", Models: []string{"nope"}},
	} {
		if _, err := e.Start(t.Context(), req); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
	if _, err := e.Start(t.Context(), SessionRequest{Models: []string{"zz"}}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v, want ErrUnknownModel", err)
	}
}

// The engine's one watchdog timer serves every live session: a session
// started later with an earlier deadline moves the timer forward, a stall
// in one session is caught while another runs on, and a deadline of a
// session that has ended fires for nothing.
func TestWatchdogAcrossSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("slow", "staller")
		c.Tiers = map[string]config.TierConfig{
			"long":  {Models: []string{"slow"}, Timeout: config.Duration{Duration: 10 * time.Second}},
			"short": {Models: []string{"slow"}, Timeout: config.Duration{Duration: time.Second}},
			"stall": {Models: []string{"staller"}, Timeout: config.Duration{Duration: time.Minute}, StallTimeout: config.Duration{Duration: 2 * time.Second}},
			"quick": {Models: []string{"slow"}, Timeout: config.Duration{Duration: time.Minute}, PerModelTimeout: config.Duration{Duration: 500 * time.Millisecond}},
		}
		e := newTestEngine(c, map[string]*fake{
			"slow":    fixed(script{ttft: time.Hour, text: "x"}),
			"staller": fixed(script{ttft: 100 * time.Millisecond, gap: 10 * time.Millisecond, text: "a b c", after: 1, stall: true}),
		})
		defer e.Close()
		type result struct {
			name string
			sum  *Summary
			at   time.Duration
		}
		start := time.Now()
		results := make(chan result, 4)
		run := func(name, tier string, delay time.Duration) {
			time.Sleep(delay)
			_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Tier: tier})
			results <- result{name, sum, time.Since(start)}
		}
		go run("long", "long", 0)
		go run("short", "short", 100*time.Millisecond)
		go run("stall", "stall", 200*time.Millisecond)
		go run("quick", "quick", 300*time.Millisecond)
		got := map[string]result{}
		for range 4 {
			r := <-results
			got[r.name] = r
		}
		want := map[string]struct {
			at     time.Duration
			status AttemptStatus
			reason string
		}{
			"long":  {10 * time.Second, AttemptCancelledStatus, "budget"},
			"short": {1100 * time.Millisecond, AttemptCancelledStatus, "budget"},
			"stall": {2300 * time.Millisecond, AttemptFailedStatus, "stalled"},
			"quick": {800 * time.Millisecond, AttemptTimeout, "timeout"},
		}
		for name, w := range want {
			r := got[name]
			m := r.sum.Models[0]
			if r.at != w.at || m.Status != w.status || m.Reason != w.reason {
				t.Errorf("%s: ended at %v with %s/%s, want %v with %s/%s", name, r.at, m.Status, m.Reason, w.at, w.status, w.reason)
			}
		}
	})
}

// checkOrder verifies what a consumer must be able to rely on whatever its
// pace: sequence numbers with no gaps, each attempt's events in their order
// (started, first token, deltas, the end), its deltas adding up to its
// answer, and session_done last.
func checkOrder(t *testing.T, evs []Event) {
	t.Helper()
	checkPrefix(t, evs)
	if evs[len(evs)-1].Type != SessionDone {
		t.Fatalf("last event %s, want session_done", evs[len(evs)-1].Type)
	}
}

// checkPrefix is checkOrder for a session cut short by Engine.Close: a
// gap-free prefix of its events.
func checkPrefix(t *testing.T, evs []Event) {
	t.Helper()
	type st struct {
		stage int
		text  string
	}
	per := map[string]*st{}
	for i, ev := range evs {
		if ev.Seq != i+1 {
			t.Fatalf("event %d (%s) has seq %d", i, ev.Type, ev.Seq)
		}
		if ev.Model == "" {
			continue
		}
		p := per[ev.Model]
		if p == nil {
			p = &st{}
			per[ev.Model] = p
		}
		stage := map[EventType]int{AttemptStarted: 1, FirstToken: 2, Delta: 3, AttemptDone: 4, AttemptCancelled: 4, AttemptFailed: 4}[ev.Type]
		if stage == 0 {
			continue
		}
		if stage < p.stage || (stage == p.stage && stage != 3) {
			t.Fatalf("%s: %s after stage %d", ev.Model, ev.Type, p.stage)
		}
		p.stage = stage
		switch ev.Type {
		case Delta:
			p.text += ev.Text
		case AttemptDone:
			if ev.Text != p.text {
				t.Fatalf("%s: deltas add up to %q, answer %q", ev.Model, p.text, ev.Text)
			}
		}
		if ev.Type == SessionDone && i != len(evs)-1 {
			t.Fatalf("session_done is event %d of %d", i, len(evs))
		}
	}
}

// Events reach a consumer in order however its pace mixes with the
// producers': handed over directly while it keeps up, through the
// forwarder when it falls behind, and both within one session.
func TestEventOrderAtAnyConsumerPace(t *testing.T) {
	defer goleak.VerifyNone(t)
	words := strings.Repeat("w ", 40)
	fakes := map[string]*fake{}
	ids := []string{"a", "b", "c", "d"}
	for i, id := range ids {
		fakes[id] = fixed(script{ttft: time.Duration(i) * 50 * time.Microsecond, gap: 20 * time.Microsecond, text: words})
	}
	e := newTestEngine(testConfig(ids...), fakes)
	defer e.Close()
	for n := range 60 {
		ch, err := e.Start(t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
		if err != nil {
			t.Fatal(err)
		}
		var evs []Event
		for ev := range ch {
			evs = append(evs, ev)
			switch (n + len(evs)) % 7 { // a consumer that sometimes looks away
			case 0:
				time.Sleep(100 * time.Microsecond)
			case 3:
				runtime.Gosched()
			}
		}
		checkOrder(t, evs)
	}
}

// Many sessions of every strategy share one engine, with consumers of
// every pace and an engine closed while some still run: every channel is
// closed, every consumer gets its events in order with no gaps (all of
// them, or for a session cut short by Close a prefix), Start after Close is
// refused, and no goroutine is left (real time, -race).
func TestConcurrentSessionsShareOneEngine(t *testing.T) {
	defer goleak.VerifyNone(t)
	ids := []string{"a", "b", "c", "d", "e"}
	fakes := map[string]*fake{}
	for i, id := range ids {
		d := time.Duration(i+1) * 200 * time.Microsecond
		fakes[id] = newFake(func(n int) script {
			switch (n + i) % 5 {
			case 0:
				return script{ttft: d, err: providers.Errorf(providers.KindHTTP, "boom")}
			case 1:
				return vote("billing", d)
			default:
				return script{ttft: d, gap: 50 * time.Microsecond, text: `{"category": "technical"} and more words`}
			}
		})
	}
	c := testConfig(ids...)
	c.MaxConcurrency = 6
	c.Hedge.Delay = config.HedgeDelay{Fixed: 300 * time.Microsecond}
	e := newTestEngine(c, fakes)
	strategies := []config.Strategy{config.Race, config.Hedge, config.Consensus}
	// consume reads a session to its end, sometimes slowly, and checks what
	// it got; it reports whether session_done came.
	consume := func(i int, ch <-chan Event) bool {
		var evs []Event
		for ev := range ch {
			evs = append(evs, ev)
			if i%4 == 0 && len(evs)%3 == 0 {
				time.Sleep(200 * time.Microsecond) // a slow consumer
			}
		}
		if len(evs) == 0 {
			return false
		}
		checkPrefix(t, evs)
		return evs[len(evs)-1].Type == SessionDone
	}
	var wg sync.WaitGroup
	var finished atomic.Int64
	start := func(i int) {
		ch, err := e.Start(t.Context(), SessionRequest{Prompt: "x", Strategy: strategies[i%3]})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if consume(i, ch) {
				finished.Add(1)
			}
		}()
	}
	// 40 sessions at once, all read to the end.
	for i := range 40 {
		start(i)
	}
	wg.Wait()
	if n := finished.Load(); n != 40 {
		t.Fatalf("%d of 40 sessions ended with session_done", n)
	}
	// 20 more, and the engine closed while they run: each consumer gets
	// a gap-free prefix and its channel closed.
	for i := range 20 {
		start(40 + i)
	}
	// Meanwhile sessions keep being started until one is refused: Start
	// and Close race.
	wg.Add(1)
	go func() {
		defer wg.Done()
		deadline := time.Now().Add(10 * time.Second)
		for i := 60; ; i++ {
			if time.Now().After(deadline) {
				t.Error("Start still starts sessions 10s after Close")
				return
			}
			ch, err := e.Start(t.Context(), SessionRequest{Prompt: "x", Strategy: strategies[i%3]})
			if errors.Is(err, ErrClosed) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			consume(i, ch)
		}
	}()
	time.Sleep(time.Millisecond)
	e.Close()
	wg.Wait()
	if _, err := e.Start(t.Context(), SessionRequest{Prompt: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}
