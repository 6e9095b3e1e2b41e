package engine

import (
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Status is how a session ended.
type Status string

// Session statuses.
const (
	// StatusDecided: an answer, as the strategy intended.
	StatusDecided Status = "decided"
	// StatusFailed: no answer (every model failed, quorum missed, a tie
	// with tie_break = "fail", the user cancelled).
	StatusFailed Status = "failed"
	// StatusDegraded: an answer, but redundancy was lost on the way: a
	// model failed, timed out or was skipped by its breaker, or a consensus
	// tie was settled by the default answer.
	StatusDegraded Status = "degraded"
	// StatusCancelled: the user (or a signal, or the engine closing)
	// cancelled the session before it decided; never a failure.
	StatusCancelled Status = "cancelled"
)

// Degraded reasons: why a session's answer came with less redundancy
// than asked (Summary.Degraded).
const (
	DegradedModelFailed      = "model_failed"      // a model failed or timed out
	DegradedModelSkipped     = "model_skipped"     // a model's breaker was open
	DegradedTieDefault       = "tie_default"       // a tie settled by the default answer
	DegradedFewAnswers       = "few_answers"       // council: fewer answers than members
	DegradedReviewersMissing = "reviewers_missing" // council: a reviewer failed or ranked invalidly
	DegradedFallbackChairman = "fallback_chairman" // council: the chairman failed, another wrote
	DegradedNoSynthesis      = "no_synthesis"      // council: every chairman failed
	DegradedBudget           = "budget"            // a stage ran out of time
	DegradedSectionMissing   = "section_missing"   // section: a section has no result, even after its failover
	DegradedFewVerdicts      = "few_verdicts"      // section: a voted run failed or gave no valid verdict
	DegradedTruncated        = "truncated"         // the answer was cut by its token limit
	DegradedFallback         = "fallback"          // a model failed or was held back, and its fallback took its place
)

// Aside is the rarer part of a [ModelResult].
type Aside struct {
	// Note says what was changed in how the model was asked (a setting it
	// does not take, dropped).
	Note string `json:"note,omitempty"`
	// FallbackFor is the model whose place this attempt took (fallbacks).
	FallbackFor string `json:"fallback_for,omitempty"`
	// CacheWriteTokens is the part of the row's input_tokens written to
	// the vendor's prompt cache (Anthropic's cache_creation_input_tokens),
	// priced at cache_write_per_mtok.
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
}

// Noted returns the row's note, "" when it has none.
func (r ModelResult) Noted() string {
	if r.Aside == nil {
		return ""
	}
	return r.Note
}

// StageResult is one stage of a multi-stage session.
type StageResult struct {
	Name      Stage   `json:"name"`
	Status    string  `json:"status"`
	StartedMS float64 `json:"started_ms"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

// AttemptStatus is one model's outcome in a session.
type AttemptStatus string

// Attempt statuses.
const (
	AttemptQueuedStatus    AttemptStatus = "queued"
	AttemptRunning         AttemptStatus = "running"
	AttemptWon             AttemptStatus = "won"
	AttemptDoneStatus      AttemptStatus = "done"
	AttemptCancelledStatus AttemptStatus = "cancelled"
	AttemptFailedStatus    AttemptStatus = "failed"
	AttemptTimeout         AttemptStatus = "timeout"
	AttemptSkippedStatus   AttemptStatus = "skipped"
)

// Summary is the result of one session, the `council run --json` object.
type Summary struct {
	Session  string          `json:"session"`
	Strategy config.Strategy `json:"strategy"`
	Tier     string          `json:"tier"`
	Prompt   string          `json:"prompt,omitempty"`
	Status   Status          `json:"status"`
	Winner   string          `json:"winner,omitempty"`
	Answer   string          `json:"answer"`
	Error    string          `json:"error,omitempty"`
	// ErrorKind is "internal" ([ErrorKindInternal]) when the session
	// failed by a bug in council, whose stack is then Stack.
	ErrorKind string         `json:"error_kind,omitempty"`
	Stack     string         `json:"stack,omitempty"`
	ElapsedMS float64        `json:"elapsed_ms"`
	CostUSD   float64        `json:"cost_usd"`
	Votes     map[string]int `json:"votes,omitempty"`
	// Invalid is a 32-bit count beside HedgeFired: the summary and its
	// eight model lines fit an allocation size class (2,304 bytes).
	Invalid    int32 `json:"invalid_votes,omitempty"`
	HedgeFired bool  `json:"hedge_fired,omitempty"`
	// HedgeReplaced: the hedge cancelled its primary, past the knee of
	// its slow mode, and asked the backup in its place (hedge.replace).
	HedgeReplaced bool    `json:"hedge_replaced,omitempty"`
	Agreement     float64 `json:"agreement,omitempty"`
	// TieBreak says how a tie was settled: a consensus tie by its
	// tie_break setting; the council's leader, when a tie on Borda points
	// decided it, by [TieBordaAverage] or [TieBordaDraw].
	TieBreak string `json:"tie_break"`
	// Degraded lists why the answer is degraded; empty exactly when
	// Status is not degraded.
	Degraded []string                   `json:"degraded"`
	Models   []ModelResult              `json:"models"`
	Breakers map[string]BreakerSnapshot `json:"breakers"`

	// The council strategy: its stages, each reviewer's valid ranking
	// (reviewer model id -> ranked model ids, best first; present, maybe
	// empty, in a council's summary), the normalised Borda points per model
	// (each valid ballot gives its first 1 point and its last 0), every
	// reviewer's ballot as it was read, the chairman that wrote the
	// synthesis, and the synthesis.
	Stages    []StageResult       `json:"stages,omitempty"`
	Rankings  map[string][]string `json:"rankings,omitzero"`
	Borda     map[string]float64  `json:"borda,omitempty"`
	Reviews   []ReviewResult      `json:"reviews,omitempty"`
	Chairman  string              `json:"chairman,omitempty"`
	Synthesis string              `json:"synthesis,omitempty"`
	// Route is the router's choice (strategy auto).
	Route *Route `json:"route,omitempty"`
	// CostCapUSD is the session's spending cap, when it had one.
	CostCapUSD float64 `json:"cost_cap_usd,omitempty"`
	// The section strategy: every section in document order, how they
	// were merged, the sum of the section attempts' times (serial_ms: what
	// one model at a time would have taken) and how much of it running
	// them at once saved (saved_ms).
	Sections []SectionResult `json:"sections,omitempty"`
	Merge    *MergeResult    `json:"merge,omitempty"`
	SerialMS float64         `json:"serial_ms,omitempty"`
	SavedMS  float64         `json:"saved_ms,omitempty"`

	// Elapsed is ElapsedMS as a duration, for Go callers.
	Elapsed time.Duration `json:"-"`
}

// ReviewResult is one council reviewer's ballot in a [Summary]: the
// label -> model map it was shown (labels are shuffled per reviewer), its
// ranking (model ids, best first) when valid, else why it is invalid
// (Invalid) and the text that could not be read (Raw). A reviewer that did
// not finish has neither; Status says how it ended.
type ReviewResult struct {
	Reviewer string            `json:"reviewer"`
	Attempt  string            `json:"attempt"`
	Status   AttemptStatus     `json:"status"`
	Labels   map[string]string `json:"labels"`
	Ranking  []string          `json:"ranking,omitempty"`
	Invalid  string            `json:"invalid,omitempty"`
	Raw      string            `json:"raw,omitempty"`
}

// ModelResult is one attempt's line in a [Summary].
type ModelResult struct {
	Attempt string `json:"attempt"`
	Stage   Stage  `json:"stage"`
	// Finish is why the vendor ended the answer (stop, length,
	// content_filter, tool_calls, unknown); empty for an attempt that
	// ended before it could say. Truncated is true exactly when Finish is
	// length. Bytes beside Stage, in its padding: a session's summary
	// holds eight of these lines.
	Finish    providers.Finish `json:"finish,omitempty"`
	Truncated bool             `json:"truncated"`
	// Retries is how many times the call was made again ([retry]).
	Retries   uint8         `json:"retries,omitempty"`
	ID        string        `json:"id"`
	Provider  string        `json:"provider"`
	Role      Role          `json:"role"`
	Status    AttemptStatus `json:"status"`
	Reason    string        `json:"reason,omitempty"`
	Error     string        `json:"error,omitempty"`
	StartedMS float64       `json:"started_ms"`
	// FirstTokenMS is when the first answer text came; FirstReasoningMS
	// when the first reasoning text came (both since the session started).
	FirstTokenMS     float64 `json:"first_token_ms,omitempty"`
	FirstReasoningMS float64 `json:"first_reasoning_ms,omitempty"`
	ElapsedMS        float64 `json:"elapsed_ms"`
	// InputTokens counts every input token, CachedInputTokens the part of
	// them read from the vendor's cache; OutputTokens is what the vendor
	// bills as output, ReasoningTokens the part of it spent reasoning.
	InputTokens       int     `json:"input_tokens"`
	CachedInputTokens int     `json:"cached_input_tokens,omitempty"`
	OutputTokens      int     `json:"output_tokens"`
	ReasoningTokens   int     `json:"reasoning_tokens,omitempty"`
	CostUSD           float64 `json:"cost_usd"`
	Vote              string  `json:"vote,omitempty"`
	// Aside is what only some attempts have (a note, the model a fallback
	// stood in for), nil for the others; its fields appear in the row's
	// JSON. A pointer rather than the fields: eight rows live in a
	// session's summary, which must stay in its allocation size class.
	*Aside
	Text string `json:"text,omitempty"`
}

// Turn is the session as one turn of a conversation that a later session
// continues (see [SessionRequest].Turns): prompt, each model's completed
// answer (a racer's, a hedge's, a council member's, a voter's), and the
// final answer. Reviews, syntheses and sections are not a model's answer
// to the prompt: such a model is shown the final answer.
func (s *Summary) Turn(prompt string) Turn {
	t := Turn{Prompt: prompt, Answer: s.Answer}
	for _, r := range s.Models {
		switch r.Role {
		case RoleReviewer, RoleChairman, RoleClassifier, RoleSection:
			continue
		}
		if (r.Status != AttemptWon && r.Status != AttemptDoneStatus) || r.Text == "" {
			continue
		}
		if _, seen := t.Answers[r.ID]; seen {
			continue
		}
		if t.Answers == nil {
			t.Answers = map[string]string{}
		}
		t.Answers[r.ID] = r.Text
	}
	return t
}
