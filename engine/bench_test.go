package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// instant is an in-memory provider that answers at once with one chunk.
type instant struct{}

type instantStream struct {
	n     int
	usage providers.Usage
}

func (instant) Stream(ctx context.Context, _ providers.Request) (providers.Stream, error) {
	return &instantStream{usage: providers.Usage{InputTokens: 3, OutputTokens: 1}}, nil
}

func (s *instantStream) Next() bool { s.n++; return s.n == 1 }
func (s *instantStream) Chunk() providers.Chunk {
	return providers.Chunk{Text: "ok", Usage: &s.usage}
}
func (s *instantStream) Err() error   { return nil }
func (s *instantStream) Close() error { return nil }

func benchEngine(b testing.TB, n int) *Engine {
	ids := make([]string, n)
	clients := make(map[string]providers.Provider, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i)
		clients[ids[i]] = instant{}
	}
	e, err := New(testConfig(ids...), clients)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkRace8 is one whole 8-way race session over instant providers,
// every event consumed: the engine's own overhead per session.
func BenchmarkRace8(b *testing.B) { benchRace(b, 8) }

// BenchmarkRace1 is the same with one model: what a session costs before
// any fan-out, to tell the fixed cost from the per-model one.
func BenchmarkRace1(b *testing.B) { benchRace(b, 1) }

func benchRace(b *testing.B, n int) {
	e := benchEngine(b, n)
	defer e.Close()
	b.ReportAllocs()
	for b.Loop() {
		raceSession(b, e)
	}
}

// raceSession runs one race session on e, consuming every event.
func raceSession(b *testing.B, e *Engine) {
	ch, err := e.Start(context.Background(), SessionRequest{Prompt: "hi", Strategy: config.Race})
	if err != nil {
		b.Fatal(err)
	}
	for range ch {
	}
}

// BenchmarkBareFanout8 is the floor BenchmarkRace8 is measured against:
// eight goroutines call the same instant provider, the first result wins,
// the rest are cancelled, all are joined.
func BenchmarkBareFanout8(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		bareFanout(instant{})
	}
}

// BenchmarkRace8VsBareFanout8 runs BenchmarkRace8's session and
// BenchmarkBareFanout8's fan-out by turns, in blocks of 64 of each, and
// reports the time of each and their ratio. Measured side by side, the
// ratio holds still on a shared machine whose speed does not. Its ns/op
// is one of each.
func BenchmarkRace8VsBareFanout8(b *testing.B) {
	e := benchEngine(b, 8)
	defer e.Close()
	const block = 64
	var race, bare time.Duration
	n := 0
	for n < b.N {
		t0 := time.Now()
		for range block {
			raceSession(b, e)
		}
		t1 := time.Now()
		for range block {
			bareFanout(instant{})
		}
		race, bare = race+t1.Sub(t0), bare+time.Since(t1)
		n += block
	}
	b.ReportMetric(float64(race.Nanoseconds())/float64(n), "race-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(race)/float64(bare), "x-bare")
}

func bareFanout(p providers.Provider) {
	req := providers.Request{Model: "m"}
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := p.Stream(ctx, req)
			if err != nil {
				return
			}
			var text string
			for s.Next() {
				text += s.Chunk().Text
			}
			s.Close()
			results <- text
		}()
	}
	<-results
	cancel()
	wg.Wait()
}

// blocking is a provider whose streams send nothing until cancelled.
type blocking struct{}

type blockingStream struct{ ctx context.Context }

func (blocking) Stream(ctx context.Context, _ providers.Request) (providers.Stream, error) {
	return &blockingStream{ctx}, nil
}

func (s *blockingStream) Next() bool             { <-s.ctx.Done(); return false }
func (s *blockingStream) Chunk() providers.Chunk { return providers.Chunk{} }
func (s *blockingStream) Err() error             { return context.Cause(s.ctx) }
func (s *blockingStream) Close() error           { return nil }

// BenchmarkUserCancel8 is the cancellation latency a user sees: eight
// models streaming, the caller's context cancelled, until the session's
// channel is closed with every attempt ended and reported (ns/op is one
// whole session; cancel-us is from cancel to the channel's close).
func BenchmarkUserCancel8(b *testing.B) {
	ids := make([]string, 8)
	clients := map[string]providers.Provider{}
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i)
		clients[ids[i]] = blocking{}
	}
	e, err := New(testConfig(ids...), clients)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ReportAllocs()
	var lag time.Duration
	n := 0
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := e.Start(ctx, SessionRequest{Prompt: "hi", Strategy: config.Race})
		if err != nil {
			b.Fatal(err)
		}
		started := 0
		for ev := range ch {
			if ev.Type == AttemptStarted {
				if started++; started == len(ids) {
					break
				}
			}
		}
		t0 := time.Now()
		cancel()
		var last Event
		for ev := range ch {
			last = ev
		}
		lag += time.Since(t0)
		n++
		if last.Type != SessionDone || last.Summary.Status != StatusCancelled {
			b.Fatalf("ended with %v %v, want session_done cancelled", last.Type, last.Summary)
		}
	}
	b.ReportMetric(float64(lag.Microseconds())/float64(n), "cancel-us")
}
