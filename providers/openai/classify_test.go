package openai

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/providers"
)

func TestEventErr(t *testing.T) {
	c := &Client{name: "p", kind: KindCompatible, apiKey: testKey}
	tests := []struct {
		data     string
		wantKind providers.Kind
		wantMsg  string
	}{
		{`{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`,
			providers.KindHTTP, "server error mid-stream: The server had an error (server_error)"},
		{`{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`,
			providers.KindRateLimited, "rate limited mid-stream: Rate limit reached for requests"},
		{`{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`,
			providers.KindRateLimited, "quota"},
		{`{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-min"}}`,
			providers.KindRateLimited, "rate limited mid-stream: Rate limit exceeded: free-models-per-min (429)"},
		{`{"error":{"code":401,"message":"No auth credentials found"}}`,
			providers.KindAuth, "set api_key_env for provider p"},
		{`{"error":{"message":"Overloaded","type":"overloaded_error"}}`,
			providers.KindHTTP, "overloaded mid-stream: overloaded_error"},
		{`{"error":"upstream connect error or disconnect/reset before headers"}`,
			providers.KindHTTP, "server error mid-stream: upstream connect error"},
		{`{"error":{"message":"bad key ` + testKey + `\nsecond line","type":"invalid_request_error"}}`,
			providers.KindHTTP, "bad key [REDACTED] second line"},
	}
	for _, tt := range tests {
		t.Run(tt.wantMsg, func(t *testing.T) {
			pe := c.eventErr([]byte(tt.data))
			if pe.Kind != tt.wantKind || !strings.Contains(pe.Message, tt.wantMsg) {
				t.Errorf("eventErr = %v (kind %v), want kind %v containing %q", pe, pe.Kind, tt.wantKind, tt.wantMsg)
			}
			checkSafe(t, pe)
		})
	}
}

func TestCtxErr(t *testing.T) {
	c := &Client{name: "p"}
	errLost := errors.New("lost race")
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		wantKind providers.Kind
		wantIs   error
		wantRaw  bool // the cause itself, not a *providers.Error
	}{
		{"cancel cause", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(errLost)
			return ctx, func() {}
		}, 0, errLost, true},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(0, 0))
		}, providers.KindTimeout, context.DeadlineExceeded, false},
		{"deadline with stalled cause", func() (context.Context, context.CancelFunc) {
			return context.WithDeadlineCause(context.Background(), time.Unix(0, 0), providers.ErrStalled)
		}, providers.KindStalled, providers.ErrStalled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			err := c.ctxErr(ctx, true)
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
			var pe *providers.Error
			if isPE := errors.As(err, &pe); isPE == tt.wantRaw {
				t.Fatalf("err = %#v, want raw cause: %v", err, tt.wantRaw)
			}
			if pe != nil && pe.Kind != tt.wantKind {
				t.Errorf("kind = %v, want %v", pe.Kind, tt.wantKind)
			}
		})
	}
}

func TestClean(t *testing.T) {
	c := &Client{apiKey: testKey}
	long := strings.Repeat("日", 400)
	tests := []struct{ in, want string }{
		{"a\n b\r\n\tc", "a b c"},
		{"key " + testKey + " there", "key [REDACTED] there"},
		{"Incorrect API key provided: sk-proj-abcd****wxyz.", "Incorrect API key provided: [REDACTED]"},
		{"gsk_Qw3ErT5yU7iO9pAs leaked", "[REDACTED] leaked"},
		{"Authorization: Bearer abc.def", "Authorization: Bearer [REDACTED]"},
		{long, strings.Repeat("日", 300) + "…"},
	}
	for _, tt := range tests {
		if got := c.clean(tt.in); got != tt.want {
			t.Errorf("clean(%.40q) = %.60q, want %.60q", tt.in, got, tt.want)
		}
	}
}

// The [DONE] watcher must see the line whatever the read boundaries.
func TestDoneWatcher(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"data: {}\n\ndata: [DONE]\n\n", true},
		{"data:[DONE]\r\n\r\n", true},
		{"data: [DONE]", true}, // no newline before EOF
		{"data: {\"x\":\"data: [DONE]\"}\n\n", false},
		{"data: {}\n\n", false},
		{": data: [DONE]\n\n", false},
		{"data: {}\rdata: [DONE]\r", true}, // a lone '\r' ends a line
		{"data: {\"a\":\"a line longer than what is kept\"}\ndata: [DONE]\n\n", true},
		{"data: {\"a\":\"b\"}data: [DONE]\n\n", false},
		{"data: [DONE", false},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 2, 3, 4, 7, 16, 4096} {
			w := &wire{}
			d := &doneWatcher{rc: io.NopCloser(&stepReader{s: tt.body, step: step}), w: w}
			if _, err := io.ReadAll(d); err != nil {
				t.Fatal(err)
			}
			if got := w.sawDone.Load(); got != tt.want {
				t.Errorf("%q step %d: sawDone = %v, want %v", tt.body, step, got, tt.want)
			}
		}
	}
}

type stepReader struct {
	s    string
	step int
}

func (r *stepReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.step)], r.s)
	r.s = r.s[n:]
	return n, nil
}

// BenchmarkDoneWatcher reads a one-chunk answer through the [DONE]
// watcher, as every attempt does.
func BenchmarkDoneWatcher(b *testing.B) {
	body := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"an instant answer"},"finish_reason":null}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}

data: [DONE]

`
	buf := make([]byte, 4096)
	for b.Loop() {
		w := &wire{}
		d := &doneWatcher{rc: io.NopCloser(strings.NewReader(body)), w: w}
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
		if !w.sawDone.Load() {
			b.Fatal("no [DONE]")
		}
	}
}
