package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/openai"
)

// sseServer is a local OpenAI-compatible server that waits `first` before
// its first chunk and `gap` between chunks, and records, per request, when
// it arrived, when the answer was complete and when the handler saw the
// client go away.
type sseServer struct {
	*httptest.Server
	first, gap time.Duration
	chunks     int

	mu   sync.Mutex
	reqs []*served
}

type served struct {
	begun, finished, gone time.Time
}

func newSSEServer(first, gap time.Duration, chunks int) *sseServer {
	s := &sseServer{first: first, gap: gap, chunks: chunks}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

func (s *sseServer) handle(w http.ResponseWriter, r *http.Request) {
	// Read the request as a real API server does; net/http only watches
	// for the client going away once the request body is consumed.
	io.Copy(io.Discard, r.Body)
	rec := &served{begun: time.Now()}
	s.mu.Lock()
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			s.mu.Lock()
			rec.gone = time.Now()
			s.mu.Unlock()
			return false
		}
	}
	const chunk = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":%s}]}` + "\n\n"
	for i := range s.chunks {
		d := s.gap
		if i == 0 {
			d = s.first
		}
		if !wait(d) {
			return
		}
		fmt.Fprintf(w, chunk, fmt.Sprintf("word%d ", i), "null")
		fl.Flush()
	}
	fmt.Fprintf(w, chunk, "", `"stop"`)
	fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
	// Stamped just before the last bytes leave: the figures measured from it
	// err on the side of council.
	s.mu.Lock()
	rec.finished = time.Now()
	s.mu.Unlock()
	fl.Flush()
	// Hold the handler until the client is done with the response, so the
	// server sees the same connection life the client does.
	<-r.Context().Done()
}

// since returns a copy of the requests that arrived after t.
func (s *sseServer) since(t time.Time) []served {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []served
	for _, r := range s.reqs {
		if r.begun.After(t) {
			out = append(out, *r)
		}
	}
	return out
}

