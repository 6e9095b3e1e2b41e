// Package config is council's configuration: the types of every key, TOML
// loading with errors that name the file, line and key, the defaults, the
// validation, and the built-in councils (the demo council of simulated
// models, and the default council built from the API keys in the
// environment). The engine receives a validated [Config] and never parses.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The values of follow_up.
const (
	FollowOwn    = "own"
	FollowWinner = "winner"
)

// Config is the whole setup: strategies' settings, tiers, providers and
// models. Load one with [Load] or [Parse],
// or take the built-in demo council with [Demo]; all of them apply the
// defaults and validate.
type Config struct {
	DefaultStrategy Strategy `toml:"default_strategy"`
	DefaultTier     string   `toml:"default_tier"`
	MaxConcurrency  int      `toml:"max_concurrency"`
	// Theme is the dashboard's colour theme name (an extension).
	Theme string `toml:"theme"`
	// Record writes every session (headless or in the dashboard) to a log
	// in RecordDir, one file per session; RecordDir defaults to
	// $XDG_STATE_HOME/council/sessions (~/.local/state/council/sessions).
	Record    bool   `toml:"record"`
	RecordDir string `toml:"record_dir"`
	// MaxCostUSD caps one session's cost and MaxRunCostUSD the whole
	// process's (a dashboard run, a --repeat): a session whose worst case
	// would cross a cap does not start, and an attempt that would cross it
	// is not launched. 0: no cap.
	MaxCostUSD    float64 `toml:"max_cost_usd"`
	MaxRunCostUSD float64 `toml:"max_run_cost_usd"`
	// FollowUp is what a model is shown of earlier turns when a session
	// continues a conversation: "own" (its own answers; the default) or
	// "winner" (every model sees each turn's final answer).
	FollowUp string `toml:"follow_up"`

	Breaker   BreakerConfig             `toml:"breaker"`
	Race      RaceConfig                `toml:"race"`
	Hedge     HedgeConfig               `toml:"hedge"`
	Consensus ConsensusConfig           `toml:"consensus"`
	Council   CouncilConfig             `toml:"council"`
	Router    RouterConfig              `toml:"router"`
	Section   SectionConfig             `toml:"section"`
	Limits    LimitsConfig              `toml:"limits"`
	Retry     RetryConfig               `toml:"retry"`
	Dashboard DashboardConfig           `toml:"dashboard"`
	Serve     ServeConfig               `toml:"serve"`
	Shared    SharedConfig              `toml:"shared"`
	Tiers     map[string]TierConfig     `toml:"tiers"`
	Providers map[string]ProviderConfig `toml:"providers"`
	Models    []ModelConfig             `toml:"models"`

	// Source names where the config came from: a file path, or
	// "built-in demo council".
	Source string `toml:"-"`
	// Why says why this council is in use ("no config file and no API key
	// in the environment"), shown by the dashboard and config check.
	Why string `toml:"-"`

	// keys are where each key is written in Source, for errors found
	// after loading (see [Config.Errorf]).
	keys []keyPos
}

// BreakerConfig sets every model's circuit breaker.
type BreakerConfig struct {
	// FailureRate trips the breaker when failures/requests in the window
	// are more than it (default 0.25: 2 failures in 8 do not trip it, 3
	// in 8 do; 1 never trips).
	FailureRate float64 `toml:"failure_rate"`
	// MinRequests is the volume below which the breaker never trips (5).
	MinRequests int `toml:"min_requests"`
	// Window is the rolling window the rate is measured over (10m).
	Window Duration `toml:"window"`
	// Cooldown is how long an open breaker waits before half-opening (30m).
	Cooldown Duration `toml:"cooldown"`
}

// HedgeConfig sets the hedge strategy.
type HedgeConfig struct {
	// Delay is when the backup fires: a duration, "0s", or "p95"/"p90".
	Delay HedgeDelay `toml:"delay"`
	// FallbackDelay is used for a quantile delay until enough samples exist.
	FallbackDelay Duration `toml:"fallback_delay"`
	// Budget is how long the primary is preferred even if the backup
	// finished first.
	Budget Duration `toml:"budget"`
	// MaxExtra is the fraction of hedge sessions that may fire a backup.
	MaxExtra float64 `toml:"max_extra"`
	Primary  string  `toml:"primary"`
	Backup   string  `toml:"backup"`
	// Replace (default true): when a quantile delay fires at the knee of
	// the primary's slow mode and max_extra refuses the backup, the
	// primary is cancelled (reason replaced) and the backup asked in its
	// place, which adds no call in flight; false waits on the primary and
	// fails over only when it fails.
	Replace bool `toml:"replace"`
}

