package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// panicky is an error whose Error panics: the engine reads a failed
// call's message on the attempt's goroutine, so a provider returning it
// panics there.
type panicky struct{}

func (panicky) Error() string { panic("deliberate panic in a provider's error") }

// checkInternal checks a session that hit a bug: failed, kind internal,
// a message asking for a report, the stack in the summary and in the bug
// log, one session_done last, and every attempt ended exactly once.
func checkInternal(t *testing.T, evs []Event, sum *Summary, log *bytes.Buffer, where string) {
	t.Helper()
	if sum.Status != StatusFailed || sum.ErrorKind != ErrorKindInternal || sum.Answer != "" || sum.Winner != "" {
		t.Errorf("status %s kind %q answer %q winner %q; want failed, internal, no answer", sum.Status, sum.ErrorKind, sum.Answer, sum.Winner)
	}
	if !strings.Contains(sum.Error, "bug in council") || !strings.Contains(sum.Error, "report") || !strings.Contains(sum.Error, where) {
		t.Errorf("error %q: want it to say it is a bug in council, in %s, and ask for a report", sum.Error, where)
	}
	if !strings.Contains(sum.Stack, "goroutine") || !strings.Contains(log.String(), "goroutine") || !strings.Contains(log.String(), where) {
		t.Errorf("stack %q, log %q: want the stack in both", sum.Stack, log.String())
	}
	if n := count(evs, SessionDone); n != 1 || evs[len(evs)-1].Type != SessionDone {
		t.Errorf("%d session_done, last event %s; want exactly one, last", n, evs[len(evs)-1].Type)
	}
	if evs[len(evs)-1].Kind != providers.KindInternal {
		t.Errorf("session_done kind %s, want internal", evs[len(evs)-1].Kind)
	}
	ends := map[string]int{}
	for _, ev := range evs {
		switch ev.Type {
		case AttemptDone, AttemptFailed, AttemptCancelled, AttemptSkipped:
			ends[ev.Attempt]++
		}
	}
	for _, r := range sum.Models {
		if ends[r.Attempt] != 1 {
			t.Errorf("attempt %s ended %d times, want once", r.Attempt, ends[r.Attempt])
		}
	}
	if len(ends) != len(sum.Models) {
		t.Errorf("%d attempts ended, %d summary rows", len(ends), len(sum.Models))
	}
}

// A panic in a strategy fails its session, never the process; the
// attempts it left running are cancelled and end, and the next session
// runs as usual.
func TestStrategyPanicFailsTheSession(t *testing.T) {
	register(&strategy{StrategyInfo: StrategyInfo{Name: "test-panic"}, run: func(s *session) {
		for _, m := range s.models {
			s.launch(m, RoleRacer, StageNone, nil)
		}
		s.next()
		var rv *review
		_ = rv.labels[0] // a nil dereference, as the reviewer-fallback crash was
	}})
	defer delete(strategyTable, "test-panic")
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"x": fixed(script{ttft: 10 * time.Millisecond, text: "fast"}),
			"y": fixed(script{ttft: time.Second, text: "slow"}),
		}
		var log bytes.Buffer
		e, err := New(testConfig("x", "y"), map[string]providers.Provider{"x": fakes["x"], "y": fakes["y"]}, WithBugLog(&log))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: "test-panic"})
		checkInternal(t, evs, sum, &log, "strategy test-panic")
		if r := result(sum, "y"); r.Status != AttemptCancelledStatus || r.Reason != string(ReasonInternal) {
			t.Errorf("y: %s %s; want cancelled, internal", r.Status, r.Reason)
		}
		if !strings.Contains(sum.Stack, "panic_test.go") {
			t.Errorf("stack does not show where it panicked:\n%s", sum.Stack)
		}
		// A recording keeps it: session_done's JSON carries kind and stack,
		// and reads back the same.
		b, err := json.Marshal(evs[len(evs)-1])
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"kind":"internal"`) || back.Kind != providers.KindInternal ||
			back.Summary.ErrorKind != ErrorKindInternal || back.Summary.Stack != sum.Stack {
			t.Errorf("session_done JSON %s: want kind internal and the stack, read back alike", b)
		}
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		if sum.Status != StatusDecided || sum.Winner != "x" {
			t.Errorf("the next session: %s %q; want decided by x", sum.Status, sum.Winner)
		}
	})
}

// A panic on an attempt's goroutine ends that attempt (attempt_failed,
// kind internal) and fails its session; the model's breaker counts no
// failure for it.
func TestAttemptPanicFailsTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("x", "y")
		c.Breaker.MinRequests = 1
		fakes := map[string]*fake{
			"x": fixed(script{ttft: 10 * time.Millisecond, err: panicky{}}),
			"y": fixed(script{ttft: time.Second, text: "slow"}),
		}
		var log bytes.Buffer
		e, err := New(c, map[string]providers.Provider{"x": fakes["x"], "y": fakes["y"]}, WithBugLog(&log))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi"})
		checkInternal(t, evs, sum, &log, "attempt a1 (x)")
		ev, _ := find(evs, AttemptFailed, "x")
		if ev.Kind != providers.KindInternal {
			t.Errorf("x's attempt_failed kind %s, want internal", ev.Kind)
		}
		if st := e.Health()[0].Breaker.State; st != BreakerClosed {
			t.Errorf("x's breaker %s after a bug in council, want closed", st)
		}
	})
}

// A panic in Run's event callback fails the session: the callback is
// called no more, the session still ends with one session_done.
func TestConsumerPanicFailsTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"x": fixed(script{ttft: 10 * time.Millisecond, gap: 10 * time.Millisecond, text: "one two three four"}),
			"y": fixed(script{ttft: time.Second, text: "slow"}),
		}
		var log bytes.Buffer
		e, err := New(testConfig("x", "y"), map[string]providers.Provider{"x": fakes["x"], "y": fakes["y"]}, WithBugLog(&log))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		var evs []Event
		sum, err := e.Run(t.Context(), SessionRequest{Prompt: "hi"}, func(ev Event) {
			evs = append(evs, ev)
			if ev.Type == FirstToken {
				panic("deliberate panic in a consumer")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if evs[len(evs)-1].Type != FirstToken {
			t.Errorf("the callback was called after it panicked: last %s", evs[len(evs)-1].Type)
		}
		if sum.Status != StatusFailed || sum.ErrorKind != ErrorKindInternal || !strings.Contains(sum.Error, "event consumer") {
			t.Errorf("got %s %q %q; want failed, internal, in the event consumer", sum.Status, sum.ErrorKind, sum.Error)
		}
		if !strings.Contains(log.String(), "deliberate panic in a consumer") {
			t.Errorf("bug log %q", log.String())
		}

		// On the last event, once the summary is made: still the failure.
		sum, err = e.Run(t.Context(), SessionRequest{Prompt: "hi"}, func(ev Event) {
			if ev.Type == SessionDone {
				panic("deliberate panic in a consumer, at the end")
			}
		})
		if err != nil || sum.Status != StatusFailed || sum.ErrorKind != ErrorKindInternal || sum.Answer != "" || len(sum.Degraded) != 0 {
			t.Errorf("got %v %s %q answer %q degraded %v; want failed, internal, no answer", err, sum.Status, sum.ErrorKind, sum.Answer, sum.Degraded)
		}
	})
}
