package serve

import (
	"net/http"
	"strings"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// models is GET /v1/models: every strategy the engine registers that runs
// on a prompt alone, with and without each tier, then every configured
// model id (passed through).
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	cfg := s.eng.Config()
	created := s.started.Unix()
	var data []model
	for _, info := range engine.Strategies() {
		if !info.PromptAlone {
			continue // a chat completion carries no document
		}
		st := info.Name
		data = append(data, model{modelPrefix + string(st), "model", created, "council"})
		for _, t := range cfg.TierOrder() {
			data = append(data, model{modelPrefix + string(st) + "@" + t, "model", created, "council"})
		}
	}
	for _, m := range cfg.Models {
		data = append(data, model{m.ID, "model", created, m.Provider})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// adminHandlers are the handlers of the admin actions, one for each of
// [wire.AdminActions].
func (s *Server) adminHandlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{wire.AdminBreaker: s.adminBreaker, wire.AdminReset: s.adminReset, wire.AdminTune: s.adminTune}
}

// decodeAdmin reads an admin action's body into v.
func (s *Server) decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if aerr := s.readBody(w, r, 64<<10, true, "an admin request", v); aerr != nil {
		writeError(w, aerr.status, aerr.typ, aerr.code, aerr.msg)
		return false
	}
	return true
}

// answerHealth answers an admin action with the model's health.
func (s *Server) answerHealth(w http.ResponseWriter, id string, err error) {
	if err != nil {
		code := http.StatusBadRequest
		if strings.HasPrefix(err.Error(), "unknown model") {
			code = http.StatusNotFound
		}
		writeError(w, code, "invalid_request_error", "invalid_admin_request", err.Error())
		return
	}
	h, _ := s.oneHealth(id)
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) adminBreaker(w http.ResponseWriter, r *http.Request) {
	var req wire.BreakerRequest
	if !s.decodeAdmin(w, r, &req) {
		return
	}
	var f engine.Force
	switch req.Force {
	case "open":
		f = engine.ForceOpen
	case "closed":
		f = engine.ForceClosed
	case "none", "":
		f = engine.ForceNone
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_admin_request", `force must be "open", "closed" or "none", got "`+req.Force+`"`)
		return
	}
	s.answerHealth(w, req.Model, s.eng.ForceBreaker(req.Model, f))
}

func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) {
	var req wire.ResetRequest
	if !s.decodeAdmin(w, r, &req) {
		return
	}
	_, err := s.eng.ResetBreaker(req.Model)
	s.answerHealth(w, req.Model, err)
}

func (s *Server) adminTune(w http.ResponseWriter, r *http.Request) {
	var req wire.TuneRequest
	if !s.decodeAdmin(w, r, &req) {
		return
	}
	_, err := s.eng.Tune(req.Model, req.Knob, req.Delta)
	s.answerHealth(w, req.Model, err)
}