// ConsensusConfig sets the consensus strategy.
type ConsensusConfig struct {
	Voters        int      `toml:"voters"`
	MinResponses  int      `toml:"min_responses"`
	Categories    []string `toml:"categories"`
	TieBreak      TieBreak `toml:"tie_break"`
	EscalateTo    string   `toml:"escalate_to"`
	DefaultAnswer string   `toml:"default_answer"`
}

// CouncilConfig sets the three-stage council strategy.
type CouncilConfig struct {
	// MinResponses is how many stage-1 answers let the council move on
	// to review (default 3, at most the members); the stragglers are
	// cancelled.
	MinResponses int `toml:"min_responses"`
	// Chairman writes the synthesis; empty: the Borda leader's model.
	Chairman string `toml:"chairman"`
	// FallbackChairman takes over when the chairman fails; empty: the
	// next healthy model.
	FallbackChairman string `toml:"fallback_chairman"`
	// Reviewers rank the answers; empty: the stage-1 models.
	Reviewers []string `toml:"reviewers"`
}

// RouterConfig sets the router (strategy auto).
type RouterConfig struct {
	// DefaultRoute is the route taken when nothing else is confident
	// enough (default "chat").
	DefaultRoute string `toml:"default_route"`
	// Classifier is a model asked to pick the route, its answer parsed
	// like a vote; empty: rules only.
	Classifier string `toml:"classifier"`
	// MinConfidence is the confidence below which the default route is
	// taken (default 0.6).
	MinConfidence float64 `toml:"min_confidence"`
	// Routes are the rules, in order; without any, the built-in ones.
	Routes []RouteConfig `toml:"routes"`
}

// RouteConfig is one rule of the router. What a prompt matches of it is
// its evidence for the route: a keyword 1, a pattern 2, a long enough
// prompt 1 (see the engine's routeByRules for the confidence).
type RouteConfig struct {
	Name     string   `toml:"name"`
	Strategy Strategy `toml:"strategy"`
	// Keywords match whole words (or phrases) of the prompt,
	// case-insensitively, with Unicode word boundaries: "rust" matches
	// "Rust" and "rust's" but not "trust" or "frustrated". A keyword also
	// matches its plural (-s, -es). A trailing * makes a stem: "invest*"
	// matches "investing" and "investment" (and "investigate": a stem
	// matches every word it begins).
	Keywords []string `toml:"keywords"`
	// Patterns are regular expressions matched against the prompt.
	Patterns []string `toml:"patterns"`
	// Unless are regular expressions that take the route out of the
	// running when one matches ("Could you explain ...?" is a request,
	// not a yes/no question).
	Unless []string `toml:"unless"`
	// MinWords matches a prompt of at least this many words (0: off).
	MinWords int `toml:"min_words"`
	// Tier is the tier the route runs in; empty: the session's.
	Tier string `toml:"tier"`
	// Categories are the answers of a consensus route (a yes/no route's
	// "yes", "no"), used by its consensus instead of
	// consensus.categories; empty: consensus.categories.
	Categories []string `toml:"categories"`
}

// RetryConfig sets the engine's retries: a call that fails before its
// first token with a 5xx, a 429 or a failed connection is made again, up to
// Attempts more times, after Backoff doubling each time (with jitter; never
// sooner than a 429's Retry-After, never past the attempt's timeout).
// Never after tokens have streamed, never for auth or invalid requests.
type RetryConfig struct {
	Attempts int      `toml:"attempts"`
	Backoff  Duration `toml:"backoff"`
}

// LimitsConfig bounds what a session may read or hold, so that a hostile
// or broken endpoint costs neither memory nor time.
type LimitsConfig struct {
	// MaxEventBytes bounds one streamed event (an SSE data line); default 1 MiB.
	MaxEventBytes int `toml:"max_event_bytes"`
	// MaxAnswerBytes bounds one attempt's answer; default 4 MiB.
	MaxAnswerBytes int `toml:"max_answer_bytes"`
	// MaxErrorBodyBytes bounds the body of an error response read; default 64 KiB.
	MaxErrorBodyBytes int `toml:"max_error_body_bytes"`
	// MaxPromptBytes bounds a prompt; default 1 MiB.
	MaxPromptBytes int `toml:"max_prompt_bytes"`
}

// TieBreak is what consensus does on a tie.
type TieBreak string

// Tie-break policies.
const (
	TieEscalate TieBreak = "escalate"
	TieDefault  TieBreak = "default"
	TieFail     TieBreak = "fail"
)

