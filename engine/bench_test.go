package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
	ctx := context.Background()
	req := SessionRequest{Prompt: "hi", Strategy: Race}
	b.ReportAllocs()
	for b.Loop() {
		ch, err := e.Start(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		for range ch {
		}
	}
}

// BenchmarkBareFanout8 is the floor BenchmarkRace8 is measured against:
// eight goroutines call the same instant provider, the first result wins,
// the rest are cancelled, all are joined.
func BenchmarkBareFanout8(b *testing.B) {
	var p providers.Provider = instant{}
	req := providers.Request{Model: "m"}
	b.ReportAllocs()
	for b.Loop() {
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
}
