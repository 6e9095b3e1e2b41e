package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/providers/providertest"
)

// council run --json on real recorded responses (see each vendor's
// testdata/recorded/README.md): what the row says is what the vendor
// reported, priced with the model's cache prices.
func TestRunOnRecordedResponses(t *testing.T) {
	gemini := func(name string) providertest.Recorded {
		return providertest.LoadHTTPRR(t, filepath.Join("providers", "gemini", "testdata", "recorded", name))[0]
	}
	tests := []struct {
		name, kind, keyEnv, model string
		rec                       providertest.Recorded
		prices                    string
		code                      int
		status                    string
		degraded                  []string
		row                       map[string]any
		cost                      float64
	}{
		{
			name: "gemini MAX_TOKENS is a truncated answer", kind: "gemini", keyEnv: "GEMINI_API_KEY", model: "gemini-2.5-flash",
			rec: gemini("max_tokens.httprr"), prices: "input_per_mtok = 0.30\noutput_per_mtok = 2.50",
			code: 0, status: "degraded", degraded: []string{"truncated"},
			row: map[string]any{"status": "won", "finish": "length", "truncated": true, "text": "The water cycle, also known as",
				"input_tokens": 9.0, "output_tokens": 196.0, "reasoning_tokens": 189.0},
			cost: (9*0.30 + 196*2.50) / 1e6,
		},
		{
			name: "deepseek length cut is a truncated answer", kind: "openai-compatible", keyEnv: "DEEPSEEK_API_KEY", model: "deepseek-chat",
			rec:    providertest.LoadChunks(t, filepath.Join("providers", "openai", "testdata", "recorded", "deepseek_length.chunks.txt")),
			prices: "input_per_mtok = 0.28\noutput_per_mtok = 0.42",
			code:   0, status: "degraded", degraded: []string{"truncated"},
			row: map[string]any{"status": "won", "finish": "length", "truncated": true,
				"input_tokens": 13.0, "output_tokens": 400.0},
			cost: (13*0.28 + 400*0.42) / 1e6,
		},
		{
			name: "gemini implicit cache hit", kind: "gemini", keyEnv: "GEMINI_API_KEY", model: "gemini-2.5-flash",
			rec:    providertest.LoadHTTP(t, filepath.Join("providers", "gemini", "testdata", "recorded", "implicit_cache_hit.http")),
			prices: "input_per_mtok = 0.30\ncached_input_per_mtok = 0.075\noutput_per_mtok = 2.50",
			code:   0, status: "decided", degraded: []string{},
			row: map[string]any{"status": "won", "finish": "stop", "truncated": false, "text": "hello",
				"input_tokens": 7006.0, "cached_input_tokens": 6121.0, "output_tokens": 18.0, "reasoning_tokens": 17.0},
			cost: (885*0.30 + 6121*0.075 + 18*2.50) / 1e6,
		},
		{
			name: "anthropic max_tokens is a truncated answer", kind: "anthropic", keyEnv: "ANTHROPIC_API_KEY", model: "claude-opus-4-8",
			rec:    anthropicStream(t, "max_tokens_via_gateway.sse"),
			prices: "input_per_mtok = 5.0\noutput_per_mtok = 25.0",
			code:   0, status: "degraded", degraded: []string{"truncated"},
			row: map[string]any{"status": "won", "finish": "length", "truncated": true, "text": "Hi there! How can I",
				"input_tokens": 8.0, "output_tokens": 8.0},
			cost: (8*5.0 + 8*25.0) / 1e6,
		},
		{
			// A tool call and no text: the attempt fails (empty answer), and
			// what it cost — cache writes at their own price — is still counted.
			name: "anthropic cache writes", kind: "anthropic", keyEnv: "ANTHROPIC_API_KEY", model: "claude-sonnet-4-5",
			rec:    providertest.LoadHTTP(t, filepath.Join("providers", "anthropic", "testdata", "recorded", "cached_tool_use.http")),
			prices: "input_per_mtok = 3.0\ncached_input_per_mtok = 0.30\ncache_write_per_mtok = 3.75\noutput_per_mtok = 15.0",
			code:   1, status: "failed", degraded: []string{},
			row: map[string]any{"status": "failed", "input_tokens": 1710.0, "cached_input_tokens": 1522.0,
				"cache_write_tokens": 182.0, "output_tokens": 121.0},
			cost: (6*3.0 + 1522*0.30 + 182*3.75 + 121*15.0) / 1e6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tt.rec.Serve(1 << 16)))
			t.Cleanup(srv.Close)
			t.Cleanup(srv.CloseClientConnections)
			cfg := vendorConfig(t, tt.kind, srv.URL, tt.model, tt.prices, "")
			t.Setenv(tt.keyEnv, "test-key-not-real")
			out, errOut, code := council(t, nil, "run", "--config", cfg, "--json", "hi")
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, tt.code, errOut, out)
			}
			var sum struct {
				Status   string
				Degraded []string
				CostUSD  float64 `json:"cost_usd"`
				Models   []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &sum); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if sum.Status != tt.status || fmt.Sprint(sum.Degraded) != fmt.Sprint(tt.degraded) || len(sum.Models) != 1 {
				t.Fatalf("status %s degraded %v models %d, want %s %v 1\n%s", sum.Status, sum.Degraded, len(sum.Models), tt.status, tt.degraded, out)
			}
			for k, want := range tt.row {
				if got := sum.Models[0][k]; got != want {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			if _, has := sum.Models[0]["cache_write_tokens"]; has && tt.row["cache_write_tokens"] == nil {
				t.Errorf("cache_write_tokens on a row without cache writes: %v", sum.Models[0])
			}
			if math.Abs(sum.CostUSD-tt.cost) > 1e-9 || sum.Models[0]["cost_usd"] != sum.CostUSD {
				t.Errorf("cost %v (row %v), want %v", sum.CostUSD, sum.Models[0]["cost_usd"], tt.cost)
			}
		})
	}
}