// TierConfig is a pool of models with its timeouts.
type TierConfig struct {
	Models          []string `toml:"models"`
	Timeout         Duration `toml:"timeout"`
	PerModelTimeout Duration `toml:"per_model_timeout"`
	StallTimeout    Duration `toml:"stall_timeout"`
	// How the tier's models are asked, unless a model or the request says
	// otherwise: a system prompt, an answer's token limit, a temperature.
	System      string   `toml:"system"`
	MaxTokens   int      `toml:"max_tokens"`
	Temperature *float64 `toml:"temperature"`
}

// ProviderConfig is one API endpoint and how to find its key.
type ProviderConfig struct {
	// Kind is a registered provider kind (providers.Kinds: openai,
	// openai-compatible, anthropic, gemini, sim when all are built in).
	Kind    string `toml:"kind"`
	BaseURL string `toml:"base_url"`
	// APIKeyEnv names the environment variable holding the key.
	APIKeyEnv string `toml:"api_key_env"`
	// APIKeyCmd is a command whose output is the key (a password manager).
	APIKeyCmd string `toml:"api_key_cmd"`
	// APIKey is a key written inline; allowed, warned about when the file
	// is readable by others, never printed.
	APIKey string `toml:"api_key"`
	// Headers are sent with every request (a gateway's own headers); a
	// value written "${VAR}" is read from the environment and treated as
	// a secret. They never replace the key's header or the SDK's own.
	Headers map[string]string `toml:"headers"`
	// Query parameters are added to every request's URL (Azure's
	// api-version); "${VAR}" values as for Headers.
	Query map[string]string `toml:"query"`
}

// RaceConfig tunes the race strategy ([race]).
type RaceConfig struct {
	// AcceptTruncated lets an answer cut by the token limit (finish
	// length) win at once; by default it wins only when no whole answer
	// can come any more.
	AcceptTruncated bool `toml:"accept_truncated"`
}

// ModelConfig is one model of the council.
type ModelConfig struct {
	ID            string  `toml:"id"`
	Provider      string  `toml:"provider"`
	Model         string  `toml:"model"`
	InputPerMTok  float64 `toml:"input_per_mtok"`
	OutputPerMTok float64 `toml:"output_per_mtok"`
	// CachedInputPerMTok prices input tokens read from the vendor's
	// prompt cache; nil means the input price.
	CachedInputPerMTok *float64 `toml:"cached_input_per_mtok"`
	// CacheWritePerMTok prices input tokens written to the vendor's
	// prompt cache (Anthropic's cache_creation_input_tokens); nil means
	// the input price, as for cached reads.
	CacheWritePerMTok *float64 `toml:"cache_write_per_mtok"`
	MaxTokens         int      `toml:"max_tokens"`
	// System and Temperature are how this model is asked unless the
	// request says otherwise.
	System      string   `toml:"system"`
	Temperature *float64 `toml:"temperature"`
	// Unsupported names the settings this model refuses ("temperature" on
	// some reasoning models, "system", "max_tokens"): they are dropped for
	// it, with a note, instead of failing the call.
	Unsupported []string `toml:"unsupported"`
	// Fallbacks take this model's place (its role kept) when its breaker
	// keeps it back or its retries are spent: the first healthy one.
	Fallbacks []string   `toml:"fallbacks"`
	Sim       *SimConfig `toml:"sim"`
}

// SimConfig is a simulated model's character ([models.sim]).
type SimConfig struct {
	TTFT          Duration `toml:"ttft"`
	TTFTP95       Duration `toml:"ttft_p95"`
	TokensPerSec  float64  `toml:"tokens_per_sec"`
	OutputTokens  int      `toml:"output_tokens"`
	ErrorRate     float64  `toml:"error_rate"`
	RateLimitRate float64  `toml:"rate_limit_rate"`
	StallRate     float64  `toml:"stall_rate"`
	CutRate       float64  `toml:"cut_rate"`
	// BadRankingRate is the chance that a review's ranking is malformed.
	BadRankingRate float64            `toml:"bad_ranking_rate"`
	SlowRate       float64            `toml:"slow_rate"`
	SlowFactor     float64            `toml:"slow_factor"`
	Answers        map[string]float64 `toml:"answers"`
	// Capacity is how many calls the model serves at full speed; a call
	// started while n are in flight, n >= capacity, is (n+1)/capacity
	// times slower (0: unlimited).
	Capacity int `toml:"capacity"`
}

// Duration is a time.Duration written as "150ms" or "2s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"150ms\", \"2s\", \"10m\")", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// HedgeDelay is a fixed delay or a quantile of the primary's latency.
type HedgeDelay struct {
	Fixed    time.Duration
	Quantile float64 // 0.95 for "p95"; 0 when Fixed applies
}

