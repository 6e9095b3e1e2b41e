// Package providers defines the small, pull-style interface every model vendor
// sits behind, and the classified error every vendor reports failures with.
//
// The engine sees only [Provider] and [Stream]; vendor packages (openai,
// anthropic, gemini, sim) implement them. Cancellation travels only through
// the context given to [Provider.Stream]: cancelling it must close the
// underlying connection at once. Nothing here imports the engine or the UI.
package providers

import (
	"context"
	"fmt"
	"strings"
)

// Provider starts one streamed completion.
type Provider interface {
	// Stream starts a completion for req. Errors that happen before the
	// first byte (auth, 404, 429, connection refused) may be returned here
	// or from the Stream's Err; both must be an *[Error] where the cause is
	// known.
	Stream(ctx context.Context, req Request) (Stream, error)
}

// Stream is a pull-style iterator over one completion's chunks.
//
//	for s.Next() { c := s.Chunk(); ... }
//	if err := s.Err(); err != nil { ... }
//	s.Close()
type Stream interface {
	// Next advances to the next chunk; false at the end or on error.
	Next() bool
	// Chunk returns the current chunk; valid until the next call to Next.
	Chunk() Chunk
	// Err returns the error that ended the stream, nil after a clean end.
	// A stream that ends without its vendor's final event is an error of
	// kind [KindInvalid].
	Err() error
	// Close releases the stream and its connection. Safe to call twice.
	Close() error
}

// Message is one turn of a conversation.
type Message struct {
	Role    string // "user" or "assistant"
	Content string
}

// Request is what every provider is asked.
type Request struct {
	// Model is the vendor's model name ("gpt-4.1-mini", "claude-sonnet-4-5").
	Model string
	// System is an optional system prompt.
	System string
	// Messages is the conversation; the last one is the user's prompt.
	Messages []Message
	// MaxTokens caps the answer; 0 means the provider's default.
	MaxTokens int
	// Temperature is optional; nil leaves the vendor's default.
	Temperature *float64
	// Output shapes the answer: stop sequences, a JSON format; nil: free
	// text to its natural end. One pointer, so that a Request, which a
	// session keeps two of, stays within its allocation's size class.
	Output *Output
	// Kind tells simulated models what sort of answer to produce; real
	// providers ignore it.
	Kind RequestKind
}

// Output shapes an answer (see [Request.Output]).
type Output struct {
	// Stop are sequences that end the answer where one would begin (it is
	// not part of the answer); nil: none.
	Stop []string
	// Format asks for JSON; nil: free text. A kind that cannot ask its
	// vendor for it says so in its Factory's Refuses ("response_format",
	// or "json_schema" for schemas only).
	Format *ResponseFormat
}

// StopSequences is r's stop sequences, or nil.
func (r *Request) StopSequences() []string {
	if r.Output == nil {
		return nil
	}
	return r.Output.Stop
}

// ResponseFormat is r's response format, or nil (free text).
func (r *Request) ResponseFormat() *ResponseFormat {
	if r.Output == nil {
		return nil
	}
	return r.Output.Format
}

// ResponseFormat asks a model for a JSON answer: any object
// ([FormatJSONObject]), or one that matches Schema ([FormatJSONSchema]).
type ResponseFormat struct {
	Type   string
	Name   string         // the schema's name (json_schema)
	Schema map[string]any // a JSON Schema (json_schema)
	Strict bool           // the vendor must follow Schema exactly, where it can
}

// The response formats, as Chat Completions names them.
const (
	FormatJSONObject = "json_object"
	FormatJSONSchema = "json_schema"
)

// RequestKind says what the engine expects from an answer.
type RequestKind uint8

const (
	// KindText asks for free text (race, hedge, a council's stage-1
	// answers, a section).
	KindText RequestKind = iota
	// KindClassify asks for a category (consensus voters, the router's
	// classifier). The system prompt names the categories after
	// "categories:"; the answer is JSON {"category": ..., "confidence": ...}.
	KindClassify
	// KindRank asks a reviewer to rank anonymised answers (a council's
	// stage 2). The last message quotes the question after "Question:" and
	// each answer after a line "Response A:", "Response B:", ...; the answer
	// must end with a line "FINAL RANKING:" and then one label per line,
	// best first ("1. Response C").
	KindRank
	// KindSynthesize asks the chairman for the final answer (a council's
	// stage 3). The last message quotes the question after "Question:" and
	// the answers, best ranked first, each after a line "Answer 1 ...:",
	// "Answer 2 ...:", ...
	KindSynthesize
	// KindSection asks for the answer to an instruction about one section
	// of a document (the section strategy). The last message quotes the
	// instruction after "Instruction:" and the section after a line
	// "Section: <title>"; when the system prompt names categories after
	// "categories:", the answer must end with a JSON verdict
	// {"category": ...}.
	KindSection
)

