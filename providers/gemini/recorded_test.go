package gemini

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

// The Gemini API's real 403 (see testdata/recorded/README.md): an auth
// failure in the shared wording, the hint whole.
func TestRecordedPermissionDenied(t *testing.T) {
	recs := providertest.LoadHTTPRR(t, filepath.Join("testdata", "recorded", "permission_denied.httprr"))
	for _, chunk := range []int{1 << 16, 3} {
		_, c := newFake(t, recs[0].Serve(chunk))
		s, err := c.Stream(context.Background(), testRequest())
		if err == nil {
			_, err = providertest.Collect(t, s)
		}
		pe := asProviderError(t, err)
		if pe.Kind != providers.KindAuth || pe.Status != http.StatusForbidden ||
			!strings.HasPrefix(pe.Message, "access denied: Method doesn't allow unregistered callers") ||
			!strings.HasSuffix(pe.Message, "; set GEMINI_API_KEY to a key with access") {
			t.Errorf("chunk %d: %v (kind %v status %d)", chunk, pe, pe.Kind, pe.Status)
		}
		assertNoKey(t, err)
	}
}

// Thought parts stream as reasoning; finishReason maps to finish; the
// thoughts' tokens are the reasoning part of the output.
func TestThoughtsAndFinish(t *testing.T) {
	for _, tt := range []struct {
		file, text, reasoning string
		finish                providers.Finish
	}{
		{"thoughts.sse", "billing", "**Weighing the options**\n\nThe user wants one word.", providers.FinishStop},
		{"max_tokens.sse", "Truncated by the limit", "", providers.FinishLength},
	} {
		for _, chunk := range []int{1 << 16, 5} {
			_, c := newFake(t, replay(t, tt.file, chunk))
			s, err := c.Stream(context.Background(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			got, err := providertest.Collect(t, s)
			if err != nil || got.Text != tt.text || got.Reasoning != tt.reasoning || got.Finish != tt.finish {
				t.Errorf("%s/%d: %+v %v", tt.file, chunk, got, err)
			}
		}
	}
}

// cachedContentTokenCount is the cached part of the prompt's count;
// finishReason SAFETY is content_filter.
func TestCachedTokensAndSafety(t *testing.T) {
	const body = `data: {"candidates": [{"content": {"parts": [{"text": "Partial"}], "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 2100, "cachedContentTokenCount": 2048, "candidatesTokenCount": 1, "totalTokenCount": 2101}, "modelVersion": "gemini-2.5-flash"}

data: {"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "SAFETY", "index": 0}], "usageMetadata": {"promptTokenCount": 2100, "cachedContentTokenCount": 2048, "candidatesTokenCount": 1, "thoughtsTokenCount": 12, "totalTokenCount": 2113}, "modelVersion": "gemini-2.5-flash"}

`
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(body))
	})
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := providertest.Collect(t, s)
	if err != nil || got.Text != "Partial" || got.Finish != providers.FinishContentFilter {
		t.Errorf("%+v %v", got, err)
	}
	want := providers.Usage{InputTokens: 2100, CachedInputTokens: 2048, OutputTokens: 13, ReasoningTokens: 12}
	if got.Usage == nil || *got.Usage != want {
		t.Errorf("usage %+v, want %+v", got.Usage, want)
	}
}

// recordedStream replays one recorded response through the SDK, whole or
// chunk bytes at a time, and collects what the stream hands out.
func recordedStream(t *testing.T, rec providertest.Recorded, chunk int) (providertest.Collected, error) {
	t.Helper()
	_, c := newFake(t, rec.Serve(chunk))
	s, err := c.Stream(context.Background(), testRequest())
	if err != nil {
		return providertest.Collected{}, err
	}
	return providertest.Collect(t, s)
}

// A real gemini-2.5-pro stream with includeThoughts (see
// testdata/recorded/README.md): four thought parts stream as reasoning
// before the answer and never join it; the 1,007 thought tokens are the
// reasoning part of the output (307 answer + 1,007), whole and in small
// reads.
func TestRecordedThinkingStream(t *testing.T) {
	recs := providertest.LoadHTTPRR(t, filepath.Join("testdata", "recorded", "thinking_stream.httprr"))
	for _, chunk := range []int{1 << 16, 7} {
		got, err := recordedStream(t, recs[0], chunk)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if !strings.HasPrefix(got.Reasoning, "**Sequencing the Numbers**\n\nI'm analyzing the user's request") ||
			!strings.HasSuffix(got.Reasoning, "which clarifies how to predict any term in the sequence.\n\n\n") ||
			strings.Count(got.Reasoning, "**\n\n") != 4 {
			t.Errorf("chunk %d: reasoning %q", chunk, got.Reasoning)
		}
		if !strings.HasPrefix(got.Text, "Of course! The next number in the sequence is **42**.") ||
			!strings.HasSuffix(got.Text, "*   6 x 7 = **42**") || strings.Contains(got.Text, "Sequencing the Numbers") {
			t.Errorf("chunk %d: text %q", chunk, got.Text)
		}
		want := providers.Usage{InputTokens: 34, OutputTokens: 307 + 1007, ReasoningTokens: 1007}
		if got.Finish != providers.FinishStop || got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: finish %v usage %+v, want stop and %+v", chunk, got.Finish, got.Usage, want)
		}
	}
}