// UnmarshalText parses "p95", "p90", "p99" or a duration ("0s", "300ms").
func (h *HedgeDelay) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "p"); ok {
		n, err := strconv.ParseFloat(rest, 64)
		if err != nil || !(n > 0 && n < 100) { // NaN fails too
			return fmt.Errorf("invalid hedge delay %q (want a duration or p50..p99)", s)
		}
		*h = HedgeDelay{Quantile: n / 100}
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid hedge delay %q (want a duration such as \"300ms\", \"0s\", or \"p95\")", s)
	}
	*h = HedgeDelay{Fixed: v}
	return nil
}

// MarshalText writes "p95" or the duration.
func (h HedgeDelay) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// String returns "p95" or the duration.
func (h HedgeDelay) String() string {
	if h.Quantile > 0 {
		return "p" + strconv.FormatFloat(h.Quantile*100, 'f', -1, 64)
	}
	return h.Fixed.String()
}

// Strategy is how a session uses its models.
type Strategy string

// Strategies.
const (
	Race      Strategy = "race"
	Hedge     Strategy = "hedge"
	Consensus Strategy = "consensus"
	// Council is the three-stage council: answers, peer review, synthesis.
	Council Strategy = "council"
	// Auto routes each prompt to one of the others ([RouterConfig]).
	Auto Strategy = "auto"
	// Section splits a document, runs its sections in parallel and merges
	// the results ([SectionConfig]). It needs a document, so it is not in
	// [Strategies] (the dashboard's cycle without --input); [ParseStrategy]
	// accepts it.
	Section Strategy = "section"
)

// Strategies lists the strategies this engine runs on a prompt alone, in
// the order the dashboard cycles through them. Config keeps the names
// because a config file is validated without the engine (which imports
// config, not the other way round); everything else about a strategy is
// in the engine's registry (engine.Strategies), and the engine's
// TestRegistryAgreesWithConfig fails when the two disagree.
var Strategies = []Strategy{Race, Hedge, Consensus, Council, Auto}

// ParseStrategy validates a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	if Strategy(s) == Section {
		return Section, nil
	}
	for _, st := range Strategies {
		if Strategy(s) == st {
			return st, nil
		}
	}
	names := make([]string, len(Strategies))
	for i, st := range Strategies {
		names[i] = string(st)
	}
	names = append(names, string(Section)+" (with a document)")
	return "", fmt.Errorf("unknown strategy %q (want %s)", s, strings.Join(names, ", "))
}

// Settings are the request settings a model may refuse (see
// ModelConfig.Unsupported).
var Settings = []string{"system", "max_tokens", "temperature"}

// TierNames lists the standard tiers in order.
var TierNames = []string{"quick", "balanced", "high", "reasoning"}

// tierDefaults are the session and per-model timeouts of each standard tier.
var tierDefaults = map[string][2]time.Duration{
	"quick":     {30 * time.Second, 20 * time.Second},
	"balanced":  {90 * time.Second, 45 * time.Second},
	"high":      {180 * time.Second, 90 * time.Second},
	"reasoning": {600 * time.Second, 300 * time.Second},
}

// SectionConfig sets the section strategy: a document split into sections
// that run in parallel, each asked the instruction, then merged.
type SectionConfig struct {
	// Split is how the document is cut: "headings" (Markdown headings),
	// "paragraphs" (blank lines) or "tokens" (about ChunkTokens each,
	// never cutting a sentence). Default "headings".
	Split SplitMode `toml:"split"`
	// ChunkTokens is the size target of split = "tokens" (default 800).
	ChunkTokens int `toml:"chunk_tokens"`
	// MaxSections is the most sections a document may split into; more
	// is an error, not a truncation (default 40).
	MaxSections int `toml:"max_sections"`
	// Merge is how the results are combined: "concat" (document order,
	// with titles) or "synthesis" (a final call; default "concat").
	Merge MergeMode `toml:"merge"`
	// Vote runs each section matching VoteWhen this many times, each run
	// ending with a verdict among VoteCategories (0 or 1: off).
	Vote int `toml:"vote"`
	// VoteWhen are keywords (case-insensitive substrings) or, written
	// "/like this/", regular expressions; a section matching any is voted.
	VoteWhen []string `toml:"vote_when"`
	// VoteCategories are the verdicts a voted run may give (default
	// ["ok", "risk"]).
	VoteCategories []string `toml:"vote_categories"`
}

// SplitMode is how the section strategy cuts a document.
type SplitMode string

// Split modes.
const (
	SplitHeadings   SplitMode = "headings"
	SplitParagraphs SplitMode = "paragraphs"
	SplitTokens     SplitMode = "tokens"
)

// MergeMode is how the section strategy combines its sections' results.
type MergeMode string

// Merge modes.
const (
	MergeConcat    MergeMode = "concat"
	MergeSynthesis MergeMode = "synthesis"
)
