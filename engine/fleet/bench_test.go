package fleet

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/providers"
)

// BenchmarkFleetSession is one race session of a model answering at once,
// on an engine alone and on one sharing its state through a real Redis
// (on a unix socket): the difference is what the shared state adds to a
// request (a read of the breaker before the call, a count after it). It
// reports each session's p50 wall time.
func BenchmarkFleetSession(b *testing.B) {
	for _, mode := range []string{"alone", "redis"} {
		b.Run(mode, func(b *testing.B) {
			var opts []engine.Option
			if mode == "redis" {
				opts = append(opts, engine.WithShared(startRedis(b).store(b, time.Second)))
			}
			p := &counting{answer: func() error { return nil }}
			e, err := engine.New(fleetConfig(b, ""), map[string]providers.Provider{"m": p}, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := ask(e); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e6, "p50-ms")
		})
	}
}

// BenchmarkFleetTrip is TestFleetTripsOnceWithRedis measured: three
// replicas calling a model that fails every call at once, alone and
// sharing through Redis; it reports the calls the dead model got before
// all three refused it (min_requests is 4).
func BenchmarkFleetTrip(b *testing.B) {
	for _, mode := range []string{"alone", "redis"} {
		b.Run(mode, func(b *testing.B) {
			var st func() engine.SharedState
			var r *redisServer
			if mode == "redis" {
				r = startRedis(b)
			}
			var calls int64
			for i := range b.N {
				if r != nil {
					s := New(&redis.Options{Network: "unix", Addr: r.sock}, fmt.Sprintf("bench-%d", i), time.Second)
					st = func() engine.SharedState { return s }
					defer s.Close()
				}
				p := &counting{answer: dead}
				calls += allOpen(b, replicas(b, 3, fleetConfig(b, ""), p, st), p)
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls-wasted")
		})
	}
}
