package serve

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	_ "github.com/council-dev/council/providers/anthropic" // a kind without JSON mode
)

// TestContract: every Chat Completions parameter the server does not
// honour is refused with 400 unsupported_parameter naming it, unless its
// value asks for nothing; trailing data, n < 1 and malformed stop and
// response_format are refused. (Stop and response_format are honoured
// where they can be: TestStopAndFormat.)
func TestContract(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		const msgs = `"messages":[{"role":"user","content":"hi"}]`
		for _, tc := range []struct {
			extra, code, param string
		}{
			{`"stop":["a","b","c","d","e"]`, "invalid_value", "stop"},
			{`"stop":42`, "invalid_value", "stop"},
			{`"response_format":{"type":"xml"}`, "invalid_value", "response_format"},
			{`"response_format":{"type":"json_schema"}`, "invalid_value", "response_format"},
			// fake/x is of kind sim, which answers {"answer": ...} whatever the schema.
			{`"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}`, "unsupported_parameter", "response_format"},
			{`"logprobs":true`, "unsupported_parameter", "logprobs"},
			{`"top_logprobs":2`, "unsupported_parameter", "top_logprobs"},
			{`"functions":[{"name":"f"}]`, "unsupported_parameter", "functions"},
			{`"function_call":"auto"`, "unsupported_parameter", "function_call"},
			{`"tools":[{"type":"function","function":{"name":"f"}}]`, "unsupported_parameter", "tools"},
			{`"tool_choice":"auto"`, "unsupported_parameter", "tool_choice"},
			{`"top_p":0.5`, "unsupported_parameter", "top_p"},
			{`"seed":42`, "unsupported_parameter", "seed"},
			{`"presence_penalty":0.5`, "unsupported_parameter", "presence_penalty"},
			{`"logit_bias":{"50256":-100}`, "unsupported_parameter", "logit_bias"},
			{`"modalities":["text","audio"]`, "unsupported_parameter", "modalities"},
			{`"n":2`, "unsupported_parameter", "n"},
			{`"n":0`, "invalid_value", "n"},
			{`"n":-1`, "invalid_value", "n"},
		} {
			body := `{"model":"fake/x",` + msgs + `,` + tc.extra + `}`
			resp, out := h.do("POST", "/v1/chat/completions", "", body)
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Code    string  `json:"code"`
					Param   *string `json:"param"`
				} `json:"error"`
			}
			json.Unmarshal([]byte(out), &e)
			if resp.StatusCode != 400 || e.Error.Code != tc.code || e.Error.Param == nil || *e.Error.Param != tc.param ||
				!strings.Contains(e.Error.Message, tc.param) {
				t.Errorf("%s: %d %s; want 400 %s naming %s", tc.extra, resp.StatusCode, out, tc.code, tc.param)
			}
		}
		// Values that ask for nothing, and parameters with no effect, pass.
		harmless := `{"model":"fake/x",` + msgs + `,"stop":null,"top_p":1,"logprobs":false,"tools":[],"tool_choice":"none",` +
			`"response_format":{"type":"text"},"n":1,"frequency_penalty":0,"presence_penalty":0.0,"modalities":["text"],` +
			`"user":"u-1","store":false,"metadata":{"a":"b"},"parallel_tool_calls":true}`
		if resp, out := h.do("POST", "/v1/chat/completions", "", harmless); resp.StatusCode != 200 {
			t.Errorf("defaults refused: %d %s", resp.StatusCode, out)
		}
		for _, body := range []string{
			`{"model":"fake/x",` + msgs + `} {"model":"fake/x"}`,
			`{"model":"fake/x",` + msgs + `}x`,
			`{"model":"fake/x",` + msgs + `}]`,
		} {
			resp, out := h.do("POST", "/v1/chat/completions", "", body)
			if resp.StatusCode != 400 || !strings.Contains(out, `"code":"invalid_json"`) || !strings.Contains(out, "after its JSON") {
				t.Errorf("%s: %d %s; want 400 invalid_json for the trailing data", body, resp.StatusCode, out)
			}
		}
		if resp, out := h.do("POST", "/v1/chat/completions", "", `{"model":"fake/x",`+msgs+"}\n  \n"); resp.StatusCode != 200 {
			t.Errorf("trailing space refused: %d %s", resp.StatusCode, out)
		}
	})
}

