package gemini

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

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
