package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// bigTOML is one model behind a race, with the default limits.
const bigTOML = `
default_strategy = "race"
[providers.big]
kind = "sim"
[[models]]
id = "big/x"
provider = "big"
[tiers.quick]
models = ["big/x"]
`

// bigChunk is one streamed delta's text: about sixteen tokens, as a
// vendor streams them.
const bigChunk = 64

// bigUpstream answers every call at once with size bytes of text, in
// deltas of bigChunk bytes.
type bigUpstream struct{ size int }

func (u bigUpstream) Stream(ctx context.Context, _ providers.Request) (providers.Stream, error) {
	return &bigStream{ctx: ctx, left: u.size, word: strings.Repeat("z", bigChunk-1) + " "}, nil
}

type bigStream struct {
	ctx  context.Context
	left int
	word string
	cur  providers.Chunk
}

func (s *bigStream) Next() bool {
	if s.left <= 0 || s.ctx.Err() != nil {
		return false
	}
	// Each delta its own string, as a vendor's decoder makes it.
	s.cur = providers.Chunk{Text: strings.Clone(s.word[:min(len(s.word), s.left)])}
	s.left -= len(s.cur.Text)
	if s.left == 0 {
		s.cur.Usage = &providers.Usage{InputTokens: 3, OutputTokens: 1}
		s.cur.Finish = providers.FinishStop
	}
	return true
}

func (s *bigStream) Chunk() providers.Chunk { return s.cur }
func (s *bigStream) Err() error             { return s.ctx.Err() }
func (s *bigStream) Close() error           { return nil }

// BenchmarkBigAnswers measures the server's memory under the largest
// answers the default limits allow (limits.max_answer_bytes less one
// delta, in 64-byte deltas), one session after another through council
// serve over an in-memory connection, without a watcher and with one
// reading the event stream. It reports the heap in use after a
// collection: before the first session (base-MiB), the most seen after
// any session (heap-max-MiB) and at the end (heap-MiB), beside serve.backlog_bytes (backlog-MiB) and what the
// hub keeps (kept-MiB), which must stay within it.
func BenchmarkBigAnswers(b *testing.B) {
	for _, watchers := range []int{0, 1} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) { benchBigAnswers(b, watchers) })
	}
}

func benchBigAnswers(b *testing.B, watchers int) {
	cfg, err := config.Parse([]byte(bigTOML), "big.toml")
	if err != nil {
		b.Fatal(err)
	}
	size := cfg.Limits.MaxAnswerBytes - bigChunk
	eng, err := engine.New(cfg, map[string]providers.Provider{"big/x": bigUpstream{size}})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	srv := New(Options{Engine: eng, Instance: "bench", Version: "bench", AccessLog: io.Discard,
		DrainTimeout: time.Second, BacklogBytes: config.DefaultBacklogBytes})
	ln := NewPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	tr := &http.Transport{DialContext: ln.Dial}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	heap := func() float64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20)
	}
	base := heap()
	var watched []chan int64
	for range watchers {
		resp, err := hc.Get("http://council.test/v1/council/events")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("events: %v %v", resp, err)
		}
		read := make(chan int64, 1)
		go func() { n, _ := io.Copy(io.Discard, resp.Body); read <- n }()
		defer resp.Body.Close()
		watched = append(watched, read)
	}

	body := `{"model":"council/race","messages":[{"role":"user","content":"a long one"}]}`
	peak := 0.0
	b.ResetTimer()
	for range b.N {
		resp, err := hc.Post("http://council.test/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < int64(size) {
			b.Fatalf("status %d, %d bytes; want 200 and the %d-byte answer", resp.StatusCode, n, size)
		}
		b.StopTimer()
		peak = max(peak, heap())
		b.StartTimer()
	}
	b.StopTimer()
	srv.hub.mu.Lock()
	kept, limit := srv.hub.bytes, srv.hub.limit
	srv.hub.mu.Unlock()
	if kept > limit {
		b.Errorf("the hub keeps %d bytes, over serve.backlog_bytes %d", kept, limit)
	}
	b.ReportMetric(base, "base-MiB")
	b.ReportMetric(heap(), "heap-MiB")
	b.ReportMetric(peak, "heap-max-MiB")
	b.ReportMetric(float64(kept)/(1<<20), "kept-MiB")
	b.ReportMetric(float64(limit)/(1<<20), "backlog-MiB")
	b.ReportMetric(float64(size)/(1<<20), "answer-MiB")
	cancel()
	<-done
	for _, read := range watched {
		if n := <-read; n < int64(b.N)*int64(size) {
			b.Errorf("the watcher read %d bytes, less than the %d answers' deltas: it was dropped", n, b.N)
		}
	}
}