// String names the kind ("text", "classify", "rank", "synthesize").
func (k RequestKind) String() string {
	switch k {
	case KindClassify:
		return "classify"
	case KindRank:
		return "rank"
	case KindSynthesize:
		return "synthesize"
	case KindSection:
		return "section"
	}
	return "text"
}

// Prompt returns the content of the last message, the user's prompt.
func (r Request) Prompt() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[len(r.Messages)-1].Content
}

// Usage is token usage as the vendor reported it.
type Usage struct {
	// InputTokens is every input token, cached ones included.
	InputTokens int
	// OutputTokens is what the vendor bills as output: the answer and the
	// reasoning.
	OutputTokens int
	// CachedInputTokens is the part of InputTokens read from the vendor's
	// prompt cache (billed at cached_input_per_mtok).
	CachedInputTokens int
	// CacheWriteTokens is the part of InputTokens written to the vendor's
	// prompt cache (Anthropic's cache_creation_input_tokens, billed at
	// cache_write_per_mtok).
	CacheWriteTokens int
	// ReasoningTokens is the part of OutputTokens spent reasoning.
	ReasoningTokens int
}

// Finish says why a completion ended, as its vendor reported it.
type Finish uint8

// The finish reasons. FinishNone is a chunk that carries none.
const (
	FinishNone          Finish = iota
	FinishStop                 // the model ended its answer (stop, end_turn, STOP)
	FinishLength               // a token limit cut the answer (length, max_tokens, MAX_TOKENS)
	FinishContentFilter        // a safety filter or a refusal ended it (content_filter, SAFETY, refusal)
	FinishToolCalls            // the model asked for a tool (tool_calls, tool_use)
	FinishUnknown              // a reason this program does not know
)

var finishNames = [...]string{FinishNone: "", FinishStop: "stop", FinishLength: "length",
	FinishContentFilter: "content_filter", FinishToolCalls: "tool_calls", FinishUnknown: "unknown"}

// String returns the wire name ("length"; "" for none).
func (f Finish) String() string {
	if int(f) < len(finishNames) {
		return finishNames[f]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (f Finish) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: the inverse of
// MarshalText (a recorded session read back).
func (f *Finish) UnmarshalText(b []byte) error {
	for i, n := range finishNames {
		if n == string(b) {
			*f = Finish(i)
			return nil
		}
	}
	return fmt.Errorf("unknown finish reason %q", b)
}

// FinishOf maps a vendor's finish or stop reason, in any case, to a
// [Finish]: "" is none, an unknown reason is [FinishUnknown].
func FinishOf(reason string) Finish {
	switch strings.ToLower(strings.TrimSpace(reason)) {
	case "":
		return FinishNone
	case "stop", "end_turn", "stop_sequence", "eos":
		return FinishStop
	case "length", "max_tokens", "model_length", "max_output_tokens":
		return FinishLength
	case "content_filter", "safety", "refusal", "recitation", "blocklist",
		"prohibited_content", "spii", "image_safety", "language":
		return FinishContentFilter
	case "tool_calls", "function_call", "tool_use", "malformed_function_call", "unexpected_tool_call":
		return FinishToolCalls
	}
	return FinishUnknown
}

// Chunk is one piece of a stream: some answer text, some reasoning, usage,
// a finish reason, or several of them.
type Chunk struct {
	// Text is answer text.
	Text string
	// Reasoning is the model's reasoning (thinking) text, never part of
	// the answer.
	Reasoning string
	// Usage is non-nil when the vendor reported usage in this chunk. Later
	// reports replace earlier ones (they are cumulative).
	Usage *Usage
	// Finish is why the completion ended, in the chunk that says so.
	Finish Finish
}
