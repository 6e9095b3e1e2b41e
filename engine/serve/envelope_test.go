package serve

import (
	"bytes"
	"encoding/json"
	"reflect"
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
	choices := []answerChoice{{Message: answerMessage{Role: "assistant", Content: sum.Answer}, FinishReason: "stop"}}
	for _, tt := range []struct {
		name string
		u    *usage
		sum  *engine.Summary
	}{{"whole", usageOf(sum), sum}, {"no usage", nil, sum}, {"no summary", &usage{1, 2, 3}, nil}, {"neither", nil, nil}} {
		wb := encodedEnvelope(t, c, "chat.completion", choices, tt.u, tt.sum)
		if got := c.envelope("chat.completion", choices, tt.u, tt.sum); !bytes.Equal(got, wb) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, wb)
		}
	}
}

// encodedEnvelope is what encoding/json makes of an envelope: the
// reference the appended one must match byte for byte.
func encodedEnvelope(t testing.TB, c *completion, object string, choices any, u *usage, sum *engine.Summary) []byte {
	t.Helper()
	ref := struct {
		ID      string          `json:"id"`
		Object  string          `json:"object"`
		Created int64           `json:"created"`
		Model   string          `json:"model"`
		Choices any             `json:"choices"`
		Usage   *usage          `json:"usage,omitempty"`
		Council json.RawMessage `json:"council,omitempty"`
	}{ID: "chatcmpl-" + c.id, Object: object, Created: c.created, Model: c.model, Choices: choices, Usage: u}
	if sum != nil {
		raw, err := json.Marshal(sum) // not summaryJSON: the reference is encoding/json's alone
		if err != nil {
			t.Fatal(err)
		}
		ref.Council = raw
	}
	b, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envelopeTexts are strings that take each of encoding/json's escapes.
var envelopeTexts = []string{
	"", "plain", "x < y & \"z\"\n", "tab\there\r\n\b\f", "\x00\x01\x1f\x7f", "café ☕ 日本",
	"line\u2028sep\u2029", "bad \xff\xfe utf8 \xe2\x80", "back\\slash /slash", "<script>&amp;</script>",
}

// TestChunkEnvelopeAsEncoded: a chunk's envelope, for each delta shape
// the stream writes (the role chunk, a delta, the finishing chunk, the
// usage chunk with no choice), is encoding/json's bytes.
func TestChunkEnvelopeAsEncoded(t *testing.T) {
	sum := &engine.Summary{Strategy: "race", Answer: "a", Status: engine.StatusDecided}
	stop := "stop"
	for _, text := range envelopeTexts {
		c := &completion{id: "s1" + text, model: "council/race" + text, created: 1796592988}
		for _, tt := range []struct {
			choices []chunkChoice
			u       *usage
			sum     *engine.Summary
		}{
			{[]chunkChoice{{Delta: &chunkDelta{Role: "assistant", Content: ""}}}, nil, nil},
			{[]chunkChoice{{Delta: &chunkDelta{Content: text}}}, nil, nil},
			{[]chunkChoice{{Delta: &chunkDelta{}, FinishReason: &stop}}, nil, sum},
			{[]chunkChoice{{Index: 2, Delta: &chunkDelta{Role: text}, FinishReason: &text}, {Index: 3}}, &usage{1, 2, 3}, nil},
			{[]chunkChoice{}, &usage{3, 4, 7}, sum},
		} {
			want := encodedEnvelope(t, c, "chat.completion.chunk", tt.choices, tt.u, tt.sum)
			if got := c.envelope("chat.completion.chunk", tt.choices, tt.u, tt.sum); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		}
	}
}

// FuzzEnvelope: for any id, model and text, the chunk's and the whole
// answer's envelopes are encoding/json's bytes.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeTexts {
		f.Add("s1", "council/race", s, int64(1796592988))
	}
	f.Fuzz(func(t *testing.T, id, model, text string, created int64) {
		c := &completion{id: id, model: model, created: created}
		fr := text
		chunk := []chunkChoice{{Delta: &chunkDelta{Role: text, Content: text}, FinishReason: &fr}}
		if got, want := c.envelope("chat.completion.chunk", chunk, nil, nil), encodedEnvelope(t, c, "chat.completion.chunk", chunk, nil, nil); !bytes.Equal(got, want) {
			t.Errorf("chunk:\n got %s\nwant %s", got, want)
		}
		answer := []answerChoice{{Message: answerMessage{Role: "assistant", Content: text}, FinishReason: fr}}
		u := &usage{len(id), len(text), len(id) + len(text)}
		if got, want := c.envelope("chat.completion", answer, u, nil), encodedEnvelope(t, c, "chat.completion", answer, u, nil); !bytes.Equal(got, want) {
			t.Errorf("answer:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkChunkEnvelope: one delta chunk's envelope, appended (what a
// stream writes per chunk) beside encoding/json's encoding of the same
// object (what it wrote before).
func BenchmarkChunkEnvelope(b *testing.B) {
	c := &completion{id: "s12", model: "council/race", created: 1796592988}
	ch := []chunkChoice{{Delta: &chunkDelta{Content: "an instant answer, a few words long."}}}
	b.Run("appended", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.envelope("chat.completion.chunk", ch, nil, nil)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodedEnvelope(b, c, "chat.completion.chunk", ch, nil, nil)
		}
	})
}

// fill sets every field v reaches to a value that is not its zero:
// strings that take escapes, numbers, true, and a pointer to a filled
// value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x<\"y\"\n")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// TestEnvelopeWritesEveryField: the appended envelope writes every field
// of its choices, their delta or message, and the usage, each set: a
// field added to those types and not to the appender fails here, where
// it would otherwise be left out of every answer.
func TestEnvelopeWritesEveryField(t *testing.T) {
	c := &completion{id: "s1", model: "council/race", created: 42}
	var ch chunkChoice
	fill(reflect.ValueOf(&ch).Elem())
	var an answerChoice
	fill(reflect.ValueOf(&an).Elem())
	var u usage
	fill(reflect.ValueOf(&u).Elem())
	for _, tt := range []struct {
		object  string
		choices any
	}{{"chat.completion.chunk", []chunkChoice{ch}}, {"chat.completion", []answerChoice{an}}} {
		want := encodedEnvelope(t, c, tt.object, tt.choices, &u, nil)
		if got := c.envelope(tt.object, tt.choices, &u, nil); !bytes.Equal(got, want) {
			t.Errorf("%s, every field set:\n got %s\nwant %s", tt.object, got, want)
		}
	}
}
