package watch

import (
	"time"

	"github.com/council-dev/council/engine"
)

// The event stream's own messages (GET /v1/council/events), beside the
// engine's events, which arrive as `council run --events` prints them.

// Hello is the first message of a stream.
type Hello struct {
	Type      string `json:"type"`
	Instance  string `json:"instance"`
	Version   string `json:"version"`
	StartedMS int64  `json:"started_ms"`
	// Admin: the server takes admin actions (with the admin token).
	Admin bool `json:"admin"`
}

// SessionInfo announces a session before its events.
type SessionInfo struct {
	Type      string   `json:"type"`
	Session   string   `json:"session"`
	Strategy  string   `json:"strategy"`
	Tier      string   `json:"tier"`
	Models    []string `json:"models"`
	Prompt    string   `json:"prompt"`
	StartedMS int64    `json:"started_ms"`
	Client    string   `json:"client"`
}

// Health is an instance's health, sent every second.
type Health struct {
	Type     string        `json:"type"`
	Instance string        `json:"instance"`
	TMS      int64         `json:"t_ms"`
	InFlight int           `json:"in_flight"`
	Models   []ModelHealth `json:"models"`
}

// ModelHealth is one model's row of [Health], and what the admin
// endpoints answer.
type ModelHealth struct {
	Model    string                 `json:"model"`
	Provider string                 `json:"provider"`
	Kind     string                 `json:"kind"`
	Breaker  engine.BreakerSnapshot `json:"breaker"`
	Latency  Latency                `json:"latency"`
	InFlight int                    `json:"in_flight"`
	// Knobs are a simulated model's chaos settings, when the server sends
	// them (after a tune).
	Knobs map[string]float64 `json:"knobs,omitempty"`
}

// Latency is a model's latency percentiles, in milliseconds.
type Latency struct {
	Count     int     `json:"count"`
	TTFTP50MS float64 `json:"ttft_p50_ms"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
	P99MS     float64 `json:"p99_ms"`
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
