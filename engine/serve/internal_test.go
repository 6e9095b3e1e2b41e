package serve

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// panicky is an error whose Error panics: a provider returning it makes
// the engine panic on the attempt's goroutine, a bug in council.
type panicky struct{}

func (panicky) Error() string { panic("deliberate panic for the test") }

// TestSessionBugIs500: a session that hits a bug in council is answered
// 500 internal_error with the session's message, and the server serves on:
// the next request succeeds and /healthz answers.
func TestSessionBugIs500(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		h.fake.err = panicky{}
		c := h.client("")
		_, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError ||
			apiErr.Type != "internal_error" || !strings.Contains(apiErr.Message, "bug in council") {
			t.Fatalf("got %v; want a 500 internal_error saying it is a bug in council", err)
		}
		// The body carries the session's summary, without the stack.
		resp, body := h.do("POST", "/v1/chat/completions", "", `{"model":"fake/x","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 500 || !strings.Contains(body, `"error_kind":"internal"`) || strings.Contains(body, "goroutine") {
			t.Errorf("raw 500: %d %s; want the summary with error_kind internal and no stack", resp.StatusCode, body)
		}
		h.fake.err = nil
		got, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		if err != nil || got.Choices[0].Message.Content != "a scripted answer from x" {
			t.Fatalf("the next request: %v %+v; want x's answer", err, got)
		}
		if resp, body := h.do("GET", "/healthz", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("healthz %d %s", resp.StatusCode, body)
		}
	})
}

// reviewerFallbackTOML adds a council whose third reviewer always fails
// and falls back to sim/fb.
const reviewerFallbackTOML = `
[council]
min_responses = 3
reviewers = ["sim/a", "sim/b", "sim/bad"]
chairman = "sim/a"
[[models]]
id = "sim/bad"
provider = "sim"
fallbacks = ["sim/fb"]
[[models]]
id = "sim/fb"
provider = "sim"
`

// TestReviewerFallbackThroughServe: the reviewer-fallback scenario (a
// reviewer that fails, a fallback that ranks) is answered with a summary
// that names the fallback, and the server still answers /healthz.
func TestReviewerFallbackThroughServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, err := config.Parse([]byte(testTOML+reviewerFallbackTOML), "test.toml")
		if err != nil {
			t.Fatal(err)
		}
		clients := map[string]providers.Provider{"fake/x": &fake{text: "x"}}
		for _, m := range cfg.Models {
			if m.ID == "fake/x" {
				continue
			}
			p := sim.Params{TTFT: 50 * time.Millisecond, TTFTP95: 80 * time.Millisecond, TokensPerSec: 200, OutputTokens: 12}
			if m.ID == "sim/bad" {
				p.ErrorRate = 1
			}
			clients[m.ID] = sim.New(m.ID, p, 7)
		}
		eng, err := engine.New(cfg, clients, engine.WithSeed(7))
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		h := newHarness(t, "", func(o *Options) { o.Engine = eng })
		c := h.client("")
		got, err := c.Chat.Completions.New(t.Context(), userParams("council/council", "How do database indexes work?"))
		if err != nil {
			t.Fatal(err)
		}
		sum := councilOf(t, got.RawJSON())
		named := false
		for _, r := range sum.Models {
			named = named || (r.ID == "sim/fb" && r.Aside != nil && r.FallbackFor == "sim/bad" && r.Role == engine.RoleReviewer)
		}
		if !named || sum.Status != engine.StatusDegraded || !slices.Contains(sum.Degraded, engine.DegradedFallback) {
			t.Errorf("status %s degraded %v rows %+v: want degraded (fallback), sim/fb's review standing in for sim/bad", sum.Status, sum.Degraded, sum.Models)
		}
		if resp, body := h.do("GET", "/healthz", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("healthz %d %s", resp.StatusCode, body)
		}
	})
}
