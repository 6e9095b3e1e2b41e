package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// EventType names what happened; String gives its wire name, as
// `council run --events` prints it.
type EventType uint8

// The event types, in the rough order a session produces them.
const (
	SessionStarted EventType = iota + 1
	AttemptQueued
	AttemptStarted
	FirstToken
	Delta
	AttemptDone
	AttemptFailed
	AttemptCancelled
	AttemptSkipped
	HedgeFired
	VoteCast
	Decided
	BreakerChanged
	SessionDone
	StageStarted
	StageDone
	RankingCast
	RouteChosen
	SectionChanged
	// FirstReasoning is the first reasoning text of an attempt, beside
	// first_token (the first answer text).
	FirstReasoning
	// ReasoningDelta is streamed reasoning, apart from the answer's delta.
	ReasoningDelta
	// AttemptRetry says an attempt's call failed before any token and is
	// made again after a backoff ([retry]).
	AttemptRetry
)

var eventNames = [...]string{
	SessionStarted:   "session_started",
	AttemptQueued:    "attempt_queued",
	AttemptStarted:   "attempt_started",
	FirstToken:       "first_token",
	Delta:            "delta",
	AttemptDone:      "attempt_done",
	AttemptFailed:    "attempt_failed",
	AttemptCancelled: "attempt_cancelled",
	AttemptSkipped:   "attempt_skipped",
	HedgeFired:       "hedge_fired",
	VoteCast:         "vote_cast",
	Decided:          "decided",
	BreakerChanged:   "breaker_changed",
	SessionDone:      "session_done",
	StageStarted:     "stage_started",
	StageDone:        "stage_done",
	RankingCast:      "ranking_cast",
	RouteChosen:      "route_chosen",
	SectionChanged:   "section_changed",
	FirstReasoning:   "first_reasoning",
	ReasoningDelta:   "reasoning_delta",
	AttemptRetry:     "attempt_retry",
}

// String returns the wire name ("attempt_done").
func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return fmt.Sprintf("event(%d)", t)
}

// MarshalText implements encoding.TextMarshaler.
func (t EventType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Reason says why an attempt was cancelled or skipped.
type Reason string

// Cancellation and skip reasons.
const (
	ReasonNone       Reason = ""
	ReasonLostRace   Reason = "lost_race"   // another racer finished first
	ReasonDecided    Reason = "decided"     // the vote was settled without it
	ReasonHedgeWon   Reason = "hedge_won"   // the backup won; the primary is cancelled
	ReasonPrimaryWon Reason = "primary_won" // the primary won; the backup is cancelled
	// ReasonReplaced: the primary was past the knee of its slow mode and
	// max_extra allowed no backup beside it: the hedge cancelled it and
	// asked the backup in its place (hedge.replace). hedge_fired carries
	// it too, for a backup that replaced the primary.
	ReasonReplaced    Reason = "replaced"
	ReasonBudget      Reason = "budget"       // the session ran out of time
	ReasonUser        Reason = "user"         // the user cancelled the session
	ReasonBreakerOpen Reason = "breaker_open" // skipped: the model's breaker is open
	ReasonHedgeBudget Reason = "hedge_budget" // skipped: max_extra hedges already spent
	ReasonShutdown    Reason = "shutdown"     // the engine was closed
	ReasonNoQuorum    Reason = "no_quorum"    // the vote can no longer reach its quorum: the session fails
	ReasonRetryAfter  Reason = "retry_after"  // skipped: the server asked to be left alone (a 429's Retry-After)
	ReasonInternal    Reason = "internal"     // the session hit a bug in council and fails
)

// Role is a model's part in a session.
type Role string

// Roles of models in a session.
const (
	RoleRacer      Role = "racer"
	RolePrimary    Role = "primary"
	RoleBackup     Role = "backup"
	RoleVoter      Role = "voter"
	RoleEscalated  Role = "escalation" // asked to break a consensus tie
	RoleCouncil    Role = "member"     // answers in a council's first stage
	RoleReviewer   Role = "reviewer"   // ranks the other answers (council stage 2)
	RoleChairman   Role = "chairman"   // writes the final answer (council stage 3)
	RoleClassifier Role = "classifier" // picks the route (auto)
	RoleSection    Role = "section"    // answers one section of a document
)

// Stage is one step of a multi-stage strategy; one-stage strategies (race,
// hedge, consensus) have none. A byte rather than a string: it rides on
// every event, and an event's size decides whether the goroutines that
// build events outgrow their first stack (see docs/performance.md).
type Stage uint8

// Stages of the council strategy and of the router.
const (
	StageNone      Stage = iota
	StageAnswers         // council stage 1: every member answers
	StageReview          // council stage 2: peer review
	StageSynthesis       // council stage 3: the chairman
	StageClassify        // the router's classifier
	StageSections        // the section strategy: every section at once
	StageMerge           // the section strategy: the results combined
)

var stageNames = [...]string{StageNone: "", StageAnswers: "answers", StageReview: "review", StageSynthesis: "synthesis", StageClassify: "classify",
	StageSections: "sections", StageMerge: "merge"}

// String returns the stage's wire name ("answers"; "" for none).
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Stage) UnmarshalText(b []byte) error {
	for i, n := range stageNames {
		if n == string(b) {
			*s = Stage(i)
			return nil
		}
	}
	return fmt.Errorf("unknown stage %q", b)
}

