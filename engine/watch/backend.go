package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
)

// The hub is the dashboard's backend in watch mode: the health is the
// servers', breaker actions go to their admin endpoints, and sessions are
// not started here.

// Health is the board: see [Rows].
func (h *Hub) Health() []engine.ModelHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rowsLocked()
}

// Start refuses: sessions come from the servers.
func (h *Hub) Start(context.Context, engine.SessionRequest) (<-chan engine.Event, error) {
	return nil, ErrWatching
}

// Config is a council of the watched models, for the dashboard's panes
// and for exported logs, which `council replay` plays: the built-in
// defaults, each watched model under its provider, one tier "watched"
// with them all, and nothing that names a model the servers do not
// report. It holds no key: the servers' are theirs.
func (h *Hub) Config() *config.Config {
	h.mu.Lock()
	defer h.mu.Unlock()
	cfg := config.Demo()
	tier := cfg.Tiers["quick"] // its timeouts scale the panes' latency bars
	cfg.DefaultStrategy, cfg.DefaultTier, cfg.Providers, cfg.Models = config.Race, "watched", map[string]config.ProviderConfig{}, nil
	cfg.Hedge.Primary, cfg.Hedge.Backup, cfg.Consensus.EscalateTo = "", "", ""
	cfg.Council.Chairman, cfg.Council.FallbackChairman, cfg.Council.Reviewers = "", "", nil
	cfg.Router.Classifier = ""
	for i := range cfg.Router.Routes {
		cfg.Router.Routes[i].Tier = ""
	}
	cfg.Source, cfg.Why = "", ""
	seen := map[string]bool{}
	var ids []string
	for _, in := range h.insts {
		for _, m := range h.health[in.label] {
			if seen[m.Model] {
				continue
			}
			seen[m.Model] = true
			ids = append(ids, m.Model)
			prov := m.Provider
			if prov == "" {
				prov = m.Kind
			}
			cfg.Providers[prov] = config.ProviderConfig{Kind: m.Kind}
			cfg.Models = append(cfg.Models, config.ModelConfig{ID: m.Model, Provider: prov, Model: m.Model})
		}
	}
	tier.Models = ids
	cfg.Tiers = map[string]config.TierConfig{"watched": tier}
	return cfg
}

// ForceBreaker forces model's breaker on every instance that serves it
// ("model@instance": on that one).
func (h *Hub) ForceBreaker(model string, f engine.Force) error {
	_, err := h.admin(model, wire.AdminBreaker, map[string]any{"force": f.String()})
	return err
}

// ResetBreaker clears model's breaker counts on every instance that
// serves it; it returns the worst state it left.
func (h *Hub) ResetBreaker(model string) (engine.BreakerState, error) {
	from := engine.BreakerClosed
	for _, r := range h.Health() {
		if r.ID == model {
			from = r.Breaker.State
		}
	}
	_, err := h.admin(model, wire.AdminReset, nil)
	return from, err
}

// Tune moves a simulated model's chaos knob by delta on every instance
// that serves it; it returns the new value when the server says it, else
// NaN.
func (h *Hub) Tune(model, knob string, delta float64) (float64, error) {
	rows, err := h.admin(model, wire.AdminTune, map[string]any{"knob": knob, "delta": delta})
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if v, ok := r.Knobs[knob]; ok {
			return v, nil
		}
	}
	return math.NaN(), nil
}

// adminTimeout bounds one admin request.
const adminTimeout = 10 * time.Second

// admin posts an admin action for model to the instances that serve it
// and keeps the model's health each answers.
func (h *Hub) admin(model, action string, body map[string]any) ([]wire.ModelHealth, error) {
	if h.opts.AdminToken == "" {
		return nil, ErrReadOnly
	}
	id, only, _ := strings.Cut(model, "@")
	var targets []*instance
	h.mu.Lock()
	for _, in := range h.insts {
		if only != "" && in.label != only {
			continue
		}
		for _, m := range h.health[in.label] {
			if m.Model == id {
				targets = append(targets, in)
				break
			}
		}
	}
	h.mu.Unlock()
	if len(targets) == 0 {
		return nil, fmt.Errorf("no watched server reports model %s", model)
	}
	if body == nil {
		body = map[string]any{}
	}
	body["model"] = id
	var out []wire.ModelHealth
	for _, in := range targets {
		r, err := h.post(in, action, body)
		if err != nil {
			return out, fmt.Errorf("%s: %w", in.label, err)
		}
		out = append(out, r)
		h.mu.Lock()
		for i, m := range h.health[in.label] {
			if m.Model == id {
				h.health[in.label][i] = r
			}
		}
		h.mu.Unlock()
	}
	return out, nil
}

func (h *Hub) post(in *instance, action string, body map[string]any) (wire.ModelHealth, error) {
	var r wire.ModelHealth
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.base+wire.AdminPath(action), bytes.NewReader(b))
	if err != nil {
		return r, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.opts.AdminToken)
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return r, err
	}
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return r, fmt.Errorf("HTTP %d: the server refused the admin token", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		msg := strings.TrimSpace(providers.SafeText(string(data)))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return r, fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("the server's answer: %w", err)
	}
	return r, nil
}
