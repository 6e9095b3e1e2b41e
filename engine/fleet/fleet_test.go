package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	_ "github.com/council-dev/council/providers/sim" // the config's provider kind
)

// fleetConfig is one model ("m") in a tier, min_requests 4, no retries.
func fleetConfig(t testing.TB, extra string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(`
default_strategy = "race"
default_tier = "t"
`+extra+`
[breaker]
failure_rate = 0.5
min_requests = 4
window = "1m"
cooldown = "30s"
[providers.fake]
kind = "sim"
[tiers.t]
models = ["m"]
timeout = "30s"
per_model_timeout = "20s"
[[models]]
id = "m"
provider = "fake"
model = "m"
input_per_mtok = 1000
output_per_mtok = 1000
`), "fleet test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counting is a provider that counts its calls and answers with answer
// (an error, or nil for a one-chunk answer); gate, when set, holds each
// call until it is closed.
type counting struct {
	calls  atomic.Int64
	answer func() error
	gate   chan struct{}
}

func (p *counting) Stream(ctx context.Context, _ providers.Request) (providers.Stream, error) {
	p.calls.Add(1)
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := p.answer(); err != nil {
		return nil, err
	}
	return &oneChunk{}, nil
}

type oneChunk struct{ done bool }

func (s *oneChunk) Next() bool {
	if s.done {
		return false
	}
	s.done = true
	return true
}
func (s *oneChunk) Chunk() providers.Chunk {
	return providers.Chunk{Text: "ok", Finish: providers.FinishStop}
}
func (s *oneChunk) Err() error   { return nil }
func (s *oneChunk) Close() error { return nil }

func dead() error { return &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "down"} }

