package engine

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/providers"
)

// TestBreakerCountsAsTheDocsSay: each row of docs/strategies.md's table
// of what a call counts as in its breaker (the board's err% and vol), on
// a race of the model "m" against "w", which answers in 10ms (or, when m
// must end first, in 25s).
func TestBreakerCountsAsTheDocsSay(t *testing.T) {
	rows := []struct {
		row                string
		m                  script
		requests, failures int
		maxAnswer          int // limits.max_answer_bytes, when set
	}{
		{"completed: a success", script{ttft: 5 * time.Millisecond, text: "done"}, 1, 0, 0},
		{"failed (error): a failure", script{ttft: 5 * time.Millisecond, err: providers.Errorf(providers.KindHTTP, "boom")}, 1, 1, 0},
		{"failed (429): a failure", script{ttft: 5 * time.Millisecond, err: &providers.Error{Kind: providers.KindRateLimited, Status: 429, Message: "slow down"}}, 1, 1, 0},
		{"failed (stall): a failure", script{ttft: 5 * time.Millisecond, text: "a b c", after: 1, stall: true}, 1, 1, 0},
		{"failed (timeout): a failure", script{ttft: time.Minute, text: "never"}, 1, 1, 0},
		{"failed (malformed stream): a failure", script{ttft: 5 * time.Millisecond, err: providers.Errorf(providers.KindInvalid, "bad chunk")}, 1, 1, 0},
		{"failed (over a limit): a failure", script{ttft: time.Millisecond, gap: time.Millisecond, text: strings.Repeat("flood ", 100)}, 1, 1, 100},
		{"cancelled while it streamed: a success", script{ttft: 5 * time.Millisecond, gap: time.Second, text: "slow but sure"}, 1, 0, 0},
		{"cancelled before its first token: nothing", script{ttft: time.Second, text: "late"}, 0, 0, 0},
	}
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := fixed(script{ttft: 10 * time.Millisecond, text: "winner"})
				if r.failures > 0 || r.m.ttft < 10*time.Millisecond && r.m.gap == 0 {
					// m ends first (answer or failure; the tier's
					// per-model timeout is 20s): w must not cancel it,
					// so w is the slower one here.
					w = fixed(script{ttft: 25 * time.Second, text: "winner"})
				}
				c := testConfig("m", "w")
				c.Limits.MaxAnswerBytes = r.maxAnswer
				e := newTestEngine(c, map[string]*fake{"m": fixed(r.m), "w": w})
				defer e.Close()
				collect(e, t.Context(), SessionRequest{Prompt: "x"})
				if b := e.Health()[0].Breaker; b.Requests != r.requests || b.Failures != r.failures {
					t.Errorf("m's breaker counts %d requests, %d failures; want %d, %d", b.Requests, b.Failures, r.requests, r.failures)
				}
			})
		})
	}
	t.Run("skipped by its open breaker or a rate-limit hold: nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			held := &providers.Error{Kind: providers.KindRateLimited, Status: 429, RetryAfter: time.Minute, Message: "slow down"}
			m := fixed(script{ttft: 5 * time.Millisecond, err: held})
			w := fixed(script{ttft: 10 * time.Millisecond, text: "winner"})
			e := newTestEngine(testConfig("m", "w"), map[string]*fake{"m": m, "w": w})
			defer e.Close()
			collect(e, t.Context(), SessionRequest{Prompt: "x"}) // m: one failure, then held
			evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x"})
			if sk, ok := find(evs, AttemptSkipped, "m"); !ok || sk.Reason != ReasonRetryAfter {
				t.Fatalf("m during its hold: %+v, want skipped retry_after", sk)
			}
			if b := e.Health()[0].Breaker; b.Requests != 1 || b.Failures != 1 {
				t.Errorf("held: m's breaker counts %d requests, %d failures; want the first call's 1, 1", b.Requests, b.Failures)
			}
			if err := e.ForceBreaker("w", ForceOpen); err != nil {
				t.Fatal(err)
			}
			before := e.Health()[1].Breaker
			evs, _ = collect(e, t.Context(), SessionRequest{Prompt: "x"})
			if sk, ok := find(evs, AttemptSkipped, "w"); !ok || sk.Reason != ReasonBreakerOpen {
				t.Fatalf("w forced open: %+v, want skipped breaker_open", sk)
			}
			if b := e.Health()[1].Breaker; b.Requests != before.Requests || b.Failures != before.Failures {
				t.Errorf("open: w's breaker went from %d/%d to %d/%d requests/failures", before.Requests, before.Failures, b.Requests, b.Failures)
			}
		})
	})
}
