// Package wire is the JSON of council serve's event stream (GET
// /v1/council/events) and of its admin actions: what `council serve`
// writes and `council watch` reads, defined once for both.
package wire

import (
	"time"

	"github.com/council-dev/council/engine"
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
)

// Hello is the first message of the event stream.
type Hello struct {
	Type      string `json:"type"` // "hello"
	Instance  string `json:"instance"`
	Version   string `json:"version"`
	StartedMS int64  `json:"started_ms"` // Unix milliseconds
	// Admin says whether admin actions are enabled on this server (an
	// admin token is configured), not whether the watcher holds it.
	Admin bool `json:"admin"`
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
}

// Latency is a model's latency over its sliding window, in milliseconds.
type Latency struct {
	Count     int     `json:"count"`
	TTFTP50MS float64 `json:"ttft_p50_ms"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
	P99MS     float64 `json:"p99_ms"`
}

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
	return ModelHealth{Model: h.ID, Provider: h.Provider, Kind: h.ProviderKind, Breaker: h.Breaker, InFlight: inFlight,
		Knobs: h.Knobs,
		Latency: Latency{Count: h.Latency.Count, TTFTP50MS: engine.Millis(h.Latency.TTFT.P50),
			P50MS: engine.Millis(h.Latency.Total.P50), P95MS: engine.Millis(h.Latency.Total.P95), P99MS: engine.Millis(h.Latency.Total.P99)}}
}

// Engine is the row as the dashboard's breaker board reads it.
func (h ModelHealth) Engine() engine.ModelHealth {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	b := h.Breaker
	b.HalfOpenIn, b.HeldFor = ms(b.HalfOpenInMS), ms(b.HeldForMS)
	return engine.ModelHealth{ID: h.Model, Provider: h.Provider, ProviderKind: h.Kind, Breaker: b, Knobs: h.Knobs,
		Latency: engine.LatencySnapshot{Count: h.Latency.Count, TTFT: engine.Quantiles{P50: ms(h.Latency.TTFTP50MS)},
			Total: engine.Quantiles{P50: ms(h.Latency.P50MS), P95: ms(h.Latency.P95MS), P99: ms(h.Latency.P99MS)}}}
}