// Route is the router's choice for a prompt (route_chosen, and the
// summary's route).
type Route struct {
	Name     string          `json:"name"`
	Strategy config.Strategy `json:"strategy"`
	Tier     string          `json:"tier,omitempty"`
	// Categories are the answers of a consensus route with its own (a
	// yes/no route's); empty: consensus.categories.
	Categories []string `json:"categories,omitempty"`
	Confidence float64  `json:"confidence"`
	// Why says what decided it: the keywords or pattern matched, the
	// classifier's answer, or the default route and why.
	Why string `json:"why"`
}

// Event is one thing that happened in a session. Every event carries the
// session id, a sequence number (1, 2, ... without gaps), the time since the
// session started and, where it applies, the model id. Which other fields are
// set depends on Type; see each field.
type Event struct {
	Type EventType
	// Stage is the attempt's stage (attempt events), or the stage that
	// started or ended (stage_started, stage_done).
	Stage Stage
	Kind  providers.Kind // attempt_failed
	// Finish is why the vendor ended the answer (attempt_done, and
	// attempt_failed when the vendor said); length means truncated.
	// A byte in the padding after Kind: it widens no event.
	Finish  providers.Finish
	Session string
	Seq     int
	T       time.Duration // since the session started
	Model   string        // model id, where the event is about one model
	Role    Role          // attempt events
	// Attempt is the attempt's id, unique in the session ("a1", "a2"...);
	// every attempt event carries it. A model may have several attempts
	// in one session (a hedge backup, a reviewer, the chairman).
	Attempt string

	// Text is the streamed text (delta), the streamed reasoning
	// (reasoning_delta, first_reasoning), the whole answer (attempt_done),
	// the raw answer (vote_cast) or the decided answer (decided).
	Text string
	// Vote is the normalised category of a vote_cast; empty when the vote
	// is invalid (then Err says why).
	Vote string

	// Reason is why an attempt was cancelled or skipped (attempt_cancelled,
	// attempt_skipped); on hedge_fired, replaced for a backup that took
	// the primary's place rather than running beside it.
	Reason Reason
	Err    string // attempt_failed, an invalid vote_cast, a failed session_done

	InputTokens  int     // attempt_done, attempt_cancelled, attempt_failed
	OutputTokens int     // attempt_done, attempt_cancelled, attempt_failed
	Cost         float64 // USD of this attempt, including a cancelled one's burn

	// Delay is the hedge delay that was waited (hedge_fired).
	Delay time.Duration
	// TieBreak is the tie-break taken (decided), empty when there was none.
	TieBreak string

	From, To BreakerState // breaker_changed

	// Summary is the session's result (session_done).
	Summary *Summary
	// Detail is what session_started, stage_done, ranking_cast,
	// route_chosen, section_changed and attempt_retry add; nil for every
	// other event.
	Detail *Detail
}

