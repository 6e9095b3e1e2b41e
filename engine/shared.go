package engine

import (
	"context"
	"slices"
	"sync"
	"time"
)

// SharedState is the state a fleet of engines (the replicas of `council
// serve`) shares: each model's breaker, its rate-limit holds, each
// client's rate limit and the spending. An engine without one
// ([WithShared]) keeps all of it to itself, as it always has. Each method is
// atomic; an error means the shared state could not be reached in time,
// and the engine then goes on with its own state alone (the fleet is
// degraded, never down). Times are the caller's clock.
type SharedState interface {
	// LoadBreaker returns model's shared breaker.
	LoadBreaker(ctx context.Context, model string) (SharedBreaker, error)
	// CountBreaker adds a finished call to model's shared rolling window
	// and trips the shared breaker when the window crosses the threshold,
	// as the engine's breaker does; it returns the breaker after.
	CountBreaker(ctx context.Context, model string, c BreakerCount) (SharedBreaker, error)
	// PublishBreaker records a move owner's breaker made: to open (opened
	// at, with the counts that tripped it) or to closed. An open already
	// shared is kept; it returns the shared breaker after.
	PublishBreaker(ctx context.Context, model, owner string, st BreakerState, at time.Time, req, fail int) (SharedBreaker, error)
	// ClaimProbe claims the half-open probe of model's breaker opened at
	// openedAt for owner (a replica), for ttl: false when another
	// replica holds it. The owner may claim it again.
	ClaimProbe(ctx context.Context, model, owner string, openedAt, now time.Time, ttl time.Duration) (bool, error)
	// ForceBreaker forces model's shared breaker (ForceNone gives it back).
	ForceBreaker(ctx context.Context, model string, f Force) error
	// Hold skips model until till on every replica (a 429's Retry-After);
	// a later hold already set stays.
	Hold(ctx context.Context, model string, till time.Time) error
	// TakeRate takes one request from client's budget of rpm a minute
	// (a burst of rpm, refilled evenly): false and how long to wait when
	// there is none left.
	TakeRate(ctx context.Context, client string, rpm int, now time.Time) (bool, time.Duration, error)
	// Reserve holds usd under id against the run's cap and the day's (0:
	// none) when neither would be crossed by it, what is spent and what
	// the other holds keep; it returns whether it did and the spending.
	Reserve(ctx context.Context, id string, usd, runCap, dayCap float64, now time.Time) (bool, Spending, error)
	// Settle replaces id's hold with what its session really cost.
	Settle(ctx context.Context, id string, usd float64, now time.Time) error
	// HedgeBegin registers a hedge session in the fleet's hedge budget
	// (hedge.max_extra over the fleet's last 100 hedge sessions) and
	// returns its number.
	HedgeBegin(ctx context.Context) (int64, error)
	// HedgeTake asks to fire a backup for hedge session n: true while the
	// fleet's backups fired stay within ceil(maxExtra x sessions).
	HedgeTake(ctx context.Context, n int64, maxExtra float64) (bool, error)
	// AddLatency adds a finished call to model's fleet latency window
	// (the fleet's last statsWindow calls), lower bounds and cuts marked
	// as such: Latencies returns x as it was added.
	AddLatency(ctx context.Context, model string, x LatencySample) error
	// Latencies returns model's fleet latency window.
	Latencies(ctx context.Context, model string) ([]LatencySample, error)
	// WatchBreakers calls moved(model, origin) each time the shared
	// breaker of model moves (a trip, a close, a force or a hold), origin
	// naming the replica that moved it ("" for a force or a hold), and
	// moved("", "") each time the watch starts or starts again after it
	// was lost (moves may have been missed meanwhile). It returns at once;
	// stop ends the watch, and once stop returns moved is not called
	// again. A lost watch blocks nothing and is taken up again when the
	// store is back.
	WatchBreakers(moved func(model, origin string)) (stop func())
	// Status is "shared", or "degraded" while the store cannot be reached.
	Status() string
}

// SharedBreaker is a model's breaker as the fleet shares it. HalfOpen is
// never shared: each replica half-opens an open breaker whose cooldown
// has passed.
type SharedBreaker struct {
	// Seq counts the shared moves; a replica adopts a breaker whose Seq it
	// has not seen.
	Seq      int64
	State    BreakerState // closed or open
	OpenedAt time.Time
	// Req and Fail are the counts that tripped an open breaker.
	Req, Fail int
	Force     Force
	HeldTill  time.Time
}

// BreakerCount is one finished call for [SharedState.CountBreaker], with
// the breaker's rule.
type BreakerCount struct {
	Now     time.Time
	Failure bool
	// Bucket is the window's bucket (window / 10): buckets are numbered
	// from the Unix epoch so that every replica numbers them alike.
	Bucket      time.Duration
	MinRequests int
	Rate        float64
	// Owner is the replica counting, named as the origin of a trip.
	Owner string
}

