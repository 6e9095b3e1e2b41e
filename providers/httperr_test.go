package providers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 8, 11, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "12"}, 12 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": "Mon, 11 Aug 2025 09:00:30 GMT"}, 30 * time.Second},
		{"http date in the past", map[string]string{"Retry-After": "Mon, 11 Aug 2025 08:59:00 GMT"}, 0},
		{"negative", map[string]string{"Retry-After": "-3"}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"ms beats seconds", map[string]string{"Retry-After": "2", "Retry-After-Ms": "1250"}, 1250 * time.Millisecond},
		{"bad ms falls back", map[string]string{"Retry-After": "2", "Retry-After-Ms": "x"}, 2 * time.Second},
		{"exhausted tokens budget", map[string]string{
			"X-Ratelimit-Remaining-Requests": "499", "X-Ratelimit-Reset-Requests": "120ms",
			"X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "6m0s",
		}, 6 * time.Minute},
		{"budgets not exhausted", map[string]string{
			"X-Ratelimit-Remaining-Requests": "3", "X-Ratelimit-Reset-Requests": "1s",
		}, 0},
		{"openrouter epoch ms", map[string]string{"X-Ratelimit-Limit": "20", "X-Ratelimit-Remaining": "0",
			"X-Ratelimit-Reset": "1754902845000"}, 45 * time.Second},
		{"epoch seconds", map[string]string{"X-Ratelimit-Reset": "1754902812"}, 12 * time.Second},
		{"reset as seconds from now", map[string]string{"X-Ratelimit-Reset": "7"}, 7 * time.Second},
		{"reset as a duration", map[string]string{"X-Ratelimit-Reset": "1m30s"}, 90 * time.Second},
		{"reset in the past", map[string]string{"X-Ratelimit-Reset": "1754902700000"}, 0},
		{"anthropic exhausted budget", map[string]string{"Anthropic-Ratelimit-Requests-Remaining": "3998",
			"Anthropic-Ratelimit-Requests-Reset": "2025-08-11T09:00:10Z", "Anthropic-Ratelimit-Output-Tokens-Remaining": "0",
			"Anthropic-Ratelimit-Output-Tokens-Reset": "2025-08-11T09:00:40Z"}, 40 * time.Second},
		{"anthropic budgets not exhausted", map[string]string{"Anthropic-Ratelimit-Requests-Remaining": "3998",
			"Anthropic-Ratelimit-Requests-Reset": "2025-08-11T09:00:10Z"}, 0},
		{"epoch against the server's Date", map[string]string{"X-Ratelimit-Reset": "1754667660000",
			"Date": "Fri, 08 Aug 2025 15:40:34 GMT"}, 26 * time.Second},
		{"a budget beats X-Ratelimit-Reset", map[string]string{"X-Ratelimit-Remaining-Tokens": "0",
			"X-Ratelimit-Reset-Tokens": "20ms", "X-Ratelimit-Reset": "1754902845000"}, 20 * time.Millisecond},
		{"Retry-After beats budgets", map[string]string{
			"Retry-After": "1", "X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "6m0s",
		}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	const key = "my-secret-key-123"
	in := "Incorrect API key provided: sk-proj-abcd****wxyz.\nYour key " + key + " was\trejected " + strings.Repeat("x", 400)
	out := Clean(in, key)
	if strings.Contains(out, key) || strings.Contains(out, "sk-proj") {
		t.Errorf("Clean left a secret: %q", out)
	}
	if strings.ContainsAny(out, "\n\t") || len([]rune(out)) > maxMessage+1 {
		t.Errorf("Clean did not make one bounded line: %q", out)
	}
}

func TestRedactErr(t *testing.T) {
	const key = "my-secret-key-123"
	leaky := errors.New("POST /v1: bad key " + key)
	if err := RedactErr(leaky, key); strings.Contains(err.Error(), key) || errors.Is(err, leaky) {
		t.Errorf("RedactErr(%v) = %v, reachable %v: the leaky error must be hidden", leaky, err, errors.Is(err, leaky))
	}
	clean := errors.New("connection refused")
	if err := RedactErr(clean, key); !errors.Is(err, clean) {
		t.Errorf("a clean error must stay reachable through RedactErr")
	}
}

func TestContextError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if err := ContextError(ctx, "p"); KindOf(err) != KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v, want a timeout that is DeadlineExceeded", err)
	}
	cause := errors.New("lost the race")
	ctx2, cancel2 := context.WithCancelCause(context.Background())
	cancel2(cause)
	if err := ContextError(ctx2, "p"); err != cause {
		t.Errorf("cancel: %v, want the cause itself", err)
	}
}

func TestSetTransport(t *testing.T) {
	const key = "my-secret-key-123"
	tests := []struct {
		err       error
		malformed bool
		want      Kind
		prefix    string
	}{
		{context.DeadlineExceeded, false, KindTimeout, "timed out: "},
		{errors.New("unexpected end of JSON input " + key), true, KindInvalid, "malformed event: "},
		{errors.New("connection reset by peer"), false, KindError, "connection failed: "},
	}
	for _, tt := range tests {
		e := &Error{}
		e.SetTransport(tt.err, key, tt.malformed)
		if e.Kind != tt.want || !strings.HasPrefix(e.Message, tt.prefix) || strings.Contains(e.Message, key) {
			t.Errorf("SetTransport(%v) = %s %q, want %s %q... without the key", tt.err, e.Kind, e.Message, tt.want, tt.prefix)
		}
	}
}
