package engine

import (
	"time"

	"github.com/council-dev/council/engine/config"
)

// SessionRequest is one prompt to run.
type SessionRequest struct {
	Prompt   string
	Strategy config.Strategy // empty: the config's default_strategy
	Tier     string          // empty: the config's default_tier
	// Models restricts the session to these model ids, in this order;
	// empty means the tier's models.
	Models []string
	// Settings are how the models are asked (a system prompt, max tokens,
	// a temperature); they win over the model's and the tier's.
	Settings Settings
	// MaxCostUSD caps this session's cost (0: the config's max_cost_usd).
	MaxCostUSD float64
	// Turns are the conversation so far, oldest first, when this session
	// continues one: each model is asked with its history before Prompt
	// (see [Turn]). Empty: a new conversation.
	Turns []Turn
	// Document is what strategy section splits; Prompt is then the
	// instruction each section is asked. Other strategies ignore it.
	Document string
	// DocumentName names Document for the screens (session_started's
	// input): a file name, "-" for stdin.
	DocumentName string
}

// Turn is one earlier exchange of a conversation. A model continuing it
// is shown Prompt and, as its own reply, its answer in Answers (or, with
// the config's follow_up = "winner", or when it has none there, Answer).
type Turn struct {
	Prompt string
	// Answers are each model's answer in that turn, by model id.
	Answers map[string]string
	// Answer is the turn's final answer (the winner's, the chairman's...).
	Answer string
}

// ReplyOf is what model id is shown as its own reply in t, with
// follow_up set to followUp: its own answer, or the turn's final answer
// when followUp is "winner" or the model gave none.
func (t Turn) ReplyOf(id, followUp string) string {
	if followUp != config.FollowWinner {
		if a := t.Answers[id]; a != "" {
			return a
		}
	}
	return t.Answer
}

// Quantiles are latency percentiles over a sliding window.
type Quantiles struct {
	P50, P95, P99 time.Duration
	// P50AtLeast (and P95's, P99's): the quantile is a lower bound, not a
	// measurement. A call cut before its end (a hedge's primary its backup
	// beat, or one it replaced) is known only to take longer than it ran,
	// and one lies at or below the quantile: the true quantile is at least
	// this, perhaps more. Left out of a recording's health when false.
	P50AtLeast, P95AtLeast, P99AtLeast bool `json:",omitempty"`
}

// LatencySnapshot is one model's observed latency.
type LatencySnapshot struct {
	Count int       // samples in the window
	TTFT  Quantiles // time to first token
	Total Quantiles // time to the last token
}

// Outcome is one finished attempt, for sparklines.
type Outcome uint8

// Outcomes.
const (
	OutcomeOK        Outcome = iota + 1 // completed
	OutcomeFailed                       // error, timeout, stall, 429...
	OutcomeCancelled                    // cancelled because another model won
	OutcomeSkipped                      // skipped by an open breaker
)

// ModelHealth is a model's state across sessions, for the breaker board.
type ModelHealth struct {
	ID           string
	Provider     string // provider name from the config
	ProviderKind string // openai, anthropic, gemini, sim...
	Breaker      BreakerSnapshot
	Latency      LatencySnapshot
	// Recent are the latest outcomes, oldest first (at most 32).
	Recent []Outcome
	// Knobs are a simulated model's current chaos settings (error_rate,
	// stall_rate...); nil for a real model.
	Knobs map[string]float64
}
