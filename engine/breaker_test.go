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

// manualClock is a Clock moved by hand; the breaker only reads Now.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time                                  { return c.now }
func (c *manualClock) Since(t time.Time) time.Duration                 { return c.now.Sub(t) }
func (c *manualClock) NewTimer(time.Duration) providers.Timer          { panic("not used") }
func (c *manualClock) AfterFunc(time.Duration, func()) providers.Timer { panic("not used") }
func (c *manualClock) advance(d time.Duration)                         { c.now = c.now.Add(d) }
func testBreaker(c *manualClock) *breaker {
	return newBreaker(config.BreakerConfig{FailureRate: 0.5, MinRequests: 4,
		Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: 30 * time.Second}}, c)
}

// call admits one call and reports o; ok says whether it was admitted.
func call(b *breaker, o outcome) (changes []breakerChange, why Reason) {
	t, ch, why := b.allow()
	if why != ReasonNone {
		return ch, why
	}
	return append(ch, b.report(t, o, 0, b.clock.Now())...), ReasonNone
}

func TestBreakerStateMachine(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	b := testBreaker(c)
	// Below min_requests nothing trips, however bad.
	for range 3 {
		if ch, _ := call(b, outcomeFailure); len(ch) != 0 {
			t.Fatalf("tripped below min_requests: %v", ch)
		}
	}
	// The fourth call: 4 failures of 4 finished calls.
	ch, _ := call(b, outcomeFailure)
	if !slices.Equal(ch, []breakerChange{{BreakerClosed, BreakerOpen}}) {
		t.Fatalf("changes %v, want closed -> open", ch)
	}
	if s := b.snapshot(); s.State != BreakerOpen || s.Requests != 4 || s.FailureRate != 1 || s.HalfOpenIn != 30*time.Second {
		t.Errorf("open snapshot %+v, want open 4 requests 100%% half-open in 30s", s)
	}
	if _, why := call(b, outcomeSuccess); why != ReasonBreakerOpen {
		t.Errorf("an open breaker admitted a call (%s)", why)
	}
	c.advance(30 * time.Second)
	// Reading the state changes nothing: it reads half-open, and the move
	// is made (and reported) by the next call.
	if s := b.snapshot(); s.State != BreakerHalfOpen {
		t.Errorf("snapshot after the cooldown %s, want half_open", s.State)
	}
	probe, ch, why := b.allow()
	if why != ReasonNone || !probe.probe || !slices.Equal(ch, []breakerChange{{BreakerOpen, BreakerHalfOpen}}) {
		t.Fatalf("after the cooldown: %+v %v %s, want the probe and open -> half_open", probe, ch, why)
	}
	if _, why := call(b, outcomeSuccess); why != ReasonBreakerOpen {
		t.Errorf("a second call went through while the probe was out")
	}
	// A probe with no evidence (cancelled before it showed anything) lets
	// another probe through.
	b.report(probe, outcomeExcluded, 0, c.now)
	probe, _, _ = b.allow()
	if ch := b.report(probe, outcomeFailure, 0, c.now); !slices.Equal(ch, []breakerChange{{BreakerHalfOpen, BreakerOpen}}) {
		t.Fatalf("failed probe: %v, want half_open -> open", ch)
	}
	c.advance(30 * time.Second)
	probe, _, _ = b.allow()
	if ch := b.report(probe, outcomeHealthy, 0, c.now); !slices.Equal(ch, []breakerChange{{BreakerHalfOpen, BreakerClosed}}) {
		t.Fatalf("probe cancelled while streaming: %v, want half_open -> closed", ch)
	}
	if s := b.snapshot(); s.State != BreakerClosed || s.Requests != 0 {
		t.Errorf("closed again: %+v, want a fresh window", s)
	}
}

func TestBreakerRollingWindowAndStaleReports(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	b := testBreaker(c)
	for range 3 {
		call(b, outcomeFailure)
	}
	// The window is a minute in ten buckets: the three failures age out.
	c.advance(61 * time.Second)
	for range 3 {
		if ch, _ := call(b, outcomeSuccess); len(ch) != 0 {
			t.Fatalf("changes %v", ch)
		}
	}
	if ch, _ := call(b, outcomeFailure); len(ch) != 0 {
		t.Errorf("tripped on 1 failure of 4 in the window: %v", ch)
	}
	if s := b.snapshot(); s.Requests != 4 || s.Failures != 1 {
		t.Errorf("window %d requests %d failures, want 4 and 1", s.Requests, s.Failures)
	}
	// A call admitted before the breaker opened does not count after.
	old, _, _ := b.allow()
	call(b, outcomeFailure)
	call(b, outcomeFailure)
	call(b, outcomeFailure) // 4 failures of 7: open
	if b.snapshot().State != BreakerOpen {
		t.Fatalf("want open")
	}
	c.advance(30 * time.Second)
	probe, _, _ := b.allow()
	if ch := b.report(old, outcomeFailure, 0, c.now); len(ch) != 0 {
		t.Errorf("a stale report changed the breaker: %v", ch)
	}
	if ch := b.report(probe, outcomeSuccess, 0, c.now); len(ch) != 1 || ch[0].to != BreakerClosed {
		t.Errorf("probe: %v, want closed", ch)
	}
}