// A real MAX_TOKENS cut of gemini-2.5-flash (see
// testdata/recorded/README.md): finish length, 189 of the 196 output
// tokens spent thinking before seven words of answer.
func TestRecordedMaxTokens(t *testing.T) {
	recs := providertest.LoadHTTPRR(t, filepath.Join("testdata", "recorded", "max_tokens.httprr"))
	for _, chunk := range []int{1 << 16, 3} {
		got, err := recordedStream(t, recs[0], chunk)
		want := providers.Usage{InputTokens: 9, OutputTokens: 7 + 189, ReasoningTokens: 189}
		if err != nil || got.Text != "The water cycle, also known as" || got.Finish != providers.FinishLength ||
			got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: %+v (usage %+v) %v, want length and %+v", chunk, got, got.Usage, err, want)
		}
	}
}

// A real implicit cache hit (see testdata/recorded/README.md):
// cachedContentTokenCount is the cached part of the prompt's count.
func TestRecordedImplicitCacheHit(t *testing.T) {
	rec := providertest.LoadHTTP(t, filepath.Join("testdata", "recorded", "implicit_cache_hit.http"))
	for _, chunk := range []int{1 << 16, 11} {
		got, err := recordedStream(t, rec, chunk)
		want := providers.Usage{InputTokens: 7006, CachedInputTokens: 6121, OutputTokens: 1 + 17, ReasoningTokens: 17}
		if err != nil || got.Text != "hello" || got.Finish != providers.FinishStop || got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: %+v (usage %+v) %v, want %+v", chunk, got, got.Usage, err, want)
		}
	}
}

// The Gemini API's 429 with a google.rpc.RetryInfo (the body as the AI
// SDK's fixture keeps it; see testdata/recorded/README.md): rate limited,
// and the fractional retryDelay is the hold the breaker keeps.
func TestRecordedQuota429(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "recorded", "quota_429_retry_info.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, c := newFake(t, apiError(http.StatusTooManyRequests, string(body), nil))
	s, err := c.Stream(context.Background(), testRequest())
	if err == nil {
		_, err = providertest.Collect(t, s)
	}
	pe := asProviderError(t, err)
	t.Logf("error: %v", err)
	if pe.Kind != providers.KindRateLimited || pe.Status != http.StatusTooManyRequests || pe.RetryAfter != 34400*time.Millisecond ||
		!strings.Contains(err.Error(), "rate limited: You exceeded your current quota, please check your plan") {
		t.Errorf("%v (kind %v status %d retry %v), want rate_limited 429 holding 34.4s", err, pe.Kind, pe.Status, pe.RetryAfter)
	}
	assertNoKey(t, err)
}

// The real Cloudflare 502 page kept in providers/openai/testdata/recorded
// (no Gemini-served page was found, see testdata/recorded/README.md), in
// front of the Gemini API as a gateway would put it: through the genai
// SDK the error names HTTP 502 and the page's title, never its markup;
// whole and in small reads.
func TestRecordedGatewayPage502(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "openai", "testdata", "recorded", "cloudflare_502.html"))
	if err != nil {
		t.Fatal(err)
	}
	rec := providertest.Recorded{Status: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/html"}}, Body: page}
	for _, chunk := range []int{1 << 16, 3} {
		_, c := newFake(t, rec.Serve(chunk))
		s, err := c.Stream(context.Background(), testRequest())
		if err == nil {
			_, err = providertest.Collect(t, s)
		}
		pe := asProviderError(t, err)
		msg := err.Error()
		t.Logf("error: %s", msg)
		if pe.Kind != providers.KindHTTP || pe.Status != http.StatusBadGateway ||
			!strings.Contains(msg, "HTTP 502") || !strings.Contains(msg, "502 Bad Gateway") {
			t.Errorf("chunk %d: %q (kind %v status %d), want an http error naming HTTP 502 and the page title", chunk, msg, pe.Kind, pe.Status)
		}
		for _, markup := range []string{"<", ">", "center", "cloudflare</"} {
			if strings.Contains(msg, markup) {
				t.Errorf("chunk %d: %q carries markup %q", chunk, msg, markup)
			}
		}
		assertNoKey(t, err)
	}
}