// SessionInfo describes a session as it starts (session_started): what a
// screen needs to draw its header and prompt line, live, replayed,
// watched or reopened from a history, whatever that screen would ask of
// its next session. The prompt is the event's Text.
type SessionInfo struct {
	// Strategy is the one asked for: auto until route_chosen says which
	// ran (and on which tier).
	Strategy config.Strategy
	Tier     string
	// Models are the session's model ids, in order.
	Models []string
	// Settings are the request's own (empty: the tiers' and models'
	// settings apply); CostCapUSD is the session's spending cap, 0 for none.
	Settings   Settings
	CostCapUSD float64
	// Turn is the session's turn in its conversation: 1 for a new one.
	Turn int
	// Input names the document a section session splits (a file name,
	// "-" for stdin); empty without one.
	Input string
}

// Detail is what the rarer events of multi-stage strategies add to an
// [Event]. It hangs off the event rather than widening it: the frequent
// events (deltas above all) stay small.
type Detail struct {
	// Info describes the session (session_started).
	Info *SessionInfo

	// Status is how a stage ended (stage_done): done, degraded, skipped,
	// failed, cancelled; Elapsed how long it took.
	Status  string
	Elapsed time.Duration

	// Reviewer is the reviewing attempt's id (ranking_cast); Ranking the
	// stage-1 attempt ids it ranked, best first, or nil when Invalid, with
	// the text that could not be read in Raw and why in Why.
	Reviewer string
	Ranking  []string
	Invalid  bool
	Raw      string
	Why      string

	// Route is the router's choice (route_chosen).
	Route *Route

	// Section is one section's state (section_changed); Sections every
	// section's, pending, when the sections stage starts (stage_started).
	Section  *SectionResult
	Sections []SectionResult

	// Retry is which retry of an attempt this is (attempt_retry), of
	// Retries allowed, made after RetryIn; the failure it follows is Err.
	Retry, Retries int
	RetryIn        time.Duration
}

// eventJSON is the --events wire form.
type eventJSON struct {
	Seq          int             `json:"seq"`
	TMS          float64         `json:"t_ms"`
	Type         string          `json:"type"`
	Session      string          `json:"session"`
	Model        string          `json:"model,omitempty"`
	Role         Role            `json:"role,omitempty"`
	Attempt      string          `json:"attempt,omitempty"`
	Stage        Stage           `json:"stage,omitempty"`
	Status       string          `json:"status,omitempty"`
	ElapsedMS    float64         `json:"elapsed_ms,omitempty"`
	Reviewer     string          `json:"reviewer,omitempty"`
	Ranking      []string        `json:"ranking,omitempty"`
	Invalid      bool            `json:"invalid,omitempty"`
	Raw          string          `json:"raw,omitempty"`
	Why          string          `json:"invalid_reason,omitempty"`
	Route        *Route          `json:"route,omitempty"`
	Section      *SectionResult  `json:"section,omitempty"`
	Sections     []SectionResult `json:"sections,omitempty"`
	Text         string          `json:"text,omitempty"`
	Vote         string          `json:"vote,omitempty"`
	Kind         string          `json:"kind,omitempty"`
	Finish       string          `json:"finish,omitempty"`
	Retry        int             `json:"retry,omitempty"`
	Retries      int             `json:"retries,omitempty"`
	RetryInMS    float64         `json:"retry_in_ms,omitempty"`
	Truncated    bool            `json:"truncated,omitempty"`
	Reason       Reason          `json:"reason,omitempty"`
	Error        string          `json:"error,omitempty"`
	InputTokens  int             `json:"input_tokens,omitempty"`
	OutputTokens int             `json:"output_tokens,omitempty"`
	CostUSD      float64         `json:"cost_usd,omitempty"`
	DelayMS      float64         `json:"delay_ms,omitempty"`
	TieBreak     string          `json:"tie_break,omitempty"`
	From         string          `json:"from,omitempty"`
	To           string          `json:"to,omitempty"`
	Summary      *Summary        `json:"summary,omitempty"`

	// session_started's description (SessionInfo), after every older key.
	Strategy    config.Strategy `json:"strategy,omitempty"`
	Tier        string          `json:"tier,omitempty"`
	Models      []string        `json:"models,omitempty"`
	System      string          `json:"system,omitempty"`
	MaxTokens   int             `json:"max_tokens,omitempty"`
	Temperature *float64        `json:"temperature,omitempty"`
	Stop        []string        `json:"stop,omitempty"`
	Format      *formatJSON     `json:"response_format,omitempty"`
	CostCapUSD  float64         `json:"cost_cap_usd,omitempty"`
	Turn        int             `json:"turn,omitempty"`
	Input       string          `json:"input,omitempty"`
}

