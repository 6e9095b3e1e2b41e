package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/openai"
)

// overheadTOML is one model, reached over HTTP, behind a race.
const overheadTOML = `
default_strategy = "race"
max_concurrency = 256
[providers.up]
kind = "openai-compatible"
base_url = "http://127.0.0.1:1/v1"
[[models]]
id = "up/m"
provider = "up"
model = "m"
[tiers.quick]
models = ["up/m"]
`

// instantSSE and instantJSON are an upstream's whole answers.
const instantSSE = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"an instant answer"},"finish_reason":null}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}

data: [DONE]

`
const instantJSON = `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"an instant answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}`

// instantUpstream answers every chat completion at once, streamed when asked.
func instantUpstream(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if bytes.Contains(body, []byte(`"stream":true`)) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, instantSSE)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, instantJSON)
}

// serveTCP serves h on a loopback port until the benchmark ends.
func serveTCP(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &http.Server{Handler: h}
	go s.Serve(ln)
	b.Cleanup(func() { s.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkOverhead measures what council serve adds to a call over an
// instant upstream, beside what a bare httputil.ReverseProxy adds in the
// same run, over real loopback TCP with keep-alive: sequential and 64
// concurrent clients, streamed and not. Each sub-benchmark makes b.N
// calls to each of the upstream itself, the proxy and serve (a race of
// one model, the openai-compatible provider calling the upstream), and
// reports the added p50 and p99 of the proxy and of serve in µs and
// serve's p50 as a multiple of the proxy's (added-p50-ratio).
func BenchmarkOverhead(b *testing.B) {
	up := serveTCP(b, http.HandlerFunc(instantUpstream))
	target, _ := url.Parse(up)
	proxy := serveTCP(b, httputil.NewSingleHostReverseProxy(target))

	cfg, err := config.Parse([]byte(overheadTOML), "overhead.toml")
	if err != nil {
		b.Fatal(err)
	}
	client, err := openai.New(openai.Options{Settings: providers.Settings{Name: "up", Kind: openai.KindCompatible, BaseURL: up + "/v1"}})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(cfg, map[string]providers.Provider{"up/m": client})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	srv := New(Options{Engine: eng, Instance: "bench", Version: "bench", AccessLog: io.Discard, DrainTimeout: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	gateway := "http://" + ln.Addr().String()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()
	call := func(base, body string) time.Duration {
		t0 := time.Now()
		resp, err := hc.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", base, resp.StatusCode)
		}
		return time.Since(t0)
	}
	for _, clients := range []int{1, 64} {
		for _, stream := range []bool{false, true} {
			body := fmt.Sprintf(`{"model":"council/race","stream":%t,"messages":[{"role":"user","content":"hi"}]}`, stream)
			b.Run(fmt.Sprintf("clients=%d/stream=%t", clients, stream), func(b *testing.B) {
				var mu sync.Mutex
				lat := map[string][]time.Duration{}
				bases := map[string]string{"upstream": up, "proxy": proxy, "serve": gateway}
				for range 20 { // warm the pools
					for _, base := range bases {
						call(base, body)
					}
				}
				b.ResetTimer()
				var wg sync.WaitGroup
				for c := range clients {
					wg.Go(func() {
						var local = map[string][]time.Duration{}
						for i := c; i < b.N; i += clients {
							for _, name := range []string{"upstream", "proxy", "serve"} { // interleaved: one run, one machine state
								local[name] = append(local[name], call(bases[name], body))
							}
						}
						mu.Lock()
						for k, v := range local {
							lat[k] = append(lat[k], v...)
						}
						mu.Unlock()
					})
				}
				wg.Wait()
				b.StopTimer()
				q := func(name string, p float64) float64 {
					ds := slices.Clone(lat[name])
					if len(ds) == 0 {
						return 0
					}
					slices.Sort(ds)
					return float64(ds[min(int(p*float64(len(ds))), len(ds)-1)]) / float64(time.Microsecond)
				}
				for _, name := range []string{"proxy", "serve"} {
					b.ReportMetric(q(name, 0.5)-q("upstream", 0.5), name+"-added-p50-µs")
					b.ReportMetric(q(name, 0.99)-q("upstream", 0.99), name+"-added-p99-µs")
				}
				if pa := q("proxy", 0.5) - q("upstream", 0.5); pa > 0 {
					b.ReportMetric((q("serve", 0.5)-q("upstream", 0.5))/pa, "added-p50-ratio")
				}
			})
		}
	}
}
