package serve

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/council-dev/council/engine"
)

// TestEnvelopeAsEncoded: an answer's envelope, the summary appended to it
// as its last key, is byte for byte what encoding/json makes of the same
// object with the summary as a field (HTML escaped, compact), with and
// without usage and summary.
func TestEnvelopeAsEncoded(t *testing.T) {
	sum := &engine.Summary{Strategy: "race", Winner: "a/<b>", Answer: "x < y & \"z\"\n", Status: engine.StatusDecided,
		Models: []engine.ModelResult{{ID: "a/<b>", InputTokens: 3, OutputTokens: 4}}}
	c := &completion{id: "s1", model: "council/race", created: 42}
	type old struct {
		ID      string          `json:"id"`
		Object  string          `json:"object"`
		Created int64           `json:"created"`
		Model   string          `json:"model"`
		Choices any             `json:"choices"`
		Usage   *usage          `json:"usage,omitempty"`
		Council json.RawMessage `json:"council,omitempty"`
	}
	choices := []answerChoice{{Message: answerMessage{Role: "assistant", Content: sum.Answer}, FinishReason: "stop"}}
	for _, tt := range []struct {
		name string
		u    *usage
		sum  *engine.Summary
	}{{"whole", usageOf(sum), sum}, {"no usage", nil, sum}, {"no summary", &usage{1, 2, 3}, nil}, {"neither", nil, nil}} {
		want := old{ID: "chatcmpl-s1", Object: "chat.completion", Created: 42, Model: "council/race", Choices: choices, Usage: tt.u}
		if tt.sum != nil {
			raw, err := json.Marshal(tt.sum)
			if err != nil {
				t.Fatal(err)
			}
			want.Council = raw
		}
		wb, _ := json.Marshal(want)
		if got := c.envelope("chat.completion", choices, tt.u, tt.sum); !bytes.Equal(got, wb) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, wb)
		}
	}
}