// Spending is the fleet's spending: what ended sessions cost (in the run
// and today) and what running ones hold.
type Spending struct {
	Spent, Held, Day float64
}

// WithShared makes the engine share its breakers, holds and spending
// through st (see [SharedState]).
func WithShared(st SharedState) Option { return func(e *Engine) { e.shared = st } }

// Shared is the engine's shared state, nil when it shares nothing.
func (e *Engine) Shared() SharedState { return e.shared }

// SharedStatus is "" for an engine that shares nothing, else its store's
// status: "shared" or "degraded".
func (e *Engine) SharedStatus() string {
	if e.shared == nil {
		return ""
	}
	return e.shared.Status()
}

// MemoryShared is a [SharedState] in memory: engines in one process given
// the same one act as a fleet (and tests of the fleet's rules run on a
// virtual clock). Build it with [NewMemoryShared].
type MemoryShared struct {
	mu       sync.Mutex
	breakers map[string]*memBreaker
	rates    map[string]*memRate
	spent    float64
	days     map[string]float64
	holds    map[string]float64
	hedges   hedgeBudget
	probes   map[string]memProbe
	lat      map[string]*memLatency
	// watches are the WatchBreakers callbacks, called in the goroutine
	// that moved a breaker, after the move.
	watches map[int]func(model, origin string)
	nwatch  int
	// calling is held (read) while callbacks run, so that a watch's stop
	// waits for them.
	calling sync.RWMutex
}

// memLatency is a model's fleet latency window: a ring of its last
// statsWindow calls.
type memLatency struct {
	ring [statsWindow]LatencySample
	n    int
}

type memProbe struct {
	owner string
	till  time.Time
}

type memBreaker struct {
	SharedBreaker
	buckets map[int64][2]int // bucket number: successes, failures
}

type memRate struct {
	tokens float64
	at     time.Time
}

// NewMemoryShared returns an empty shared state.
func NewMemoryShared() *MemoryShared {
	return &MemoryShared{breakers: map[string]*memBreaker{}, rates: map[string]*memRate{},
		days: map[string]float64{}, holds: map[string]float64{}, probes: map[string]memProbe{},
		lat: map[string]*memLatency{}, watches: map[int]func(string, string){}}
}

func (m *MemoryShared) breaker(model string) *memBreaker {
	b := m.breakers[model]
	if b == nil {
		b = &memBreaker{buckets: map[int64][2]int{}}
		m.breakers[model] = b
	}
	return b
}

// LoadBreaker implements [SharedState].
func (m *MemoryShared) LoadBreaker(_ context.Context, model string) (SharedBreaker, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.breaker(model).SharedBreaker, nil
}

// CountBreaker implements [SharedState].
func (m *MemoryShared) CountBreaker(_ context.Context, model string, c BreakerCount) (SharedBreaker, error) {
	m.mu.Lock()
	b := m.breaker(model)
	seq := b.Seq
	sb := m.count(b, c)
	m.mu.Unlock()
	if sb.Seq != seq {
		m.moved(model, c.Owner)
	}
	return sb, nil
}

// count is CountBreaker under m.mu.
func (m *MemoryShared) count(b *memBreaker, c BreakerCount) SharedBreaker {
	if b.State != BreakerClosed {
		return b.SharedBreaker
	}
	n := c.Now.UnixNano() / int64(max(c.Bucket, 1))
	bk := b.buckets[n]
	if c.Failure {
		bk[1]++
	} else {
		bk[0]++
	}
	b.buckets[n] = bk
	req, fail := 0, 0
	for k, v := range b.buckets {
		if k <= n-breakerBuckets {
			delete(b.buckets, k)
			continue
		}
		req += v[0] + v[1]
		fail += v[1]
	}
	if c.Failure && req >= max(c.MinRequests, 1) && float64(fail)/float64(req) > c.Rate {
		b.Seq++
		b.State, b.OpenedAt, b.Req, b.Fail = BreakerOpen, c.Now, req, fail
		clear(b.buckets)
	}
	return b.SharedBreaker
}

// moved calls the watches (not under m.mu: they read the store).
func (m *MemoryShared) moved(model, origin string) {
	m.calling.RLock()
	defer m.calling.RUnlock()
	m.mu.Lock()
	fs := make([]func(string, string), 0, len(m.watches))
	for _, f := range m.watches {
		fs = append(fs, f)
	}
	m.mu.Unlock()
	for _, f := range fs {
		f(model, origin)
	}
}

