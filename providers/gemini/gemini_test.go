package gemini

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

// The SDK imports cloud.google.com/go/auth, which imports go.opencensus.io,
// whose stats/view package starts a worker goroutine in init() that lives
// for the whole process: no call of ours creates it, nothing can stop it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

// testKey looks like a real key so that Redact has something to find.
const testKey = "AIzaSyTESTKEY-never-echo-0123456789abcd"

// newFake starts a fake API running h, and a client pointed at it. Both
// are closed when the test ends.
func newFake(t *testing.T, h http.HandlerFunc) (*providertest.Server, *Client) {
	t.Helper()
	f := providertest.NewServer(t, h)
	c, err := New(Options{Settings: providers.Settings{Name: "google", BaseURL: f.URL, APIKey: testKey, KeyEnv: "GEMINI_API_KEY"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return f, c
}

// replay serves a recording as the API does, chunk bytes at a time.
func replay(t *testing.T, file string, chunk int) http.HandlerFunc {
	return providertest.Replay(t, filepath.Join("testdata", file), chunk, map[string]string{
		"Content-Type":        "text/event-stream",
		"Content-Disposition": "attachment",
		"Vary":                "Origin, X-Origin, Referer",
		"Server":              "scaffolding on HTTPServer2",
		"Server-Timing":       "gfet4t7; dur=412",
	})
}

// apiError answers with an error body in the API's shape.
func apiError(status int, body string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func testRequest() providers.Request {
	return providers.Request{
		Model:    "gemini-2.5-flash",
		System:   "Answer in one sentence.",
		Messages: []providers.Message{{Role: "user", Content: "What does a circuit breaker do?"}},
	}
}

func drain(t *testing.T, s providers.Stream) (string, []providers.Usage, error) {
	return providertest.Drain(t, s)
}

func assertNoKey(t *testing.T, err error) {
	providertest.AssertNoSecret(t, err, testKey, "TESTKEY")
}

func asProviderError(t *testing.T, err error) *providers.Error {
	return providertest.AsProviderError(t, err, "google")
}

func TestStream(t *testing.T) {
	const answer = "A circuit breaker stops calling a failing service until it has had time to recover."
	tests := []struct {
		name      string
		file      string
		chunk     int
		maxTokens int
		want      string
		usages    []providers.Usage
	}{
		{
			name: "plain text", file: "text.sse", chunk: 1 << 16, want: answer,
			// candidates + thoughts: thinking is billed as output
			usages: []providers.Usage{{InputTokens: 11, OutputTokens: 28, ReasoningTokens: 24}, {InputTokens: 11, OutputTokens: 37, ReasoningTokens: 24}, {InputTokens: 11, OutputTokens: 41, ReasoningTokens: 24}},
		},
		{
			name: "byte at a time", file: "text.sse", chunk: 1, maxTokens: 300, want: answer,
			usages: []providers.Usage{{InputTokens: 11, OutputTokens: 28, ReasoningTokens: 24}, {InputTokens: 11, OutputTokens: 37, ReasoningTokens: 24}, {InputTokens: 11, OutputTokens: 41, ReasoningTokens: 24}},
		},
		{
			name: "unicode split across reads", file: "unicode.sse", chunk: 5,
			want:   "こんにちは、世界！你好 🌍 👨\u200d👩\u200d👧 Ünïcödé \"quoted\"\n✓",
			usages: []providers.Usage{{InputTokens: 9, OutputTokens: 5}, {InputTokens: 9, OutputTokens: 12}, {InputTokens: 9, OutputTokens: 21}},
		},
		{
			name: "thought parts are not answer text", file: "thoughts.sse", chunk: 7, want: "billing",
			usages: []providers.Usage{{InputTokens: 7, OutputTokens: 31, ReasoningTokens: 31}, {InputTokens: 7, OutputTokens: 32, ReasoningTokens: 31}},
		},
		{
			name: "MAX_TOKENS is a final event too", file: "max_tokens.sse", chunk: 64, want: "Truncated by the limit",
			usages: []providers.Usage{{InputTokens: 8, OutputTokens: 4}, {InputTokens: 8, OutputTokens: 5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, replay(t, tt.file, tt.chunk))
			req := testRequest()
			req.MaxTokens = tt.maxTokens
			temp := 0.25
			req.Temperature = &temp
			req.Output = &providers.Output{Stop: []string{"END"}, Format: &providers.ResponseFormat{Type: providers.FormatJSONSchema, Schema: map[string]any{"type": "object"}}}
			s, err := c.Stream(context.Background(), req)
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			text, usages, err := drain(t, s)
			if err != nil {
				t.Fatalf("Err = %v, want nil", err)
			}
			if text != tt.want {
				t.Errorf("text = %q, want %q", text, tt.want)
			}
			if fmt.Sprint(usages) != fmt.Sprint(tt.usages) {
				t.Errorf("usages = %v, want %v", usages, tt.usages)
			}

			got := f.Last(t)
			gen, _ := got.Body["generationConfig"].(map[string]any)
			var wantMax any
			if tt.maxTokens > 0 {
				wantMax = float64(tt.maxTokens)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"method", got.Method, "POST"},
				{"path", got.Path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent"},
				{"query", got.Query, "alt=sse"},
				{"x-goog-api-key", got.Header.Get("X-Goog-Api-Key"), testKey},
				{"authorization", got.Header.Get("Authorization"), ""},
				{"contents", fmt.Sprint(got.Body["contents"]), "[map[parts:[map[text:What does a circuit breaker do?]] role:user]]"},
				{"systemInstruction", fmt.Sprint(got.Body["systemInstruction"]), "map[parts:[map[text:Answer in one sentence.]] role:user]"},
				{"temperature", gen["temperature"], 0.25},
				{"maxOutputTokens", gen["maxOutputTokens"], wantMax},
				{"stopSequences", fmt.Sprint(gen["stopSequences"]), "[END]"},
				{"responseMimeType", gen["responseMimeType"], "application/json"},
				{"responseJsonSchema", fmt.Sprint(gen["responseJsonSchema"]), "map[type:object]"},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("request %s = %v, want %v", ck.what, ck.got, ck.want)
				}
			}
			if n := f.Calls(); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
	}
}

func TestConversationRoles(t *testing.T) {
	f, c := newFake(t, replay(t, "text.sse", 4096))
	req := testRequest()
	req.System = ""
	req.Messages = []providers.Message{
		{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}, {Role: "user", Content: "again"},
	}
	s, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := drain(t, s); err != nil {
		t.Fatal(err)
	}
	body := f.Last(t).Body
	var roles []string
	for _, m := range body["contents"].([]any) {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if got, want := strings.Join(roles, ","), "user,model,user"; got != want {
		t.Errorf("roles = %s, want %s", got, want)
	}
	if _, ok := body["systemInstruction"]; ok {
		t.Errorf("systemInstruction sent although empty")
	}
}

const (
	body429    = `{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]}, {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "19s"}]}}`
	body400Key = `{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}, {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": "API key not valid. Please pass a valid API key."}]}}`
	body401    = `{"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "status": "UNAUTHENTICATED"}}`
	body403    = `{"error": {"code": 403, "message": "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "status": "PERMISSION_DENIED"}}`
	body404    = `{"error": {"code": 404, "message": "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", "status": "NOT_FOUND"}}`
	body500    = `{"error": {"code": 500, "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "status": "INTERNAL"}}`
	body503    = `{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}`
)

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		kind       providers.Kind
		status     int
		retryAfter time.Duration
		contains   []string
	}{
		{
			name: "429 with Retry-After", handler: apiError(429, body429, map[string]string{"Retry-After": "7"}),
			kind: providers.KindRateLimited, status: 429, retryAfter: 7 * time.Second,
			contains: []string{"rate limited: You exceeded your current quota", "retry after 7s"},
		},
		{
			name: "429 with RetryInfo only", handler: apiError(429, body429, nil),
			kind: providers.KindRateLimited, status: 429, retryAfter: 19 * time.Second,
		},
		{
			name: "500", handler: apiError(500, body500, nil),
			kind: providers.KindHTTP, status: 500, contains: []string{"google: HTTP 500: server error: An internal error"},
		},
		{
			name: "503 overloaded", handler: apiError(503, body503, nil),
			kind: providers.KindHTTP, status: 503, contains: []string{"google: HTTP 503: overloaded"},
		},
		{
			name: "401 names the variable", handler: apiError(401, body401, nil),
			kind: providers.KindAuth, status: 401, contains: []string{"set GEMINI_API_KEY"},
		},
		{
			name: "403", handler: apiError(403, body403, nil),
			kind: providers.KindAuth, status: 403, contains: []string{"set GEMINI_API_KEY"},
		},
		{
			name: "400 API_KEY_INVALID", handler: apiError(400, body400Key, nil),
			kind: providers.KindAuth, status: 400, contains: []string{"API key not valid", "set GEMINI_API_KEY"},
		},
		{
			name: "404 model", handler: apiError(404, body404, nil),
			kind: providers.KindHTTP, status: 404, contains: []string{`model "gemini-2.5-flash" not found`},
		},
		{
			name: "401 echoing the key",
			handler: func(w http.ResponseWriter, r *http.Request) {
				apiError(401, `{"error": {"code": 401, "message": "bad key `+r.Header.Get("X-Goog-Api-Key")+`", "status": "UNAUTHENTICATED"}}`, nil)(w, r)
			},
			kind: providers.KindAuth, status: 401, contains: []string{"bad key [REDACTED]"},
		},
		{
			name: "plain-text 502 from a proxy", handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "upstream connect error", http.StatusBadGateway)
			},
			kind: providers.KindHTTP, status: 502, contains: []string{"upstream connect error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, tt.handler)
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			text, _, err := drain(t, s)
			if text != "" {
				t.Errorf("text = %q, want none", text)
			}
			pe := asProviderError(t, err)
			if pe.Kind != tt.kind || pe.Status != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got kind %v status %d retry %v, want %v %d %v (%v)", pe.Kind, pe.Status, pe.RetryAfter, tt.kind, tt.status, tt.retryAfter, err)
			}
			for _, want := range tt.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			assertNoKey(t, err)
			if n := f.Calls(); n != 1 {
				t.Errorf("server saw %d requests, want 1 (SDK retries must be off)", n)
			}
		})
	}
}

func TestStreamFailures(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		text     string
		kind     providers.Kind
		contains string
	}{
		{"error mid-stream", "overloaded.sse", "Partial answer", providers.KindHTTP, "google: overloaded mid-stream: The model is overloaded"},
		{"cut short", "cut.sse", "The first half of an answer and then", providers.KindInvalid, "stream ended without its final event"},
		{"prompt blocked", "blocked.sse", "", providers.KindInvalid, "prompt blocked: PROHIBITED_CONTENT"},
		// Automatic continuation would send the request again with the token.
		{"finishReason CONTINUATION", "continuation.sse", "The first part", providers.KindInvalid, "CONTINUATION"},
		{"cut after a continuation token", "cut_with_token.sse", "The first part", providers.KindInvalid, "without its final event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, replay(t, tt.file, 32))
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			text, _, err := drain(t, s)
			if text != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
			pe := asProviderError(t, err)
			if pe.Kind != tt.kind || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("got %v %q, want %v containing %q", pe.Kind, err, tt.kind, tt.contains)
			}
			assertNoKey(t, err)
			if n := f.Calls(); n != 1 {
				t.Errorf("server saw %d requests, want 1 (no continuation or retry)", n)
			}
		})
	}
}

