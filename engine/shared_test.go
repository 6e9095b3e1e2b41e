package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// fleetOf is n breakers of one model on one clock, sharing st (none when
// st is nil), as n replicas' breakers would.
func fleetOf(st SharedState, n int, c *manualClock) []*breaker {
	bs := make([]*breaker, n)
	for i := range bs {
		bs[i] = testBreaker(c)
		if st != nil {
			bs[i].fleet = &fleetBreaker{st: st, ctx: context.Background(), model: "m", owner: string(rune('a' + i))}
		}
	}
	return bs
}

// deadCalls sends a failing call through each breaker in turn until every
// one refuses, and returns how many went out.
func deadCalls(t *testing.T, bs []*breaker, c *manualClock) int {
	t.Helper()
	calls := 0
	for round := 0; round < 100; round++ {
		refused := 0
		for _, b := range bs {
			c.advance(10 * time.Millisecond)
			if _, why := call(b, outcomeFailure); why == ReasonNone {
				calls++
			} else {
				refused++
			}
		}
		if refused == len(bs) {
			return calls
		}
	}
	t.Fatal("the breakers never all opened")
	return 0
}

// TestFleetTripsOnce: three replicas sharing their breakers send a dead
// model min_requests calls in all before every one refuses it; alone,
// each learns on its own and it gets three times as many.
func TestFleetTripsOnce(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	alone := deadCalls(t, fleetOf(nil, 3, c), c)
	shared := deadCalls(t, fleetOf(NewMemoryShared(), 3, c), c)
	if alone != 12 {
		t.Errorf("without sharing the dead model got %d calls, want 3 x min_requests = 12", alone)
	}
	if shared != 4 {
		t.Errorf("sharing, the dead model got %d calls, want min_requests = 4", shared)
	}
}

// TestFleetHalfOpensAndCloses: every replica half-opens the shared open
// breaker after the cooldown; a probe's success on one closes it on all.
func TestFleetHalfOpensAndCloses(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	bs := fleetOf(NewMemoryShared(), 3, c)
	deadCalls(t, bs, c)
	c.advance(31 * time.Second)
	if ch, why := call(bs[0], outcomeSuccess); why != ReasonNone || len(ch) != 2 {
		t.Fatalf("the probe: %v %s, want half-open then closed", ch, why)
	}
	for i, b := range bs[1:] {
		tk, ch, why := b.allow()
		if why != ReasonNone || len(ch) == 0 || ch[len(ch)-1].to != BreakerClosed {
			t.Errorf("replica %d after the fleet's probe closed it: %v %s, want a move to closed", i+1, ch, why)
		}
		b.report(tk, outcomeSuccess, 0, c.now)
	}
}

// TestFleetSharesHoldsAndForce: a Retry-After seen by one replica holds
// the model on all; a force set on one applies on all.
func TestFleetSharesHoldsAndForce(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	bs := fleetOf(NewMemoryShared(), 3, c)
	tk, _, _ := bs[0].allow()
	bs[0].report(tk, outcomeFailure, 20*time.Second, c.now)
	for i, b := range bs {
		if _, _, why := b.allow(); why != ReasonRetryAfter {
			t.Errorf("replica %d during another's hold: %q, want retry_after", i, why)
		}
	}
	c.advance(21 * time.Second)
	if _, _, why := bs[2].allow(); why != ReasonNone {
		t.Errorf("after the hold: %q", why)
	}
	bs[1].setForce(ForceOpen)
	if _, _, why := bs[2].allow(); why != ReasonBreakerOpen {
		t.Errorf("another replica forced it open: %q, want breaker_open", why)
	}
	bs[0].setForce(ForceNone)
	if _, _, why := bs[2].allow(); why != ReasonNone {
		t.Errorf("the force was given back: %q", why)
	}
}

// downShared is a shared state that cannot be reached.
type downShared struct{ *MemoryShared }

var errDown = errors.New("down")

