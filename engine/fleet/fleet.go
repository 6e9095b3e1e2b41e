// Package fleet shares a fleet of council serve replicas' state through
// Redis: each model's breaker (its rolling window, state, cooldown, force
// and rate-limit hold), each client's rate limit, the spending against
// max_run_cost_usd and max_cost_usd_per_day, the hedge budget and each
// model's latency window. [Store] implements
// engine.SharedState; every change is one Lua script, so replicas never
// interleave inside one, and every key has a TTL.
//
// Redis down is not an outage: a call that fails or outlasts the timeout
// makes the store degraded, and while it is, calls fail at once (the
// engine then uses its own state) but for one try a second, whose success
// makes it shared again.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// ErrDegraded is returned at once while Redis is unreachable, between
// tries.
var ErrDegraded = errors.New("shared state degraded: Redis unreachable")

// retryEvery is how often a degraded store tries Redis again.
const retryEvery = time.Second

// Key lifetimes: refreshed on every write, so that a fleet's keys go once
// it stops, and a crashed replica's hold stops counting.
const (
	breakerTTL = 24 * time.Hour
	rateTTL    = 2 * time.Minute
	holdTTL    = time.Hour // a session's worst case held past this is dropped
	spentTTL   = 7 * 24 * time.Hour
	dayTTL     = 48 * time.Hour
	// latencyTTL drops a model's fleet latency window an hour after its
	// last call: a window that old would mislead a hedge more than none.
	latencyTTL = time.Hour
)

// Store is the fleet's shared state in Redis. Build it with [Open] or
// [New]; Close it after the engine that uses it.
type Store struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration

	mu       sync.Mutex
	degraded bool
	retryAt  time.Time
	onChange func(status string)
	watches  map[*breakerWatch]struct{}
}

// Open connects to c.RedisURL (with the password from the variable named
// by c.RedisPasswordEnv, read through getenv). Its errors never repeat
// the password. It silences go-redis's logger, process-wide.
func Open(c config.SharedConfig, getenv func(string) string) (*Store, error) {
	if err := config.CheckRedisURL(c.RedisURL); err != nil {
		return nil, fmt.Errorf("shared.redis_url: %w", err)
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("shared.redis_url %s: not a Redis URL", config.RedactURL(c.RedisURL))
	}
	if c.RedisPasswordEnv != "" {
		if pw := getenv(c.RedisPasswordEnv); pw != "" {
			opts.Password = pw
		}
	}
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	return New(opts, c.Fleet, c.Timeout.Duration), nil
}

// quiet drops go-redis's own log lines (a refused dial each try while
// Redis is down): the store reports its status instead, and no line about
// a connection can carry its credentials.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// New is a store over a Redis client built from opts; fleet namespaces
// its keys and timeout bounds each call (0: 50ms).
func New(opts *redis.Options, fleet string, timeout time.Duration) *Store {
	if timeout <= 0 {
		timeout = config.DefaultSharedTimeout
	}
	o := *opts
	// One short try: a call never waits past the timeout for Redis.
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
	o.ContextTimeoutEnabled = true
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Store{rdb: redis.NewClient(&o), prefix: "council:" + fleet + ":", timeout: timeout}
}

// Close ends the store's breaker watches and closes the connections.
func (s *Store) Close() error {
	s.mu.Lock()
	ws := make([]*breakerWatch, 0, len(s.watches))
	for w := range s.watches {
		ws = append(ws, w)
	}
	s.watches = nil
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	return s.rdb.Close()
}

// OnChange calls f (from the call that saw it) when the status changes.
func (s *Store) OnChange(f func(status string)) {
	s.mu.Lock()
	s.onChange = f
	s.mu.Unlock()
}

// Status implements engine.SharedState: "shared" or "degraded".
func (s *Store) Status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.degraded {
		return "degraded"
	}
	return "shared"
}

// Ping tries Redis now, whatever the status, and updates it.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	s.retryAt = time.Time{}
	s.mu.Unlock()
	return s.do(ctx, func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() })
}

