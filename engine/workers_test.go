package engine

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
)

// An attempt runs on a goroutine a finished attempt left idle (its stack
// grown already) when there is one, a new one when not; Close ends the
// idle ones (goleak, and synctest.Test returns only once every goroutine
// of the bubble has exited).
func TestAttemptWorkersAreReusedAndEndWithTheEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := fixed(script{ttft: 10 * time.Millisecond, text: "a"})
		b := fixed(script{ttft: 20 * time.Millisecond, text: "b"})
		e := newTestEngine(testConfig("a", "b"), map[string]*fake{"a": a, "b": b})
		for n := range 3 {
			// A race of two: two attempts at once, then two idle workers.
			if _, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race}); sum.Winner != "a" {
				t.Fatalf("session %d: winner %q, want a", n, sum.Winner)
			}
			synctest.Wait()
			if got := e.workers.idle.Load(); got != 2 {
				t.Fatalf("after session %d: %d idle workers, want 2 (reused, not new ones)", n, got)
			}
		}
		e.Close()
		if got := e.workers.idle.Load(); got != 0 {
			t.Errorf("after Close: %d idle workers, want 0", got)
		}
	})
}
