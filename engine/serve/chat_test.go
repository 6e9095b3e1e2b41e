package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/council-dev/council/engine"
)

func userParams(model, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}
}

// TestChatEachStrategy: the official client gets each strategy's decided
// answer, the council headers and the summary, non-streaming.
func TestChatEachStrategy(t *testing.T) {
	for _, tc := range []struct{ model, strategy, prompt string }{
		{"council/race", "race", "How do database indexes work?"},
		{"council/hedge@quick", "hedge", "What makes a good sourdough starter?"},
		{"council/consensus", "consensus", "I was charged twice for my subscription this month"},
		{"council/council", "council", "How do database indexes work?"},
		{"council/auto", "auto", "Is my invoice overdue?"},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, "", nil)
				c := h.client("")
				var resp *http.Response
				got, err := c.Chat.Completions.New(t.Context(), userParams(tc.model, tc.prompt), option.WithResponseInto(&resp))
				if err != nil {
					t.Fatal(err)
				}
				sum := councilOf(t, got.RawJSON())
				if sum.Status != engine.StatusDecided && sum.Status != engine.StatusDegraded {
					t.Fatalf("status %s (%s)", sum.Status, sum.Error)
				}
				if len(got.Choices) != 1 || got.Choices[0].Message.Content != sum.Answer || sum.Answer == "" {
					t.Errorf("content %q, want the summary's answer %q", got.Choices[0].Message.Content, sum.Answer)
				}
				want := tc.strategy
				if tc.strategy == "auto" {
					// The router's choice runs: the header and summary name it.
					if sum.Route == nil || resp.Header.Get("x-council-route") != sum.Route.Name {
						t.Fatalf("route %+v, header %q", sum.Route, resp.Header.Get("x-council-route"))
					}
					want = string(sum.Route.Strategy)
				}
				if string(sum.Strategy) != want || resp.Header.Get("x-council-strategy") != want {
					t.Errorf("strategy %s, header %q; want %s", sum.Strategy, resp.Header.Get("x-council-strategy"), want)
				}
				if resp.Header.Get("x-council-session") != sum.Session || got.ID != "chatcmpl-"+sum.Session {
					t.Errorf("session header %q, id %q; want %s", resp.Header.Get("x-council-session"), got.ID, sum.Session)
				}
				if w := resp.Header.Get("x-council-winner"); w != "" && w != sum.Winner && w != sum.Chairman {
					t.Errorf("winner header %q, summary winner %q chairman %q", w, sum.Winner, sum.Chairman)
				}
				if tc.strategy == "race" && resp.Header.Get("x-council-winner") != "sim/a" {
					t.Errorf("race winner header %q, want sim/a (the fastest)", resp.Header.Get("x-council-winner"))
				}
				in, out := 0, 0
				for _, m := range sum.Models {
					in, out = in+m.InputTokens, out+m.OutputTokens
				}
				if got.Usage.PromptTokens != int64(in) || got.Usage.CompletionTokens != int64(out) || out == 0 {
					t.Errorf("usage %d/%d, want every attempt's %d/%d", got.Usage.PromptTokens, got.Usage.CompletionTokens, in, out)
				}
				if got.Model != tc.model || got.Choices[0].FinishReason != "stop" {
					t.Errorf("model %q finish %q", got.Model, got.Choices[0].FinishReason)
				}
			})
		})
	}
}