// Recorded 429s hold the model back for exactly as long as they ask, on
// the virtual clock: a Gemini 429 whose google.rpc.RetryInfo asks for
// 34.4 s, and an Anthropic 429 without Retry-After whose exhausted request
// budget resets one second after its Date. The first session's row is
// rate limited with the breaker's held_ms, and the next session skips the
// model without a call. Retries are off: a retry would wait out the hold
// on a clock that cannot move while the client waits on the network.
func TestRunOnRecordedRateLimitsHoldTheModel(t *testing.T) {
	geminiBody, err := os.ReadFile(filepath.Join("providers", "gemini", "testdata", "recorded", "quota_429_retry_info.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, keyEnv, model string
		rec                       providertest.Recorded
		heldMS                    float64
	}{
		{
			name: "gemini RetryInfo", kind: "gemini", keyEnv: "GEMINI_API_KEY", model: "gemini-2.5-flash",
			rec: providertest.Recorded{Status: http.StatusTooManyRequests, Body: geminiBody,
				Header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}},
			heldMS: 34400,
		},
		{
			name: "anthropic ratelimit reset", kind: "anthropic", keyEnv: "ANTHROPIC_API_KEY", model: "claude-sonnet-4-5",
			rec:    providertest.LoadHTTP(t, filepath.Join("providers", "anthropic", "testdata", "recorded", "rate_limit_429.http")),
			heldMS: 1000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.keyEnv, "test-key-not-real")
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int32
				serve := tt.rec.Serve(1 << 16)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					serve(w, r)
				}))
				defer srv.Close()
				cfg := vendorConfig(t, tt.kind, srv.URL, tt.model, "", "[retry]\nattempts = 0")
				out, errOut, code := council(t, nil, "run", "--config", cfg, "--json", "--repeat", "2", "hi")
				srv.CloseClientConnections()
				if code != 1 {
					t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
				}
				type summary struct {
					Models   []map[string]any
					Breakers map[string]map[string]any
				}
				var sums []summary
				for line := range strings.Lines(strings.TrimSpace(out)) {
					var sum summary
					if err := json.Unmarshal([]byte(line), &sum); err != nil {
						t.Fatalf("%v\n%s", err, out)
					}
					sums = append(sums, sum)
				}
				if len(sums) != 2 || len(sums[0].Models) != 1 || len(sums[1].Models) != 1 {
					t.Fatalf("want two sessions of one row each:\n%s", out)
				}
				if r := sums[0].Models[0]; r["status"] != "failed" || r["reason"] != "rate_limited" {
					t.Errorf("first row %v, want failed rate_limited", r)
				}
				if held := sums[0].Breakers["vendor/m"]["held_ms"]; held != tt.heldMS {
					t.Errorf("held_ms %v, want %v", held, tt.heldMS)
				}
				if r := sums[1].Models[0]; r["status"] != "skipped" || r["reason"] != "retry_after" {
					t.Errorf("second row %v, want skipped retry_after", r)
				}
				if calls.Load() != 1 {
					t.Errorf("the server saw %d calls, want 1", calls.Load())
				}
			})
		})
	}
}

// anthropicStream loads a recorded Anthropic event stream kept as its
// body alone, served as the API serves it.
func anthropicStream(t *testing.T, name string) providertest.Recorded {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("providers", "anthropic", "testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Recorded{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}}, Body: body}
}

// vendorConfig writes a config of one model, vendor/m, of provider kind
// kind at url (a tier "one" of it alone, raced), with modelKeys added to
// the model's table (its prices) and extra at the end; it returns the
// file's path.
func vendorConfig(t *testing.T, kind, url, model, modelKeys, extra string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "council.toml")
	body := fmt.Sprintf(`default_strategy = "race"
default_tier = "one"
[providers.vendor]
kind = %q
base_url = %q
[[models]]
id = "vendor/m"
provider = "vendor"
model = %q
%s
[tiers.one]
models = ["vendor/m"]
%s
`, kind, url, model, modelKeys, extra)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}
