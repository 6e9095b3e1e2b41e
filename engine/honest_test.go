package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// keyCmdCancelled is what a provider whose api_key_cmd was stopped by a
// signal fails every call with (wire.go's failing provider).
var keyCmdCancelled = &providers.Error{Kind: providers.KindAuth, Provider: "p",
	Message: `api_key_cmd "pass show x": context canceled`, Err: fmt.Errorf("api_key_cmd: %w", context.Canceled)}

// A signal while api_key_cmd runs is a cancel: the session that starts on
// the cancelled context reports cancelled, and the model's breaker counts
// no failure. It reported failed and counted one.
func TestKeyCmdCancelledIsACancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("x")
		c.Retry.Attempts = 2
		e := newTestEngine(c, map[string]*fake{"x": fixed(script{err: keyCmdCancelled})})
		defer e.Close()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, sum := collect(e, ctx, SessionRequest{Prompt: "hi"})
		if sum.Status != StatusCancelled || sum.Models[0].Status != AttemptCancelledStatus {
			t.Errorf("status %s, row %s %s: want cancelled", sum.Status, sum.Models[0].Status, sum.Models[0].Error)
		}
		if b := e.Health()[0].Breaker; b.Failures != 0 {
			t.Errorf("breaker %+v: a cancel counted as a failure", b)
		}

		// The same error on a session that runs: the attempt is a cancel,
		// no evidence against the model, and not retried.
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "hi"})
		if r := sum.Models[0]; r.Status != AttemptCancelledStatus || r.Reason != string(ReasonUser) || r.Retries != 0 {
			t.Errorf("row %+v: want cancelled (user), not retried", r)
		}
		if b := e.Health()[0].Breaker; b.Failures != 0 {
			t.Errorf("breaker %+v: a cancel counted as a failure", b)
		}
	})
}

// A model called twice whose last retry met the breaker its failures had
// just opened: the session says so, not that no model was called.
func TestBreakerStoppedRetrySaysWhatHappened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("sim/x")
		c.Retry = config.RetryConfig{Attempts: 2, Backoff: config.Duration{Duration: 100 * time.Millisecond}}
		c.Breaker.MinRequests = 2
		e := newTestEngine(c, map[string]*fake{"sim/x": fixed(script{ttft: 10 * time.Millisecond, err: boom500})})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi"})
		if n := e.models["sim/x"].client.(*fake).Calls(); n != 2 {
			t.Fatalf("%d calls, want 2 (the third stopped by the breaker)", n)
		}
		want := "sim/x failed 2 times; its breaker opened and stopped the last retry"
		if sum.Status != StatusFailed || strings.Contains(sum.Error, "no model was called") || !strings.Contains(sum.Error, want) {
			t.Errorf("error %q: want %q", sum.Error, want)
		}
		r := sum.Models[0]
		if r.Retries != 1 || !strings.Contains(r.Error, "failed 2 times") {
			t.Errorf("row retries %d error %q: want the one retry made, and why the next was not", r.Retries, r.Error)
		}
		if ev, _ := find(evs, AttemptFailed, "sim/x"); !strings.Contains(ev.Err, "breaker opened") {
			t.Errorf("attempt_failed %q: want it to say the breaker stopped the retry", ev.Err)
		}
	})
}