// WatchBreakers implements [SharedState]: moved is called in the
// goroutine that moved the breaker, once the move is made.
func (m *MemoryShared) WatchBreakers(moved func(model, origin string)) (stop func()) {
	m.mu.Lock()
	id := m.nwatch
	m.nwatch++
	m.watches[id] = moved
	m.mu.Unlock()
	moved("", "")
	return func() {
		m.mu.Lock()
		delete(m.watches, id)
		m.mu.Unlock()
		m.calling.Lock() // the calls under way end
		m.calling.Unlock()
	}
}

// PublishBreaker implements [SharedState].
func (m *MemoryShared) PublishBreaker(_ context.Context, model, owner string, st BreakerState, at time.Time, req, fail int) (SharedBreaker, error) {
	m.mu.Lock()
	b := m.breaker(model)
	if st == BreakerOpen && b.State == BreakerOpen && !at.After(b.OpenedAt) {
		m.mu.Unlock()
		return b.SharedBreaker, nil // already open, as late or later
	}
	b.Seq++
	b.State, b.OpenedAt, b.Req, b.Fail = st, at, req, fail
	clear(b.buckets)
	sb := b.SharedBreaker
	m.mu.Unlock()
	m.moved(model, owner)
	return sb, nil
}

// ClaimProbe implements [SharedState].
func (m *MemoryShared) ClaimProbe(_ context.Context, model, owner string, openedAt, now time.Time, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := model + "@" + openedAt.String()
	if p, ok := m.probes[k]; ok && p.owner != owner && now.Before(p.till) {
		return false, nil
	}
	m.probes[k] = memProbe{owner, now.Add(ttl)}
	return true, nil
}

// ForceBreaker implements [SharedState].
func (m *MemoryShared) ForceBreaker(_ context.Context, model string, f Force) error {
	m.mu.Lock()
	m.breaker(model).Force = f
	m.mu.Unlock()
	m.moved(model, "")
	return nil
}

// Hold implements [SharedState].
func (m *MemoryShared) Hold(_ context.Context, model string, till time.Time) error {
	m.mu.Lock()
	b := m.breaker(model)
	raised := till.After(b.HeldTill)
	if raised {
		b.HeldTill = till
	}
	m.mu.Unlock()
	if raised {
		m.moved(model, "")
	}
	return nil
}

// TakeRate implements [SharedState].
func (m *MemoryShared) TakeRate(_ context.Context, client string, rpm int, now time.Time) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rates[client]
	if r == nil {
		r = &memRate{tokens: float64(rpm), at: now}
		m.rates[client] = r
	}
	every := time.Minute / time.Duration(rpm)
	r.tokens = min(float64(rpm), r.tokens+float64(now.Sub(r.at))/float64(every))
	r.at = now
	if r.tokens < 1 {
		return false, time.Duration((1 - r.tokens) * float64(every)), nil
	}
	r.tokens--
	return true, 0, nil
}

// Reserve implements [SharedState].
func (m *MemoryShared) Reserve(_ context.Context, id string, usd, runCap, dayCap float64, now time.Time) (bool, Spending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sp := Spending{Spent: m.spent, Day: m.days[dayOf(now)]}
	for _, h := range m.holds {
		sp.Held += h
	}
	if (runCap > 0 && sp.Spent+sp.Held+usd > runCap) || (dayCap > 0 && sp.Day+sp.Held+usd > dayCap) {
		return false, sp, nil
	}
	m.holds[id] = usd
	return true, sp, nil
}

// Settle implements [SharedState].
func (m *MemoryShared) Settle(_ context.Context, id string, usd float64, now time.Time) error {
	m.mu.Lock()
	delete(m.holds, id)
	m.spent += usd
	m.days[dayOf(now)] += usd
	m.mu.Unlock()
	return nil
}

// HedgeBegin implements [SharedState].
func (m *MemoryShared) HedgeBegin(context.Context) (int64, error) {
	return int64(m.hedges.begin()), nil
}

// HedgeTake implements [SharedState].
func (m *MemoryShared) HedgeTake(_ context.Context, n int64, maxExtra float64) (bool, error) {
	return m.hedges.take(int(n), maxExtra), nil
}

// AddLatency implements [SharedState].
func (m *MemoryShared) AddLatency(_ context.Context, model string, x LatencySample) error {
	m.mu.Lock()
	l := m.lat[model]
	if l == nil {
		l = &memLatency{}
		m.lat[model] = l
	}
	l.ring[l.n%statsWindow] = x
	l.n++
	m.mu.Unlock()
	return nil
}

// Latencies implements [SharedState].
func (m *MemoryShared) Latencies(_ context.Context, model string) ([]LatencySample, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.lat[model]
	if l == nil {
		return nil, nil
	}
	return slices.Clone(l.ring[:min(l.n, statsWindow)]), nil
}

// Status implements [SharedState]: always "shared".
func (m *MemoryShared) Status() string { return "shared" }

// dayOf names now's UTC day, the period of max_cost_usd_per_day.
func dayOf(now time.Time) string { return now.UTC().Format("2006-01-02") }
