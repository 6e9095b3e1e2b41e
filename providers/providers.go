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
	// Kind tells simulated models what sort of answer to produce; real
	// providers ignore it.
	Kind RequestKind
}

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
	InputTokens  int
	OutputTokens int
}

// Chunk is one piece of a stream: some text, usage, or both.
type Chunk struct {
	Text string
	// Usage is non-nil when the vendor reported usage in this chunk. Later
	// reports replace earlier ones (they are cumulative).
	Usage *Usage
}
