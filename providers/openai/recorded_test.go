package openai

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

// A real OpenRouter exchange (see testdata/recorded/README.md): a stream
// with finish and usage, then a real 429 whose X-Ratelimit-Reset (epoch
// milliseconds) becomes the hold, whole and in small reads.
func TestRecordedOpenRouter(t *testing.T) {
	recs := providertest.LoadHTTPRR(t, filepath.Join("testdata", "recorded", "openrouter_stream_then_429.httprr"))
	if len(recs) != 2 {
		t.Fatalf("%d exchanges, want 2", len(recs))
	}
	for _, chunk := range []int{1 << 16, 5} {
		srv, _ := newServer(t, recs[0].Serve(chunk))
		c := newClient(t, Options{Settings: providers.Settings{Name: "openrouter", Kind: KindCompatible, BaseURL: srv.URL + "/api/v1", APIKey: testKey}})
		s, err := c.Stream(context.Background(), userReq("meta-llama/llama-3.2-3b-instruct:free"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Text != "test response" || got.Reasoning != "" || got.Finish != providers.FinishStop {
			t.Errorf("chunk %d: %+v, %v", chunk, got, err)
		}
		if got.Usage == nil || *got.Usage != (providers.Usage{InputTokens: 586, OutputTokens: 3}) {
			t.Errorf("chunk %d: usage %+v", chunk, got.Usage)
		}

		srv, _ = newServer(t, recs[1].Serve(chunk))
		c = newClient(t, Options{Settings: providers.Settings{Name: "openrouter", Kind: KindCompatible, BaseURL: srv.URL + "/api/v1", APIKey: testKey}})
		_, err = c.Stream(context.Background(), userReq("meta-llama/llama-3.2-3b-instruct:free"))
		pe := asProviderError(t, err)
		// Reset 15:41:00.000 against the response's Date 15:40:34.
		if pe.Kind != providers.KindRateLimited || pe.Status != 429 || pe.RetryAfter != 26*time.Second ||
			!strings.HasPrefix(pe.Message, "rate limited: Rate limit exceeded: limit_rpm/meta-llama/llama-3.2-3b-instruct") {
			t.Errorf("chunk %d: %v (kind %v status %d retry %v)", chunk, pe, pe.Kind, pe.Status, pe.RetryAfter)
		}
	}
}

// Reasoning in reasoning_content (DeepSeek, GLM, vLLM) or reasoning
// (OpenRouter, Groq) streams apart; finish_reason length is truncation.
// The stream is written by hand from OpenAI's documented chunk format, to
// try both reasoning fields with one cut; TestRecordedDeepSeekLengthCut
// replays a real one.
func TestReasoningFieldsAndLength(t *testing.T) {
	stream := func(field string) string {
		return `data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"` + field + `":"Let me think."},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Four","` + field + `":null},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" is"},"finish_reason":"length"}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":40,"total_tokens":50,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":38}}}

data: [DONE]

`
	}
	for _, field := range []string{"reasoning_content", "reasoning"} {
		srv, _ := newServer(t, sseHandler(stream(field)))
		c := newClient(t, Options{Settings: providers.Settings{Name: "local", Kind: KindCompatible, BaseURL: srv.URL + "/v1"}})
		s, err := c.Stream(context.Background(), userReq("m"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Text != "Four is" || got.Reasoning != "Let me think." || got.Finish != providers.FinishLength {
			t.Errorf("%s: %+v %v", field, got, err)
		}
		if got.Usage == nil || *got.Usage != (providers.Usage{InputTokens: 10, OutputTokens: 40, CachedInputTokens: 8, ReasoningTokens: 38}) {
			t.Errorf("%s: usage %+v", field, got.Usage)
		}
	}
}

// OpenAI, OpenRouter, DeepSeek and Groq count reasoning inside
// completion_tokens; xAI does not (2 completion, 129 reasoning, total
// 296). Output is what is billed, never counted twice.
func TestUsageShapes(t *testing.T) {
	usage := func(prompt, completion, reasoning, total int64) sdk.CompletionUsage {
		var u sdk.CompletionUsage
		u.PromptTokens, u.CompletionTokens, u.TotalTokens = prompt, completion, total
		u.CompletionTokensDetails.ReasoningTokens = reasoning
		return u
	}
	tests := []struct {
		name string
		u    sdk.CompletionUsage
		want providers.Usage
	}{
		{"xai leaves reasoning out", usage(165, 2, 129, 296), providers.Usage{InputTokens: 165, OutputTokens: 131, ReasoningTokens: 129}},
		{"openai includes it", usage(165, 131, 129, 296), providers.Usage{InputTokens: 165, OutputTokens: 131, ReasoningTokens: 129}},
		{"deepseek includes it", usage(6, 92, 81, 98), providers.Usage{InputTokens: 6, OutputTokens: 92, ReasoningTokens: 81}},
		{"no total, reasoning over completion", usage(10, 2, 50, 0), providers.Usage{InputTokens: 10, OutputTokens: 52, ReasoningTokens: 50}},
		{"no reasoning", usage(10, 5, 0, 15), providers.Usage{InputTokens: 10, OutputTokens: 5}},
	}
	for _, tt := range tests {
		if got := *convertUsage(tt.u); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// sseHandler answers an event stream of body.
func sseHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
	}
}

// A refusal streams as refusal deltas and then stop: content_filter.
func TestRefusalIsContentFilter(t *testing.T) {
	const body = `data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"I can't help with that."},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

data: [DONE]

`
	srv, _ := newServer(t, sseHandler(body))
	c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL + "/v1", APIKey: testKey}})
	s, err := c.Stream(context.Background(), userReq("gpt-4o"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := providertest.Collect(t, s)
	if err != nil || got.Text != "" || got.Finish != providers.FinishContentFilter {
		t.Errorf("%+v %v", got, err)
	}
}

// A real xAI stream (grok-3-mini, see testdata/recorded/README.md):
// reasoning_content streams as reasoning, and its usage is xAI's shape —
// completion_tokens 1 leaves out the 290 reasoning tokens (total 303 =
// 12 + 1 + 290) — so output is 291, counted once, with the 11 cached
// prompt tokens apart; whole and in small reads.
func TestRecordedXAIUsage(t *testing.T) {
	rec := providertest.LoadChunks(t, filepath.Join("testdata", "recorded", "xai_reasoning.chunks.txt"))
	for _, chunk := range []int{1 << 16, 5} {
		srv, _ := newServer(t, rec.Serve(chunk))
		c := newClient(t, Options{Settings: providers.Settings{Name: "xai", Kind: KindCompatible, BaseURL: srv.URL + "/v1", APIKey: testKey}})
		s, err := c.Stream(context.Background(), userReq("grok-3-mini"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Text != "Hello" || got.Reasoning != "First, the user said" || got.Finish != providers.FinishStop {
			t.Errorf("chunk %d: %+v, %v", chunk, got, err)
		}
		want := providers.Usage{InputTokens: 12, CachedInputTokens: 11, OutputTokens: 291, ReasoningTokens: 290}
		if got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: usage %+v, want %+v", chunk, got.Usage, want)
		}
	}
}

// A real Cloudflare 502 page (see testdata/recorded/README.md) in front of
// an OpenAI-compatible server: the error names the status and the page's
// title, never its markup.
func TestRecordedCloudflare502(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("testdata", "recorded", "cloudflare_502.html"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write(page)
	})
	c := newClient(t, Options{Settings: providers.Settings{Name: "gateway", Kind: KindCompatible, BaseURL: srv.URL + "/v1", APIKey: testKey}})
	_, err = c.Stream(context.Background(), userReq("gpt-4o"))
	pe := asProviderError(t, err)
	msg := err.Error()
	t.Logf("error: %s", msg)
	if pe.Kind != providers.KindHTTP || pe.Status != http.StatusBadGateway ||
		!strings.Contains(msg, "HTTP 502") || !strings.Contains(msg, "502 Bad Gateway") {
		t.Errorf("%q (kind %v status %d), want an http error naming HTTP 502 and the page title", msg, pe.Kind, pe.Status)
	}
	for _, markup := range []string{"<", ">", "center", "cloudflare</"} {
		if strings.Contains(msg, markup) {
			t.Errorf("%q carries markup %q", msg, markup)
		}
	}
	checkSafe(t, err)
}

// A real DeepSeek stream cut by max_tokens (deepseek-chat, 400 tokens, see
// testdata/recorded/README.md): 400 one-token content deltas, then
// finish_reason length with the usage on the same chunk. The cut is
// truncation, the partial answer is kept whole, and usage is counted
// once; whole and in small reads.
func TestRecordedDeepSeekLengthCut(t *testing.T) {
	rec := providertest.LoadChunks(t, filepath.Join("testdata", "recorded", "deepseek_length.chunks.txt"))
	for _, chunk := range []int{1 << 16, 7} {
		srv, _ := newServer(t, rec.Serve(chunk))
		c := newClient(t, Options{Settings: providers.Settings{Name: "deepseek", Kind: KindCompatible, BaseURL: srv.URL, APIKey: testKey}})
		s, err := c.Stream(context.Background(), userReq("deepseek-chat"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := providertest.Collect(t, s)
		if err != nil || got.Finish != providers.FinishLength || got.Reasoning != "" {
			t.Errorf("chunk %d: finish %v reasoning %q err %v, want length", chunk, got.Finish, got.Reasoning, err)
		}
		if len(got.Text) != 1859 || !strings.HasPrefix(got.Text, "## **Holiday Name:** Starlight Remembrance\n\n") ||
			!strings.HasSuffix(got.Text, "observe 15 minutes of silent looking at") {
			t.Errorf("chunk %d: text (%d bytes) %.60q...%q", chunk, len(got.Text), got.Text, got.Text[max(0, len(got.Text)-40):])
		}
		if got.Usage == nil || *got.Usage != (providers.Usage{InputTokens: 13, OutputTokens: 400}) {
			t.Errorf("chunk %d: usage %+v, want 13 in / 400 out", chunk, got.Usage)
		}
	}
}

// A real OpenAI 429's headers (see testdata/recorded/README.md): a model
// overloaded, not a budget spent. Both x-ratelimit budgets have room
// (3499 requests, 89980 tokens left), so their 17ms and 13ms resets are
// not a hold: the error is rate limited, names 429, and asks for no wait;
// whole and in small reads.
func TestRecordedOpenAI429BudgetsNotSpent(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "openai_429_overloaded.http"))
	for _, chunk := range []int{1 << 16, 5} {
		srv, _ := newServer(t, rec.Serve(chunk))
		c := newClient(t, Options{Settings: providers.Settings{Name: "openai", BaseURL: srv.URL + "/v1", APIKey: testKey}})
		_, err := c.Stream(context.Background(), userReq("gpt-3.5-turbo-0301"))
		pe := asProviderError(t, err)
		msg := err.Error()
		t.Logf("error: %s", msg)
		if pe.Kind != providers.KindRateLimited || pe.Status != 429 || pe.RetryAfter != 0 ||
			!strings.HasPrefix(msg, "openai: HTTP 429: rate limited: That model is currently overloaded with other requests.") {
			t.Errorf("chunk %d: %q (kind %v status %d retry %v), want rate limited 429, no hold", chunk, msg, pe.Kind, pe.Status, pe.RetryAfter)
		}
		if strings.Contains(msg, "{") || strings.Contains(msg, "server_error") {
			t.Errorf("chunk %d: %q carries the raw body", chunk, msg)
		}
		checkSafe(t, err)
	}
}
