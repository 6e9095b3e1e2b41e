package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/council-dev/council/providers"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testKey must never appear in any error; keyFragment catches partial
// echoes too. It is not shaped like an OpenAI key (a vLLM --api-key can be
// anything), so only the exact-key redaction can hide it.
const (
	testKey     = "council-test-Zk3QpL9vX2mN7bR4tY6wA1sDqq"
	keyFragment = "Zk3QpL9vX2"
)

// seen is one request as the test server received it.
type seen struct {
	method string
	path   string
	header http.Header
	body   map[string]any
	raw    string
}

// newServer starts a server that records every request on the returned
// channel before handing it to h.
func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, <-chan seen) {
	t.Helper()
	reqs := make(chan seen, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		select {
		case reqs <- seen{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body, raw: string(raw)}:
		default:
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, reqs
}

// newClient returns a client with its own transport, whose idle
// connections are closed when the test ends (for goleak).
func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	o.HTTPClient = &http.Client{Transport: tr}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sseHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Request-Id", "req_8a1f0c3e2d")
	w.WriteHeader(http.StatusOK)
}

// writeSteps writes b in pieces of step bytes (all at once when step is
// 0), flushing each, so that lines and runes are split across reads.
func writeSteps(w http.ResponseWriter, b []byte, step int) {
	f := w.(http.Flusher)
	if step <= 0 {
		step = len(b)
	}
	for len(b) > 0 {
		n := min(step, len(b))
		_, _ = w.Write(b[:n])
		f.Flush()
		b = b[n:]
	}
}

// replay serves a recorded stream.
func replay(t *testing.T, file string, step int) http.HandlerFunc {
	b := readFile(t, file)
	return func(w http.ResponseWriter, r *http.Request) {
		sseHeaders(w)
		writeSteps(w, b, step)
	}
}

func userReq(model string) providers.Request {
	return providers.Request{Model: model, Messages: []providers.Message{{Role: "user", Content: "Why hedge requests?"}}}
}

// drain reads a stream to its end.
func drain(s providers.Stream) (text string, chunks []providers.Chunk, err error) {
	var b strings.Builder
	for s.Next() {
		c := s.Chunk()
		chunks = append(chunks, c)
		b.WriteString(c.Text)
	}
	return b.String(), chunks, s.Err()
}

// checkSafe fails if err's text carries the key.
func checkSafe(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	var pe *providers.Error
	if errors.As(err, &pe) {
		msg += " | " + pe.Message
	}
	if strings.Contains(msg, testKey) || strings.Contains(msg, keyFragment) {
		t.Errorf("error carries the key: %q", msg)
	}
	if strings.ContainsAny(pe.Message, "\n\r") {
		t.Errorf("message is not one line: %q", pe.Message)
	}
}

func asProviderError(t *testing.T, err error) *providers.Error {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *providers.Error", err, err)
	}
	return pe
}

