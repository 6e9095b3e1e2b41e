package serve

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
)

// TestImpossibleQuorumIs400: a consensus over a tier that can never give
// it its quorum (solo: one model, quorum 3) is refused with 400 in
// OpenAI's error shape, the engine's message naming the keys, before any
// model is called; the server serves the next request.
func TestImpossibleQuorumIs400(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		resp, body := h.do("POST", "/v1/chat/completions", "", `{"model":"council/consensus@solo","messages":[{"role":"user","content":"I was charged twice"}]}`)
		var e struct {
			Error struct{ Message, Type, Code string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
		}
		if resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || e.Error.Code != "quorum_unreachable" ||
			!strings.Contains(e.Error.Message, "consensus.min_responses") || !strings.Contains(e.Error.Message, "tiers.solo.models") {
			t.Errorf("%d %s, want 400 quorum_unreachable naming consensus.min_responses and tiers.solo.models", resp.StatusCode, body)
		}
		for _, m := range h.eng.Health() {
			if m.Latency.Count != 0 || len(m.Recent) != 0 {
				t.Errorf("%s was called: %+v", m.ID, m.Recent)
			}
		}
		if resp, body := h.do("POST", "/v1/chat/completions", "", `{"model":"council/consensus@quick","messages":[{"role":"user","content":"I was charged twice"}]}`); resp.StatusCode != 200 {
			t.Errorf("a consensus that can reach quorum: %d %s", resp.StatusCode, body)
		}
	})
}

// TestServedStrategiesAreTheRegistry: GET /v1/models offers exactly the
// registered strategies that run on a prompt alone, and an unknown one is
// refused naming them.
func TestServedStrategiesAreTheRegistry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		_, body := h.do("GET", "/v1/models", "", "")
		var list struct{ Data []struct{ ID string } }
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		var served []string
		for _, m := range list.Data {
			if s, ok := strings.CutPrefix(m.ID, modelPrefix); ok && !strings.Contains(s, "@") {
				served = append(served, s)
			}
		}
		if got, want := strings.Join(served, ","), engine.StrategyNames(",", true); got != want {
			t.Errorf("served strategies %s, want the registry's %s", got, want)
		}
		_, body = h.do("POST", "/v1/chat/completions", "", `{"model":"council/section","messages":[{"role":"user","content":"hi"}]}`)
		if !strings.Contains(body, "model_not_found") || !strings.Contains(body, engine.StrategyNames(", ", true)) {
			t.Errorf("council/section: %s", body)
		}
	})
}
