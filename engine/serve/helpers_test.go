package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// testTOML is three quick simulated models and one scripted (fake/x).
const testTOML = `
default_strategy = "race"
[providers.sim]
kind = "sim"
[[models]]
id = "sim/a"
provider = "sim"
input_per_mtok = 1.0
output_per_mtok = 2.0
[models.sim]
ttft = "100ms"
ttft_p95 = "150ms"
tokens_per_sec = 200
output_tokens = 12
[[models]]
id = "sim/b"
provider = "sim"
[models.sim]
ttft = "200ms"
ttft_p95 = "300ms"
tokens_per_sec = 150
output_tokens = 12
[[models]]
id = "sim/c"
provider = "sim"
[models.sim]
ttft = "300ms"
ttft_p95 = "400ms"
tokens_per_sec = 100
output_tokens = 12
[[models]]
id = "fake/x"
provider = "sim"
[tiers.quick]
models = ["sim/a", "sim/b", "sim/c"]
[tiers.solo]
models = ["fake/x"]
`

// fake is a scripted provider: it answers text after ttft, a word every
// gap, and records when its calls' contexts ended.
type fake struct {
	ttft, gap time.Duration
	text      string
	err       error // returned after failAfter words
	failAfter int
	// ended counts calls whose context ended (the upstream request
	// cancelled); onEnd, if set, runs when one does.
	ended atomic.Int32
	onEnd func()
	// last is the request of the latest call.
	last atomic.Pointer[providers.Request]
}

func (f *fake) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	f.last.Store(&req)
	return &fakeStream{f: f, ctx: ctx, words: strings.SplitAfter(f.text, " ")}, nil
}

type fakeStream struct {
	f     *fake
	ctx   context.Context
	words []string
	i     int
	cur   providers.Chunk
	err   error
}

func (s *fakeStream) Next() bool {
	wait := s.f.gap
	if s.i == 0 {
		wait = s.f.ttft
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		s.f.ended.Add(1)
		if s.f.onEnd != nil {
			s.f.onEnd()
		}
		s.err = s.ctx.Err()
		return false
	case <-t.C:
	}
	if s.f.err != nil && s.i >= s.f.failAfter {
		s.err = s.f.err
		return false
	}
	if s.i >= len(s.words) {
		return false
	}
	s.cur = providers.Chunk{Text: s.words[s.i]}
	if s.i == len(s.words)-1 {
		s.cur.Usage = &providers.Usage{InputTokens: 3, OutputTokens: len(s.words)}
		s.cur.Finish = providers.FinishStop
	}
	s.i++
	return true
}

func (s *fakeStream) Chunk() providers.Chunk { return s.cur }
func (s *fakeStream) Err() error             { return s.err }
func (s *fakeStream) Close() error           { return nil }

// harness is a server on an in-memory listener, with clients.
type harness struct {
	t        *testing.T
	eng      *engine.Engine
	srv      *Server
	ln       *PipeListener
	tr       *http.Transport
	hc       *http.Client
	cancel   context.CancelFunc
	done     chan struct{} // closed when Serve returned serveErr
	serveErr error
	fake     *fake
}

// newHarness starts a server over testTOML (extra TOML appended) inside
// the caller's synctest bubble; opts may change its options.
func newHarness(t *testing.T, extra string, opts func(*Options)) *harness {
	t.Helper()
	cfg, err := config.Parse([]byte(testTOML+extra), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	fk := &fake{ttft: 50 * time.Millisecond, gap: 10 * time.Millisecond, text: "a scripted answer from x"}
	clients := map[string]providers.Provider{"fake/x": fk}
	for _, m := range cfg.Models {
		if m.ID != "fake/x" {
			var p sim.Params // a real vendor's model stands in as a simulated one
			if m.Sim != nil {
				p = sim.Params{TTFT: m.Sim.TTFT.Duration, TTFTP95: m.Sim.TTFTP95.Duration, TokensPerSec: m.Sim.TokensPerSec, OutputTokens: m.Sim.OutputTokens}
			}
			clients[m.ID] = sim.New(m.ID, p, 7)
		}
	}
	eng, err := engine.New(cfg, clients, engine.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Engine: eng, Instance: "127.0.0.1:8484", Version: "test", DrainTimeout: 5 * time.Second}
	if opts != nil {
		opts(&o)
	}
	h := &harness{t: t, eng: eng, srv: New(o), ln: NewPipeListener(), done: make(chan struct{}), fake: fk}
	h.tr = &http.Transport{DialContext: h.ln.Dial}
	h.hc = &http.Client{Transport: h.tr}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.serveErr = h.srv.Serve(ctx, h.ln); close(h.done) }()
	t.Cleanup(h.close)
	return h
}

// shutdown starts the server's drain (SIGTERM) and returns what Serve returned.
func (h *harness) shutdown() error {
	h.cancel()
	<-h.done
	return h.serveErr
}

func (h *harness) close() {
	h.cancel()
	<-h.done
	h.tr.CloseIdleConnections()
	h.eng.Close()
}

// client is the official openai-go client against the server.
func (h *harness) client(token string) openai.Client {
	if token == "" {
		token = "unused"
	}
	return openai.NewClient(option.WithBaseURL("http://council.test/v1/"), option.WithAPIKey(token),
		option.WithHTTPClient(h.hc), option.WithMaxRetries(0))
}

// do sends a raw request; body may be "".
func (h *harness) do(method, path, token, body string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, "http://council.test"+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// sse is a reader of the event stream.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
	mu   sync.Mutex
}

// message is one SSE message: its event name and data, or a comment.
type message struct {
	event, data, comment string
}

func (h *harness) subscribe(token string) *sse {
	h.t.Helper()
	req, _ := http.NewRequest("GET", "http://council.test/v1/council/events", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		h.t.Fatalf("events: status %d", resp.StatusCode)
	}
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads the next message; ok is false at the end of the stream.
func (s *sse) next() (message, bool) {
	var m message
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return m, false
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if m != (message{}) {
				return m, true
			}
		case strings.HasPrefix(line, ":"):
			m.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			m.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			m.data = line[6:]
		}
	}
}

// until reads messages up to and including the first of event type typ,
// skipping health and pings; it returns what it read.
func (s *sse) until(t *testing.T, typ string) []message {
	t.Helper()
	var out []message
	for {
		m, ok := s.next()
		if !ok {
			t.Fatalf("stream ended before %s; read %d messages", typ, len(out))
		}
		if m.event == wire.EventHealth || m.comment != "" {
			if typ != wire.EventHealth && m.comment == "" {
				continue
			}
			if m.comment != "" && typ != "ping" {
				continue
			}
		}
		out = append(out, m)
		if m.event == typ || (typ == "ping" && m.comment == "ping") {
			return out
		}
	}
}

func (s *sse) close() { s.resp.Body.Close() }

// councilOf reads the council summary field of a response or chunk.
func councilOf(t *testing.T, raw string) engine.Summary {
	t.Helper()
	var v struct {
		Council *engine.Summary `json:"council"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Council == nil {
		t.Fatalf("no council summary in %s (%v)", raw, err)
	}
	return *v.Council
}