func TestRecordings(t *testing.T) {
	const noErr = providers.Kind(255)
	tests := []struct {
		name      string
		file      string
		kind      string
		wantText  string
		wantUsage *providers.Usage
		wantErr   providers.Kind
		wantMsg   string
	}{
		{name: "plain", file: "plain.sse", kind: KindOpenAI,
			wantText:  "Hedging sends a backup request when the first is slow.",
			wantUsage: &providers.Usage{InputTokens: 24, OutputTokens: 10}, wantErr: noErr},
		{name: "unicode", file: "unicode.sse", kind: KindOpenAI,
			wantText:  "Café naïve Ångström — 日本語の文章、中文 🦊🚀 👩\u200d👩\u200d👧 🇫🇷",
			wantUsage: &providers.Usage{InputTokens: 31, OutputTokens: 27}, wantErr: noErr},
		{name: "vllm escaped unicode", file: "vllm.sse", kind: KindCompatible,
			wantText:  "Crème brûlée 🍮 美味",
			wantUsage: &providers.Usage{InputTokens: 42, OutputTokens: 9}, wantErr: noErr},
		{name: "groq x_groq usage", file: "groq.sse", kind: KindCompatible,
			wantText:  "Breakers trip open.",
			wantUsage: &providers.Usage{InputTokens: 40, OutputTokens: 4}, wantErr: noErr},
		{name: "llama.cpp usage with finish", file: "llamacpp.sse", kind: KindCompatible,
			wantText:  "Quorum reached.",
			wantUsage: &providers.Usage{InputTokens: 17, OutputTokens: 3}, wantErr: noErr},
		{name: "compatible without DONE after finish_reason", file: "nodone_after_finish.sse", kind: KindCompatible,
			wantText: "Hedge fired.", wantErr: noErr},
		{name: "openai without DONE after finish_reason", file: "nodone_after_finish.sse", kind: KindOpenAI,
			wantText: "Hedge fired.", wantErr: providers.KindInvalid, wantMsg: "stream ended without its final event"},
		{name: "cut mid-way", file: "cut.sse", kind: KindOpenAI,
			wantText: "The answer is", wantErr: providers.KindInvalid, wantMsg: "stream ended without its final event"},
		{name: "cut mid-way compatible", file: "cut.sse", kind: KindCompatible,
			wantText: "The answer is", wantErr: providers.KindInvalid, wantMsg: "stream ended without its final event"},
		{name: "error event mid-stream", file: "error_midstream.sse", kind: KindOpenAI,
			wantText: "Partial", wantErr: providers.KindHTTP, wantMsg: "server error mid-stream: The server had an error while processing your request. Sorry about that! (server_error)"},
		{name: "openrouter error event", file: "openrouter_error.sse", kind: KindCompatible,
			wantText: "Consensus", wantErr: providers.KindHTTP, wantMsg: "server error mid-stream: Provider returned error (502)"},
		{name: "malformed chunk", file: "malformed.sse", kind: KindOpenAI,
			wantText: "Hel", wantErr: providers.KindInvalid, wantMsg: "malformed stream"},
	}
	for _, tt := range tests {
		for _, step := range []int{0, 3} {
			t.Run(tt.name+"/step"+string(rune('0'+step)), func(t *testing.T) {
				srv, _ := newServer(t, replay(t, tt.file, step))
				c := newClient(t, Options{Settings: providers.Settings{Name: "test", Kind: tt.kind, BaseURL: srv.URL + "/v1", APIKey: testKey, KeyEnv: "TEST_KEY"}})
				s, err := c.Stream(context.Background(), userReq("gpt-4.1-mini"))
				if err != nil {
					t.Fatalf("Stream: %v", err)
				}
				defer s.Close()
				text, chunks, err := drain(s)
				if text != tt.wantText {
					t.Errorf("text = %q, want %q", text, tt.wantText)
				}
				for i, c := range chunks {
					if !utf8.ValidString(c.Text) {
						t.Errorf("chunk %d is not valid UTF-8: %q", i, c.Text)
					}
					if c.Text == "" && c.Reasoning == "" && c.Usage == nil && c.Finish == providers.FinishNone {
						t.Errorf("chunk %d is empty", i)
					}
				}
				var gotUsage *providers.Usage
				for _, c := range chunks {
					if c.Usage != nil {
						gotUsage = c.Usage
					}
				}
				switch {
				case tt.wantUsage == nil && gotUsage != nil:
					t.Errorf("usage = %+v, want none", *gotUsage)
				case tt.wantUsage != nil && gotUsage == nil:
					t.Errorf("no usage, want %+v", *tt.wantUsage)
				case tt.wantUsage != nil && *gotUsage != *tt.wantUsage:
					t.Errorf("usage = %+v, want %+v", *gotUsage, *tt.wantUsage)
				}
				if tt.wantErr == noErr {
					if err != nil {
						t.Fatalf("Err = %v, want nil", err)
					}
					return
				}
				pe := asProviderError(t, err)
				if pe.Kind != tt.wantErr {
					t.Errorf("kind = %v, want %v (%v)", pe.Kind, tt.wantErr, err)
				}
				if pe.Provider != "test" {
					t.Errorf("provider = %q, want test", pe.Provider)
				}
				if !strings.Contains(pe.Message, tt.wantMsg) {
					t.Errorf("message = %q, want it to contain %q", pe.Message, tt.wantMsg)
				}
				checkSafe(t, err)
			})
		}
	}
}

