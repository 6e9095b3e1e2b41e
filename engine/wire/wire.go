// Package wire is the JSON of council serve's event stream (GET
// /v1/council/events) and of its admin actions: what `council serve`
// writes and `council watch` reads, defined once for both.
package wire

import (
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// The stream's messages, beside the engine's own events. Each SSE
// message is "event: <type>\ndata: <one JSON object>\n\n"; engine events
// are written as [engine.Event.MarshalJSON] writes them, under their own
// type.

// SSE event names besides the engine's own event types.
const (
	EventHello   = "hello"
	EventSession = "session"
	EventHealth  = "health"
	EventDropped = "dropped"
)

// MaxLineBytes caps one line of an event's JSON, in the event stream and
// in a session log alike: a session_done's summary carries every answer,
// so lines may be long, but not without end (a reader stops there rather
// than hold whatever a damaged or hostile source sends).
const MaxLineBytes = 16 << 20

// Hello is the first message of the event stream.
type Hello struct {
	Type      string `json:"type"` // "hello"
	Instance  string `json:"instance"`
	Version   string `json:"version"`
	StartedMS int64  `json:"started_ms"` // Unix milliseconds
	// Admin says whether admin actions are enabled on this server (an
	// admin token is configured), not whether the watcher holds it.
	Admin bool `json:"admin"`
	// Tiers are the server's tiers, their models and timeouts (absent
	// from older servers): a watcher scales its latency bars by them
	// rather than guess.
	Tiers []Tier `json:"tiers,omitempty"`
}

// Tier is one of a server's tiers, as its hello describes it.
type Tier struct {
	Name   string   `json:"name"`
	Models []string `json:"models"`
	// TimeoutMS bounds a session, PerModelTimeoutMS one model's call, in
	// milliseconds (0: none).
	TimeoutMS         int64 `json:"timeout_ms"`
	PerModelTimeoutMS int64 `json:"per_model_timeout_ms"`
}

// TiersOf is cfg's tiers as a hello sends them, in the config's order.
func TiersOf(cfg *config.Config) []Tier {
	if cfg == nil {
		return nil
	}
	var out []Tier
	for _, name := range cfg.TierOrder() {
		t := cfg.Tiers[name]
		out = append(out, Tier{Name: name, Models: t.Models, TimeoutMS: t.Timeout.Milliseconds(), PerModelTimeoutMS: t.PerModelTimeout.Milliseconds()})
	}
	return out
}

// Session announces a session, before its events.
type Session struct {
	Type      string   `json:"type"` // "session"
	Session   string   `json:"session"`
	Strategy  string   `json:"strategy"`
	Tier      string   `json:"tier"`
	Models    []string `json:"models"`
	Prompt    string   `json:"prompt"`
	StartedMS int64    `json:"started_ms"` // Unix milliseconds
	// Client is who asked: the index of the client token in tokens_env
	// ("0", "1", ...), or "loopback" when the server needs no token.
	Client string `json:"client"`
	// Model is what the request named ("council/race@quick", a model id).
	Model string `json:"model,omitempty"`
}

// Dropped comes after hello when the backlog leaves sessions out to stay
// within the server's serve.backlog_bytes: the oldest finished go first,
// then the oldest in flight (whose events then are not sent either).
type Dropped struct {
	Type string `json:"type"` // "dropped"
	// Sessions are the ids left out, oldest first.
	Sessions   []string `json:"sessions"`
	LimitBytes int      `json:"limit_bytes"`
}

// Health is the state of every model, sent every second.
type Health struct {
	Type     string        `json:"type"` // "health"
	Instance string        `json:"instance"`
	TMS      int64         `json:"t_ms"` // Unix milliseconds
	InFlight int           `json:"in_flight"`
	Models   []ModelHealth `json:"models"`
	// Shared is "shared" for a replica sharing its state with a fleet,
	// "degraded" while that state cannot be reached (the replica uses its
	// own); absent for a server alone.
	Shared string `json:"shared,omitempty"`
}

// ModelHealth is one model's breaker, latency and calls in flight.
type ModelHealth struct {
	Model    string                 `json:"model"`
	Provider string                 `json:"provider"`
	Kind     string                 `json:"kind"`
	Breaker  engine.BreakerSnapshot `json:"breaker"`
	Latency  Latency                `json:"latency"`
	InFlight int                    `json:"in_flight"`
	// Knobs are a simulated model's chaos settings (error_rate...).
	Knobs map[string]float64 `json:"knobs,omitempty"`
	// Recent are its latest calls' outcomes, oldest first: ok, failed,
	// cancelled, skipped (absent from older servers).
	Recent []string `json:"recent,omitempty"`
}

// outcomeNames are the outcomes as Recent spells them, by engine.Outcome.
var outcomeNames = map[engine.Outcome]string{engine.OutcomeOK: "ok", engine.OutcomeFailed: "failed",
	engine.OutcomeCancelled: "cancelled", engine.OutcomeSkipped: "skipped"}

// Latency is a model's latency over its sliding window, in milliseconds.
type Latency struct {
	Count     int     `json:"count"`
	TTFTP50MS float64 `json:"ttft_p50_ms"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
	P99MS     float64 `json:"p99_ms"`
	// P50AtLeast (and P95's, P99's): that quantile is a lower bound (see
	// [engine.Quantiles]).
	P50AtLeast bool `json:"p50_at_least,omitempty"`
	P95AtLeast bool `json:"p95_at_least,omitempty"`
	P99AtLeast bool `json:"p99_at_least,omitempty"`
}

// The admin actions, each POST /v1/council/admin/ACTION ([AdminPath]) with
// its request below. AdminActions lists them all: council serve routes
// each one and council watch sends each one (TestAdminActionsRouted and
// TestHubSendsEveryAdminAction fail for an action left out).
const (
	AdminBreaker = "breaker" // [BreakerRequest]
	AdminReset   = "reset"   // [ResetRequest]
	AdminTune    = "tune"    // [TuneRequest]
)

// AdminActions are every admin action, in the order the docs list them.
var AdminActions = []string{AdminBreaker, AdminReset, AdminTune}

// AdminPath is the path of admin action a.
func AdminPath(a string) string { return "/v1/council/admin/" + a }

// BreakerRequest is the body of POST /v1/council/admin/breaker: force
// is "open", "closed" or "none" (the breaker decides again).
type BreakerRequest struct {
	Model string `json:"model"`
	Force string `json:"force"`
}

// ResetRequest is the body of POST /v1/council/admin/reset.
type ResetRequest struct {
	Model string `json:"model"`
}

// TuneRequest is the body of POST /v1/council/admin/tune: a simulated
// model's chaos knob (error_rate, stall_rate, ...) changed by Delta.
type TuneRequest struct {
	Model string  `json:"model"`
	Knob  string  `json:"knob"`
	Delta float64 `json:"delta"`
}

// Admin actions answer 200 with the model's [ModelHealth].

// ErrorBody is an error, in OpenAI's shape: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is what went wrong.
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// HealthOf is model h's row as the stream sends it, with inFlight
// calls running: the inverse of [ModelHealth.Engine].
func HealthOf(h engine.ModelHealth, inFlight int) ModelHealth {
	var recent []string
	for _, o := range h.Recent {
		if n, ok := outcomeNames[o]; ok {
			recent = append(recent, n)
		}
	}
	return ModelHealth{Model: h.ID, Provider: h.Provider, Kind: h.ProviderKind, Breaker: h.Breaker, InFlight: inFlight,
		Knobs: h.Knobs, Recent: recent,
		Latency: Latency{Count: h.Latency.Count, TTFTP50MS: engine.Millis(h.Latency.TTFT.P50),
			P50MS: engine.Millis(h.Latency.Total.P50), P95MS: engine.Millis(h.Latency.Total.P95), P99MS: engine.Millis(h.Latency.Total.P99),
			P50AtLeast: h.Latency.Total.P50AtLeast, P95AtLeast: h.Latency.Total.P95AtLeast, P99AtLeast: h.Latency.Total.P99AtLeast}}
}

// Engine is the row as the dashboard's breaker board reads it.
func (h ModelHealth) Engine() engine.ModelHealth {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	b := h.Breaker
	b.HalfOpenIn, b.HeldFor = ms(b.HalfOpenInMS), ms(b.HeldForMS)
	var recent []engine.Outcome
	for _, r := range h.Recent {
		for o, n := range outcomeNames {
			if n == r {
				recent = append(recent, o)
			}
		}
	}
	return engine.ModelHealth{ID: h.Model, Provider: h.Provider, ProviderKind: h.Kind, Breaker: b, Knobs: h.Knobs, Recent: recent,
		Latency: engine.LatencySnapshot{Count: h.Latency.Count, TTFT: engine.Quantiles{P50: ms(h.Latency.TTFTP50MS)},
			Total: engine.Quantiles{P50: ms(h.Latency.P50MS), P95: ms(h.Latency.P95MS), P99: ms(h.Latency.P99MS),
				P50AtLeast: h.Latency.P50AtLeast, P95AtLeast: h.Latency.P95AtLeast, P99AtLeast: h.Latency.P99AtLeast}}}
}
