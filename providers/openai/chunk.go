package openai

import (
	"encoding/json"

	"github.com/council-dev/council/providers"
	sdk "github.com/openai/openai-go/v3"
	"github.com/tidwall/gjson"
)

// chunk is one streamed chunk. Most are decoded as fastChunk with gjson,
// several times cheaper than the SDK's decoder; one that
// fastChunk does not fit (a field of an unexpected type) is decoded by
// the SDK, as leniently as before (sdk is then set).
type chunk struct {
	fast fastChunk
	sdk  *sdk.ChatCompletionChunk
}

// fastChunk is the part of a chunk the provider reads.
type fastChunk struct {
	Choices []fastChoice
	Usage   *fastUsage
	XGroq   json.RawMessage
}

// fastChoice is one of a chunk's choices.
type fastChoice struct {
	Index        int64
	Delta        fastDelta
	FinishReason string
}

// fastDelta is a choice's delta.
type fastDelta struct {
	Content string
	Refusal string
	// Not in the SDK's types: DeepSeek, vLLM... and OpenRouter, Groq...
	// (reasoningText reads them).
	ReasoningContent json.RawMessage
	Reasoning        json.RawMessage
}

// fastUsage is a chunk's usage object.
type fastUsage struct {
	PromptTokens            int64
	CompletionTokens        int64
	TotalTokens             int64
	PromptTokensDetails     struct{ CachedTokens int64 }
	CompletionTokensDetails struct{ ReasoningTokens int64 }
}

// sdk returns u as the SDK's type, for convertUsage.
func (u *fastUsage) sdk() sdk.CompletionUsage {
	var out sdk.CompletionUsage
	out.PromptTokens, out.CompletionTokens, out.TotalTokens = u.PromptTokens, u.CompletionTokens, u.TotalTokens
	out.PromptTokensDetails.CachedTokens = u.PromptTokensDetails.CachedTokens
	out.CompletionTokensDetails.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	return out
}

// UnmarshalJSON decodes data as fastChunk, or by the SDK when it does not
// fit.
func (c *chunk) UnmarshalJSON(data []byte) error {
	if c.fast.read(data) {
		return nil
	}
	c.fast = fastChunk{}
	var ch sdk.ChatCompletionChunk
	if err := ch.UnmarshalJSON(data); err != nil {
		return err
	}
	c.sdk = &ch
	return nil
}

// read fills f from data, a chunk's JSON, in one pass with gjson: what
// encoding/json would make of it (keys matched exactly), at a third of its
// cost and stack on the attempt's goroutine, where the reflective decoder
// made the stack grow on every call. It reports false for what does not
// fit (a field of an unexpected type), which the SDK then decodes. data is
// valid JSON: stream.read checks it (providers.ValidJSON) before it calls
// UnmarshalJSON.
func (f *fastChunk) read(data []byte) bool {
	root := gjson.ParseBytes(data)
	if root.Type == gjson.Null {
		return true
	}
	if !root.IsObject() {
		return false
	}
	ok := true
	root.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "choices":
			ok = f.readChoices(v)
		case "usage":
			switch {
			case v.Type == gjson.Null:
				f.Usage = nil
			case v.IsObject():
				if f.Usage == nil {
					f.Usage = new(fastUsage)
				}
				ok = f.Usage.read(v)
			default:
				ok = false
			}
		case "x_groq":
			f.XGroq = json.RawMessage(v.Raw)
		}
		return ok
	})
	return ok
}

// readChoices reads the choices array into f.Choices.
func (f *fastChunk) readChoices(v gjson.Result) bool {
	if v.Type == gjson.Null {
		f.Choices = nil
		return true
	}
	if !v.IsArray() {
		return false
	}
	f.Choices = f.Choices[:0]
	if f.Choices == nil {
		f.Choices = make([]fastChoice, 0, 1)
	}
	ok := true
	v.ForEach(func(_, c gjson.Result) bool {
		f.Choices = append(f.Choices, fastChoice{})
		if c.Type == gjson.Null {
			return true
		}
		if !c.IsObject() {
			ok = false
			return false
		}
		ch := &f.Choices[len(f.Choices)-1]
		c.ForEach(func(key, v gjson.Result) bool {
			switch key.Str {
			case "index":
				ok = providers.JSONInt(v, &ch.Index)
			case "finish_reason":
				ok = providers.JSONString(v, &ch.FinishReason)
			case "delta":
				ok = ch.Delta.read(v)
			}
			return ok
		})
		return ok
	})
	return ok
}

// read reads a choice's delta.
func (d *fastDelta) read(v gjson.Result) bool {
	if v.Type == gjson.Null {
		return true
	}
	if !v.IsObject() {
		return false
	}
	ok := true
	v.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "content":
			ok = providers.JSONString(v, &d.Content)
		case "refusal":
			ok = providers.JSONString(v, &d.Refusal)
		case "reasoning_content":
			d.ReasoningContent = json.RawMessage(v.Raw)
		case "reasoning":
			d.Reasoning = json.RawMessage(v.Raw)
		}
		return ok
	})
	return ok
}

// read reads a usage object.
func (u *fastUsage) read(v gjson.Result) bool {
	ok := true
	v.ForEach(func(key, v gjson.Result) bool {
		switch key.Str {
		case "prompt_tokens":
			ok = providers.JSONInt(v, &u.PromptTokens)
		case "completion_tokens":
			ok = providers.JSONInt(v, &u.CompletionTokens)
		case "total_tokens":
			ok = providers.JSONInt(v, &u.TotalTokens)
		case "prompt_tokens_details":
			ok = readDetail(v, "cached_tokens", &u.PromptTokensDetails.CachedTokens)
		case "completion_tokens_details":
			ok = readDetail(v, "reasoning_tokens", &u.CompletionTokensDetails.ReasoningTokens)
		}
		return ok
	})
	return ok
}

// readDetail reads the one count a usage details object is read for.
func readDetail(v gjson.Result, name string, n *int64) bool {
	if v.Type == gjson.Null {
		return true
	}
	if !v.IsObject() {
		return false
	}
	ok := true
	v.ForEach(func(key, v gjson.Result) bool {
		if key.Str == name {
			ok = providers.JSONInt(v, n)
		}
		return ok
	})
	return ok
}