// A server that ignores stream: true answers with one JSON object; that is
// not a stream, and the message says so.
func TestNotAStream(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	})
	c := newClient(t, Options{Settings: providers.Settings{Name: "local", Kind: KindCompatible, BaseURL: srv.URL}})
	s, err := c.Stream(context.Background(), userReq("m"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, _, err := drain(s)
	pe := asProviderError(t, err)
	want := "stream ended without its final event (the response was application/json, not an event stream)"
	if text != "" || pe.Kind != providers.KindInvalid || pe.Message != want {
		t.Errorf("text %q, err %v (kind %v); want no text, kind invalid, %q", text, err, pe.Kind, want)
	}
}

// The final usage-only chunk (choices: []) is its own chunk: usage, no text.
func TestUsageOnlyFinalChunk(t *testing.T) {
	srv, _ := newServer(t, replay(t, "plain.sse", 0))
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL, APIKey: testKey}})
	s, err := c.Stream(context.Background(), userReq("gpt-4.1-mini"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, chunks, err := drain(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 12 {
		t.Fatalf("got %d chunks, want 10 text chunks, the finish and 1 usage chunk", len(chunks))
	}
	if f := chunks[10]; f.Text != "" || f.Finish != providers.FinishStop {
		t.Errorf("chunk 10 = %+v, want the finish (stop) alone", f)
	}
	last := chunks[len(chunks)-1]
	if last.Text != "" || last.Usage == nil || *last.Usage != (providers.Usage{InputTokens: 24, OutputTokens: 10}) {
		t.Errorf("last chunk = %+v, want usage 24/10 and no text", last)
	}
	for _, ch := range chunks[:len(chunks)-1] {
		if ch.Usage != nil {
			t.Errorf("text chunk %q carries usage (the recording has usage: null)", ch.Text)
		}
	}
	if s.Next() {
		t.Error("Next after the end = true")
	}
}

func TestRequestOnTheWire(t *testing.T) {
	// The SDK's environment defaults must not be read: an OpenAI key in
	// the environment must never reach another server.
	t.Setenv("OPENAI_API_KEY", "sk-env-"+keyFragment)
	t.Setenv("OPENAI_ADMIN_KEY", "sk-admin-"+keyFragment)
	t.Setenv("OPENAI_ORG_ID", "org-should-not-be-sent")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/elsewhere")

	temp := 0.2
	tests := []struct {
		name     string
		kind     string
		suffix   string // appended to the server URL for base_url
		key      string
		req      providers.Request
		wantPath string
		wantBody map[string]any // expected JSON fields; nil value = must be absent
	}{
		{
			name: "openai", kind: KindOpenAI, suffix: "/v1", key: testKey,
			req: providers.Request{
				Model: "gpt-4.1-mini", System: "Be brief.", MaxTokens: 256, Temperature: &temp,
				Output: &providers.Output{Stop: []string{"END", "\n\n"}, Format: &providers.ResponseFormat{Type: providers.FormatJSONObject}},
				Messages: []providers.Message{
					{Role: "user", Content: "Hi"}, {Role: "assistant", Content: "Hello."}, {Role: "user", Content: "Why hedge?"},
				},
			},
			wantPath: "/v1/chat/completions",
			wantBody: map[string]any{
				"model": "gpt-4.1-mini", "stream": true,
				"stream_options":        map[string]any{"include_usage": true},
				"max_completion_tokens": float64(256), "max_tokens": nil, "temperature": 0.2,
				"stop": []any{"END", "\n\n"}, "response_format": map[string]any{"type": "json_object"},
				"messages": []any{
					map[string]any{"role": "system", "content": "Be brief."},
					map[string]any{"role": "user", "content": "Hi"},
					map[string]any{"role": "assistant", "content": "Hello."},
					map[string]any{"role": "user", "content": "Why hedge?"},
				},
			},
		},
		{
			name: "compatible without key", kind: KindCompatible, suffix: "", key: "",
			req: providers.Request{Model: "llama3.2", MaxTokens: 100, Messages: []providers.Message{{Role: "user", Content: "Why hedge?"}},
				Output: &providers.Output{Format: &providers.ResponseFormat{Type: providers.FormatJSONSchema, Name: "verdict", Strict: true,
					Schema: map[string]any{"type": "object", "properties": map[string]any{"ok": map[string]any{"type": "boolean"}}}}}},
			wantPath: "/chat/completions",
			wantBody: map[string]any{
				"model": "llama3.2", "stream": true,
				"stream_options": map[string]any{"include_usage": true},
				"max_tokens":     float64(100), "max_completion_tokens": nil, "temperature": nil, "stop": nil,
				"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "verdict", "strict": true,
					"schema": map[string]any{"type": "object", "properties": map[string]any{"ok": map[string]any{"type": "boolean"}}}}},
				"messages": []any{map[string]any{"role": "user", "content": "Why hedge?"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := newServer(t, replay(t, "plain.sse", 0))
			c := newClient(t, Options{Settings: providers.Settings{Name: "p", Kind: tt.kind, BaseURL: srv.URL + tt.suffix, APIKey: tt.key}})
			s, err := c.Stream(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := drain(s); err != nil {
				t.Fatal(err)
			}
			s.Close()
			r := <-reqs
			if r.method != http.MethodPost || r.path != tt.wantPath {
				t.Errorf("request = %s %s, want POST %s", r.method, r.path, tt.wantPath)
			}
			auth := r.header.Get("Authorization")
			if tt.key != "" && auth != "Bearer "+tt.key {
				t.Errorf("Authorization header is not the configured bearer key")
			}
			if tt.key == "" && auth != "" {
				t.Errorf("Authorization sent without a configured key (from the environment?)")
			}
			if org := r.header.Get("OpenAI-Organization"); org != "" {
				t.Errorf("OpenAI-Organization = %q, want none (environment leaked)", org)
			}
			// The SDK's telemetry headers are dropped; what a server
			// reads stays.
			for k := range r.header {
				if strings.HasPrefix(k, "X-Stainless-") {
					t.Errorf("header %s sent, want the SDK's telemetry headers dropped", k)
				}
			}
			// The SDK's User-Agent, with the version of the SDK built in
			// (go.mod's), as the SDK sent it before the request was built
			// here (request.go).
			for k, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "OpenAI/Go " + goModSDKVersion(t)} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if strings.Contains(r.raw, keyFragment) {
				t.Errorf("request body carries a key: %s", r.raw)
			}
			for k, want := range tt.wantBody {
				got, ok := r.body[k]
				if want == nil {
					if ok {
						t.Errorf("body[%q] = %v, want absent", k, got)
					}
					continue
				}
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				if !bytes.Equal(gj, wj) {
					t.Errorf("body[%q] = %s, want %s", k, gj, wj)
				}
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	openAIErr := func(msg, typ, code string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
		return string(b)
	}
	tests := []struct {
		name       string
		opts       Options
		status     int
		header     map[string]string
		body       string
		wantKind   providers.Kind
		wantRetry  time.Duration
		wantSubstr []string
	}{
		{
			name: "401 names the env var", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI, KeyEnv: "OPENAI_API_KEY"}},
			status: 401, body: openAIErr("Incorrect API key provided: "+testKey+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"),
			wantKind: providers.KindAuth, wantSubstr: []string{"openai: HTTP 401", "authentication failed", "set OPENAI_API_KEY"},
		},
		{
			name: "401 masked key echo", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI, KeyEnv: "OPENAI_API_KEY"}},
			status: 401, body: openAIErr("Incorrect API key provided: sk-proj-Zk3QpL9vX2****sDqq.", "invalid_request_error", "invalid_api_key"),
			wantKind: providers.KindAuth, wantSubstr: []string{"[REDACTED]", "set OPENAI_API_KEY"},
		},
		{
			name: "401 compatible without key_env", opts: Options{Settings: providers.Settings{Name: "groq", Kind: KindCompatible}},
			status: 401, body: `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`,
			wantKind: providers.KindAuth, wantSubstr: []string{"groq: HTTP 401", "set api_key_env for provider groq"},
		},
		{
			name: "403", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI, KeyEnv: "OPENAI_API_KEY"}},
			status: 403, body: openAIErr("Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"),
			wantKind: providers.KindAuth, wantSubstr: []string{"HTTP 403", "access denied", "OPENAI_API_KEY"},
		},
		{
			name: "404 model", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI}},
			status: 404, body: openAIErr("The model `gpt-9-mini` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
			wantKind: providers.KindHTTP, wantSubstr: []string{"HTTP 404", `model "gpt-9-mini" not found`, "does not exist"},
		},
		{
			name: "404 ollama string error", opts: Options{Settings: providers.Settings{Name: "ollama", Kind: KindCompatible}},
			status: 404, body: `{"error":{"message":"model \"gpt-9-mini\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`,
			wantKind: providers.KindHTTP, wantSubstr: []string{`model "gpt-9-mini" not found`, "try pulling it first"},
		},
		{
			name: "404 plain text: wrong base_url", opts: Options{Settings: providers.Settings{Name: "vllm", Kind: KindCompatible}},
			status: 404, body: "404 page not found\n",
			wantKind: providers.KindHTTP, wantSubstr: []string{`model "gpt-9-mini" not found, or no chat/completions endpoint under http://127.0.0.1`},
		},
		{
			name: "429 Retry-After seconds", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI}},
			status: 429, header: map[string]string{"Retry-After": "7"},
			body:     openAIErr("Rate limit reached for gpt-4.1-mini in organization org-abc on tokens per min (TPM): Limit 200000, Used 199000, Requested 1500. Please try again in 150ms.", "tokens", "rate_limit_exceeded"),
			wantKind: providers.KindRateLimited, wantRetry: 7 * time.Second, wantSubstr: []string{"HTTP 429", "rate limited", "(retry after 7s)"},
		},
		{
			name: "429 retry-after-ms wins", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI}},
			status: 429, header: map[string]string{"Retry-After": "2", "retry-after-ms": "1500"},
			body:     openAIErr("Rate limit reached", "requests", "rate_limit_exceeded"),
			wantKind: providers.KindRateLimited, wantRetry: 1500 * time.Millisecond,
		},
		{
			name: "500", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI}},
			status: 500, body: openAIErr("The server had an error while processing your request. Sorry about that!", "server_error", ""),
			wantKind: providers.KindHTTP, wantSubstr: []string{"HTTP 500", "server error", "Sorry about that"},
		},
		{
			name: "503 html", opts: Options{Settings: providers.Settings{Name: "openrouter", Kind: KindCompatible}},
			status: 503, body: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n</body>\r\n</html>\r\n",
			wantKind: providers.KindHTTP, wantSubstr: []string{"HTTP 503", "server error", "503 Service Temporarily Unavailable"},
		},
		{
			name: "529 overloaded", opts: Options{Settings: providers.Settings{Name: "openrouter", Kind: KindCompatible}},
			status: 529, body: `{"error":{"code":529,"message":"Overloaded"}}`,
			wantKind: providers.KindHTTP, wantSubstr: []string{"HTTP 529", "overloaded"},
		},
		{
			name: "400", opts: Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI}},
			status: 400, body: openAIErr("Unsupported value: 'temperature' does not support 0.2 with this model.", "invalid_request_error", "unsupported_value"),
			wantKind: providers.KindHTTP, wantSubstr: []string{"HTTP 400", "request rejected", "temperature"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			o := tt.opts
			o.BaseURL = srv.URL + "/v1"
			o.APIKey = testKey
			c := newClient(t, o)
			s, err := c.Stream(context.Background(), userReq("gpt-9-mini"))
			if err == nil {
				s.Close()
				t.Fatal("Stream succeeded, want an error")
			}
			pe := asProviderError(t, err)
			if pe.Kind != tt.wantKind || pe.Status != tt.status {
				t.Errorf("kind, status = %v, %d; want %v, %d", pe.Kind, pe.Status, tt.wantKind, tt.status)
			}
			if pe.Provider != tt.opts.Name {
				t.Errorf("provider = %q, want %q", pe.Provider, tt.opts.Name)
			}
			if pe.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tt.wantRetry)
			}
			for _, sub := range tt.wantSubstr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
			checkSafe(t, err)
			if n := len(reqs); n != 1 {
				t.Errorf("server got %d requests, want 1 (SDK retries must be off)", n)
			}
		})
	}
}