// TestChatStream: streaming sends the decided answer as chunks, then a
// finish, then — only when stream_options.include_usage asks — usage; the
// summary is in the last chunk either way.
func TestChatStream(t *testing.T) {
	for _, model := range []string{"council/race", "council/hedge", "council/council", "council/consensus",
		"council/race+usage", "council/council+usage"} {
		t.Run(model, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, "", nil)
				c := h.client("")
				var resp *http.Response
				model, withUsage := strings.CutSuffix(model, "+usage")
				params := userParams(model, "How do database indexes work?")
				if withUsage {
					params.StreamOptions.IncludeUsage = openai.Bool(true)
				}
				st := c.Chat.Completions.NewStreaming(t.Context(), params, option.WithResponseInto(&resp))
				var acc openai.ChatCompletionAccumulator
				var last openai.ChatCompletionChunk
				chunks := 0
				for st.Next() {
					last = st.Current()
					acc.AddChunk(last)
					if len(last.Choices) == 1 && last.Choices[0].Delta.Content != "" {
						chunks++
					}
				}
				if err := st.Err(); err != nil {
					t.Fatal(err)
				}
				st.Close()
				sum := councilOf(t, last.RawJSON())
				if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != sum.Answer || sum.Answer == "" {
					t.Fatalf("streamed %q, want the summary's answer %q", acc.Choices[0].Message.Content, sum.Answer)
				}
				if model != "council/consensus" && chunks < 3 {
					t.Errorf("%d content chunks: the answer should come in the pieces it was streamed in", chunks)
				}
				if withUsage && (acc.Usage.TotalTokens == 0 || last.Usage.TotalTokens != acc.Usage.TotalTokens || len(last.Choices) != 0) {
					t.Errorf("usage %+v in the last chunk", last.Usage)
				}
				if !withUsage && (acc.Usage.TotalTokens != 0 || strings.Contains(last.RawJSON(), `"usage"`)) {
					t.Errorf("a usage chunk was sent unasked: %s", last.RawJSON())
				}
				if !withUsage && (len(last.Choices) != 1 || last.Choices[0].FinishReason == "") {
					t.Errorf("the summary is not on the finishing chunk: %s", last.RawJSON())
				}
				if resp.Header.Get("x-council-session") != sum.Session || resp.Header.Get("Content-Type") != "text/event-stream" {
					t.Errorf("headers %v, session %s", resp.Header, sum.Session)
				}
				if acc.Choices[0].FinishReason != "stop" {
					t.Errorf("finish %q", acc.Choices[0].FinishReason)
				}
			})
		})
	}
}

// TestPassThrough: a configured model id is called alone, behind its
// breaker; a model whose breaker is open is not called and the client
// gets a 503 that says so.
func TestPassThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		c := h.client("")
		var resp *http.Response
		got, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		sum := councilOf(t, got.RawJSON())
		if got.Choices[0].Message.Content != "a scripted answer from x" || len(sum.Models) != 1 || sum.Models[0].ID != "fake/x" {
			t.Errorf("got %q from %+v", got.Choices[0].Message.Content, sum.Models)
		}
		if resp.Header.Get("x-council-winner") != "fake/x" {
			t.Errorf("winner header %q", resp.Header.Get("x-council-winner"))
		}

		if err := h.eng.ForceBreaker("fake/x", engine.ForceOpen); err != nil {
			t.Fatal(err)
		}
		_, err = c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("got %v, want an API error", err)
		}
		if apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Code != "breaker_open" || !strings.Contains(apiErr.Message, "circuit breaker") || !strings.Contains(apiErr.Message, "fake/x") {
			t.Errorf("got %d %q %q; want 503 breaker_open naming the model", apiErr.StatusCode, apiErr.Code, apiErr.Message)
		}
		if n := h.fake.ended.Load(); n != 0 {
			t.Errorf("the open model was called")
		}
	})
}

// TestUpstreamFailed: every model failing is a 502 that names why.
func TestUpstreamFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		h.fake.err = errors.New("boom")
		c := h.client("")
		_, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !strings.Contains(apiErr.Message, "fake/x") {
			t.Fatalf("got %v; want a 502 naming the model", err)
		}
	})
}

