package anthropic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testKey looks like a real key so that Redact has something to find.
const testKey = "sk-ant-api03-TESTKEY-never-echo-0123456789abcdef"

// newFake starts a fake API running h, and a client pointed at it. Both
// are closed when the test ends.
func newFake(t *testing.T, h http.HandlerFunc) (*providertest.Server, *Client) {
	t.Helper()
	f := providertest.NewServer(t, h)
	c, err := New(Options{Settings: providers.Settings{Name: "claude", BaseURL: f.URL, APIKey: testKey, KeyEnv: "ANTHROPIC_API_KEY"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return f, c
}

// replay serves a recording as the API does, chunk bytes at a time.
func replay(t *testing.T, file string, chunk int) http.HandlerFunc {
	return providertest.Replay(t, filepath.Join("testdata", file), chunk, map[string]string{
		"Content-Type":              "text/event-stream; charset=utf-8",
		"Cache-Control":             "no-cache",
		"Request-Id":                "req_011CVQ6x2QeZ3j8rJtX9bWkP",
		"Anthropic-Organization-Id": "8a3c7f0e-1111-2222-3333-444455556666",
	})
}

// apiError answers with an error body in the API's shape.
func apiError(status int, typ, msg string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_011CVQ9aaaBBBcccDDDeee")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_011CVQ9aaaBBBcccDDDeee"}`, typ, msg)
	}
}

func request() providers.Request {
	return providers.Request{
		Model:    "claude-sonnet-4-5",
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
	return providertest.AsProviderError(t, err, "claude")
}

func TestStream(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		chunk     int
		maxTokens int
		want      string
		usages    []providers.Usage
	}{
		{
			name: "plain text", file: "text.sse", chunk: 1 << 16,
			want:   "A circuit breaker stops calling a failing service until it has had time to recover.",
			usages: []providers.Usage{{InputTokens: 21, OutputTokens: 1}, {InputTokens: 21, OutputTokens: 17}},
		},
		{
			name: "byte at a time", file: "text.sse", chunk: 1, maxTokens: 300,
			want:   "A circuit breaker stops calling a failing service until it has had time to recover.",
			usages: []providers.Usage{{InputTokens: 21, OutputTokens: 1}, {InputTokens: 21, OutputTokens: 17}},
		},
		{
			name: "unicode split across reads", file: "unicode.sse", chunk: 5,
			want:   "こんにちは、世界！你好 🌍 👨\u200d👩\u200d👧 Ünïcödé \"quoted\"\n✓",
			usages: []providers.Usage{{InputTokens: 34, OutputTokens: 3}, {InputTokens: 34, OutputTokens: 29}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, replay(t, tt.file, tt.chunk))
			req := request()
			req.MaxTokens = tt.maxTokens
			temp := 0.2
			req.Temperature = &temp
			req.Output = &providers.Output{Stop: []string{"END", "\n\nHuman:"}}
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
			wantMax := float64(tt.maxTokens)
			if wantMax == 0 {
				wantMax = DefaultMaxTokens
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"method", got.Method, "POST"},
				{"path", got.Path, "/v1/messages"},
				{"x-api-key", got.Header.Get("X-Api-Key"), testKey},
				{"authorization", got.Header.Get("Authorization"), ""},
				{"anthropic-version set", got.Header.Get("Anthropic-Version") != "", true},
				{"retry count", got.Header.Get("X-Stainless-Retry-Count"), "0"},
				{"model", got.Body["model"], "claude-sonnet-4-5"},
				{"stream", got.Body["stream"], true},
				{"max_tokens", got.Body["max_tokens"], wantMax},
				{"system", fmt.Sprint(got.Body["system"]), "[map[text:Answer in one sentence. type:text]]"},
				{"messages", fmt.Sprint(got.Body["messages"]), "[map[content:[map[text:What does a circuit breaker do? type:text]] role:user]]"},
				{"temperature (dropped by API 2026-10-21)", got.Body["temperature"], nil},
				{"stop_sequences", fmt.Sprintf("%q", got.Body["stop_sequences"]), `["END" "\n\nHuman:"]`},
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
	req := request()
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
	for _, m := range body["messages"].([]any) {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if got, want := strings.Join(roles, ","), "user,assistant,user"; got != want {
		t.Errorf("roles = %s, want %s", got, want)
	}
	if _, ok := body["system"]; ok {
		t.Errorf("system sent although empty: %v", body["system"])
	}
}

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
			name:    "429 with Retry-After",
			handler: apiError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", map[string]string{"Retry-After": "7"}),
			kind:    providers.KindRateLimited, status: 429, retryAfter: 7 * time.Second,
			contains: []string{"rate limited", "retry after 7s"},
		},
		{
			name:    "500",
			handler: apiError(500, "api_error", "Internal server error", nil),
			kind:    providers.KindHTTP, status: 500, contains: []string{"HTTP 500", "Internal server error"},
		},
		{
			name:    "529 overloaded",
			handler: apiError(529, "overloaded_error", "Overloaded", nil),
			kind:    providers.KindHTTP, status: 529, contains: []string{"claude: HTTP 529: overloaded"},
		},
		{
			name:    "401 names the variable",
			handler: apiError(401, "authentication_error", "invalid x-api-key", nil),
			kind:    providers.KindAuth, status: 401, contains: []string{"set ANTHROPIC_API_KEY"},
		},
		{
			name:    "403",
			handler: apiError(403, "permission_error", "Your API key does not have permission to use the specified resource.", nil),
			kind:    providers.KindAuth, status: 403, contains: []string{"set ANTHROPIC_API_KEY"},
		},
		{
			name:    "404 model",
			handler: apiError(404, "not_found_error", "model: claude-sonnet-4-5", nil),
			kind:    providers.KindHTTP, status: 404, contains: []string{`model "claude-sonnet-4-5" not found`},
		},
		{
			name: "401 echoing the key",
			// A proxy that echoes the header back must not leak it.
			handler: func(w http.ResponseWriter, r *http.Request) {
				apiError(401, "authentication_error", "invalid key "+r.Header.Get("X-Api-Key"), nil)(w, r)
			},
			kind: providers.KindAuth, status: 401, contains: []string{"invalid key [REDACTED]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, tt.handler)
			s, err := c.Stream(context.Background(), request())
			if err == nil {
				s.Close()
				t.Fatal("Stream succeeded, want an error")
			}
			pe := asProviderError(t, err)
			if pe.Kind != tt.kind || pe.Status != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got kind %v status %d retry %v, want %v %d %v", pe.Kind, pe.Status, pe.RetryAfter, tt.kind, tt.status, tt.retryAfter)
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

func TestErrorEventMidStream(t *testing.T) {
	_, c := newFake(t, replay(t, "overloaded.sse", 64))
	s, err := c.Stream(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(t, s)
	if text != "Partial answer" {
		t.Errorf("text = %q, want the part before the error", text)
	}
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindHTTP || pe.Message != "overloaded mid-stream: overloaded_error" || pe.Status != 0 {
		t.Errorf("got %v %q status %d, want http \"overloaded mid-stream: overloaded_error\" status 0", pe.Kind, pe.Message, pe.Status)
	}
	assertNoKey(t, err)
}

func TestStreamCutShort(t *testing.T) {
	_, c := newFake(t, replay(t, "cut.sse", 4096))
	s, err := c.Stream(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(t, s)
	if text != "The first half of an answer and then" {
		t.Errorf("text = %q", text)
	}
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindInvalid || !strings.Contains(pe.Message, "without its final event") {
		t.Errorf("got %v %q, want invalid, without its final event", pe.Kind, pe.Message)
	}
}

func TestConnectionReset(t *testing.T) {
	data, err := os.ReadFile("testdata/cut.sse")
	if err != nil {
		t.Fatal(err)
	}
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(data), data)
		buf.Flush()
		conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
		conn.Close()
	})
	s, err := c.Stream(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = drain(t, s)
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindError {
		t.Errorf("kind = %v (%v), want error", pe.Kind, err)
	}
	assertNoKey(t, err)
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Options{Settings: providers.Settings{Name: "claude", BaseURL: url, APIKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.Stream(context.Background(), request())
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindError || !strings.Contains(pe.Message, "connection failed") {
		t.Errorf("got %v %q, want error, connection failed", pe.Kind, pe.Message)
	}
	assertNoKey(t, err)
}

// stallingServer sends the first events, then goes silent until the client
// goes away, reporting when it saw that.
func stallingServer(t *testing.T) (*providertest.Server, *Client, <-chan time.Time) {
	t.Helper()
	data, err := os.ReadFile("testdata/cut.sse")
	if err != nil {
		t.Fatal(err)
	}
	gone := make(chan time.Time, 1)
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(data)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		gone <- time.Now()
	})
	return f, c, gone
}

func TestCancelStalledStream(t *testing.T) {
	_, c, gone := stallingServer(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s, err := c.Stream(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 { // usage, two deltas
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
		closed := at.Sub(time.Unix(0, cancelled.Load()))
		t.Logf("after cancel: Next returned in %v, server saw the connection close in %v", returned, closed)
	case <-time.After(bound):
		t.Fatalf("server's request context not done %v after cancel", bound)
	}
}

func TestCloseFromAnotherGoroutine(t *testing.T) {
	_, c, gone := stallingServer(t)
	s, err := c.Stream(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
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

func TestCancelBeforeHeaders(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancelCause(context.Background())
	userQuit := errors.New("user")
	time.AfterFunc(50*time.Millisecond, func() { cancel(userQuit) })
	_, err := c.Stream(ctx, request())
	if !errors.Is(err, userQuit) {
		t.Errorf("err = %v, want the context's cause", err)
	}
}

func TestBadBaseURL(t *testing.T) {
	_, err := New(Options{Settings: providers.Settings{Name: "claude", BaseURL: "api.anthropic.com/" + testKey, APIKey: testKey}})
	if err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Fatalf("err = %v, want a base_url error", err)
	}
	assertNoKey(t, err)
}

func TestDeadlineBeforeHeaders(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Stream(ctx, request())
	pe := asProviderError(t, err)
	if pe.Kind != providers.KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v (%v), want timeout wrapping DeadlineExceeded", pe.Kind, err)
	}
}

func TestDeadlineMidStream(t *testing.T) {
	_, c, _ := stallingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s, err := c.Stream(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = drain(t, s)
	if pe := asProviderError(t, err); pe.Kind != providers.KindTimeout {
		t.Errorf("kind = %v, want timeout", pe.Kind)
	}
}

func TestKeyResolution(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		t.Setenv("COUNCIL_TEST_ANTHROPIC_KEY", "")
		_, err := New(Options{Settings: providers.Settings{Name: "claude", KeyEnv: "COUNCIL_TEST_ANTHROPIC_KEY"}})
		pe := asProviderError(t, err)
		if pe.Kind != providers.KindAuth || !strings.Contains(err.Error(), "set COUNCIL_TEST_ANTHROPIC_KEY") {
			t.Errorf("got %v %q", pe.Kind, err)
		}
		if !errors.Is(err, providers.ErrNoKey) {
			t.Errorf("err does not wrap ErrNoKey")
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("COUNCIL_TEST_ANTHROPIC_KEY", testKey)
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("X-Api-Key")
			apiError(401, "authentication_error", "invalid x-api-key", nil)(w, r)
		}))
		defer srv.Close()
		c, err := New(Options{Settings: providers.Settings{Name: "claude", BaseURL: srv.URL, KeyEnv: "COUNCIL_TEST_ANTHROPIC_KEY"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		_, err = c.Stream(context.Background(), request())
		if got != testKey {
			t.Errorf("x-api-key = %q, want the key from the environment", got)
		}
		if !strings.Contains(fmt.Sprint(err), "set COUNCIL_TEST_ANTHROPIC_KEY") {
			t.Errorf("err = %v, want it to name the variable", err)
		}
		assertNoKey(t, err)
	})
}

// TestRecordingsAreWellFormed keeps the testdata honest: every event has a
// name and JSON data whose type matches it.
func TestRecordingsAreWellFormed(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.sse")
	if len(files) == 0 {
		t.Fatal("no recordings")
	}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var v struct{ Type string }
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &v); err != nil {
					t.Errorf("%s: %v in %q", file, err, line)
				}
				if v.Type != event {
					t.Errorf("%s: event %q carries data of type %q", file, event, v.Type)
				}
			}
		}
		f.Close()
	}
}