// An openai-compatible server that rejects stream_options gets the request
// again without it, and never again afterwards; OpenAI itself does not.
func TestStreamOptionsRejected(t *testing.T) {
	plain := readFile(t, "plain.sse")
	srv, last := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if bytes.Contains(raw, []byte(`"stream_options"`)) {
			// vLLM-style rejection of an unknown field.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"object":"error","message":"[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': 'Extra inputs are not permitted'}]","type":"BadRequestError","param":null,"code":400}`)
			return
		}
		sseHeaders(w)
		writeSteps(w, plain, 0)
	})

	count := func() (n, withOptions int) {
		for {
			select {
			case r := <-last:
				n++
				if _, ok := r.body["stream_options"]; ok {
					withOptions++
				}
			default:
				return n, withOptions
			}
		}
	}

	c := newClient(t, Options{Settings: providers.Settings{Name: "vllm", Kind: KindCompatible, BaseURL: srv.URL + "/v1"}})
	for i, want := range []struct{ n, withOptions int }{{2, 1}, {1, 0}} {
		s, err := c.Stream(context.Background(), userReq("m"))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		text, _, err := drain(s)
		s.Close()
		if err != nil || !strings.HasPrefix(text, "Hedging") {
			t.Fatalf("call %d: text %q, err %v", i, text, err)
		}
		if n, w := count(); n != want.n || w != want.withOptions {
			t.Errorf("call %d: %d requests (%d with stream_options), want %d (%d)", i, n, w, want.n, want.withOptions)
		}
	}

	o := newClient(t, Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI, BaseURL: srv.URL + "/v1", APIKey: testKey}})
	_, err := o.Stream(context.Background(), userReq("m"))
	if pe := asProviderError(t, err); pe.Status != 400 || pe.Kind != providers.KindHTTP {
		t.Errorf("openai kind: err = %v, want HTTP 400", err)
	}
	if n, _ := count(); n != 1 {
		t.Errorf("openai kind sent %d requests, want 1 (no fallback)", n)
	}
}

