package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
)

// unhonoured are the Chat Completions parameters this server does not
// honour, each with the values that ask for nothing (OpenAI's defaults,
// which some clients always send): those are accepted, any other value is
// refused (400 unsupported_parameter) rather than silently dropped. null
// is always accepted. The README's serve section lists them.
var unhonoured = []struct {
	name     string
	harmless []any // as encoding/json decodes them
	why      string
}{
	{"tools", []any{[]any{}}, "tool calls are not supported"},
	{"tool_choice", []any{"none"}, "tool calls are not supported"},
	{"functions", []any{[]any{}}, "function calls are not supported"},
	{"function_call", []any{"none"}, "function calls are not supported"},
	{"logprobs", []any{false}, "log probabilities are not returned"},
	{"top_logprobs", []any{0.0}, "log probabilities are not returned"},
	{"logit_bias", []any{map[string]any{}}, "logit_bias is not passed to the models"},
	{"top_p", []any{1.0}, "top_p is not passed to the models; use temperature"},
	{"frequency_penalty", []any{0.0}, "frequency_penalty is not passed to the models"},
	{"presence_penalty", []any{0.0}, "presence_penalty is not passed to the models"},
	{"seed", nil, "seed is not passed to the models (council serve --seed seeds simulated ones)"},
	{"modalities", []any{[]any{"text"}}, "only text is answered"},
	{"audio", nil, "only text is answered"},
	{"prediction", nil, "predicted outputs are not supported"},
	{"web_search_options", nil, "web search is not supported"},
	{"reasoning_effort", nil, "reasoning_effort is not passed to the models"},
	{"verbosity", nil, "verbosity is not passed to the models"},
}

// unhonouredParams is each parameter of body, a JSON object, that
// unhonoured names, as sent; nil when it has none (the common case: no
// map). A key sent twice keeps its last value, as encoding/json does.
func unhonouredParams(body []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	gjson.ParseBytes(body).ForEach(func(k, v gjson.Result) bool {
		name := k.String()
		for _, p := range unhonoured {
			if p.name == name {
				if m == nil {
					m = map[string]json.RawMessage{}
				}
				m[name] = json.RawMessage(v.Raw)
				break
			}
		}
		return true
	})
	return m
}

// refuseUnhonoured returns the error for the first parameter of body that
// asks for what this server does not do, or nil.
func refuseUnhonoured(body map[string]json.RawMessage) *apiError {
	for _, p := range unhonoured {
		raw, ok := body[p.name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil && slices.ContainsFunc(p.harmless, func(h any) bool { return reflect.DeepEqual(h, v) }) {
			continue
		}
		e := badRequest("unsupported_parameter", "%s is not supported by council serve: %s", p.name, p.why)
		e.param = p.name
		return e
	}
	return nil
}

// maxStop is how many stop sequences a request may carry, as OpenAI's API.
const maxStop = 4

// parseStop reads stop: a string or up to maxStop strings; "" and []
// ask for none.
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) > maxStop || slices.Contains(many, "") {
		e := badRequest("invalid_value", "stop must be a string or a list of at most %d non-empty strings", maxStop)
		e.param = "stop"
		return nil, e
	}
	return many, nil
}

// parseFormat reads response_format: {"type": "text"} asks for nothing,
// json_object for a JSON object, json_schema for one that follows
// json_schema.schema.
func parseFormat(raw json.RawMessage) (*providers.ResponseFormat, *apiError) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var f struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string         `json:"name"`
			Schema map[string]any `json:"schema"`
			Strict *bool          `json:"strict"`
		} `json:"json_schema"`
	}
	bad := func(format string, a ...any) (*providers.ResponseFormat, *apiError) {
		e := badRequest("invalid_value", format, a...)
		e.param = "response_format"
		return nil, e
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return bad("response_format must be an object with a type (text, json_object, json_schema): %v", err)
	}
	switch f.Type {
	case "text":
		return nil, nil
	case providers.FormatJSONObject:
		return &providers.ResponseFormat{Type: f.Type}, nil
	case providers.FormatJSONSchema:
		if f.JSONSchema == nil || f.JSONSchema.Name == "" {
			return bad("response_format json_schema needs json_schema.name (and its schema)")
		}
		return &providers.ResponseFormat{Type: f.Type, Name: f.JSONSchema.Name, Schema: f.JSONSchema.Schema,
			Strict: f.JSONSchema.Strict != nil && *f.JSONSchema.Strict}, nil
	}
	return bad("response_format type %q is not text, json_object or json_schema", f.Type)
}

// writeAPIError answers e in OpenAI's error shape, naming its parameter.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	body := wire.ErrorBody{Error: wire.ErrorDetail{Message: e.msg, Type: e.typ}}
	if e.code != "" {
		body.Error.Code = &e.code
	}
	if e.param != "" {
		body.Error.Param = &e.param
	}
	if e.status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfterDefault))
	}
	writeJSON(w, e.status, body)
}

// model is GET /v1/models/{id}: one model of the list, the id
// percent-encoded or not ("council/race@quick", "council%2Frace%40quick").
func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req engine.SessionRequest
	if aerr := s.resolve(id, &req); aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	owner := "council"
	if i := slices.IndexFunc(s.eng.Config().Models, func(m config.ModelConfig) bool { return m.ID == id }); i >= 0 {
		owner = s.eng.Config().Models[i].Provider
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "model", "created": s.started.Unix(), "owned_by": owner})
}