// TestBadRequests: unknown models, tiers and bad bodies get OpenAI's
// error shape with a clear message and status.
func TestBadRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		for _, tc := range []struct {
			body   string
			status int
			code   string
			says   string
		}{
			{`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "gpt-4o"},
			{`{"model":"council/vote","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "unknown strategy"},
			{`{"model":"council/race@huge","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found", "unknown tier"},
			{`{"model":"council/race","messages":[]}`, 400, "missing_messages", "messages"},
			{`{"model":"council/race","messages":[{"role":"assistant","content":"hi"}]}`, 400, "invalid_messages", "last message"},
			{`{"model":"council/race","n":2,"messages":[{"role":"user","content":"hi"}]}`, 400, "unsupported_parameter", "n = 2"},
			{`{"model":`, 400, "invalid_json", "not a chat completion"},
		} {
			resp, body := h.do("POST", "/v1/chat/completions", "", tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) || !strings.Contains(body, tc.says) {
				t.Errorf("%s: %d %s; want %d %s saying %q", tc.body, resp.StatusCode, body, tc.status, tc.code, tc.says)
			}
		}
	})
}

// TestConversation: system and earlier messages reach the models as the
// system prompt and the conversation.
func TestConversation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		p := openai.ChatCompletionNewParams{Model: "fake/x", Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("be brief"), openai.UserMessage("first"), openai.AssistantMessage("one"), openai.UserMessage("second")}}
		req, aerr := h.srv.sessionRequest(mustChat(t, p))
		if aerr != nil {
			t.Fatal(aerr.msg)
		}
		if req.Prompt != "second" || req.Settings.System != "be brief" || len(req.Turns) != 1 ||
			req.Turns[0].Prompt != "first" || req.Turns[0].Answer != "one" || req.Strategy != "race" || req.Models[0] != "fake/x" {
			t.Errorf("got %+v", req)
		}
	})
}

// TestModelsList: GET /v1/models lists the strategies with their tiers
// and the configured models.
func TestModelsList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		c := h.client("")
		page, err := c.Models.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, m := range page.Data {
			ids[m.ID] = true
		}
		for _, want := range []string{"council/race", "council/council@quick", "council/auto@solo", "sim/a", "fake/x"} {
			if !ids[want] {
				t.Errorf("models lack %s: %v", want, ids)
			}
		}
		if ids["council/section"] {
			t.Error("section needs a document and is not served")
		}
	})
}

// TestHealthz: the liveness endpoint needs no token.
func TestHealthz(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"t0"} })
		resp, body := h.do("GET", "/healthz", "", "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("healthz %d %s", resp.StatusCode, body)
		}
	})
}

// mustChat is the request the official client sends for p, as the
// server reads it.
func mustChat(t *testing.T, p openai.ChatCompletionNewParams) *chatRequest {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var cr chatRequest
	if err := json.Unmarshal(b, &cr); err != nil {
		t.Fatal(err)
	}
	return &cr
}

// TestCouncilStreamsSynthesisLive: a council's stream carries the
// chairman's synthesis as it is written, not all at once when decided.
func TestCouncilStreamsSynthesisLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		c := h.client("")
		st := c.Chat.Completions.NewStreaming(t.Context(), userParams("council/council", "How do database indexes work?"))
		var first, last time.Time
		var text strings.Builder
		var final openai.ChatCompletionChunk
		for st.Next() {
			ch := st.Current()
			final = ch
			if len(ch.Choices) == 1 && ch.Choices[0].Delta.Content != "" {
				if first.IsZero() {
					first = time.Now()
				}
				last = time.Now()
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		sum := councilOf(t, final.RawJSON())
		if text.String() != sum.Synthesis || sum.Chairman == "" {
			t.Fatalf("streamed %q, want the synthesis %q by %q", text.String(), sum.Synthesis, sum.Chairman)
		}
		if !last.After(first) {
			t.Errorf("the synthesis came all at once (%s); want it as it was written", first)
		}
	})
}

// TestChairmanFailsMidStream: a chairman that fails after its first words
// ends the stream with an error that says so, rather than appending the
// fallback chairman's answer to half of its own; the client then leaves,
// which cancels the session.
func TestChairmanFailsMidStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "[council]\nchairman = \"fake/x\"\nmin_responses = 2\n", nil)
		h.fake.err, h.fake.failAfter = errors.New("connection reset"), 2
		sub, _ := h.srv.hub.subscribe("", true)
		c := h.client("")
		st := c.Chat.Completions.NewStreaming(t.Context(), userParams("council/council", "How do database indexes work?"))
		var text strings.Builder
		for st.Next() {
			if ch := st.Current(); len(ch.Choices) == 1 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		err := st.Err()
		st.Close()
		if err == nil || !strings.Contains(err.Error(), "chairman fake/x failed") {
			t.Fatalf("stream error %v; want the chairman's failure named", err)
		}
		if text.String() != "a scripted " {
			t.Errorf("streamed %q, want the chairman's first two words", text.String())
		}
		sum := doneSummary(t, sub)
		i := slices.IndexFunc(sum.Models, func(r engine.ModelResult) bool { return r.Role == engine.RoleChairman })
		if i < 0 || sum.Models[i].ID != "fake/x" || sum.Models[i].Status != engine.AttemptFailedStatus {
			t.Errorf("chairman rows %+v; want fake/x failed", sum.Models)
		}
		if sum.Status != engine.StatusCancelled {
			t.Errorf("summary %s; want cancelled (the client left)", sum.Status)
		}
	})
}