func (*downShared) LoadBreaker(context.Context, string) (SharedBreaker, error) {
	return SharedBreaker{}, errDown
}
func (*downShared) CountBreaker(context.Context, string, BreakerCount) (SharedBreaker, error) {
	return SharedBreaker{}, errDown
}
func (*downShared) PublishBreaker(context.Context, string, string, BreakerState, time.Time, int, int) (SharedBreaker, error) {
	return SharedBreaker{}, errDown
}
func (*downShared) Hold(context.Context, string, time.Time) error { return errDown }
func (*downShared) Reserve(context.Context, string, float64, float64, float64, time.Time) (bool, Spending, error) {
	return false, Spending{}, errDown
}
func (*downShared) Status() string { return "degraded" }

// TestFleetDownFallsBackToLocal: with the shared state unreachable each
// replica's breaker still trips on its own failures, and publishes its
// state once the store is back.
func TestFleetDownFallsBackToLocal(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	if n := deadCalls(t, fleetOf(&downShared{NewMemoryShared()}, 3, c), c); n != 12 {
		t.Errorf("unreachable store: %d calls, want each replica's own min_requests (12)", n)
	}
	st := NewMemoryShared()
	b := fleetOf(st, 1, c)[0]
	b.fleet.st = &downShared{NewMemoryShared()}
	deadCalls(t, []*breaker{b}, c)
	b.fleet.st = st // back
	b.allow()
	if sb, _ := st.LoadBreaker(context.Background(), "m"); sb.State != BreakerOpen {
		t.Errorf("the breaker that opened while the store was down was not published: %+v", sb)
	}
}

// TestFleetSpendingCap: two engines sharing their spending refuse a
// session that would take the fleet over max_run_cost_usd, counting the
// other's running sessions' worst case; each alone would admit it.
func TestFleetSpendingCap(t *testing.T) {
	st := NewMemoryShared()
	mk := func() (*Engine, *session) {
		cfg := testConfig("a")
		cfg.Models[0].InputPerMTok, cfg.Models[0].OutputPerMTok = 1000, 1000
		e, err := New(cfg, map[string]providers.Provider{"a": fixed(script{})}, WithShared(st))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		s, err := e.newSession(context.Background(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.q.release)
		return e, s
	}
	e1, s1 := mk()
	e2, s2 := mk()
	est := s1.estimate()
	e1.cfg.MaxRunCostUSD, e2.cfg.MaxRunCostUSD = 1.5*est, 1.5*est
	if err := e1.checkBudget(s1); err != nil {
		t.Fatalf("the first session: %v", err)
	}
	if err := e2.checkBudget(s2); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("the second session on another replica: %v, want over budget (the first holds its worst case)", err)
	}
	e1.spend(s1, est/4)
	if err := e2.checkBudget(s2); err != nil {
		t.Errorf("after the first ended, costing a quarter of its worst case: %v", err)
	}
	// The day's cap counts what was spent today.
	e2.spend(s2, 0)
	e1.cfg.MaxRunCostUSD, e1.cfg.Shared.MaxCostUSDPerDay = 0, est
	if err := e1.checkBudget(s1); !errors.Is(err, ErrOverBudget) {
		t.Errorf("over the day's cap: %v", err)
	}
}

// TestFleetHealthShowsTheFleet: an engine's Health reads its fleet's
// breaker, so a replica that has not called the model since another
// tripped it shows it open.
func TestFleetHealthShowsTheFleet(t *testing.T) {
	st := NewMemoryShared()
	mk := func() *Engine {
		e, err := New(testConfig("a"), map[string]providers.Provider{"a": fixed(script{})}, WithShared(st))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	}
	e1, e2 := mk(), mk()
	c := e1.models["a"].breaker.clock.Now()
	for range 4 {
		tk, _, _ := e1.models["a"].breaker.allow()
		e1.models["a"].breaker.report(tk, outcomeFailure, 0, c)
	}
	if got := e2.Health()[0].Breaker.State; got != BreakerOpen {
		t.Errorf("the other replica's health reads %s, want open", got)
	}
}

// TestFleetHedgeBudget: max_extra holds over the fleet's hedge sessions:
// two replicas with one session each may fire one backup between them,
// where alone each would fire its own.
func TestFleetHedgeBudget(t *testing.T) {
	for _, shared := range []bool{false, true} {
		st := NewMemoryShared()
		var fired int
		var es []*Engine
		for range 2 {
			var opts []Option
			if shared {
				opts = append(opts, WithShared(st))
			}
			e, err := New(testConfig("a"), map[string]providers.Provider{"a": fixed(script{})}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Close)
			es = append(es, e)
		}
		s1, s2 := es[0].hedgeBegin(), es[1].hedgeBegin()
		for i, sl := range []hedgeSlot{s1, s2} {
			if es[i].hedgeTake(sl, 0.5) {
				fired++
			}
		}
		if want := map[bool]int{false: 2, true: 1}[shared]; fired != want {
			t.Errorf("shared %v: %d backups fired, want %d", shared, fired, want)
		}
	}
}