// waitGone waits up to a second for the requests after t that did not
// finish to see their clients go, and returns the latest such moment.
func (s *sseServer) waitGone(t time.Time) (time.Time, bool) {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(50 * time.Microsecond) {
		var last time.Time
		ok := true
		for _, r := range s.since(t) {
			switch {
			case !r.finished.IsZero():
			case r.gone.IsZero():
				ok = false
			case r.gone.After(last):
				last = r.gone
			}
		}
		if ok {
			return last, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
	}
}

// liveEngine builds an engine whose models are the given local servers,
// each behind its own OpenAI-compatible provider.
func liveEngine(t testing.TB, servers []*sseServer) (*engine.Engine, *http.Client) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	cfg := &config.Config{
		DefaultStrategy: config.Race, DefaultTier: "quick", MaxConcurrency: 8,
		Breaker:   config.BreakerConfig{FailureRate: 0.5, MinRequests: 5, Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: time.Minute}},
		Providers: map[string]config.ProviderConfig{},
		Tiers:     map[string]config.TierConfig{},
	}
	clients := map[string]providers.Provider{}
	var ids []string
	for i, s := range servers {
		name := fmt.Sprintf("local%d", i)
		id := name + "/m"
		c, err := openai.New(openai.Options{Settings: providers.Settings{Name: name, Kind: openai.KindCompatible, BaseURL: s.URL + "/v1"}, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Providers[name] = config.ProviderConfig{Kind: "openai-compatible", BaseURL: s.URL + "/v1"}
		cfg.Models = append(cfg.Models, config.ModelConfig{ID: id, Provider: name, Model: "m"})
		clients[id] = c
		ids = append(ids, id)
	}
	cfg.Tiers["quick"] = config.TierConfig{Models: ids, Timeout: config.Duration{Duration: 30 * time.Second},
		PerModelTimeout: config.Duration{Duration: 20 * time.Second}, StallTimeout: config.Duration{Duration: 10 * time.Second}}
	e, err := engine.New(cfg, clients)
	if err != nil {
		t.Fatal(err)
	}
	return e, hc
}

// TestLiveRaceClosesTheLosersConnection races a fast and a slow local
// server through the real OpenAI SDK: the slow server must see its
// request's connection closed within milliseconds of the winner's last
// token, and nothing may outlive the session (goleak, in TestMain).
func TestLiveRaceClosesTheLosersConnection(t *testing.T) {
	fast := newSSEServer(20*time.Millisecond, 2*time.Millisecond, 5)
	slow := newSSEServer(10*time.Millisecond, 100*time.Millisecond, 50)
	defer fast.Close()
	defer slow.Close()
	e, hc := liveEngine(t, []*sseServer{fast, slow})

	var decided time.Time
	sum, err := e.Run(t.Context(), engine.SessionRequest{Prompt: "hi"}, func(ev engine.Event) {
		if ev.Type == engine.Decided {
			decided = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	hc.CloseIdleConnections()

	if sum.Winner != "local0/m" || sum.Answer != "word0 word1 word2 word3 word4 " {
		t.Fatalf("winner %q answer %q, want local0/m with five words", sum.Winner, sum.Answer)
	}
	if r := sum.Models[1]; r.Status != engine.AttemptCancelledStatus || r.Reason != "lost_race" {
		t.Errorf("slow model %s/%s, want cancelled/lost_race", r.Status, r.Reason)
	}
	if sum.Models[0].InputTokens != 5 || sum.Models[0].OutputTokens != 3 {
		t.Errorf("winner usage %d/%d, want the server's 5/3", sum.Models[0].InputTokens, sum.Models[0].OutputTokens)
	}
	reqs := fast.since(time.Time{})
	if len(reqs) != 1 || reqs[0].finished.IsZero() {
		t.Fatalf("fast server requests %+v, want one finished", reqs)
	}
	finished := reqs[0].finished
	gone, ok := slow.waitGone(time.Time{})
	if !ok || gone.IsZero() {
		t.Fatal("the slow server never saw its request cancelled")
	}
	lag := gone.Sub(finished)
	t.Logf("winner's last byte -> decided %v -> loser's server sees the close %v (total %v)", decided.Sub(finished), gone.Sub(decided), lag)
	// Milliseconds in practice (see the log and BenchmarkLiveRace8); the
	// bound is generous because CI machines are shared.
	if lag > 500*time.Millisecond {
		t.Errorf("the loser's server saw the close %v after the winner's last token, want milliseconds", lag)
	}
}

// BenchmarkLiveRace8 runs 8-way races against local SSE servers with fixed
// delays (the fastest answers after 5 ms) and reports the time council adds
// beyond the fastest server (from its last byte to the decided event
// reaching the caller) and how long the losers' servers take, from that
// same last byte, to see their connections closed.
func BenchmarkLiveRace8(b *testing.B) {
	var servers []*sseServer
	for i := range 8 {
		s := newSSEServer(time.Duration(5+4*i)*time.Millisecond, time.Millisecond, 3)
		defer s.Close()
		servers = append(servers, s)
	}
	e, hc := liveEngine(b, servers)
	defer hc.CloseIdleConnections()
	defer e.Close()
	var added, cancel []time.Duration
	missed := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var decided time.Time
		sum, err := e.Run(b.Context(), engine.SessionRequest{Prompt: "hi"}, func(ev engine.Event) {
			if ev.Type == engine.Decided {
				decided = time.Now()
			}
		})
		if err != nil || sum.Winner == "" {
			b.Fatalf("no winner: %v %v", sum, err)
		}
		var finished time.Time
		for _, s := range servers {
			for _, r := range s.since(start) {
				if !r.finished.IsZero() && (finished.IsZero() || r.finished.Before(finished)) {
					finished = r.finished
				}
			}
		}
		added = append(added, decided.Sub(finished))
		// Every loser whose request reached its server must see the close;
		// the slowest of them, from the winner's last byte, is the figure.
		var worst time.Duration
		for _, s := range servers {
			g, ok := s.waitGone(start)
			if !ok {
				missed++
				continue
			}
			if !g.IsZero() {
				worst = max(worst, g.Sub(finished))
			}
		}
		cancel = append(cancel, worst)
	}
	b.StopTimer()
	q := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(int(p*float64(len(d))), len(d)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(q(added, 0.50), "added-p50-ms")
	b.ReportMetric(q(added, 0.99), "added-p99-ms")
	b.ReportMetric(q(cancel, 0.50), "cancel-p50-ms")
	b.ReportMetric(q(cancel, 0.99), "cancel-p99-ms")
	b.ReportMetric(float64(missed), "never-closed")
}
