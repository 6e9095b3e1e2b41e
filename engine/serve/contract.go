package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
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
	{"stop", []any{"", []any{}}, "stop sequences are not passed to the models yet"},
	{"response_format", []any{map[string]any{"type": "text"}}, "JSON mode and structured output are not passed to the models yet; only {\"type\":\"text\"}"},
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
