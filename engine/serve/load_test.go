package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// loadTOML is three fast simulated models and room for every call at once.
const loadTOML = `
default_strategy = "race"
max_concurrency = 2000
[providers.sim]
kind = "sim"
[[models]]
id = "sim/a"
provider = "sim"
[models.sim]
ttft = "40ms"
ttft_p95 = "80ms"
tokens_per_sec = 400
output_tokens = 40
[[models]]
id = "sim/b"
provider = "sim"
[models.sim]
ttft = "60ms"
ttft_p95 = "120ms"
tokens_per_sec = 300
output_tokens = 40
[[models]]
id = "sim/c"
provider = "sim"
[models.sim]
ttft = "80ms"
ttft_p95 = "160ms"
tokens_per_sec = 200
output_tokens = 40
[[models]]
id = "fake/x"
provider = "sim"
[tiers.quick]
models = ["sim/a", "sim/b", "sim/c"]
`

// loopbackServer serves an engine over loadTOML on a real loopback port.
func loopbackServer(tb testing.TB, fk *fake) (url string, srv *Server, stop func()) {
	tb.Helper()
	cfg, err := config.Parse([]byte(loadTOML), "load.toml")
	if err != nil {
		tb.Fatal(err)
	}
	clients := map[string]providers.Provider{"fake/x": fk}
	for _, m := range cfg.Models {
		if m.ID != "fake/x" {
			clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: m.Sim.TTFT.Duration, TTFTP95: m.Sim.TTFTP95.Duration,
				TokensPerSec: m.Sim.TokensPerSec, OutputTokens: m.Sim.OutputTokens}, 1)
		}
	}
	eng, err := engine.New(cfg, clients, engine.WithSeed(1))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv = New(Options{Engine: eng, Instance: ln.Addr().String(), Version: "load", DrainTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	return "http://" + ln.Addr().String(), srv, func() { cancel(); <-done; eng.Close() }
}

// TestLoad is the load test of `make bench` (opt-in: COUNCIL_LOAD=30s):
// COUNCIL_LOAD_CLIENTS (default 200) streaming clients over loopback for
// that long, race, hedge and consensus in turn. It reports the latency
// the server adds over the strategy's own time (the summary's
// elapsed_ms), throughput, and goroutines and heap before and after; it
// fails if goroutines grew or a request failed.
func TestLoad(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("COUNCIL_LOAD"))
	if err != nil {
		t.Skip("set COUNCIL_LOAD=30s to run the load test (make bench does)")
	}
	clients := 200
	if n, err := strconv.Atoi(os.Getenv("COUNCIL_LOAD_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	url, _, stop := loopbackServer(t, &fake{})
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr}

	settle := func() (int, uint64) {
		tr.CloseIdleConnections()
		time.Sleep(200 * time.Millisecond)
		// Twice: the first GC empties sync.Pools into their victim caches.
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	// One warm-up round, so that "before" counts the pools a run keeps.
	if _, err := streamOnce(hc, url, "council/race"); err != nil {
		t.Fatal(err)
	}
	gBefore, heapBefore := settle()

	var (
		mu      sync.Mutex
		added   []time.Duration
		own     []time.Duration
		failed  int
		lastErr error
	)
	models := []string{"council/race", "council/hedge", "council/consensus"}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := i; time.Now().Before(deadline); n++ {
				r, err := streamOnce(hc, url, models[n%len(models)])
				mu.Lock()
				if err != nil {
					failed++
					lastErr = err
				} else {
					added = append(added, r.total-r.own)
					own = append(own, r.own)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	gAfter, heapAfter := settle()
	stop()

	q := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	t.Logf("%d streaming clients for %s: %d sessions (%.0f/s), %d failed", clients, d, len(added), float64(len(added))/took.Seconds(), failed)
	t.Logf("strategy's own time p50 %s p99 %s; added by the server p50 %s p99 %s",
		q(own, 0.5).Round(100*time.Microsecond), q(own, 0.99).Round(100*time.Microsecond),
		q(added, 0.5).Round(10*time.Microsecond), q(added, 0.99).Round(10*time.Microsecond))
	t.Logf("goroutines %d before, %d after; heap %.1f MB before, %.1f MB after", gBefore, gAfter, float64(heapBefore)/1e6, float64(heapAfter)/1e6)
	if failed > 0 {
		t.Errorf("%d requests failed; the last: %v", failed, lastErr)
	}
	if gAfter > gBefore+5 {
		t.Errorf("goroutines grew from %d to %d", gBefore, gAfter)
	}
}

type loadResult struct{ total, own time.Duration }

// streamOnce asks for one streamed completion and reads it to [DONE].
func streamOnce(hc *http.Client, url, model string) (loadResult, error) {
	body := `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"I was charged twice for my subscription this month"}]}`
	start := time.Now()
	resp, err := hc.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return loadResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return loadResult{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var last string
	for sc.Scan() {
		line := sc.Text()
		if line == "data: [DONE]" {
			total := time.Since(start)
			var v struct {
				Council *struct {
					ElapsedMS float64 `json:"elapsed_ms"`
				} `json:"council"`
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(last, "data: ")), &v); err != nil || v.Council == nil {
				return loadResult{}, fmt.Errorf("no summary in the last chunk: %v", err)
			}
			return loadResult{total, time.Duration(v.Council.ElapsedMS * float64(time.Millisecond))}, nil
		}
		if strings.HasPrefix(line, "data: ") {
			last = line
		}
	}
	return loadResult{}, fmt.Errorf("stream ended without [DONE]: %v", sc.Err())
}

// BenchmarkDisconnectCancel measures, over loopback, the time from a
// streaming client going away to its upstream call's context ending
// (cancel_us_p50, cancel_us_p99), and to the session's session_done
// (done_us_p50).
func BenchmarkDisconnectCancel(b *testing.B) {
	ended := make(chan time.Time, 1)
	fk := &fake{ttft: time.Hour, onEnd: func() { ended <- time.Now() }}
	url, srv, stop := loopbackServer(b, fk)
	defer stop()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	sub, _ := srv.hub.subscribe("", true)
	defer srv.hub.unsubscribe(sub)
	var cancels, dones []time.Duration
	body := `{"model":"fake/x","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions", strings.NewReader(body))
		errc := make(chan error, 1)
		go func() {
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		// Wait until the upstream call runs.
		for m := range sub.ch {
			if strings.HasPrefix(string(m), "event: attempt_started") {
				break
			}
		}
		t0 := time.Now()
		cancel()
		cancels = append(cancels, (<-ended).Sub(t0))
		for m := range sub.ch {
			if strings.HasPrefix(string(m), "event: session_done") {
				dones = append(dones, time.Since(t0))
				break
			}
		}
		<-errc
	}
	slices.Sort(cancels)
	slices.Sort(dones)
	q := func(ds []time.Duration, p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds())
	}
	b.ReportMetric(q(cancels, 0.5), "cancel_us_p50")
	b.ReportMetric(q(cancels, 0.99), "cancel_us_p99")
	b.ReportMetric(q(dones, 0.5), "done_us_p50")
}