// stallAfter serves the first n events of plain.sse, then holds the
// connection open until the client goes away, and reports when the
// handler saw its request context end.
func stallAfter(t *testing.T, n int, before bool) (http.HandlerFunc, <-chan time.Time) {
	events := bytes.SplitAfter(readFile(t, "plain.sse"), []byte("\n\n"))
	done := make(chan time.Time, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		if !before {
			sseHeaders(w)
			writeSteps(w, bytes.Join(events[:n], nil), 0)
		}
		<-r.Context().Done()
		done <- time.Now()
	}, done
}

func TestCancelStalledStream(t *testing.T) {
	h, serverDone := stallAfter(t, 4, false)
	srv, _ := newServer(t, h)
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL + "/v1", APIKey: testKey}})

	errLostRace := errors.New("lost race")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s, err := c.Stream(ctx, userReq("gpt-4.1-mini"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for range 3 {
		if !s.Next() {
			t.Fatalf("Next = false after %q: %v", got, s.Err())
		}
		got = append(got, s.Chunk().Text)
	}
	if strings.Join(got, "") != "Hedging sends a" {
		t.Errorf("text = %q", strings.Join(got, ""))
	}

	cancelled := make(chan time.Time, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let Next block on the silent server
		cancelled <- time.Now()
		cancel(errLostRace)
	}()
	returned := make(chan time.Time, 1)
	var next bool
	go func() {
		next = s.Next()
		returned <- time.Now()
	}()
	var at, back time.Time
	select {
	case back = <-returned:
		at = <-cancelled
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after the cancel")
	}
	if next {
		t.Error("Next = true after cancel")
	}
	if err := s.Err(); !errors.Is(err, errLostRace) {
		t.Errorf("Err = %v, want the cancel cause", err)
	}
	select {
	case sawDone := <-serverDone:
		t.Logf("Next returned %v after cancel; server saw its context done %v after cancel",
			back.Sub(at), sawDone.Sub(at))
		if d := sawDone.Sub(at); d > 2*time.Second {
			t.Errorf("server saw the cancel after %v, want within 2s", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("server did not see its request context end within 2s of the cancel")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A context cancelled while chunks are still buffered ends the stream at
// the next call, without handing out the buffered chunks.
func TestCancelWithBufferedChunks(t *testing.T) {
	srv, _ := newServer(t, replay(t, "plain.sse", 0))
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL, APIKey: testKey}})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Stream(ctx, userReq("gpt-4.1-mini"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Next() {
		t.Fatal(s.Err())
	}
	cancel()
	if s.Next() {
		t.Errorf("Next = true after cancel (chunk %q)", s.Chunk().Text)
	}
	if !errors.Is(s.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", s.Err())
	}
}

// Close from another goroutine unblocks a pending Next.
func TestCloseUnblocksNext(t *testing.T) {
	h, serverDone := stallAfter(t, 2, false)
	srv, _ := newServer(t, h)
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL, APIKey: testKey}})
	s, err := c.Stream(context.Background(), userReq("gpt-4.1-mini"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Next() {
		t.Fatal(s.Err())
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = s.Close()
	}()
	if s.Next() {
		t.Error("Next = true after Close")
	}
	if pe := asProviderError(t, s.Err()); pe.Kind != providers.KindError {
		t.Errorf("Err = %v, want kind error", s.Err())
	}
	select {
	case <-serverDone:
	case <-time.After(2 * time.Second):
		t.Fatal("server did not see the connection close within 2s")
	}
}

func TestDeadline(t *testing.T) {
	tests := []struct {
		name    string
		before  bool // stall before the response headers
		wantMsg string
	}{
		{"server never answers", true, "timed out waiting for a response"},
		{"server stalls mid-stream", false, "timed out mid-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, serverDone := stallAfter(t, 3, tt.before)
			srv, _ := newServer(t, h)
			c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL, APIKey: testKey}})
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			s, err := c.Stream(ctx, userReq("gpt-4.1-mini"))
			if err == nil {
				_, _, err = drain(s)
				s.Close()
			} else if !tt.before {
				t.Fatalf("Stream: %v", err)
			}
			pe := asProviderError(t, err)
			if pe.Kind != providers.KindTimeout || pe.Message != tt.wantMsg {
				t.Errorf("err = %v (kind %v), want kind timeout, %q", err, pe.Kind, tt.wantMsg)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err does not wrap context.DeadlineExceeded")
			}
			select {
			case <-serverDone:
			case <-time.After(2 * time.Second):
				t.Fatal("server did not see its request context end within 2s")
			}
		})
	}
}

