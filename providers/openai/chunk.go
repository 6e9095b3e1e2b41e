package openai

import (
	"encoding/json"

	sdk "github.com/openai/openai-go/v3"
)

// chunk is one streamed chunk. Most are decoded as fastChunk by
// encoding/json, several times cheaper than the SDK's decoder; one that
// fastChunk does not fit (a field of an unexpected type) is decoded by
// the SDK, as leniently as before (sdk is then set).
type chunk struct {
	fast fastChunk
	sdk  *sdk.ChatCompletionChunk
}

// fastChunk is the part of a chunk the provider reads.
type fastChunk struct {
	Choices []struct {
		Index int64 `json:"index"`
		Delta struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
			// Not in the SDK's types: DeepSeek, vLLM... and OpenRouter,
			// Groq... (reasoningText reads them).
			ReasoningContent json.RawMessage `json:"reasoning_content"`
			Reasoning        json.RawMessage `json:"reasoning"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *fastUsage      `json:"usage"`
	XGroq json.RawMessage `json:"x_groq"`
}

// fastUsage is a chunk's usage object.
type fastUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
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
	if err := json.Unmarshal(data, &c.fast); err == nil {
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
