package serve

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/openai/openai-go/v3"
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