func TestConnectionReset(t *testing.T) {
	assertNoLog(t)
	data, err := os.ReadFile("testdata/text.sse")
	if err != nil {
		t.Fatal(err)
	}
	// The first event, and half of the second.
	cut := data[:bytes.Index(data, []byte("\r\n\r\n"))+4+60]
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(cut), cut)
		buf.Flush()
		conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
		conn.Close()
	})
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(t, s)
	if text != "A circuit breaker stops" {
		t.Errorf("text = %q, want the first event's", text)
	}
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindError || !strings.Contains(pe.Message, "connection failed") {
		t.Errorf("got %v %q, want error, connection failed", pe.Kind, err)
	}
	assertNoKey(t, err)
	if n := f.Calls(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (no reconnect)", n)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Options{Settings: providers.Settings{Name: "google", BaseURL: url, APIKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = drain(t, s)
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindError || !strings.Contains(pe.Message, "connection failed") {
		t.Errorf("got %v %q, want error, connection failed", pe.Kind, pe.Message)
	}
	assertNoKey(t, err)
}

// stallingServer sends the first events, then goes silent until the client
// goes away, reporting when it saw that.
func stallingServer(t *testing.T) (*Client, <-chan time.Time) {
	t.Helper()
	data, err := os.ReadFile("testdata/cut.sse")
	if err != nil {
		t.Fatal(err)
	}
	gone := make(chan time.Time, 1)
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(data)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		gone <- time.Now()
	})
	return c, gone
}

