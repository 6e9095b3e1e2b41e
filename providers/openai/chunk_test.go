package openai

import (
	"reflect"
	"testing"

	sdk "github.com/openai/openai-go/v3"
)

// TestChunkAsSDK: a chunk decoded the fast way reads as the SDK's
// decoding of it reads (text, reasoning, refusal, finish, usage, Groq's
// usage), and one of a shape the fast way does not fit is decoded by the
// SDK.
func TestChunkAsSDK(t *testing.T) {
	cases := []struct {
		data     string
		fallback bool
	}{
		{`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"hi <b>\u2028"},"finish_reason":null}]}`, false},
		{`{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"zero"}}]}`, false},
		{`{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"think"}}]}`, false},
		{`{"choices":[{"index":0,"delta":{"reasoning":"thought","reasoning_content":null}}]}`, false},
		{`{"choices":[{"index":0,"delta":{"reasoning":{"not":"text"},"reasoning_content":""}}]}`, false},
		{`{"choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":null}]}`, false},
		{`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":134,"completion_tokens_details":{"reasoning_tokens":129},"prompt_tokens_details":{"cached_tokens":1}}}`, false},
		{`{"choices":[],"usage":null}`, false},
		{`{"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"x_groq":{"usage":{"prompt_tokens":5,"completion_tokens":7}}}`, false},
		{`{"choices":[{"index":0,"delta":{"content":"x"}}],"x_groq":{"id":"q"}}`, false},
		{`{"choices":[null,{"index":0,"delta":null,"finish_reason":"stop"}]}`, false},
		{`{"choices":[{"index":0,"delta":{"content":"café \u00e9 \ud800 ✓","refusal":null}}]}`, false},
		{`{"choices":[{"index":0,"delta":{"content":"a\"b\\n\t"}}],"usage":{"prompt_tokens":1,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":null}}}`, false},
		{`{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"x_groq":null}`, false},
		{`null`, false},
		{`{"choices":[{"index":0,"finish_reason":1}]}`, true},
		{`{"choices":{"index":0}}`, true},
		{`{"choices":[{"index":0,"delta":["x"]}]}`, true},
		{`{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens_details":{"cached_tokens":"2"}}}`, true},
		{`{"choices":[{"index":"0","delta":{"content":"odd index"}}],"usage":{"prompt_tokens":3.0}}`, true},
		{`{"choices":[{"index":0,"delta":{"content":7}}],"usage":"none"}`, true},
	}
	for _, tc := range cases {
		var c chunk
		if err := c.UnmarshalJSON([]byte(tc.data)); err != nil {
			t.Fatalf("%s: %v", tc.data, err)
		}
		if (c.sdk != nil) != tc.fallback {
			t.Errorf("%s: decoded by the SDK %v, want %v", tc.data, c.sdk != nil, tc.fallback)
		}
		var want sdk.ChatCompletionChunk
		if err := want.UnmarshalJSON([]byte(tc.data)); err != nil {
			t.Fatalf("%s: the SDK: %v", tc.data, err)
		}
		for _, refused := range []bool{false, true} {
			a, b := &stream{refused: refused}, &stream{refused: refused}
			got := a.fromSDK(want)
			if c.sdk == nil {
				got = a.fromFast(&c.fast)
			}
			exp := b.fromSDK(want)
			if !reflect.DeepEqual(got, exp) || a.refused != b.refused || a.finished != b.finished {
				t.Errorf("%s (refused before %v): read %+v (usage %+v), the SDK's reads %+v (usage %+v)", tc.data, refused, got, got.Usage, exp, exp.Usage)
			}
		}
	}
}