// replicas are n engines over p sharing st (none when nil).
func replicas(t testing.TB, n int, cfg *config.Config, p providers.Provider, st func() engine.SharedState) []*engine.Engine {
	t.Helper()
	es := make([]*engine.Engine, n)
	for i := range es {
		var opts []engine.Option
		if st != nil {
			opts = append(opts, engine.WithShared(st()))
		}
		e, err := engine.New(cfg, map[string]providers.Provider{"m": p}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		es[i] = e
	}
	return es
}

// refused: the session skipped the model (breaker_open or retry_after).
func refused(sum *engine.Summary) bool {
	return len(sum.Models) > 0 && sum.Models[0].Status == engine.AttemptSkippedStatus
}

func ask(e *engine.Engine) (*engine.Summary, error) {
	return e.Run(context.Background(), engine.SessionRequest{Prompt: "hi"}, nil)
}

// allOpen runs sessions on the replicas at once, each in a loop, until
// every replica refuses the dead model; it returns the calls it got.
func allOpen(t testing.TB, es []*engine.Engine, p *counting) int64 {
	t.Helper()
	var wg sync.WaitGroup
	for _, e := range es {
		wg.Go(func() {
			for range 200 {
				sum, err := ask(e)
				if err != nil {
					t.Error(err)
					return
				}
				if refused(sum) {
					return
				}
			}
			t.Error("a replica never refused the dead model")
		})
	}
	wg.Wait()
	for i, e := range es {
		if st := e.Health()[0].Breaker.State; st != engine.BreakerOpen {
			t.Errorf("replica %d reads %s", i, st)
		}
	}
	return p.calls.Load()
}

// TestFleetTripsOnceWithRedis: three replicas calling a model that fails
// every call, at once: sharing their breaker through Redis, it gets at
// most min_requests + the calls in flight (one per replica) before all
// three refuse it; without Redis each learns alone (3 x min_requests).
func TestFleetTripsOnceWithRedis(t *testing.T) {
	r := startRedis(t)
	cfg := fleetConfig(t, "")
	alone := &counting{answer: dead}
	nAlone := allOpen(t, replicas(t, 3, cfg, alone, nil), alone)
	shared := &counting{answer: dead}
	st := r.store(t, 2*time.Second) // generous: a slow machine is not an outage here
	nShared := allOpen(t, replicas(t, 3, cfg, shared, func() engine.SharedState { return st }), shared)
	t.Logf("calls to the dead model before all three replicas refused it: %d alone, %d sharing through Redis", nAlone, nShared)
	if nAlone != 12 {
		t.Errorf("alone: %d calls, want 3 x min_requests = 12", nAlone)
	}
	if nShared > 4+3 {
		t.Errorf("sharing: %d calls, want at most min_requests + in flight = 7", nShared)
	}
	if st.Status() != "shared" {
		t.Errorf("status %s", st.Status())
	}
}

// TestFleetSharesRetryAfter: a 429 with Retry-After on one replica holds
// the model on all three: the others skip it without calling it.
func TestFleetSharesRetryAfter(t *testing.T) {
	r := startRedis(t)
	st := r.store(t, 2*time.Second)
	p := &counting{answer: func() error {
		return &providers.Error{Kind: providers.KindRateLimited, Status: 429, RetryAfter: time.Minute, Message: "slow down"}
	}}
	es := replicas(t, 3, fleetConfig(t, ""), p, func() engine.SharedState { return st })
	if _, err := ask(es[0]); err != nil {
		t.Fatal(err)
	}
	for i, e := range es[1:] {
		sum, err := ask(e)
		if err != nil {
			t.Fatal(err)
		}
		if !refused(sum) || sum.Models[0].Reason != string(engine.ReasonRetryAfter) {
			t.Errorf("replica %d during the hold: %+v, want the model skipped (retry_after)", i+1, sum.Models)
		}
		if h := e.Health()[0].Breaker.HeldFor; h <= 0 {
			t.Errorf("replica %d does not show the hold", i+1)
		}
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("the rate-limited model got %d calls, want 1", n)
	}
}

// TestFleetSharesRateLimit: a client's rate_limit_rpm is one budget for
// three replicas.
func TestFleetSharesRateLimit(t *testing.T) {
	r := startRedis(t)
	now := time.Now()
	var ok int
	for i := range 9 {
		s := r.store(t, 2*time.Second) // a replica's own connection
		if yes, _, err := s.TakeRate(context.Background(), "client-a", 5, now); err != nil {
			t.Fatal(err)
		} else if yes {
			ok++
		}
		_ = i
	}
	if ok != 5 {
		t.Errorf("%d of 9 requests across replicas let through, want rate_limit_rpm = 5", ok)
	}
}

// TestFleetSharesRunCap: a session running on one replica holds its
// worst case against the fleet's max_run_cost_usd: another replica's
// session that would cross it is refused, and let through once the first
// has ended and cost less.
func TestFleetSharesRunCap(t *testing.T) {
	r := startRedis(t)
	st := r.store(t, 2*time.Second)
	cfg := fleetConfig(t, "")
	p := &counting{answer: func() error { return nil }, gate: make(chan struct{})}
	es := replicas(t, 2, cfg, p, func() engine.SharedState { return st })
	est, err := es[0].Estimate(engine.SessionRequest{Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxRunCostUSD = 1.5 * est
	ch, err := es[0].Start(context.Background(), engine.SessionRequest{Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es[1].Start(context.Background(), engine.SessionRequest{Prompt: "hi"}); !errors.Is(err, engine.ErrOverBudget) || !strings.Contains(err.Error(), "fleet") {
		t.Fatalf("a second replica's session while the first runs: %v, want over the fleet's budget", err)
	}
	close(p.gate)
	for range ch {
	}
	if _, err := ask(es[1]); err != nil {
		t.Errorf("after the first session ended: %v", err)
	}
}

// TestFleetRedisDown: Redis killed, then paused (SIGSTOP): the replicas
// keep answering, none waits long for Redis, and they say degraded; with
// Redis back they share again.
func TestFleetRedisDown(t *testing.T) {
	r := startRedis(t)
	const timeout = 100 * time.Millisecond
	stores := make([]*Store, 3)
	for i := range stores {
		stores[i] = r.store(t, timeout)
	}
	i := 0
	es := replicas(t, 3, fleetConfig(t, ""), &counting{answer: func() error { return nil }},
		func() engine.SharedState { i++; return stores[i-1] })
	answers := func(when, want string) {
		t.Helper()
		for n, e := range es {
			start := time.Now()
			sum, err := ask(e)
			took := time.Since(start)
			if err != nil || sum.Status != engine.StatusDecided {
				t.Errorf("%s: replica %d did not answer: %v", when, n, err)
			}
			// A generous bound (the machine is shared): Redis costs a
			// session a few timeouts at most, never a hang.
			if took > 5*time.Second {
				t.Errorf("%s: replica %d took %s", when, n, took)
			}
			if got := e.SharedStatus(); got != want {
				t.Errorf("%s: replica %d says %q, want %q", when, n, got, want)
			}
		}
	}
	answers("redis up", "shared")

	r.stop()
	answers("redis killed", "degraded")

	r.start()
	for _, s := range stores {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("ping after restart: %v", err)
		}
	}
	answers("redis back", "shared")

	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	answers("redis paused", "degraded")
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("ping after SIGCONT: %v", err)
		}
	}
	answers("redis resumed", "shared")
}

// TestFleetPublishesTrips: a trip on replica A reaches idle replica B
// through the fleet's channel: B's own breaker is open without B calling
// the model, and its Health() shows it even with Redis gone (no read
// through). Redis back, B's watch subscribes again and the next move (a
// force) reaches it too.
func TestFleetPublishesTrips(t *testing.T) {
	r := startRedis(t)
	cfg := fleetConfig(t, "")
	p := &counting{answer: dead}
	moves := make(chan string, 64)
	stB := r.store(t, 2*time.Second)
	b, err := engine.New(cfg, map[string]providers.Provider{"m": p}, engine.WithShared(stB),
		engine.WithSharedMoves(func(model string) {
			select {
			case moves <- model:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	await := func(want string) {
		t.Helper()
		for m := range moves {
			if m == want {
				return
			}
		}
	}
	await("") // B's subscription is confirmed
	a := replicas(t, 1, cfg, p, func() engine.SharedState { return r.store(t, 2*time.Second) })[0]
	for range 4 {
		if _, err := ask(a); err != nil {
			t.Fatal(err)
		}
	}
	await("m")
	r.stop()
	if h := b.Health()[0]; h.Breaker.State != engine.BreakerOpen {
		t.Errorf("idle replica B reads %s after A tripped, want open", h.Breaker.State)
	}
	if n := p.calls.Load(); n != 4 {
		t.Errorf("the model got %d calls, want A's 4", n)
	}
	r.start()
	await("") // subscribed again
	if err := a.ForceBreaker("m", engine.ForceClosed); err != nil {
		t.Fatal(err)
	}
	await("m")
	r.stop()
	if h := b.Health()[0]; h.Breaker.Forced != "closed" {
		t.Errorf("B's breaker after A forced it closed: %+v", h.Breaker)
	}
}

// TestFleetSharesCutsWithRedis: the primaries replica A's hedges cut at
// the knee to replace them reach replica B through Redis as cuts. B, with
// no window of its own, reads the slow mode they were cut for: 30 cuts at
// 1.5 s, below a knee since risen to 1.69 s, are a 30% slow share, and it
// hedges at the knee; read as plain lower bounds they would be 30 calls of
// the fast mode, and B would find no slow mode. An entry a replica of the
// previous version wrote reads as the lower bound it meant.
func TestFleetSharesCutsWithRedis(t *testing.T) {
	const ms = time.Millisecond
	r := startRedis(t)
	ctx := context.Background()
	a, b := r.store(t, 2*time.Second), r.store(t, 2*time.Second)
	fast := 0
	for i := range 100 {
		x := engine.LatencySample{Total: 1500 * ms, Bound: true, Cut: true}
		if i%10 >= 3 {
			x = engine.LatencySample{Total: 1000*ms + time.Duration(fast)*10*ms}
			fast++
		}
		if err := a.AddLatency(ctx, "m", x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Latencies(ctx, "m")
	if err != nil || len(got) != 100 {
		t.Fatalf("B reads %d calls (%v), want A's 100", len(got), err)
	}
	cuts := 0
	for _, x := range got {
		if x.Cut {
			cuts++
			if x != (engine.LatencySample{Total: 1500 * ms, Bound: true, Cut: true}) {
				t.Errorf("a cut reads as %+v", x)
			}
		}
	}
	if cuts != 30 {
		t.Errorf("B reads %d cuts, want A's 30", cuts)
	}

	cfg := fleetConfig(t, "[hedge]\ndelay = \"p95\"\n")
	e, err := engine.New(cfg, map[string]providers.Provider{"m": &counting{answer: func() error { return nil }}}, engine.WithShared(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	tail, _ := e.HedgeTail("m")
	if tail.Samples != 100 || tail.Knee != 1690*ms || tail.SlowShare < 0.3-1e-9 || tail.SlowShare > 0.3+1e-9 || tail.Delay != 1690*ms {
		t.Errorf("replica B reads %+v from the fleet's window: want 100 calls, the knee at 1.69s, 30%% slow, the delay at the knee", tail)
	}

	// The previous version's entries: microseconds, "b" before a lower bound.
	if err := a.rdb.LPush(ctx, a.latencyKey("old"), "1000000", "b2000000").Err(); err != nil {
		t.Fatal(err)
	}
	old, err := b.Latencies(ctx, "old")
	want := []engine.LatencySample{{Total: 2 * time.Second, Bound: true}, {Total: time.Second}}
	if err != nil || len(old) != 2 || old[0] != want[0] || old[1] != want[1] {
		t.Errorf("the previous version's entries read as %+v (%v), want %+v", old, err, want)
	}
}
