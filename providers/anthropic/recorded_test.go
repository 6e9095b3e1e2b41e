package anthropic

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

// A real extended-thinking stream (see testdata/recorded/README.md):
// thinking streams as reasoning, never as the answer, whole and in small
// reads.
func TestRecordedThinkingStream(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "thinking_stream.http"))
	for _, chunk := range []int{1 << 16, 7, 1} {
		_, c := newFake(t, rec.Serve(chunk))
		s, err := c.Stream(context.Background(), providers.Request{Model: "claude-sonnet-4-5",
			Messages: []providers.Message{{Role: "user", Content: "What is 5 + 3? Think step by step."}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		wantReasoning := "This is a simple addition problem. Let me think through it step by step.\n\n5 + 3\n\nI need to add 3 to 5.\n\nStarting with 5, I add 3:\n5 + 1 = 6\n6 + 1 = 7\n7 + 1 = 8\n\nSo 5 + 3 = 8"
		if got.Reasoning != wantReasoning {
			t.Errorf("chunk %d: reasoning %q", chunk, got.Reasoning)
		}
		if !strings.HasPrefix(got.Text, "# Adding 5 + 3\n\nLet me work through this step by step:") ||
			!strings.HasSuffix(got.Text, "**Answer: 5 + 3 = 8**") || strings.Contains(got.Text, "simple addition") {
			t.Errorf("chunk %d: text %q", chunk, got.Text)
		}
		if got.Usage == nil || *got.Usage != (providers.Usage{InputTokens: 50, OutputTokens: 211}) || got.Finish != providers.FinishStop {
			t.Errorf("chunk %d: usage %+v finish %v, want 50/211 stop", chunk, got.Usage, got.Finish)
		}
	}
}

// Anthropic's input_tokens leaves out cache reads and writes: council
// counts every input token, the reads and the writes apart (the numbers
// of a real cached call: input 7, cache writes 221, cache reads 1301).
func TestUsageWithCache(t *testing.T) {
	u := usageOf(7, 1301, 221, 12, 0)
	if u != (providers.Usage{InputTokens: 1529, CachedInputTokens: 1301, CacheWriteTokens: 221, OutputTokens: 12}) {
		t.Errorf("usage %+v", u)
	}
	if u := usageOf(10, 0, 0, 100, 140); u.ReasoningTokens != 100 {
		t.Errorf("reasoning over output: %+v, want it bounded by output", u)
	}
}

// A real call that read most of its prompt from the cache (see
// testdata/recorded/README.md): every input token counted, the cache
// reads and writes apart, the writes kept through message_delta; a tool
// call ends it (tool_calls) with no answer text.
func TestRecordedCachedToolUse(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "cached_tool_use.http"))
	for _, chunk := range []int{1 << 16, 11} {
		_, c := newFake(t, rec.Serve(chunk))
		s, err := c.Stream(context.Background(), providers.Request{Model: "claude-sonnet-4-5",
			Messages: []providers.Message{{Role: "user", Content: "Book me a flight"}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Text != "" || got.Reasoning != "" || got.Finish != providers.FinishToolCalls {
			t.Errorf("chunk %d: %+v %v", chunk, got, err)
		}
		want := providers.Usage{InputTokens: 6 + 182 + 1522, CachedInputTokens: 1522, CacheWriteTokens: 182, OutputTokens: 121}
		if got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: usage %+v, want %+v", chunk, got.Usage, want)
		}
	}
}

// An older API version's message_delta carries only output_tokens: the
// input, cache reads and cache writes of message_start stand.
func TestCacheCountsKeptThroughShortMessageDelta(t *testing.T) {
	const body = `event: message_start
data: {"type":"message_start","message":{"model":"claude-sonnet-4-5","id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":6,"cache_creation_input_tokens":182,"cache_read_input_tokens":1522,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Booked."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}

event: message_stop
data: {"type":"message_stop"}

`
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(body))
	})
	s, err := c.Stream(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	got, err := providertest.Collect(t, s)
	want := providers.Usage{InputTokens: 6 + 182 + 1522, CachedInputTokens: 1522, CacheWriteTokens: 182, OutputTokens: 3}
	if err != nil || got.Text != "Booked." || got.Usage == nil || *got.Usage != want {
		t.Errorf("%+v %v, want usage %+v", got, err, want)
	}
}

// A real 529 overloaded_error (see testdata/recorded/README.md): an HTTP
// error naming 529 and what the API said, once and without its JSON; no
// hold, as the API asks for none; whole and in small reads.
func TestRecordedOverloaded529(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "overloaded_529.http"))
	for _, chunk := range []int{1 << 16, 3} {
		_, c := newFake(t, rec.Serve(chunk))
		_, err := c.Stream(context.Background(), request())
		pe := asProviderError(t, err)
		msg := err.Error()
		if pe.Kind != providers.KindHTTP || pe.Status != 529 || pe.RetryAfter != 0 || msg != "claude: HTTP 529: overloaded" {
			t.Errorf("chunk %d: %q (kind %v status %d retry %v), want \"claude: HTTP 529: overloaded\"", chunk, msg, pe.Kind, pe.Status, pe.RetryAfter)
		}
		assertNoKey(t, err)
	}
}

// A real 429's headers with no Retry-After (see testdata/recorded/README.md):
// the request budget is exhausted (remaining 0) and resets at 20:00:00Z,
// one second after the response's Date, so the hold is exactly 1s, read on
// the server's clock; the token budget (16000 left) does not count. The
// error is rate limited, names 429 and keeps the API's message.
func TestRecordedRateLimit429ResetHeaders(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "rate_limit_429.http"))
	for _, chunk := range []int{1 << 16, 5} {
		_, c := newFake(t, rec.Serve(chunk))
		_, err := c.Stream(context.Background(), request())
		pe := asProviderError(t, err)
		msg := err.Error()
		if pe.Kind != providers.KindRateLimited || pe.Status != 429 || pe.RetryAfter != time.Second ||
			!strings.Contains(msg, "429") || !strings.Contains(msg, "Number of request tokens has exceeded your per-minute rate limit") {
			t.Errorf("chunk %d: %q (kind %v status %d retry %v), want rate limited, 429, hold 1s", chunk, msg, pe.Kind, pe.Status, pe.RetryAfter)
		}
		t.Logf("error: %s", msg)
		if strings.Contains(msg, "{") || strings.Contains(msg, "rate_limit_error") {
			t.Errorf("chunk %d: %q carries the raw body", chunk, msg)
		}
		assertNoKey(t, err)
	}
}

// A real stream cut by max_tokens (claude-opus-4-8 through Cloudflare AI
// Gateway, see testdata/recorded/README.md), with the gateway's "p"
// padding field and the API's whitespace padding in every event: the
// partial answer kept, finish length, 8 in / 8 out; whole and in reads of
// one byte.
func TestRecordedMaxTokensStream(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "recorded", "max_tokens_via_gateway.sse"))
	if err != nil {
		t.Fatal(err)
	}
	rec := providertest.Recorded{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}}, Body: body}
	for _, chunk := range []int{1 << 16, 1} {
		_, c := newFake(t, rec.Serve(chunk))
		s, err := c.Stream(context.Background(), request())
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Text != "Hi there! How can I" || got.Reasoning != "" || got.Finish != providers.FinishLength {
			t.Errorf("chunk %d: %+v %v, want the partial answer and finish length", chunk, got, err)
		}
		if got.Usage == nil || *got.Usage != (providers.Usage{InputTokens: 8, OutputTokens: 8}) {
			t.Errorf("chunk %d: usage %+v, want 8/8", chunk, got.Usage)
		}
	}
}