// lockedBuffer collects log output written from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// assertNoLog fails if the SDK wrote to the standard logger (stderr, under
// the dashboard) during the test.
func assertNoLog(t *testing.T) {
	t.Helper()
	var buf lockedBuffer
	prev := log.Writer()
	log.SetOutput(&buf)
	t.Cleanup(func() {
		log.SetOutput(prev)
		if s := buf.String(); s != "" {
			t.Errorf("the SDK logged: %q", s)
		}
	})
}

func TestCancelStalledStream(t *testing.T) {
	assertNoLog(t)
	c, gone := stallingServer(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s, err := c.Stream(ctx, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		if !s.Next() {
			t.Fatalf("Next = false early: %v", s.Err())
		}
	}
	lostRace := errors.New("lost_race")
	var cancelled atomic.Int64
	time.AfterFunc(50*time.Millisecond, func() {
		cancelled.Store(time.Now().UnixNano())
		cancel(lostRace)
	})
	if s.Next() {
		t.Fatal("Next = true on a stalled stream")
	}
	returned := time.Since(time.Unix(0, cancelled.Load()))
	if err := s.Err(); !errors.Is(err, lostRace) {
		t.Errorf("Err = %v, want the context's cause", err)
	}
	const bound = 2 * time.Second
	select {
	case at := <-gone:
		t.Logf("after cancel: Next returned in %v, server saw the connection close in %v",
			returned, at.Sub(time.Unix(0, cancelled.Load())))
	case <-time.After(bound):
		t.Fatalf("server's request context not done %v after cancel", bound)
	}
}

func TestCloseFromAnotherGoroutine(t *testing.T) {
	c, gone := stallingServer(t)
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s.Next()
	}
	time.AfterFunc(20*time.Millisecond, func() { s.Close() })
	if s.Next() {
		t.Fatal("Next = true after Close")
	}
	if err := s.Err(); !errors.Is(err, errClosed) {
		t.Errorf("Err = %v, want errClosed", err)
	}
	select {
	case <-gone:
	case <-time.After(2 * time.Second):
		t.Fatal("server's request context not done after Close")
	}
}