func TestBreakerForceAndHold(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	b := testBreaker(c)
	b.setForce(ForceOpen)
	if _, why := call(b, outcomeSuccess); why != ReasonBreakerOpen {
		t.Errorf("forced open admitted a call")
	}
	b.setForce(ForceNone)
	tk, _, _ := b.allow()
	b.report(tk, outcomeFailure, 7*time.Second, c.now) // a 429 saying retry after 7s
	if _, why := call(b, outcomeSuccess); why != ReasonRetryAfter {
		t.Errorf("called again during the hold (%q), want retry_after", why)
	}
	if s := b.snapshot(); s.HeldFor != 7*time.Second || s.State != BreakerClosed || s.Failures != 1 {
		t.Errorf("snapshot %+v, want held 7s, closed, the one failure only", s)
	}
	b.setForce(ForceClosed)
	if _, why := call(b, outcomeSuccess); why != ReasonNone {
		t.Errorf("forced closed must go through a hold")
	}
	b.setForce(ForceNone)
	c.advance(7 * time.Second)
	if _, why := call(b, outcomeSuccess); why != ReasonNone {
		t.Errorf("still held after 7s (%q)", why)
	}
}

// Health shows an open breaker whose cooldown has passed as half-open
// without moving it, so the session that next calls the model reports the
// move (Health used to make it and drop the event).
func TestHealthDoesNotSwallowBreakerTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := providers.Errorf(providers.KindHTTP, "boom")
		f := fixed(script{ttft: 10 * time.Millisecond, err: boom})
		e := newTestEngine(testConfig("a"), map[string]*fake{"a": f})
		defer e.Close()
		for range 4 {
			collect(e, t.Context(), SessionRequest{Prompt: "x"})
		}
		time.Sleep(31 * time.Second)
		if h := e.Health()[0].Breaker; h.State != BreakerHalfOpen {
			t.Fatalf("health %s, want half_open", h.State)
		}
		evs, _ := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		var moves []string
		for _, ev := range evs {
			if ev.Type == BreakerChanged {
				moves = append(moves, ev.From.String()+">"+ev.To.String())
			}
		}
		if !slices.Equal(moves, []string{"open>half_open", "half_open>open"}) {
			t.Errorf("breaker_changed %v, want open>half_open then half_open>open", moves)
		}
	})
}

// A model that usually loses races while streaming healthily is judged on
// those calls too, not on its rare failures alone.
func TestHabitualLoserIsNotJudgedOnItsFailuresAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := providers.Errorf(providers.KindHTTP, "boom")
		fast := fixed(script{ttft: 10 * time.Millisecond, text: "fast"})
		// Streams a word at 5ms, would finish much later; one call in five fails.
		slow := newFake(func(call int) script {
			if call%5 == 4 {
				return script{ttft: 5 * time.Millisecond, err: boom}
			}
			return script{ttft: 5 * time.Millisecond, gap: time.Second, text: "slow but sure answer"}
		})
		e := newTestEngine(testConfig("fast", "slow"), map[string]*fake{"fast": fast, "slow": slow})
		defer e.Close()
		for range 10 {
			collect(e, t.Context(), SessionRequest{Prompt: "x"})
		}
		h := e.Health()[1].Breaker
		if h.State != BreakerClosed || h.Requests != 10 || h.Failures != 2 {
			t.Errorf("slow's breaker %+v, want closed with 10 requests of which 2 failures", h)
		}
	})
}

func TestRetryAfterHoldsTheModelBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limited := &providers.Error{Kind: providers.KindRateLimited, Status: 429, RetryAfter: 7 * time.Second, Message: "slow down"}
		a := newFake(func(call int) script {
			if call == 0 {
				return script{ttft: 5 * time.Millisecond, err: limited}
			}
			return script{ttft: 5 * time.Millisecond, text: "a"}
		})
		b := fixed(script{ttft: 50 * time.Millisecond, text: "b"})
		e := newTestEngine(testConfig("a", "b"), map[string]*fake{"a": a, "b": b})
		defer e.Close()
		collect(e, t.Context(), SessionRequest{Prompt: "x"})
		time.Sleep(time.Second)
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if sk, ok := find(evs, AttemptSkipped, "a"); !ok || sk.Reason != ReasonRetryAfter {
			t.Fatalf("a during its hold: %+v, want skipped retry_after", sk)
		}
		// Held from 5ms until 7.005s; this session ends at 1.1s.
		if br := sum.Breakers["a"]; br.HeldFor != 5905*time.Millisecond || br.Failures != 1 {
			t.Errorf("a's breaker %+v, want 5.905s of hold left and one failure", br)
		}
		time.Sleep(7 * time.Second)
		_, sum = collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if sum.Winner != "a" || a.Calls() != 2 {
			t.Errorf("after the hold: winner %s, a called %d times; want a called again and winning", sum.Winner, a.Calls())
		}
	})
}

// A backup withheld by max_extra still fails over when the primary then
// fails: a failover is never subject to max_extra.
func TestHedgeFailsOverAfterMaxExtraWithheldTheBackup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := providers.Errorf(providers.KindHTTP, "boom")
		p := fixed(script{ttft: 300 * time.Millisecond, err: boom})
		b := fixed(script{ttft: 50 * time.Millisecond, text: "backup answer"})
		c := testConfig("p", "b")
		c.Hedge.MaxExtra = 0
		e := newTestEngine(c, map[string]*fake{"p": p, "b": b})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge})
		if sum.Winner != "b" || sum.Answer != "backup answer" || sum.Elapsed != 350*time.Millisecond {
			t.Fatalf("got %s %q at %v, want b's answer at 350ms (failover at 300ms)", sum.Status, sum.Answer, sum.Elapsed)
		}
		var rows []string
		for _, r := range sum.Models {
			rows = append(rows, r.Attempt+":"+r.ID+"/"+string(r.Role)+"/"+string(r.Status)+"/"+r.Reason)
		}
		want := []string{"a1:p/primary/failed/http", "a2:b/backup/skipped/hedge_budget", "a3:b/backup/won/"}
		if !slices.Equal(rows, want) {
			t.Errorf("rows %v, want %v", rows, want)
		}
		if !slices.Equal(sum.Degraded, []string{DegradedModelFailed}) {
			t.Errorf("degraded %v, want [model_failed]", sum.Degraded)
		}
		if h, ok := find(evs, HedgeFired, ""); !ok || h.Delay != 300*time.Millisecond {
			t.Errorf("hedge_fired %+v, want the failover at 300ms", h)
		}
	})
}

func TestStartRefusesDuplicateModelsAndHugePrompts(t *testing.T) {
	c := testConfig("a", "b")
	c.Limits.MaxPromptBytes = 10
	e := newTestEngine(c, map[string]*fake{"a": fixed(script{text: "x"}), "b": fixed(script{text: "x"})})
	defer e.Close()
	if _, err := e.Start(t.Context(), SessionRequest{Prompt: "x", Models: []string{"a", "b", "a"}}); err == nil {
		t.Errorf("models a,b,a: no error; each model must be called once")
	}
	if _, err := e.Start(t.Context(), SessionRequest{Prompt: "01234567890"}); err == nil {
		t.Errorf("an 11-byte prompt over max_prompt_bytes 10: no error")
	}
}

// Money is rounded to what prices support, and a call that streamed
// nothing and reported no usage (a 429, a refused connection) costs nothing.
func TestCostsAreRoundAndNothingSentCostsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limited := &providers.Error{Kind: providers.KindRateLimited, Status: 429, Message: "slow down"}
		words := strings.Repeat("w ", 310) + "w" // 311 chunks
		c := testConfig("a", "b")
		c.Models[0].InputPerMTok, c.Models[0].OutputPerMTok = 0, 0.1
		e := newTestEngine(c, map[string]*fake{
			"a": fixed(script{ttft: 10 * time.Millisecond, text: words}),
			"b": fixed(script{ttft: 5 * time.Millisecond, err: limited, noUsed: true}),
		})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if a := result(sum, "a"); a.CostUSD != 3.11e-05 || sum.CostUSD != 3.11e-05 {
			t.Errorf("a cost %v, session %v; want exactly 3.11e-05 (311 tokens at $0.10/Mtok)", a.CostUSD, sum.CostUSD)
		}
		if b := result(sum, "b"); b.CostUSD != 0 || b.InputTokens != 0 {
			t.Errorf("b (429 before any token) cost %v for %d input tokens, want nothing", b.CostUSD, b.InputTokens)
		}
	})
}

