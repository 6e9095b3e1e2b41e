package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
)

// modelPrefix starts a strategy's model name: "council/race@quick".
const modelPrefix = "council/"

// chatRequest is what this server reads of a chat completion request;
// other fields are ignored, those it cannot honour refused.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	MaxTokens           int             `json:"max_tokens"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	Stop                json.RawMessage `json:"stop"`
	ResponseFormat      json.RawMessage `json:"response_format"`
	N                   *int            `json:"n"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// params is each refused parameter present, as sent (contract.go).
	params map[string]json.RawMessage
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text is a message's content: a string, or the text of its parts.
func (m chatMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", fmt.Errorf("a %s message's content must be a string or a list of text parts", m.Role)
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part of type %q is not supported: only text", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// apiError is a request refused, with its status and OpenAI error code.
type apiError struct {
	status    int
	typ, code string
	msg       string
	param     string // the parameter at fault, if one is
}

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: code, msg: fmt.Sprintf(format, args...)}
}

// resolve turns a request's model into the session's strategy, tier and
// models: "council/STRATEGY[@TIER]", or one configured model id, passed
// through (a race of one, still behind its breaker).
func (s *Server) resolve(model string, req *engine.SessionRequest) *apiError {
	cfg := s.eng.Config()
	if slices.ContainsFunc(cfg.Models, func(m config.ModelConfig) bool { return m.ID == model }) {
		req.Strategy, req.Models = config.Race, []string{model}
		return nil
	}
	name, ok := strings.CutPrefix(model, modelPrefix)
	if !ok {
		return &apiError{http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("the model %q does not exist here: ask for %s (optionally @tier), or a configured model id (GET /v1/models lists them)", model, strategyModels(", ")), "model"}
	}
	strat, tier, _ := strings.Cut(name, "@")
	st := config.Strategy(strat)
	if info, ok := engine.LookupStrategy(st); !ok || !info.PromptAlone {
		return &apiError{http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("unknown strategy %q in model %q (want %s)", strat, model, engine.StrategyNames(", ", true)), "model"}
	}
	if tier != "" {
		if _, ok := cfg.Tier(tier); !ok {
			return &apiError{http.StatusNotFound, "invalid_request_error", "model_not_found",
				fmt.Sprintf("unknown tier %q in model %q (tiers: %s)", tier, model, strings.Join(cfg.TierOrder(), ", ")), "model"}
		}
	}
	req.Strategy, req.Tier = st, tier
	return nil
}

// strategyModels names the model of every strategy a chat completion can
// ask for (council/race, ...), joined by sep.
func strategyModels(sep string) string {
	return modelPrefix + strings.ReplaceAll(engine.StrategyNames(","+modelPrefix, true), ",", sep)
}

// sessionRequest builds the session a chat request asks for: system
// messages become the system prompt, earlier user and assistant messages
// the conversation, the last user message the prompt.
func (s *Server) sessionRequest(cr *chatRequest) (engine.SessionRequest, *apiError) {
	var req engine.SessionRequest
	if cr.Model == "" {
		return req, badRequest("missing_model", "model is required: %s, or a configured model id", strategyModels(", "))
	}
	if cr.N != nil && *cr.N > 1 {
		e := badRequest("unsupported_parameter", "n = %d is not supported: the strategy decides one answer", *cr.N)
		e.param = "n"
		return req, e
	}
	if cr.N != nil && *cr.N < 1 {
		e := badRequest("invalid_value", "n must be at least 1, got %d", *cr.N)
		e.param = "n"
		return req, e
	}
	if e := refuseUnhonoured(cr.params); e != nil {
		return req, e
	}
	if len(cr.Messages) == 0 {
		return req, badRequest("missing_messages", "messages is required: at least one user message")
	}
	var system []string
	var pending []string
	for i, m := range cr.Messages {
		txt, err := m.text()
		if err != nil {
			return req, badRequest("invalid_content", "messages[%d]: %v", i, err)
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, txt)
		case "user":
			pending = append(pending, txt)
		case "assistant":
			req.Turns = append(req.Turns, engine.Turn{Prompt: strings.Join(pending, "\n\n"), Answer: txt})
			pending = nil
		default:
			return req, badRequest("invalid_role", "messages[%d]: role %q is not supported (system, developer, user, assistant)", i, m.Role)
		}
	}
	if last := cr.Messages[len(cr.Messages)-1].Role; last != "user" || len(pending) == 0 {
		return req, badRequest("invalid_messages", "the last message must be the user's prompt, got a %s message", last)
	}
	req.Prompt = strings.Join(pending, "\n\n")
	if strings.TrimSpace(req.Prompt) == "" {
		return req, badRequest("empty_prompt", "the prompt (the last user message) is empty")
	}
	req.Settings.System = strings.Join(system, "\n\n")
	req.Settings.MaxTokens = max(cr.MaxTokens, cr.MaxCompletionTokens)
	if t := cr.Temperature; t != nil {
		if *t < 0 || *t > 2 || math.IsNaN(*t) {
			return req, badRequest("invalid_temperature", "temperature must be between 0 and 2, got %g", *t)
		}
		req.Settings.Temperature = t
	}
	if cr.MaxTokens < 0 || cr.MaxCompletionTokens < 0 {
		return req, badRequest("invalid_max_tokens", "max_tokens cannot be negative")
	}
	var aerr *apiError
	if req.Settings.Stop, aerr = parseStop(cr.Stop); aerr != nil {
		return req, aerr
	}
	if req.Settings.Format, aerr = parseFormat(cr.ResponseFormat); aerr != nil {
		return req, aerr
	}
	if aerr := s.resolve(cr.Model, &req); aerr != nil {
		return req, aerr
	}
	if param, why := s.eng.Unhonoured(req); param != "" {
		e := badRequest("unsupported_parameter", "%s cannot be honoured for %s: %s", param, cr.Model, why)
		e.param = param
		return req, e
	}
	return req, nil
}

// sessionInfo is the session message for req: what the stream announces.
func (s *Server) sessionInfo(id string, req engine.SessionRequest, client, model string) wire.Session {
	cfg := s.eng.Config()
	info := wire.Session{Type: wire.EventSession, Session: id, Strategy: string(cmpOr(req.Strategy, cfg.DefaultStrategy)),
		Tier: cmpOr(req.Tier, cfg.DefaultTier), Models: req.Models, Prompt: req.Prompt,
		StartedMS: time.Now().UnixMilli(), Client: client, Model: model}
	if len(info.Models) == 0 {
		if t, ok := cfg.Tier(info.Tier); ok {
			info.Models = t.Models
		}
	}
	return info
}

func ptr[T any](v T) *T { return &v }

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}
