package engine

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// deadlineEngine is a 2 s tier of "hog" then "slow" with one slot: slow
// waits in line while hog runs. hog fails after hogFor(call); slow answers
// in 1 s, so after one call its p50 is 1 s. Tiers "h" and "s" hold each
// alone.
func deadlineEngine(hogFor func(call int) time.Duration) (*Engine, *fake, *fake) {
	c := testConfig("hog", "slow")
	c.MaxConcurrency = 1
	tc := c.Tiers["t"]
	tc.Timeout = config.Duration{Duration: 2 * time.Second}
	tc.PerModelTimeout = config.Duration{}
	c.Tiers["t"] = tc
	// Each alone, for two sessions that share the slot.
	c.Tiers["h"] = config.TierConfig{Models: []string{"hog"}, Timeout: tc.Timeout}
	c.Tiers["s"] = config.TierConfig{Models: []string{"slow"}, Timeout: tc.Timeout}
	hog := newFake(func(call int) script {
		return script{ttft: hogFor(call), err: providers.Errorf(providers.KindHTTP, "busy")}
	})
	slow := fixed(script{ttft: time.Second, text: "slow answer"})
	return newTestEngine(c, map[string]*fake{"hog": hog, "slow": slow}), hog, slow
}

func TestQueuedCallTooLateForTheBudgetIsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Call 0: a warm-up (slow learns its 1 s); call 1 holds the only
		// slot until 1.7 s of the 2 s budget; call 2 frees it at 0.5 s.
		e, _, slow := deadlineEngine(func(call int) time.Duration {
			return []time.Duration{10 * time.Millisecond, 1700 * time.Millisecond, 500 * time.Millisecond}[call]
		})
		defer e.Close()
		req := SessionRequest{Prompt: "x", Strategy: config.Race}
		if _, sum := collect(e, t.Context(), req); sum.Winner != "slow" || slow.Calls() != 1 {
			t.Fatalf("warm-up: winner %q, slow called %d times; want slow once", sum.Winner, slow.Calls())
		}

		// Its p50 is 1 s: at 1 s of the 2 s budget, still in line behind
		// hog (which holds the slot until 1.7 s), it gives up its place
		// and is not called.
		evs, sum := collect(e, t.Context(), req)
		if n := slow.Calls(); n != 1 {
			t.Errorf("slow was called %d times, want 1 (the warm-up): a call that cannot finish was started", n)
		}
		sk, ok := find(evs, AttemptSkipped, "slow")
		if !ok || sk.Reason != ReasonDeadline || sk.T != time.Second {
			t.Errorf("slow: got %+v, want attempt_skipped deadline at 1s", sk)
		}
		if _, started := find(evs, AttemptStarted, "slow"); started {
			t.Error("slow has attempt_started, want none")
		}
		if r := result(sum, "slow"); r.Status != AttemptSkippedStatus || r.Reason != string(ReasonDeadline) {
			t.Errorf("slow result %s/%s, want skipped/deadline", r.Status, r.Reason)
		}
		// The session ends when hog has failed, not at its timeout.
		if sum.Status != StatusFailed || sum.Elapsed != 1700*time.Millisecond {
			t.Errorf("session %s after %v, want failed after 1.7s", sum.Status, sum.Elapsed)
		}
		if want := "every model failed (1 of 2); 1 not called: less of the timeout left than their median call (deadline)"; sum.Error != want {
			t.Errorf("error %q, want %q", sum.Error, want)
		}

		// Its turn at 0.5 s, 1.5 s left: called, and it answers.
		evs, sum = collect(e, t.Context(), req)
		if slow.Calls() != 2 || sum.Winner != "slow" {
			t.Errorf("with 1.5s left: slow called %d times, winner %q; want 2 and slow", slow.Calls(), sum.Winner)
		}
		if _, skipped := find(evs, AttemptSkipped, "slow"); skipped {
			t.Error("slow skipped with time enough to answer")
		}
	})
}

func TestFallbackLaunchedTooLateIsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// slow stands in for hog when hog fails: at launch, not in line.
		c := testConfig("hog", "slow")
		c.Models[0].Fallbacks = []string{"slow"}
		tc := c.Tiers["t"]
		tc.Models = []string{"hog"}
		tc.Timeout = config.Duration{Duration: 2 * time.Second}
		c.Tiers["t"] = tc
		hog := newFake(func(call int) script {
			return script{ttft: []time.Duration{10 * time.Millisecond, 1700 * time.Millisecond}[call], err: providers.Errorf(providers.KindHTTP, "busy")}
		})
		slow := fixed(script{ttft: time.Second, text: "slow answer"})
		e := newTestEngine(c, map[string]*fake{"hog": hog, "slow": slow})
		defer e.Close()
		req := SessionRequest{Prompt: "x", Strategy: config.Race}
		if _, sum := collect(e, t.Context(), req); sum.Winner != "slow" {
			t.Fatalf("warm-up: winner %q, want the fallback slow", sum.Winner)
		}
		evs, sum := collect(e, t.Context(), req)
		if slow.Calls() != 1 {
			t.Errorf("slow called %d times, want 1 (the warm-up)", slow.Calls())
		}
		if sk, ok := find(evs, AttemptSkipped, "slow"); !ok || sk.Reason != ReasonDeadline {
			t.Errorf("fallback: got %+v, want attempt_skipped deadline", sk)
		}
		if sum.Status != StatusFailed || sum.Elapsed != 1700*time.Millisecond {
			t.Errorf("session %s after %v, want failed after 1.7s", sum.Status, sum.Elapsed)
		}
		if !strings.Contains(sum.Error, "1 not called") {
			t.Errorf("error %q does not say the fallback was not called", sum.Error)
		}
	})
}

// A model without samples is called however little time is left: there
// is nothing to judge it by.
func TestNoSamplesNoDeadlineSkip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _, slow := deadlineEngine(func(int) time.Duration { return 1700 * time.Millisecond })
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race})
		if slow.Calls() != 1 {
			t.Errorf("slow called %d times, want 1", slow.Calls())
		}
		if c, ok := find(evs, AttemptCancelled, "slow"); !ok || c.Reason != ReasonBudget || sum.Elapsed != 2*time.Second {
			t.Errorf("slow: %+v, session after %v; want cancelled budget at 2s", c, sum.Elapsed)
		}
	})
}

// A retry is a call like any other: not made when, after its backoff, less
// of the budget is left than the model's median call.
func TestRetryTooLateForTheBudgetIsNotMade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := &providers.Error{Kind: providers.KindHTTP, Status: 503, Message: "overloaded"}
		f := newFake(func(call int) script {
			switch call {
			case 0: // the warm-up: a 1 s answer
				return script{ttft: time.Second, text: "fine"}
			case 1: // fails at 0.9 s: a retry at ~1 s would have ~1 s left
				return script{ttft: 900 * time.Millisecond, err: down}
			case 2: // fails at once: a retry at ~0.1 s has time
				return script{ttft: 10 * time.Millisecond, err: down}
			}
			return script{ttft: time.Second, text: "retried"}
		})
		c := retrying(testConfig("a"), 1, 200*time.Millisecond)
		tc := c.Tiers["t"]
		tc.Timeout = config.Duration{Duration: 2 * time.Second}
		c.Tiers["t"] = tc
		e := newTestEngine(c, map[string]*fake{"a": f})
		defer e.Close()
		req := SessionRequest{Prompt: "x"}
		collect(e, t.Context(), req)
		evs, sum := collect(e, t.Context(), req)
		if f.Calls() != 2 || count(evs, AttemptRetry) != 0 || sum.Status != StatusFailed {
			t.Errorf("%d calls, %d retries, %s; want the failed call alone, no retry, failed", f.Calls(), count(evs, AttemptRetry), sum.Status)
		}
		_, sum = collect(e, t.Context(), req)
		if f.Calls() != 4 || sum.Answer != "retried" {
			t.Errorf("%d calls, answer %q; want the retry made and answering", f.Calls(), sum.Answer)
		}
	})
}

// A session whose every call became too late while it waited for the only
// slot (another session holds it) ends then, saying so, not at its timeout.
func TestSessionWithEveryCallTooLateSaysSo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _, slow := deadlineEngine(func(call int) time.Duration {
			return []time.Duration{10 * time.Millisecond, 1700 * time.Millisecond}[call]
		})
		defer e.Close()
		collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race}) // slow learns its 1 s
		go collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Tier: "h"})
		synctest.Wait() // hog has the slot until 1.7 s
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Tier: "s"})
		if slow.Calls() != 1 || sum.Status != StatusFailed || sum.Elapsed != time.Second {
			t.Errorf("slow called %d times, session %s after %v; want 1 (the warm-up), failed after 1s", slow.Calls(), sum.Status, sum.Elapsed)
		}
		if want := "no model was called: 1 could not answer in the 1s left of the tier's timeout 2s (their median call is longer)"; sum.Error != want {
			t.Errorf("error %q, want %q", sum.Error, want)
		}
	})
}