// An answer that grows past limits.max_answer_bytes fails the attempt
// (invalid, naming the limit) instead of growing without end.
func TestAnswerOverTheLimitFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("a", "b")
		c.Limits.MaxAnswerBytes = 100
		e := newTestEngine(c, map[string]*fake{
			"a": fixed(script{ttft: time.Millisecond, gap: time.Millisecond, text: strings.Repeat("flood ", 1000)}),
			"b": fixed(script{ttft: time.Second, text: "a sane answer"}),
		})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		f, ok := find(evs, AttemptFailed, "a")
		if !ok || f.Kind != providers.KindInvalid || !strings.Contains(f.Err, "limits.max_answer_bytes (100 bytes)") {
			t.Fatalf("a: %+v, want failed invalid naming the limit", f)
		}
		if r := result(sum, "a"); len(r.Text) > 100 {
			t.Errorf("a kept %d bytes of text, over the 100-byte limit", len(r.Text))
		}
		if sum.Winner != "b" || !slices.Equal(sum.Degraded, []string{DegradedModelFailed}) {
			t.Errorf("winner %s degraded %v, want b and model_failed", sum.Winner, sum.Degraded)
		}
	})
}

// Every strategy names why a session is degraded; the list is empty
// exactly when the status is not degraded.
func TestDegradedReasons(t *testing.T) {
	boom := providers.Errorf(providers.KindHTTP, "boom")
	tests := []struct {
		name     string
		strategy config.Strategy
		fakes    map[string]*fake
		force    string // a model whose breaker is forced open
		tie      config.TieBreak
		want     []string
	}{
		{"race, a model failed", config.Race, map[string]*fake{"a": fixed(script{ttft: time.Millisecond, err: boom}), "b": fixed(script{ttft: 10 * time.Millisecond, text: "ok"})}, "", "", []string{DegradedModelFailed}},
		{"race, a model skipped", config.Race, map[string]*fake{"a": fixed(script{ttft: time.Millisecond, text: "ok"}), "b": fixed(script{ttft: 10 * time.Millisecond, text: "ok"})}, "b", "", []string{DegradedModelSkipped}},
		{"race, clean", config.Race, map[string]*fake{"a": fixed(script{ttft: time.Millisecond, text: "ok"}), "b": fixed(script{ttft: 10 * time.Millisecond, text: "ok"})}, "", "", nil},
		{"consensus, tie settled by default", config.Consensus, map[string]*fake{"a": fixed(vote("billing", time.Millisecond)), "b": fixed(vote("technical", 2*time.Millisecond))}, "", config.TieDefault, []string{DegradedTieDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := testConfig("a", "b")
				c.Consensus.Voters, c.Consensus.MinResponses = 2, 2
				if tt.tie != "" {
					c.Consensus.TieBreak = tt.tie
				}
				e := newTestEngine(c, tt.fakes)
				defer e.Close()
				if tt.force != "" {
					e.ForceBreaker(tt.force, ForceOpen)
				}
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: tt.strategy})
				if !slices.Equal(sum.Degraded, tt.want) && !(len(tt.want) == 0 && len(sum.Degraded) == 0) {
					t.Errorf("degraded %v, want %v", sum.Degraded, tt.want)
				}
				if (sum.Status == StatusDegraded) != (len(sum.Degraded) > 0) || sum.Degraded == nil {
					t.Errorf("status %s with degraded %v: empty exactly when not degraded, and never null", sum.Status, sum.Degraded)
				}
			})
		})
	}
}

// TestBreakerTripsOnlyAboveTheRate: failure_rate is a ceiling the breaker
// tolerates; exactly at it the model keeps being called, one failure more
// trips it.
func TestBreakerTripsOnlyAboveTheRate(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	b := testBreaker(c) // failure_rate 0.5, min_requests 4
	for _, o := range []outcome{outcomeSuccess, outcomeFailure, outcomeSuccess, outcomeFailure} {
		if ch, _ := call(b, o); len(ch) != 0 {
			t.Fatalf("tripped at or below the rate: %v", ch)
		}
	}
	if s := b.snapshot(); s.State != BreakerClosed || s.FailureRate != 0.5 || s.Requests != 4 {
		t.Fatalf("at exactly failure_rate: %+v, want closed at 50%% of 4", s)
	}
	if ch, _ := call(b, outcomeFailure); !slices.Equal(ch, []breakerChange{{BreakerClosed, BreakerOpen}}) {
		t.Errorf("3 failures of 5 (60%% > 50%%): changes %v, want closed -> open", ch)
	}
}