// TestFleetStoreLost: a store that lost its state (Redis restarted
// without saving) is shared afresh: a trip after it reaches every
// replica, though its count of moves started again.
func TestFleetStoreLost(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	st := NewMemoryShared()
	bs := fleetOf(st, 3, c)
	deadCalls(t, bs, c) // every replica has seen the shared move 1
	c.advance(31 * time.Second)
	call(bs[0], outcomeSuccess) // the probe closes it: move 2
	for _, b := range bs[1:] {
		b.allow()
	}
	fresh := NewMemoryShared()
	for _, b := range bs {
		b.fleet.st = fresh
	}
	if n := deadCalls(t, bs, c); n != 4 {
		t.Errorf("after the store lost its state, the dead model got %d calls, want min_requests = 4", n)
	}
}

// TestFleetProbesOnce: once the cooldown has passed, one replica probes
// for the fleet; the others refuse the model until the probe's outcome is
// shared.
func TestFleetProbesOnce(t *testing.T) {
	c := &manualClock{now: time.Unix(1000, 0)}
	bs := fleetOf(NewMemoryShared(), 3, c)
	deadCalls(t, bs, c)
	c.advance(31 * time.Second)
	tk, _, why := bs[0].allow()
	if why != ReasonNone || !tk.probe {
		t.Fatalf("the first replica after the cooldown: %s probe %v, want the probe", why, tk.probe)
	}
	for i, b := range bs[1:] {
		if _, _, why := b.allow(); why != ReasonBreakerOpen {
			t.Errorf("replica %d while another probes: %q, want breaker_open", i+1, why)
		}
	}
	bs[0].report(tk, outcomeFailure, 0, c.now) // the probe failed: open again, for the fleet
	c.advance(10 * time.Second)
	for i, b := range bs {
		if _, _, why := b.allow(); why != ReasonBreakerOpen {
			t.Errorf("replica %d after the failed probe: %q, want breaker_open", i, why)
		}
	}
}

// TestFleetSharesLatencyWindow: a replica that has not called a model yet
// hedges it at the quantile another replica learned, where alone it
// would wait fallback_delay; once its own window is full it reads its own.
func TestFleetSharesLatencyWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		c.Hedge.Budget = config.Duration{}
		// 200..290ms, three calls each: the p95 is 290ms.
		learn := func(call int) script { return script{ttft: time.Duration(call%10+20) * 10 * ms, text: "p"} }
		slow := func(int) script { return script{ttft: 8 * time.Second, text: "p"} }
		st := NewMemoryShared()
		replica := func(p *fake, opts ...Option) *Engine {
			e, err := New(c, map[string]providers.Provider{"p": p, "b": fixed(script{ttft: 50 * ms, text: "b"})}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Close)
			return e
		}
		a := replica(newFake(learn), WithShared(st))
		for range 30 {
			collect(a, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Models: []string{"p"}})
		}
		for _, tc := range []struct {
			name   string
			opts   []Option
			wantAt time.Duration
		}{
			{"alone", nil, c.Hedge.FallbackDelay.Duration},
			{"in the fleet", []Option{WithShared(st)}, 290 * ms},
		} {
			b := replica(newFake(slow), tc.opts...)
			evs, _ := collect(b, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Hedge, Models: []string{"p", "b"}})
			if h, ok := find(evs, HedgeFired, "b"); !ok || h.T != tc.wantAt {
				t.Errorf("%s: a fresh replica's first hedge fired %v at %v, want at %v", tc.name, ok, h.T, tc.wantAt)
			}
		}
		// The fleet's window is the last 256 calls, and holds every
		// replica's: A's 30 and the fresh replicas' lower bound (the
		// primary the backup beat).
		got, _ := st.Latencies(t.Context(), "p")
		if len(got) != 31 || !got[30].Bound {
			t.Errorf("fleet window %d calls (last %+v), want A's 30 and one lower bound", len(got), got[len(got)-1])
		}
		for range 300 {
			_ = st.AddLatency(t.Context(), "p", LatencySample{Total: ms})
		}
		if got, _ := st.Latencies(t.Context(), "p"); len(got) != statsWindow {
			t.Errorf("fleet window holds %d calls, want the last %d", len(got), statsWindow)
		}
		// A's own window is full: the fleet's 1ms calls do not move its
		// delay.
		if tail, _ := a.HedgeTail("p"); tail.Delay != 290*ms {
			t.Errorf("a replica with its own window hedges at %v, want its own p95 290ms", tail.Delay)
		}
	})
}

