package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// thinkingStream is an OpenAI-compatible stream that reasons, answers, is
// cut at its token limit and reports cached and reasoning tokens, written
// by hand from OpenAI's documented chunk format to have all of these in
// one stream (a real DeepSeek length cut is replayed in
// main_recorded_test.go).
const thinkingStream = `data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"glm","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"The user asks about indexes."},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"glm","choices":[{"index":0,"delta":{"reasoning_content":" B-trees first."},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"glm","choices":[{"index":0,"delta":{"content":"An index is a sorted"},"finish_reason":null}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"glm","choices":[{"index":0,"delta":{"content":" copy"},"finish_reason":"length"}]}

data: {"id":"1","object":"chat.completion.chunk","created":1,"model":"glm","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":64,"total_tokens":1264,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":60}}}

data: [DONE]

`

// run --json shows finish, truncated, reasoning and cached tokens and
// first_reasoning_ms per model; --events carries reasoning apart.
func TestRunShowsReasoningFinishAndCache(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, thinkingStream)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	cfg := filepath.Join(t.TempDir(), "council.toml")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`default_strategy = "race"
default_tier = "one"
[providers.local]
kind = "openai-compatible"
base_url = %q
[[models]]
id = "local/glm"
provider = "local"
model = "glm-4.6"
input_per_mtok = 1.0
cached_input_per_mtok = 0.1
output_per_mtok = 2.0
[tiers.one]
models = ["local/glm"]
timeout = "10s"
per_model_timeout = "10s"
stall_timeout = "5s"
`, srv.URL+"/v1")), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := council(t, nil, "run", "--config", cfg, "--json", "How do indexes work?")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q, out %s", code, errOut, out)
	}
	var sum struct {
		Status   string   `json:"status"`
		Answer   string   `json:"answer"`
		Degraded []string `json:"degraded"`
		CostUSD  float64  `json:"cost_usd"`
		Models   []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Answer != "An index is a sorted copy" || sum.Status != "degraded" || strings.Join(sum.Degraded, ",") != "truncated" {
		t.Errorf("answer %q status %s degraded %v", sum.Answer, sum.Status, sum.Degraded)
	}
	m := sum.Models[0]
	for k, want := range map[string]any{"finish": "length", "truncated": true, "reasoning_tokens": 60.0,
		"cached_input_tokens": 1024.0, "input_tokens": 1200.0, "output_tokens": 64.0} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if _, ok := m["first_reasoning_ms"]; !ok {
		t.Errorf("no first_reasoning_ms: %v", m)
	}
	// 176 uncached at $1, 1024 cached at $0.10, 64 out at $2 per million.
	if want := (176*1.0 + 1024*0.1 + 64*2.0) / 1e6; fmt.Sprintf("%.9f", sum.CostUSD) != fmt.Sprintf("%.9f", want) {
		t.Errorf("cost %v, want %v", sum.CostUSD, want)
	}

	out, errOut, code = council(t, nil, "run", "--config", cfg, "--events", "How do indexes work?")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var reasoning, answer strings.Builder
	var firstReasoning, done bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Type, Text, Finish string
			Truncated          bool
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		switch ev.Type {
		case "first_reasoning":
			firstReasoning = true
		case "reasoning_delta":
			reasoning.WriteString(ev.Text)
		case "delta":
			answer.WriteString(ev.Text)
		case "attempt_done":
			done = ev.Finish == "length" && ev.Truncated
		}
	}
	if !firstReasoning || reasoning.String() != "The user asks about indexes. B-trees first." || answer.String() != "An index is a sorted copy" || !done {
		t.Errorf("events: first_reasoning %v, reasoning %q, answer %q, done length %v\n%s", firstReasoning, reasoning.String(), answer.String(), done, out)
	}
}

// A provider's headers and query reach the server through the config, and
// a "${VAR}" value the server echoes back is redacted from the output.
func TestRunThroughAGateway(t *testing.T) {
	t.Setenv("COUNCIL_TEST_GATEWAY_KEY", "gw-secret-5f4e3d2c1b")
	var gotHeader, gotKey, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader, gotKey, gotQuery = r.Header.Get("X-Portkey-Provider"), r.Header.Get("X-Portkey-Api-Key"), r.URL.Query().Get("api-version")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"unknown gateway key `+gotKey+`","type":"invalid_request_error"}}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	cfg := filepath.Join(t.TempDir(), "council.toml")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`default_tier = "one"
[providers.portkey]
kind = "openai-compatible"
base_url = %q
headers = { "x-portkey-provider" = "openai", "x-portkey-api-key" = "${COUNCIL_TEST_GATEWAY_KEY}" }
query = { "api-version" = "2024-10-21" }
[[models]]
id = "pk/mini"
provider = "portkey"
model = "gpt-4.1-mini"
[tiers.one]
models = ["pk/mini"]
`, srv.URL+"/v1")), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ := council(t, nil, "run", "--config", cfg, "--json", "hi")
	if gotHeader != "openai" || gotKey != "gw-secret-5f4e3d2c1b" || gotQuery != "2024-10-21" {
		t.Errorf("server saw header %q key %q query %q", gotHeader, gotKey, gotQuery)
	}
	if strings.Contains(out, "gw-secret") || !strings.Contains(out, "unknown gateway key [REDACTED]") {
		t.Errorf("output leaks or lacks the redacted echo:\n%s", out)
	}
}
