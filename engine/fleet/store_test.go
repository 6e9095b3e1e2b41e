package fleet

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// miniStore is a store on a miniredis: the scripts' rules, with times
// given by the test.
func miniStore(t *testing.T) (*Store, *miniredis.Miniredis) {
	mr := miniredis.RunT(t)
	s := New(&redis.Options{Addr: mr.Addr()}, "t", time.Second)
	t.Cleanup(func() { _ = s.Close() })
	return s, mr
}

// checkTTLs fails for a key without a TTL.
func checkTTLs(t *testing.T, mr *miniredis.Miniredis) {
	t.Helper()
	for _, k := range mr.Keys() {
		if mr.TTL(k) <= 0 {
			t.Errorf("key %s has no TTL", k)
		}
	}
}

// TestStoreBreakerTrips: the shared window trips at min_requests and the
// failure rate, ignores buckets older than the window, and a publish of
// an open already shared changes nothing.
func TestStoreBreakerTrips(t *testing.T) {
	s, mr := miniStore(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	c := engine.BreakerCount{Bucket: 6 * time.Second, MinRequests: 4, Rate: 0.4}
	count := func(at time.Time, fail bool) engine.SharedBreaker {
		c.Now, c.Failure = at, fail
		sb, err := s.CountBreaker(ctx, "m", c)
		if err != nil {
			t.Fatal(err)
		}
		return sb
	}
	// Two old failures fall out of the window before the rest come.
	count(t0, true)
	count(t0, true)
	t1 := t0.Add(2 * time.Minute)
	for i := range 3 {
		if sb := count(t1, i == 0); sb.State != engine.BreakerClosed {
			t.Fatalf("tripped on %d calls with old ones counted: %+v", i+1, sb)
		}
	}
	sb := count(t1, true) // 2 failures of 4
	if sb.State != engine.BreakerOpen || sb.Req != 4 || sb.Fail != 2 || !sb.OpenedAt.Equal(t1) || sb.Seq != 1 {
		t.Fatalf("after 2 failures of 4: %+v, want open at t1 with 4/2, seq 1", sb)
	}
	if sb := count(t1, true); sb.Seq != 1 {
		t.Errorf("a count on an open breaker moved it: %+v", sb)
	}
	if sb, _ := s.PublishBreaker(ctx, "m", "a", engine.BreakerOpen, t1.Add(-time.Second), 4, 4); sb.Seq != 1 {
		t.Errorf("publishing an earlier open moved it: %+v", sb)
	}
	if sb, _ := s.PublishBreaker(ctx, "m", "a", engine.BreakerClosed, time.Time{}, 0, 0); sb.Seq != 2 || sb.State != engine.BreakerClosed {
		t.Errorf("publishing closed: %+v", sb)
	}
	if err := s.ForceBreaker(ctx, "m", engine.ForceOpen); err != nil {
		t.Fatal(err)
	}
	if err := s.Hold(ctx, "m", t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_ = s.Hold(ctx, "m", t1.Add(time.Second)) // an earlier end leaves the hold
	if sb, _ := s.LoadBreaker(ctx, "m"); sb.Force != engine.ForceOpen || !sb.HeldTill.Equal(t1.Add(time.Minute)) {
		t.Errorf("force and hold: %+v", sb)
	}
	checkTTLs(t, mr)
}

// TestStoreRateLimit: one budget of rpm a minute, refilled evenly.
func TestStoreRateLimit(t *testing.T) {
	s, mr := miniStore(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if ok, _, err := s.TakeRate(ctx, "alice", 3, t0); !ok || err != nil {
			t.Fatalf("request %d of a burst of 3: %v %v", i+1, ok, err)
		}
	}
	ok, wait, _ := s.TakeRate(ctx, "alice", 3, t0)
	if ok || wait != 20*time.Second {
		t.Errorf("the fourth: ok %v, wait %s; want refused, 20s", ok, wait)
	}
	if ok, _, _ := s.TakeRate(ctx, "bob", 3, t0); !ok {
		t.Error("another client shares alice's budget")
	}
	if ok, _, _ := s.TakeRate(ctx, "alice", 3, t0.Add(20*time.Second)); !ok {
		t.Error("refused after a refill")
	}
	for _, k := range mr.Keys() {
		if strings.Contains(k, "alice") {
			t.Errorf("a key holds the client's name: %s", k)
		}
	}
	checkTTLs(t, mr)
}

// TestStoreSpending: holds count against both caps until settled; an
// expired hold (a replica that died) stops counting.
func TestStoreSpending(t *testing.T) {
	s, mr := miniStore(t)
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	if ok, _, err := s.Reserve(ctx, "a", 0.6, 1, 0, t0); !ok || err != nil {
		t.Fatalf("first hold: %v %v", ok, err)
	}
	ok, sp, _ := s.Reserve(ctx, "b", 0.6, 1, 0, t0)
	if ok || sp.Held != 0.6 {
		t.Fatalf("second hold over the cap: ok %v %+v", ok, sp)
	}
	if err := s.Settle(ctx, "a", 0.25, t0); err != nil {
		t.Fatal(err)
	}
	if ok, sp, _ := s.Reserve(ctx, "b", 0.6, 1, 0, t0); !ok || sp.Spent != 0.25 || sp.Day != 0.25 {
		t.Fatalf("after settling a: ok %v %+v", ok, sp)
	}
	// Under the run cap, over the day's: 0.25 spent + 0.6 held + 0.2 > 1.
	if ok, _, _ := s.Reserve(ctx, "c", 0.2, 10, 1, t0); ok {
		t.Error("crossed the day's cap")
	}
	// b's hold has expired an hour on, and a new day has begun.
	if ok, sp, _ := s.Reserve(ctx, "c", 0.9, 10, 1, t0.AddDate(0, 0, 1)); !ok || sp.Held != 0 || sp.Day != 0 {
		t.Errorf("next day, b's hold expired: ok %v %+v", ok, sp)
	}
	checkTTLs(t, mr)
}

// TestOpenRedactsPassword: a bad URL's error never shows its password,
// and the password comes from the variable named.
func TestOpenRedactsPassword(t *testing.T) {
	_, err := Open(config.SharedConfig{RedisURL: "http://u:hunter2@h:1/0"}, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want one without the password", err)
	}
	s, err := Open(config.SharedConfig{RedisURL: "redis://h:1/0", RedisPasswordEnv: "PW", Fleet: "f"},
		func(k string) string { return map[string]string{"PW": "s3cret"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.rdb.Options().Password != "s3cret" || s.prefix != "council:f:" {
		t.Errorf("password or prefix not taken: %q", s.prefix)
	}
}

// TestStoreHedgeBudget: max_extra over the fleet's hedge sessions, from
// any replica's connection.
func TestStoreHedgeBudget(t *testing.T) {
	s, mr := miniStore(t)
	s2 := New(&redis.Options{Addr: mr.Addr()}, "t", time.Second)
	defer s2.Close()
	ctx := context.Background()
	var ns []int64
	for _, st := range []*Store{s, s2, s} {
		n, err := st.HedgeBegin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	// max_extra 0.5 over 3 sessions: ceil(1.5) = 2 backups.
	for i, want := range []bool{true, true, false} {
		st := []*Store{s2, s, s2}[i]
		if ok, err := st.HedgeTake(ctx, ns[i], 0.5); err != nil || ok != want {
			t.Errorf("session %d's backup: %v %v, want %v", i+1, ok, err, want)
		}
	}
	checkTTLs(t, mr)
}

// TestStoreProbeClaim: one replica holds the half-open probe of one
// opening until it expires; its owner may claim it again; another opening
// is another probe.
func TestStoreProbeClaim(t *testing.T) {
	s, mr := miniStore(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	claim := func(owner string, opened time.Time) bool {
		ok, err := s.ClaimProbe(ctx, "m", owner, opened, t0, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a", t0) || claim("b", t0) || !claim("a", t0) {
		t.Error("want a's claim, b refused, a again")
	}
	if !claim("b", t0.Add(time.Minute)) {
		t.Error("another opening's probe refused")
	}
	checkTTLs(t, mr)
	mr.FastForward(31 * time.Second)
	if !claim("b", t0) {
		t.Error("b refused after a's claim expired")
	}
}

// TestSharedBreakerTripsAboveTheRate: the shared window trips when the
// failure rate is more than failure_rate, as the local breaker does,
// never at it: in Redis's script and in the in-memory store alike.
func TestSharedBreakerTripsAboveTheRate(t *testing.T) {
	redisStore, _ := miniStore(t)
	for _, st := range []struct {
		name  string
		store engine.SharedState
	}{{"redis", redisStore}, {"memory", engine.NewMemoryShared()}} {
		t0 := time.Unix(1_800_000_000, 0)
		c := engine.BreakerCount{Now: t0, Bucket: 6 * time.Second, MinRequests: 4, Rate: 0.5}
		var sb engine.SharedBreaker
		for i, fail := range []bool{false, false, true, true} { // 2 of 4: exactly the rate
			c.Failure = fail
			var err error
			if sb, err = st.store.CountBreaker(context.Background(), st.name+"-m", c); err != nil {
				t.Fatal(err)
			}
			if sb.State != engine.BreakerClosed {
				t.Fatalf("%s: open after call %d at a failure rate of at most 0.5: %+v", st.name, i+1, sb)
			}
		}
		c.Failure = true // 3 of 5: more than the rate
		sb, _ = st.store.CountBreaker(context.Background(), st.name+"-m", c)
		if sb.State != engine.BreakerOpen {
			t.Errorf("%s: still %v at 3 failures of 5 over a rate of 0.5", st.name, sb.State)
		}
	}
}

// TestStoreLatencyWindow: a model's fleet latency window keeps its last
// 256 calls, newest first, lower bounds marked, under a TTL.
func TestStoreLatencyWindow(t *testing.T) {
	s, mr := miniStore(t)
	ctx := context.Background()
	if got, err := s.Latencies(ctx, "m"); err != nil || len(got) != 0 {
		t.Fatalf("empty window: %v, %v", got, err)
	}
	for i := range 300 {
		x := engine.LatencySample{Total: time.Duration(i+1) * time.Millisecond, Bound: i%7 == 0}
		if err := s.AddLatency(ctx, "m", x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Latencies(ctx, "m")
	if err != nil || len(got) != 256 {
		t.Fatalf("window of %d calls (%v), want the last 256", len(got), err)
	}
	if got[0] != (engine.LatencySample{Total: 300 * time.Millisecond, Bound: 299%7 == 0}) ||
		got[255] != (engine.LatencySample{Total: 45 * time.Millisecond, Bound: 44%7 == 0}) {
		t.Errorf("window from %+v to %+v, want the calls of 300ms back to 45ms", got[0], got[255])
	}
	bounds := 0
	for _, x := range got {
		if x.Bound {
			bounds++
		}
	}
	if bounds != 36 { // i in 44..299 with i%7 == 0: 49, 56 .. 294
		t.Errorf("%d lower bounds, want 36", bounds)
	}
	checkTTLs(t, mr)
	mr.FastForward(latencyTTL + time.Second)
	if got, _ := s.Latencies(ctx, "m"); len(got) != 0 {
		t.Errorf("window of %d calls an hour after the last, want it gone", len(got))
	}
}

// TestStorePublishesMoves: each move of a shared breaker is announced on
// the fleet's channel with its origin (a trip counted, a publish, a force,
// a raised hold, not a hold already covered), and a watch that is stopped
// hears nothing more.
func TestStorePublishesMoves(t *testing.T) {
	s, _ := miniStore(t)
	ctx := context.Background()
	heard := make(chan string, 16)
	stop := s.WatchBreakers(func(model, origin string) { heard <- model + "/" + origin })
	if got := <-heard; got != "/" {
		t.Fatalf("first heard %q, want the subscription's start", got)
	}
	t0 := time.Unix(1_800_000_000, 0)
	for range 4 {
		if _, err := s.CountBreaker(ctx, "m", engine.BreakerCount{Now: t0, Failure: true, Bucket: time.Second,
			MinRequests: 4, Rate: 0.5, Owner: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return nil }, "m/a"}, // the trip counted above
		{func() error {
			_, err := s.PublishBreaker(ctx, "m", "b", engine.BreakerClosed, t0, 0, 0)
			return err
		}, "m/b"},
		{func() error { return s.ForceBreaker(ctx, "m", engine.ForceOpen) }, "m/"},
		{func() error {
			if err := s.Hold(ctx, "n", t0.Add(time.Minute)); err != nil {
				return err
			}
			return s.Hold(ctx, "n", t0) // covered: no message
		}, "n/"},
		{func() error { return s.ForceBreaker(ctx, "o", engine.ForceNone) }, "o/"},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if got := <-heard; got != st.want {
			t.Errorf("step %d: heard %q, want %q", i, got, st.want)
		}
	}
	stop()
	_ = s.ForceBreaker(ctx, "m", engine.ForceNone)
	stop() // again: nothing to do
	select {
	case got := <-heard:
		t.Errorf("a stopped watch heard %q", got)
	default:
	}
}

// TestLatencyEntries: the window's entries read back as written, a cut
// as a cut; entries of a replica from before cuts were shared ("b" and
// microseconds, or microseconds alone) read as they always did; and a
// new replica's entries read by the rule of the previous version (kept
// here as it was) come out as that version wrote them, a cut as a plain
// lower bound.
func TestLatencyEntries(t *testing.T) {
	const us = time.Microsecond
	for _, c := range []struct {
		entry string
		want  engine.LatencySample
		ok    bool
	}{
		{"1500000", engine.LatencySample{Total: 1500000 * us}, true},
		{"b1500000", engine.LatencySample{Total: 1500000 * us, Bound: true}, true},
		{"b+1500000", engine.LatencySample{Total: 1500000 * us, Bound: true, Cut: true}, true},
		{"0", engine.LatencySample{}, true},
		{"", engine.LatencySample{}, false},
		{"b", engine.LatencySample{}, false},
		{"b+", engine.LatencySample{}, false},
		{"b-5", engine.LatencySample{}, false},
		{"b++5", engine.LatencySample{}, false},
		{"+5", engine.LatencySample{}, false},
		{"c5", engine.LatencySample{}, false},
		{"99999999999999999999", engine.LatencySample{}, false},
	} {
		got, ok := decodeLatency(c.entry)
		if got != c.want || ok != c.ok {
			t.Errorf("%q read as %+v %v, want %+v %v", c.entry, got, ok, c.want, c.ok)
		}
	}
	// previous is how the previous version read an entry.
	previous := func(v string) (engine.LatencySample, bool) {
		b := strings.HasPrefix(v, "b")
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "b"), 10, 64)
		return engine.LatencySample{Total: time.Duration(n) * time.Microsecond, Bound: b}, err == nil && n >= 0
	}
	for _, x := range []engine.LatencySample{
		{Total: 1234 * time.Millisecond},
		{Total: 1234 * time.Millisecond, Bound: true},
		{Total: 1234 * time.Millisecond, Bound: true, Cut: true},
	} {
		e := encodeLatency(x)
		if back, ok := decodeLatency(e); !ok || back != x {
			t.Errorf("%+v written as %q reads back as %+v %v", x, e, back, ok)
		}
		old, ok := previous(e)
		if want := (engine.LatencySample{Total: x.Total, Bound: x.Bound}); !ok || old != want {
			t.Errorf("%+v written as %q: the previous version reads %+v %v, want %+v", x, e, old, ok, want)
		}
	}
}