// countingShared counts the reads of the fleet's latency windows, and
// fails them while down.
type countingShared struct {
	*MemoryShared
	reads int
	down  bool
}

func (c *countingShared) Latencies(ctx context.Context, model string) ([]LatencySample, error) {
	c.reads++
	if c.down {
		return nil, errDown
	}
	return c.MemoryShared.Latencies(ctx, model)
}

// TestFleetLatencyReadEverySecond: a replica with too few calls of its own
// reads the fleet's window at most once a second, however many hedges
// ask, and uses its own (here: fallback_delay) at once when the store
// cannot be reached.
func TestFleetLatencyReadEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := testConfig("p", "b")
		c.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
		st := &countingShared{MemoryShared: NewMemoryShared()}
		for i := range 30 {
			_ = st.AddLatency(t.Context(), "p", LatencySample{Total: time.Duration(i%10+20) * 10 * ms})
		}
		e, err := New(c, map[string]providers.Provider{"p": fixed(script{}), "b": fixed(script{})}, WithShared(st))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		check := func(when string, reads int, delay time.Duration) {
			t.Helper()
			tail, _ := e.HedgeTail("p")
			if st.reads != reads || tail.Delay != delay {
				t.Errorf("%s: %d reads, delay %v; want %d, %v", when, st.reads, tail.Delay, reads, delay)
			}
		}
		check("first", 1, 290*ms)
		check("again", 1, 290*ms)
		time.Sleep(900 * ms)
		check("within the second", 1, 290*ms)
		time.Sleep(100 * ms)
		check("a second on", 2, 290*ms)
		st.down = true
		time.Sleep(time.Second)
		check("store down", 3, c.Hedge.FallbackDelay.Duration)
		check("store down, cached", 3, c.Hedge.FallbackDelay.Duration)
	})
}

// TestFleetWatchAppliesMoves: a trip on one replica reaches an idle one
// through the store's watch: its own breaker is open (read without
// Health's read through) and it is told of the move, while the replica
// that tripped still reports its own move as an event.
func TestFleetWatchAppliesMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := NewMemoryShared()
		boom := providers.Errorf(providers.KindHTTP, "boom")
		var told []string
		mk := func(opts ...Option) *Engine {
			e, err := New(testConfig("a"), map[string]providers.Provider{"a": fixed(script{ttft: 10 * ms, err: boom})},
				append(opts, WithShared(st))...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Close)
			return e
		}
		a := mk()
		b := mk(WithSharedMoves(func(model string) { told = append(told, model) }))
		var moves []string
		for range 4 {
			evs, _ := collect(a, t.Context(), SessionRequest{Prompt: "x"})
			for _, ev := range evs {
				if ev.Type == BreakerChanged {
					moves = append(moves, ev.From.String()+">"+ev.To.String())
				}
			}
		}
		if !slices.Equal(moves, []string{"closed>open"}) {
			t.Errorf("the replica that tripped reported %v, want closed>open", moves)
		}
		if got := b.models["a"].breaker.snapshot().State; got != BreakerOpen {
			t.Errorf("the idle replica's own breaker reads %s, want open", got)
		}
		if !slices.Equal(told, []string{"", "a"}) {
			t.Errorf("the idle replica was told of %q, want its start and the trip", told)
		}
		b.Close()
		if err := a.ForceBreaker("a", ForceClosed); err != nil {
			t.Fatal(err)
		}
		if len(told) != 2 || b.models["a"].breaker.snapshot().Forced != "" {
			t.Errorf("a closed replica still watches: told %q", told)
		}
	})
}