// A connection dropped mid-chunk (no terminating chunk) is a truncated
// stream; a reset is a connection failure.
func TestConnectionDroppedMidStream(t *testing.T) {
	events := bytes.SplitAfter(readFile(t, "plain.sse"), []byte("\n\n"))
	tests := []struct {
		name     string
		reset    bool
		wantKind providers.Kind
		wantMsg  string
	}{
		{"closed", false, providers.KindInvalid, "stream ended without its final event: connection closed mid-stream"},
		{"reset", true, providers.KindError, "connection lost mid-stream: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The server drops the connection only once the client has
			// read what came before: a reset may discard unread data.
			proceed := make(chan struct{})
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				sseHeaders(w)
				writeSteps(w, bytes.Join(events[:3], nil), 0)
				_, _ = w.Write(events[3][:40]) // half an event
				w.(http.Flusher).Flush()
				<-proceed
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				if tt.reset {
					_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
				}
				conn.Close()
			})
			c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL, APIKey: testKey}})
			s, err := c.Stream(context.Background(), userReq("gpt-4.1-mini"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var text string
			for range 2 {
				if !s.Next() {
					t.Fatalf("Next = false: %v", s.Err())
				}
				text += s.Chunk().Text
			}
			close(proceed)
			rest, _, err := drain(s)
			text += rest
			if text != "Hedging sends" {
				t.Errorf("text = %q, want %q", text, "Hedging sends")
			}
			pe := asProviderError(t, err)
			if pe.Kind != tt.wantKind || !strings.HasPrefix(pe.Message, tt.wantMsg) {
				t.Errorf("err = %v (kind %v), want kind %v, %q", err, pe.Kind, tt.wantKind, tt.wantMsg)
			}
			t.Logf("%v", err)
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, Options{Settings: providers.Settings{Name: "local", Kind: KindCompatible, BaseURL: "http://user:" + testKey + "@" + addr + "/v1", APIKey: testKey}})
	_, err = c.Stream(context.Background(), userReq("llama3.2"))
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindError {
		t.Errorf("kind = %v, want error (%v)", pe.Kind, err)
	}
	if want := "cannot reach http://" + addr + "/v1: "; !strings.Contains(pe.Message, want) || !strings.Contains(pe.Message, "refused") {
		t.Errorf("message = %q, want it to contain %q and \"refused\"", pe.Message, want)
	}
	checkSafe(t, err)
}