func TestCloseBeforeNext(t *testing.T) {
	f, c := newFake(t, replay(t, "text.sse", 4096))
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Next() {
		t.Error("Next = true after Close")
	}
	if n := f.Calls(); n != 0 {
		t.Errorf("server saw %d requests for a stream closed before its first Next", n)
	}
}

func TestDeadline(t *testing.T) {
	tests := []struct {
		name    string
		handler func(t *testing.T) http.HandlerFunc
	}{
		{"server never answers", func(*testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
		}},
		{"server stalls mid-stream", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\"}], \"role\": \"model\"}, \"index\": 0}]}\r\n\r\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, tt.handler(t))
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			s, err := c.Stream(ctx, testRequest())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = drain(t, s)
			pe := asProviderError(t, err)
			if pe.Kind != providers.KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v (%v), want timeout wrapping DeadlineExceeded", pe.Kind, err)
			}
		})
	}
}

func TestKeyResolution(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		t.Setenv("GEMINI_API_KEY", "")
		t.Setenv("GOOGLE_API_KEY", "")
		_, err := New(Options{Settings: providers.Settings{Name: "google"}})
		pe := asProviderError(t, err)
		if pe.Kind != providers.KindAuth || !strings.Contains(err.Error(), "set GEMINI_API_KEY") || !errors.Is(err, providers.ErrNoKey) {
			t.Errorf("got %v %q", pe.Kind, err)
		}
	})
	tests := []struct {
		name, keyEnv   string
		gemini, google string
		wantEnv        string
	}{
		{"GEMINI_API_KEY first", "", testKey, "other-key-xyz", "GEMINI_API_KEY"},
		{"GOOGLE_API_KEY as fallback", "", "", testKey, "GOOGLE_API_KEY"},
		{"KeyEnv named", "COUNCIL_TEST_GEMINI_KEY", "", "", "COUNCIL_TEST_GEMINI_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GEMINI_API_KEY", tt.gemini)
			t.Setenv("GOOGLE_API_KEY", tt.google)
			t.Setenv("COUNCIL_TEST_GEMINI_KEY", testKey)
			f, _ := newFake(t, apiError(401, body401, nil))
			c, err := New(Options{Settings: providers.Settings{Name: "google", BaseURL: f.URL, KeyEnv: tt.keyEnv}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = drain(t, s)
			if got := f.Last(t).Header.Get("X-Goog-Api-Key"); got != testKey {
				t.Errorf("x-goog-api-key = %q, want the key from %s", got, tt.wantEnv)
			}
			if !strings.Contains(fmt.Sprint(err), "set "+tt.wantEnv) {
				t.Errorf("err = %v, want it to name %s", err, tt.wantEnv)
			}
			assertNoKey(t, err)
		})
	}
}

// TestRecordingsAreWellFormed keeps the testdata honest: SSE events of one
// JSON line each, separated by CRLF CRLF as the API sends them.
func TestRecordingsAreWellFormed(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.sse")
	if len(files) == 0 {
		t.Fatal("no recordings")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, []byte("\r\n\r\n")) {
			t.Errorf("%s does not end with CRLF CRLF", file)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			if line == "" {
				continue
			}
			payload, ok := strings.CutPrefix(line, "data: ")
			if !ok || !json.Valid([]byte(payload)) {
				t.Errorf("%s: bad line %q", file, line)
			}
		}
	}
}