// formatJSON is a session's response format in its session_started line.
type formatJSON struct {
	Type   string         `json:"type"`
	Name   string         `json:"name,omitempty"`
	Schema map[string]any `json:"schema,omitempty"`
	Strict bool           `json:"strict,omitempty"`
}

func formatOf(f *providers.ResponseFormat) *formatJSON {
	if f == nil {
		return nil
	}
	return &formatJSON{f.Type, f.Name, f.Schema, f.Strict}
}

func (f *formatJSON) format() *providers.ResponseFormat {
	if f == nil {
		return nil
	}
	return &providers.ResponseFormat{Type: f.Type, Name: f.Name, Schema: f.Schema, Strict: f.Strict}
}

// MarshalJSON writes the event as one --events line object.
func (e Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{
		Seq: e.Seq, TMS: Millis(e.T), Type: e.Type.String(), Session: e.Session,
		Model: e.Model, Role: e.Role, Attempt: e.Attempt, Stage: e.Stage, Text: e.Text, Vote: e.Vote, Reason: e.Reason,
		Error: e.Err, InputTokens: e.InputTokens, OutputTokens: e.OutputTokens,
		CostUSD: e.Cost, DelayMS: Millis(e.Delay), TieBreak: e.TieBreak, Summary: e.Summary,
	}
	if e.Type == AttemptFailed || (e.Type == SessionDone && e.Kind == providers.KindInternal) {
		j.Kind = e.Kind.String()
	}
	if e.Finish != providers.FinishNone {
		j.Finish, j.Truncated = e.Finish.String(), e.Finish == providers.FinishLength
	}
	if e.Type == BreakerChanged {
		j.From, j.To = e.From.String(), e.To.String()
	}
	if d := e.Detail; d != nil {
		j.Status, j.ElapsedMS, j.Reviewer, j.Ranking, j.Invalid, j.Raw, j.Route =
			d.Status, Millis(d.Elapsed), d.Reviewer, d.Ranking, d.Invalid, d.Raw, d.Route
		j.Section, j.Sections, j.Why = d.Section, d.Sections, d.Why
		j.Retry, j.Retries, j.RetryInMS = d.Retry, d.Retries, Millis(d.RetryIn)
		if in := d.Info; in != nil {
			j.Strategy, j.Tier, j.Models, j.CostCapUSD, j.Turn, j.Input = in.Strategy, in.Tier, in.Models, in.CostCapUSD, in.Turn, in.Input
			j.System, j.MaxTokens, j.Temperature = in.Settings.System, in.Settings.MaxTokens, in.Settings.Temperature
			j.Stop, j.Format = in.Settings.Stop, formatOf(in.Settings.Format)
		}
	}
	return json.Marshal(j)
}

// Millis converts a duration to milliseconds with 0.1 ms precision.
func Millis(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}