// do runs f within the timeout, unless the store is degraded and its next
// try is not due; it moves the status on f's outcome.
func (s *Store) do(ctx context.Context, f func(context.Context) error) error {
	s.mu.Lock()
	if s.degraded && time.Now().Before(s.retryAt) {
		s.mu.Unlock()
		return ErrDegraded
	}
	if s.degraded {
		s.retryAt = time.Now().Add(retryEvery) // one try at a time
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	err := f(ctx)
	cancel()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	s.mu.Lock()
	was := s.degraded
	s.degraded = err != nil
	if err != nil {
		s.retryAt = time.Now().Add(retryEvery)
	}
	changed, cb := was != s.degraded, s.onChange
	s.mu.Unlock()
	if changed && cb != nil {
		if err != nil {
			cb("degraded")
		} else {
			cb("shared")
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDegraded, err)
	}
	return nil
}

func (s *Store) breakerKeys(model string) []string {
	return []string{s.prefix + "breaker:" + model, s.prefix + "window:" + model}
}

// us is t in microseconds since the Unix epoch: exact in Lua's doubles.
func us(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

func usd(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// breakerFields are the breaker hash's fields, in the order the scripts
// return them.
const breakerFields = `'seq', 'state', 'opened', 'req', 'fail', 'force', 'held'`

var (
	countScript = redis.NewScript(`
local st = tonumber(redis.call('HGET', KEYS[1], 'state') or '0')
if st ~= 1 then
  local n = tonumber(ARGV[1])
  redis.call('HINCRBY', KEYS[2], ARGV[2] .. ARGV[1], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  local all = redis.call('HGETALL', KEYS[2])
  local req, fail = 0, 0
  for i = 1, #all, 2 do
    local k = all[i]
    if tonumber(string.sub(k, 3)) <= n - 10 then
      redis.call('HDEL', KEYS[2], k)
    else
      local v = tonumber(all[i + 1])
      req = req + v
      if string.sub(k, 1, 1) == 'f' then fail = fail + v end
    end
  end
  if ARGV[2] == 'f:' and req >= tonumber(ARGV[4]) and fail / req > tonumber(ARGV[5]) then
    redis.call('HINCRBY', KEYS[1], 'seq', 1)
    redis.call('HSET', KEYS[1], 'state', 1, 'opened', ARGV[3], 'req', req, 'fail', fail)
    redis.call('DEL', KEYS[2])
    redis.call('PUBLISH', ARGV[8], ARGV[9])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return redis.call('HMGET', KEYS[1], ` + breakerFields + `)`)

	publishScript = redis.NewScript(`
local st = tonumber(redis.call('HGET', KEYS[1], 'state') or '0')
local op = tonumber(redis.call('HGET', KEYS[1], 'opened') or '0')
if not (ARGV[1] == '1' and st == 1 and tonumber(ARGV[2]) <= op) then
  redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'opened', ARGV[2], 'req', ARGV[3], 'fail', ARGV[4])
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[6], ARGV[7])
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return redis.call('HMGET', KEYS[1], ` + breakerFields + `)`)

	holdScript = redis.NewScript(`
if tonumber(redis.call('HGET', KEYS[1], 'held') or '0') < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'held', ARGV[1])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`)

	probeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

	forceScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'force', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`)

	rateScript = redis.NewScript(`
local rpm, now = tonumber(ARGV[2]), tonumber(ARGV[1])
local every = 60000000 / rpm
local t = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = t[1] and tonumber(t[1]) or rpm
local at = t[2] and tonumber(t[2]) or now
tokens = math.min(rpm, tokens + math.max(0, now - at) / every)
local ok, wait = 0, 0
if tokens >= 1 then
  tokens, ok = tokens - 1, 1
else
  wait = math.ceil((1 - tokens) * every)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {ok, wait}`)

	reserveScript = redis.NewScript(`
local now = tonumber(ARGV[5])
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local day = tonumber(redis.call('GET', KEYS[2]) or '0')
local held = 0
local hs = redis.call('HGETALL', KEYS[3])
for i = 1, #hs, 2 do
  local v = hs[i + 1]
  local sep = string.find(v, '|', 1, true)
  if tonumber(string.sub(v, sep + 1)) <= now then
    redis.call('HDEL', KEYS[3], hs[i])
  else
    held = held + tonumber(string.sub(v, 1, sep - 1))
  end
end
local cost, runCap, dayCap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ok = 1
if (runCap > 0 and spent + held + cost > runCap) or (dayCap > 0 and day + held + cost > dayCap) then
  ok = 0
else
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '|' .. ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
end
return {ok, string.format('%.9f', spent), string.format('%.9f', held), string.format('%.9f', day)}`)

	hedgeBeginScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], tostring(n % tonumber(ARGV[1])), n .. ':0')
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return n`)

	hedgeTakeScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local w = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[2])
local fired = 0
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, ':', 1, true)
  if tonumber(string.sub(v, 1, sep - 1)) > cur - w and string.sub(v, sep + 1) == '1' then
    fired = fired + 1
  end
end
if fired >= math.ceil(tonumber(ARGV[2]) * math.min(cur, w) - 1e-9) then return 0 end
local n = tonumber(ARGV[1])
if n > cur - w then redis.call('HSET', KEYS[2], tostring(n % w), n .. ':1') end
return 1`)

	settleScript = redis.NewScript(`
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('INCRBYFLOAT', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('INCRBYFLOAT', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1`)
)

// parseBreaker reads a breaker hash's fields.
func parseBreaker(v []any) engine.SharedBreaker {
	num := func(i int) int64 {
		if i >= len(v) {
			return 0
		}
		s, _ := v[i].(string)
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	at := func(i int) time.Time {
		if n := num(i); n > 0 {
			return time.UnixMicro(n)
		}
		return time.Time{}
	}
	return engine.SharedBreaker{Seq: num(0), State: engine.BreakerState(num(1)), OpenedAt: at(2),
		Req: int(num(3)), Fail: int(num(4)), Force: engine.Force(num(5)), HeldTill: at(6)}
}

// LoadBreaker implements engine.SharedState.
func (s *Store) LoadBreaker(ctx context.Context, model string) (sb engine.SharedBreaker, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := s.rdb.HMGet(ctx, s.breakerKeys(model)[0], "seq", "state", "opened", "req", "fail", "force", "held").Result()
		sb = parseBreaker(v)
		return err
	})
	return sb, err
}

// CountBreaker implements engine.SharedState.
func (s *Store) CountBreaker(ctx context.Context, model string, c engine.BreakerCount) (sb engine.SharedBreaker, err error) {
	bucket := max(c.Bucket, time.Microsecond)
	n := c.Now.UnixMicro() / bucket.Microseconds()
	kind := "s:"
	if c.Failure {
		kind = "f:"
	}
	window := max(10*bucket, time.Second)
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := countScript.Run(ctx, s.rdb, s.breakerKeys(model), n, kind, us(c.Now), c.MinRequests,
			c.Rate, secs(breakerTTL), secs(2*window+time.Second), s.channel(), move(c.Owner, model)).Slice()
		sb = parseBreaker(v)
		return err
	})
	return sb, err
}

// PublishBreaker implements engine.SharedState.
func (s *Store) PublishBreaker(ctx context.Context, model, owner string, st engine.BreakerState, at time.Time, req, fail int) (sb engine.SharedBreaker, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := publishScript.Run(ctx, s.rdb, s.breakerKeys(model), int(st), us(at), req, fail, secs(breakerTTL),
			s.channel(), move(owner, model)).Slice()
		sb = parseBreaker(v)
		return err
	})
	return sb, err
}

// ClaimProbe implements engine.SharedState.
func (s *Store) ClaimProbe(ctx context.Context, model, owner string, openedAt, _ time.Time, ttl time.Duration) (ok bool, err error) {
	key := s.prefix + "probe:" + model + ":" + us(openedAt)
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := probeScript.Run(ctx, s.rdb, []string{key}, owner, max(ttl, time.Millisecond).Milliseconds()).Int64()
		ok = v == 1
		return err
	})
	return ok, err
}

// ForceBreaker implements engine.SharedState.
func (s *Store) ForceBreaker(ctx context.Context, model string, f engine.Force) error {
	return s.do(ctx, func(ctx context.Context) error {
		return forceScript.Run(ctx, s.rdb, s.breakerKeys(model)[:1], int(f), secs(breakerTTL),
			s.channel(), move("", model)).Err()
	})
}

// Hold implements engine.SharedState.
func (s *Store) Hold(ctx context.Context, model string, till time.Time) error {
	return s.do(ctx, func(ctx context.Context) error {
		return holdScript.Run(ctx, s.rdb, s.breakerKeys(model)[:1], us(till), secs(breakerTTL),
			s.channel(), move("", model)).Err()
	})
}

// TakeRate implements engine.SharedState. The client's name is hashed:
// Redis never holds a token.
func (s *Store) TakeRate(ctx context.Context, client string, rpm int, now time.Time) (ok bool, wait time.Duration, err error) {
	h := sha256.Sum256([]byte(client))
	key := s.prefix + "rate:" + hex.EncodeToString(h[:12])
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := rateScript.Run(ctx, s.rdb, []string{key}, us(now), rpm, secs(rateTTL)).Int64Slice()
		if err == nil && len(v) == 2 {
			ok, wait = v[0] == 1, time.Duration(v[1])*time.Microsecond
		}
		return err
	})
	return ok, wait, err
}

func (s *Store) spendKeys(now time.Time) []string {
	return []string{s.prefix + "spent", s.prefix + "day:" + now.UTC().Format("2006-01-02"), s.prefix + "holds"}
}

// Reserve implements engine.SharedState. A hold lasts until Settle, or an
// hour at most (a replica that died holding it).
func (s *Store) Reserve(ctx context.Context, id string, cost, runCap, dayCap float64, now time.Time) (ok bool, sp engine.Spending, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := reserveScript.Run(ctx, s.rdb, s.spendKeys(now), id, usd(cost), usd(runCap), usd(dayCap),
			us(now), us(now.Add(holdTTL)), holdTTL.Milliseconds()).Slice()
		if err != nil || len(v) != 4 {
			return err
		}
		f := func(x any) float64 { s, _ := x.(string); n, _ := strconv.ParseFloat(s, 64); return n }
		ok, sp = f(v[0]) == 1 || v[0] == int64(1), engine.Spending{Spent: f(v[1]), Held: f(v[2]), Day: f(v[3])}
		return nil
	})
	return ok, sp, err
}

// Settle implements engine.SharedState.
func (s *Store) Settle(ctx context.Context, id string, cost float64, now time.Time) error {
	return s.do(ctx, func(ctx context.Context) error {
		return settleScript.Run(ctx, s.rdb, s.spendKeys(now), id, usd(cost), secs(spentTTL), secs(dayTTL)).Err()
	})
}

// hedgeWindow is how many of the fleet's latest hedge sessions the
// hedge budget counts, as the engine's own does.
const hedgeWindow = 100

func (s *Store) hedgeKeys() []string { return []string{s.prefix + "hedge:n", s.prefix + "hedge:ring"} }

// HedgeBegin implements engine.SharedState.
func (s *Store) HedgeBegin(ctx context.Context) (n int64, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		n, err = hedgeBeginScript.Run(ctx, s.rdb, s.hedgeKeys(), hedgeWindow, secs(breakerTTL)).Int64()
		return err
	})
	return n, err
}

// HedgeTake implements engine.SharedState.
func (s *Store) HedgeTake(ctx context.Context, n int64, maxExtra float64) (ok bool, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		v, err := hedgeTakeScript.Run(ctx, s.rdb, s.hedgeKeys(), n, usd(maxExtra), hedgeWindow).Int64()
		ok = v == 1
		return err
	})
	return ok, err
}

// latencyWindow is how many of a model's latest calls the fleet's latency
// window keeps, as the engine's own does.
const latencyWindow = 256

var latencyScript = redis.NewScript(`
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`)

func (s *Store) latencyKey(model string) string { return s.prefix + "latency:" + model }

// AddLatency implements engine.SharedState: the window is a list of the
// calls' microseconds, newest first (see [encodeLatency]).
func (s *Store) AddLatency(ctx context.Context, model string, x engine.LatencySample) error {
	v := encodeLatency(x)
	return s.do(ctx, func(ctx context.Context) error {
		return latencyScript.Run(ctx, s.rdb, []string{s.latencyKey(model)}, v, latencyWindow, secs(latencyTTL)).Err()
	})
}

// encodeLatency is x as the window's list holds it: its microseconds,
// after "b" for a lower bound and "b+" for a cut. A replica of a version
// before cuts were shared read "b" then a signed number (strconv.ParseInt,
// which takes the "+"): it reads a cut as the plain lower bound it used
// to write for one, so old and new replicas share one window.
func encodeLatency(x engine.LatencySample) string {
	v := strconv.FormatInt(max(x.Total.Microseconds(), 0), 10)
	switch {
	case x.Cut:
		return "b+" + v
	case x.Bound:
		return "b" + v
	}
	return v
}

// maxLatencyUS is the most microseconds a time.Duration holds.
const maxLatencyUS = uint64(math.MaxInt64 / int64(time.Microsecond))

// decodeLatency reads an entry of the window's list; ok is false for one
// it cannot read, which is left out.
func decodeLatency(v string) (x engine.LatencySample, ok bool) {
	switch {
	case strings.HasPrefix(v, "b+"):
		x.Bound, x.Cut, v = true, true, v[2:]
	case strings.HasPrefix(v, "b"):
		x.Bound, v = true, v[1:]
	}
	n, err := strconv.ParseUint(v, 10, 64) // no sign: "b-1", "b++1" are not entries
	if err != nil || n > maxLatencyUS {
		return engine.LatencySample{}, false
	}
	x.Total = time.Duration(n) * time.Microsecond
	return x, true
}

// Latencies implements engine.SharedState.
func (s *Store) Latencies(ctx context.Context, model string) (out []engine.LatencySample, err error) {
	err = s.do(ctx, func(ctx context.Context) error {
		vs, err := s.rdb.LRange(ctx, s.latencyKey(model), 0, latencyWindow-1).Result()
		out = make([]engine.LatencySample, 0, len(vs))
		for _, v := range vs {
			if x, ok := decodeLatency(v); ok {
				out = append(out, x)
			}
		}
		return err
	})
	return out, err
}

var _ engine.SharedState = (*Store)(nil)