// TestStopAndFormat: stop and response_format reach the models of a
// strategy that answers in free text, and are refused (400
// unsupported_parameter) where a strategy answers a category or a model
// of the route cannot be asked for them (anthropic: no JSON mode).
func TestStopAndFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "[providers.claude]\nkind = \"anthropic\"\n[[models]]\nid = \"claude/s\"\nprovider = \"claude\"\nmodel = \"claude-sonnet-4-5\"\n"+
			"[tiers.mixed]\nmodels = [\"sim/a\", \"claude/s\"]\n", nil)
		const msgs = `"messages":[{"role":"user","content":"hi"}]`
		resp, out := h.do("POST", "/v1/chat/completions", "", `{"model":"fake/x",`+msgs+`,"stop":["END","\n\n"],"response_format":{"type":"json_object"}}`)
		got := h.fake.last.Load()
		if resp.StatusCode != 200 || got == nil || strings.Join(got.StopSequences(), "|") != "END|\n\n" || got.ResponseFormat() == nil || got.ResponseFormat().Type != "json_object" {
			t.Errorf("fake/x with stop and json_object: %d %s; the model was asked %+v", resp.StatusCode, out, got)
		}
		resp, out = h.do("POST", "/v1/chat/completions", "", `{"model":"council/race@quick",`+msgs+`,"response_format":{"type":"json_object"}}`)
		var c struct {
			Choices []struct{ Message struct{ Content string } }
		}
		var obj map[string]any
		if json.Unmarshal([]byte(out), &c); resp.StatusCode != 200 || len(c.Choices) != 1 || json.Unmarshal([]byte(c.Choices[0].Message.Content), &obj) != nil {
			t.Errorf("race in JSON mode over simulated models: %d %s; want a JSON object answer", resp.StatusCode, out)
		}
		if resp, out := h.do("POST", "/v1/chat/completions", "", `{"model":"council/race@mixed",`+msgs+`,"stop":"END"}`); resp.StatusCode != 200 {
			t.Errorf("stop with an anthropic model: %d %s; want 200 (stop_sequences)", resp.StatusCode, out)
		}
		for _, tc := range []struct{ model, extra, param, why string }{
			{"council/consensus", `"stop":"END"`, "stop", "category"},
			{"council/consensus", `"response_format":{"type":"json_object"}`, "response_format", "category"},
			{"council/auto", `"response_format":{"type":"json_object"}`, "response_format", "category"},
			{"council/race@mixed", `"response_format":{"type":"json_object"}`, "response_format", "claude/s"},
			{"council/council@mixed", `"response_format":{"type":"json_object"}`, "response_format", "claude/s"},
		} {
			resp, out := h.do("POST", "/v1/chat/completions", "", `{"model":"`+tc.model+`",`+msgs+`,`+tc.extra+`}`)
			if resp.StatusCode != 400 || !strings.Contains(out, `"code":"unsupported_parameter"`) || !strings.Contains(out, `"param":"`+tc.param+`"`) || !strings.Contains(out, tc.why) {
				t.Errorf("%s %s: %d %s; want 400 unsupported_parameter %s saying %s", tc.model, tc.extra, resp.StatusCode, out, tc.param, tc.why)
			}
		}
	})
}

// TestModelRetrieve: GET /v1/models/{id} answers a strategy (with a tier,
// percent-encoded or not) or a configured model, and 404 for others.
func TestModelRetrieve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		c := h.client("")
		m, err := c.Models.Get(t.Context(), "council/hedge@quick")
		if err != nil || m.ID != "council/hedge@quick" || m.OwnedBy != "council" {
			t.Fatalf("models.retrieve: %+v %v", m, err)
		}
		for path, want := range map[string]string{
			"/v1/models/council%2Frace%40quick": `"id":"council/race@quick"`,
			"/v1/models/council/race@quick":     `"id":"council/race@quick"`,
			"/v1/models/council/consensus":      `"id":"council/consensus"`,
			"/v1/models/fake%2Fx":               `"owned_by":"sim"`,
		} {
			if resp, out := h.do("GET", path, "", ""); resp.StatusCode != 200 || !strings.Contains(out, want) {
				t.Errorf("%s: %d %s; want %s", path, resp.StatusCode, out, want)
			}
		}
		for _, path := range []string{"/v1/models/gpt-4o", "/v1/models/council/race@huge", "/v1/models/council%2Fvote"} {
			if resp, out := h.do("GET", path, "", ""); resp.StatusCode != 404 || !strings.Contains(out, "model_not_found") {
				t.Errorf("%s: %d %s; want 404 model_not_found", path, resp.StatusCode, out)
			}
		}
	})
}

// TestStreamEndsAfterError: after a chairman fails in the middle of its
// synthesis, the stream sends the error, then [DONE], and ends; the
// session is cancelled rather than run on for a response that is over.
func TestStreamEndsAfterError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "[council]\nchairman = \"fake/x\"\nmin_responses = 2\n", nil)
		h.fake.err, h.fake.failAfter = errors.New("connection reset"), 2
		sub, _ := h.srv.hub.subscribe("", true)
		resp, out := h.do("POST", "/v1/chat/completions", "",
			`{"model":"council/council","stream":true,"messages":[{"role":"user","content":"How do database indexes work?"}]}`)
		if resp.StatusCode != 200 || !strings.Contains(out, "chairman_failed") || !strings.HasSuffix(out, "chairman_failed\"}}\n\ndata: [DONE]\n\n") {
			t.Errorf("stream ends %q; want the error then [DONE]", out[max(0, len(out)-200):])
		}
		if sum := doneSummary(t, sub); sum.Status != engine.StatusCancelled {
			t.Errorf("session %s; want cancelled once its stream ended", sum.Status)
		}
	})
}
