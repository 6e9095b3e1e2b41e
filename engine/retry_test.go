package engine

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func retrying(c *config.Config, attempts int, backoff time.Duration) *config.Config {
	c.Retry = config.RetryConfig{Attempts: attempts, Backoff: config.Duration{Duration: backoff}}
	return c
}

// A call that fails before its first token with a 5xx or a 429 is made
// again after a backoff (never sooner than the server's Retry-After), each
// retry an event; the attempt's row counts them.
func TestRetriesBeforeTheFirstToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := &providers.Error{Kind: providers.KindHTTP, Status: 503, Message: "overloaded"}
		limited := &providers.Error{Kind: providers.KindRateLimited, Status: 429, RetryAfter: time.Second, Message: "slow down"}
		f := newFake(func(call int) script {
			switch call {
			case 0:
				return script{ttft: 10 * time.Millisecond, err: down}
			case 1:
				return script{ttft: 10 * time.Millisecond, err: limited}
			}
			return script{ttft: 10 * time.Millisecond, text: "third time lucky"}
		})
		e := newTestEngine(retrying(testConfig("a"), 2, 100*time.Millisecond), map[string]*fake{"a": f})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if sum.Answer != "third time lucky" || f.Calls() != 3 || sum.Models[0].Retries != 2 {
			t.Fatalf("answer %q after %d calls, %d retries; want the third call's answer, 2 retries", sum.Answer, f.Calls(), sum.Models[0].Retries)
		}
		var retries []Event
		for _, ev := range evs {
			if ev.Type == AttemptRetry {
				retries = append(retries, ev)
			}
		}
		if len(retries) != 2 || retries[0].Detail.Retry != 1 || retries[1].Detail.Retry != 2 || retries[1].Detail.Retries != 2 {
			t.Fatalf("retry events %+v, want retry 1/2 and 2/2", retries)
		}
		if w := retries[0].Detail.RetryIn; w < 50*time.Millisecond || w > 150*time.Millisecond {
			t.Errorf("first backoff %v, want 100ms ± 50%%", w)
		}
		if w := retries[1].Detail.RetryIn; w != time.Second {
			t.Errorf("second backoff %v, want the 429's Retry-After of 1s (the doubled backoff is shorter)", w)
		}
		if !strings.Contains(retries[0].Err, "overloaded") {
			t.Errorf("the retry event does not say what failed: %q", retries[0].Err)
		}
	})
}

// Never after tokens have streamed, never for auth or an invalid request,
// never past the attempt's deadline.
func TestNoRetryAfterTokensAuthOrDeadline(t *testing.T) {
	boom := &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}
	auth := &providers.Error{Kind: providers.KindAuth, Status: 401, Message: "bad key"}
	tests := []struct {
		name string
		sc   script
		cfg  func(*config.Config)
	}{
		{"after tokens", script{ttft: 10 * time.Millisecond, gap: time.Millisecond, text: "one two three", after: 2, err: boom}, nil},
		{"auth", script{ttft: 10 * time.Millisecond, err: auth}, nil},
		{"invalid", script{ttft: 10 * time.Millisecond, err: providers.Errorf(providers.KindInvalid, "bad request")}, nil},
		{"4xx", script{ttft: 10 * time.Millisecond, err: &providers.Error{Kind: providers.KindHTTP, Status: 404, Message: "no such model"}}, nil},
		{"no time left", script{ttft: 10 * time.Millisecond, err: boom}, func(c *config.Config) {
			tr := c.Tiers["t"]
			tr.PerModelTimeout = config.Duration{Duration: 50 * time.Millisecond}
			c.Tiers["t"] = tr
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fixed(tt.sc)
				c := retrying(testConfig("a"), 2, time.Second)
				if tt.cfg != nil {
					tt.cfg(c)
				}
				e := newTestEngine(c, map[string]*fake{"a": f})
				defer e.Close()
				evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
				if f.Calls() != 1 || count(evs, AttemptRetry) != 0 || sum.Models[0].Retries != 0 {
					t.Errorf("%d calls, %d retries; want one call, no retry", f.Calls(), count(evs, AttemptRetry))
				}
			})
		})
	}
}

// A model held back by its breaker, or failed for good, gives its place
// to its first healthy fallback: the role kept, the row naming whom it
// stands in for; a voter's fallback votes once in its place.
func TestFallbacksTakeTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}
		fakes := map[string]*fake{
			"v1": fixed(vote("billing", 10*time.Millisecond)),
			"v2": fixed(script{ttft: 10 * time.Millisecond, err: boom}),
			"v3": fixed(vote("billing", 30*time.Millisecond)),
			"fb": fixed(vote("technical", 20*time.Millisecond)),
		}
		c := testConfig("v1", "v2", "v3")
		c.Models = append(c.Models, config.ModelConfig{ID: "fb", Provider: "fake", Model: "fb"})
		c.Models[1].Fallbacks = []string{"fb"}
		c.Consensus.Voters, c.Consensus.MinResponses = 3, 3
		e := newTestEngine(c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
		var fb ModelResult
		for _, r := range sum.Models {
			if r.ID == "fb" {
				fb = r
			}
		}
		if fb.Role != RoleVoter || fb.Aside == nil || fb.FallbackFor != "v2" || fb.Vote != "technical" {
			t.Fatalf("fallback row %+v, want a voter standing in for v2 with its vote", fb)
		}
		if sum.Votes["billing"] != 2 || sum.Votes["technical"] != 1 || sum.Answer != "billing" {
			t.Errorf("votes %v answer %q, want billing 2, technical 1 (the fallback counted once)", sum.Votes, sum.Answer)
		}

		// Held back by its breaker: the fallback is launched at once.
		e.ForceBreaker("v2", ForceOpen)
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus})
		var rows []string
		for _, r := range sum.Models {
			rows = append(rows, r.ID+"/"+string(r.Status))
		}
		if !slices.Contains(rows, "v2/skipped") || !slices.ContainsFunc(sum.Models, func(r ModelResult) bool { return r.ID == "fb" && r.Aside != nil && r.FallbackFor == "v2" }) {
			t.Errorf("rows %v, want v2 skipped and fb standing in", rows)
		}
	})
}