// A call given its slot is checked again: its model's median may have
// grown since it last looked (it looks every lateCheckEvery while it
// waits), as other sessions' calls ended slower.
func TestCallGivenItsSlotTooLateIsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _, slow := deadlineEngine(func(call int) time.Duration {
			return []time.Duration{10 * time.Millisecond, 1700 * time.Millisecond}[call]
		})
		defer e.Close()
		slow.scripts = func(int) script { return script{ttft: 200 * time.Millisecond, text: "quick"} }
		req := SessionRequest{Prompt: "x", Strategy: config.Race}
		collect(e, t.Context(), req) // slow's p50: 200 ms, too late from 1.8 s on
		go func() {
			time.Sleep(1600 * time.Millisecond) // between slow's looks at 1.5 s and 1.75 s
			for range 3 {
				e.models["slow"].stats.addOK(time.Second, time.Second)
			}
		}()
		evs, _ := collect(e, t.Context(), req)
		if slow.Calls() != 1 {
			t.Errorf("slow called %d times, want 1 (the warm-up)", slow.Calls())
		}
		if sk, ok := find(evs, AttemptSkipped, "slow"); !ok || sk.Reason != ReasonDeadline || sk.T != 1700*time.Millisecond {
			t.Errorf("slow: got %+v, want attempt_skipped deadline at 1.7s, when its turn came", sk)
		}
	})
}

// A call that joined the line before its model had any samples (a cold
// start: every session launched at once) learns its median while it
// waits, and gives up its place once too late by it.
func TestColdStartCallLearnsItsMedianWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, _, slow := deadlineEngine(func(int) time.Duration { return 1700 * time.Millisecond })
		defer e.Close()
		go func() {
			time.Sleep(300 * time.Millisecond) // another replica's calls, say
			e.models["slow"].stats.addOK(time.Second, time.Second)
		}()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race})
		if slow.Calls() != 0 {
			t.Errorf("slow called %d times, want 0", slow.Calls())
		}
		if sk, ok := find(evs, AttemptSkipped, "slow"); !ok || sk.Reason != ReasonDeadline || sk.T != time.Second {
			t.Errorf("slow: got %+v, want attempt_skipped deadline at 1s", sk)
		}
		if sum.Elapsed != 1700*time.Millisecond {
			t.Errorf("session ended after %v, want 1.7s (hog's failure), not the 2s timeout", sum.Elapsed)
		}
	})
}

// A model that has only ever lost races has no whole call to judge it by:
// the time to first token of its cut calls, less than an answer takes,
// stands in, and a call even that does not fit is skipped.
func TestFirstTokenStandsInWithNoWholeCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("fast", "slow", "hog")
		c.Models[2].Fallbacks = []string{"slow"}
		tc := c.Tiers["t"]
		tc.Models = []string{"fast", "slow"}
		tc.Timeout = config.Duration{Duration: 2 * time.Second}
		c.Tiers["t"] = tc
		c.Tiers["h"] = config.TierConfig{Models: []string{"hog"}, Timeout: tc.Timeout}
		fast := fixed(script{ttft: 900 * time.Millisecond, text: "fast"})
		slow := fixed(script{ttft: 800 * time.Millisecond, gap: time.Second, text: "slow and long"})
		hog := fixed(script{ttft: 1500 * time.Millisecond, err: providers.Errorf(providers.KindHTTP, "busy")})
		e := newTestEngine(c, map[string]*fake{"fast": fast, "slow": slow, "hog": hog})
		defer e.Close()
		// slow's first token at 0.8 s, then it loses to fast at 0.9 s.
		if _, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race}); sum.Winner != "fast" {
			t.Fatalf("warm-up winner %q, want fast", sum.Winner)
		}
		// hog fails at 1.5 s: slow, its fallback, would have 0.5 s.
		evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Tier: "h"})
		if slow.Calls() != 1 {
			t.Errorf("slow called %d times, want 1 (the warm-up)", slow.Calls())
		}
		if sk, ok := find(evs, AttemptSkipped, "slow"); !ok || sk.Reason != ReasonDeadline {
			t.Errorf("slow: got %+v, want attempt_skipped deadline", sk)
		}
	})
}