func TestNoKeyForOpenAI(t *testing.T) {
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", Kind: KindOpenAI, KeyEnv: "OPENAI_API_KEY"}})
	_, err := c.Stream(context.Background(), userReq("gpt-4.1-mini"))
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindAuth || !errors.Is(err, providers.ErrNoKey) || !strings.Contains(pe.Message, "set OPENAI_API_KEY") {
		t.Errorf("err = %v, want kind auth naming OPENAI_API_KEY", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"default kind", Options{Settings: providers.Settings{Name: "openai"}}, ""},
		{"compatible", Options{Settings: providers.Settings{Name: "ollama", Kind: KindCompatible, BaseURL: "http://localhost:11434/v1"}}, ""},
		{"unknown kind", Options{Settings: providers.Settings{Name: "x", Kind: "anthropic"}}, `kind "anthropic"`},
		{"not a URL", Options{Settings: providers.Settings{Name: "x", Kind: KindCompatible, BaseURL: "localhost:8080/v1?key=" + testKey, APIKey: testKey}}, "is not an http(s) URL"},
		{"no host", Options{Settings: providers.Settings{Name: "x", Kind: KindCompatible, BaseURL: "http:///v1"}}, "is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), keyFragment) {
				t.Errorf("error carries the key: %v", err)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	c := newClient(t, Options{Settings: providers.Settings{Name: "p", Kind: KindCompatible, BaseURL: "http://127.0.0.1:1"}})
	for _, req := range []providers.Request{
		{Messages: []providers.Message{{Role: "user", Content: "x"}}},
		{Model: "m", Messages: []providers.Message{{Role: "tool", Content: "x"}}},
	} {
		_, err := c.Stream(context.Background(), req)
		if pe := asProviderError(t, err); pe.Kind != providers.KindInvalid {
			t.Errorf("request %+v: err = %v, want kind invalid", req, err)
		}
	}
}
