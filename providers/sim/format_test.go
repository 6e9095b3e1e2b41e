package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/providers"
)

func finishOf(tr trace) providers.Finish {
	if len(tr.chunks) == 0 {
		return providers.FinishNone
	}
	return tr.chunks[len(tr.chunks)-1].Finish
}

// TestMaxTokensFinishesLength: an answer max_tokens cut ends with finish
// length, as a vendor's does; one within the limit with stop.
func TestMaxTokensFinishesLength(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("len", Params{OutputTokens: 80, TokensPerSec: 1000}, 3)
		for _, kind := range []providers.RequestKind{providers.KindText, providers.KindSynthesize} {
			req := textReq("How do database indexes work?")
			req.Kind, req.MaxTokens = kind, 10
			tr := run(t, t.Context(), m, req)
			if tr.err != nil || finishOf(tr) != providers.FinishLength || tr.usage().OutputTokens > 10 {
				t.Errorf("kind %d, max_tokens 10: finish %v, %d tokens, err %v; want length, at most 10", kind, finishOf(tr), tr.usage().OutputTokens, tr.err)
			}
			req.MaxTokens = 1000
			if tr := run(t, t.Context(), m, req); tr.err != nil || finishOf(tr) != providers.FinishStop {
				t.Errorf("kind %d, max_tokens 1000: finish %v, err %v; want stop", kind, finishOf(tr), tr.err)
			}
		}
	})
}

// TestStopSequence: the answer ends where a stop sequence would begin,
// without it, and finishes stop even when max_tokens would also have cut.
func TestStopSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A model's first call, the same from the same seed.
		m := func() *Model { return New("stop", Params{OutputTokens: 80, TokensPerSec: 1000}, 3) }
		full := run(t, t.Context(), m(), textReq("How do database indexes work?")).text
		words := strings.Fields(full)
		if len(words) < 10 {
			t.Fatalf("answer too short to cut: %q", full)
		}
		stop := words[6] // its first occurrence ends the answer
		req := textReq("How do database indexes work?")
		req.Output = &providers.Output{Stop: []string{"no such sequence", stop}}
		req.MaxTokens = 40
		tr := run(t, t.Context(), m(), req)
		want := full[:strings.Index(full, stop)]
		if tr.err != nil || tr.text != want || finishOf(tr) != providers.FinishStop {
			t.Errorf("stop %q: %q finish %v err %v; want %q finish stop", stop, tr.text, finishOf(tr), tr.err, want)
		}
		req.Output = &providers.Output{Stop: []string{"no such sequence"}}
		req.MaxTokens = 0
		if tr := run(t, t.Context(), m(), req); tr.text != full || finishOf(tr) != providers.FinishStop {
			t.Errorf("stop that never appears: %q finish %v; want the whole answer", tr.text, finishOf(tr))
		}
	})
}

// TestJSONObject: asked for json_object, the answer is a JSON object
// carrying the text; a classification keeps its own JSON.
func TestJSONObject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := func() *Model { return New("json", Params{OutputTokens: 40, TokensPerSec: 1000}, 3) }
		plain := run(t, t.Context(), m(), textReq(`Say "hi" <now> & then`)).text
		req := textReq(`Say "hi" <now> & then`)
		req.Output = &providers.Output{Format: &providers.ResponseFormat{Type: providers.FormatJSONObject}}
		tr := run(t, t.Context(), m(), req)
		var got struct{ Answer string }
		if err := json.Unmarshal([]byte(tr.text), &got); err != nil || got.Answer != plain {
			t.Errorf("json_object answer %q (%v); want {\"answer\": %q}", tr.text, err, plain)
		}
		c := classifyReq("I was charged twice")
		c.System = "categories: billing, technical"
		c.Output = req.Output
		var vote map[string]any
		if tr := run(t, t.Context(), m(), c); json.Unmarshal([]byte(tr.text), &vote) != nil || vote["category"] == nil {
			t.Errorf("classification in JSON mode: %q, want its own {\"category\": ...}", tr.text)
		}
	})
}
