package anthropic

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
// counts every input token, the reads apart (the numbers of a real
// cached call: input 7, cache writes 221, cache reads 1301).
func TestUsageWithCache(t *testing.T) {
	u := usageOf(7, 1301, 221, 12, 0)
	if u != (providers.Usage{InputTokens: 1529, CachedInputTokens: 1301, OutputTokens: 12}) {
		t.Errorf("usage %+v", u)
	}
	if u := usageOf(10, 0, 0, 100, 140); u.ReasoningTokens != 100 {
		t.Errorf("reasoning over output: %+v, want it bounded by output", u)
	}
}

// A real call that read most of its prompt from the cache (see
// testdata/recorded/README.md): every input token counted, the cache
// reads apart; a tool call ends it (tool_calls) with no answer text.
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
		want := providers.Usage{InputTokens: 6 + 182 + 1522, CachedInputTokens: 1522, OutputTokens: 121}
		if got.Usage == nil || *got.Usage != want {
			t.Errorf("chunk %d: usage %+v, want %+v", chunk, got.Usage, want)
		}
	}
}
