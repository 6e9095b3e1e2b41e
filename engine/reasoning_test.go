package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Reasoning streams apart from the answer: first_reasoning and
// reasoning_delta events, never in the answer, first_reasoning_ms and
// first_token_ms apart, and it keeps the stall timer from firing.
func TestReasoningStreamsApartFromTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 6 reasoning words 1s apart: 6s of reasoning against a 3s stall
		// timeout, before the first answer token.
		thinker := fixed(script{ttft: 100 * time.Millisecond, gap: time.Second,
			reasoning: "let me think this through carefully", text: "forty two",
			finish: providers.FinishStop,
			usage:  &providers.Usage{InputTokens: 50, OutputTokens: 300, ReasoningTokens: 280, CachedInputTokens: 40}})
		e := newTestEngine(testConfig("thinker"), map[string]*fake{"thinker": thinker})
		defer e.Close()

		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		if sum.Status != StatusDecided || sum.Answer != "forty two" {
			t.Fatalf("status %s answer %q (%s), want decided %q", sum.Status, sum.Answer, sum.Error, "forty two")
		}
		var reasoning, answer strings.Builder
		for _, ev := range evs {
			switch ev.Type {
			case ReasoningDelta:
				reasoning.WriteString(ev.Text)
			case Delta:
				answer.WriteString(ev.Text)
			}
		}
		if reasoning.String() != "let me think this through carefully" || answer.String() != "forty two" {
			t.Errorf("reasoning %q, answer %q", reasoning.String(), answer.String())
		}
		fr, ok := find(evs, FirstReasoning, "thinker")
		ft, ok2 := find(evs, FirstToken, "thinker")
		if !ok || !ok2 || fr.T != 100*time.Millisecond || ft.T != 6100*time.Millisecond || fr.Seq > ft.Seq {
			t.Errorf("first_reasoning %v at %v, first_token %v at %v; want 100ms then 6.1s", ok, fr.T, ok2, ft.T)
		}
		r := result(sum, "thinker")
		if r.FirstReasoningMS != 100 || r.FirstTokenMS != 6100 {
			t.Errorf("first_reasoning_ms %v first_token_ms %v, want 100 and 6100", r.FirstReasoningMS, r.FirstTokenMS)
		}
		if r.Finish != providers.FinishStop || r.Truncated || r.OutputTokens != 300 || r.ReasoningTokens != 280 || r.CachedInputTokens != 40 || r.InputTokens != 50 {
			t.Errorf("result %+v", r)
		}
		// 10 uncached input at $1, 40 cached at the input price (no
		// cached price set), 300 output at $2 per million.
		if want := (50*1.0 + 300*2.0) / 1e6; r.CostUSD != roundUSD(want) {
			t.Errorf("cost %v, want %v", r.CostUSD, roundUSD(want))
		}
		done, _ := find(evs, AttemptDone, "thinker")
		if done.Text != "forty two" || done.Finish != providers.FinishStop {
			t.Errorf("attempt_done text %q finish %v", done.Text, done.Finish)
		}
		b, _ := json.Marshal(done)
		if !strings.Contains(string(b), `"finish":"stop"`) || strings.Contains(string(b), "truncated") {
			t.Errorf("attempt_done JSON %s", b)
		}
		rd, _ := find(evs, ReasoningDelta, "")
		b, _ = json.Marshal(rd)
		if !strings.Contains(string(b), `"type":"reasoning_delta"`) {
			t.Errorf("reasoning_delta JSON %s", b)
		}
	})
}

// cached_input_per_mtok prices the cached part of the input.
func TestCachedInputPrice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fixed(script{ttft: 10 * time.Millisecond, text: "ok", finish: providers.FinishStop,
			usage: &providers.Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 10}})
		c := testConfig("m")
		cached := 0.25
		c.Models[0].CachedInputPerMTok = &cached
		e := newTestEngine(c, map[string]*fake{"m": f})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		want := roundUSD((200*1.0 + 800*0.25 + 10*2.0) / 1e6)
		if r := result(sum, "m"); r.CostUSD != want || r.CachedInputTokens != 800 {
			t.Errorf("cost %v cached %d, want %v and 800", r.CostUSD, r.CachedInputTokens, want)
		}
	})
}

// A truncated answer waits for a whole one; with every answer truncated
// the first wins, degraded; race.accept_truncated lets it win at once.
func TestRaceTruncated(t *testing.T) {
	cut := script{ttft: 10 * time.Millisecond, text: "cut short", finish: providers.FinishLength}
	whole := script{ttft: 500 * time.Millisecond, text: "whole answer", finish: providers.FinishStop}
	for _, tt := range []struct {
		name       string
		accept     bool
		slow       script
		winner     string
		status     Status
		degraded   []string
		truncFirst bool
	}{
		{name: "whole answer wins", slow: whole, winner: "slow", status: StatusDecided},
		{name: "accept_truncated", accept: true, slow: whole, winner: "fast", status: StatusDegraded, degraded: []string{DegradedTruncated}},
		{name: "all truncated", slow: script{ttft: 500 * time.Millisecond, text: "also cut", finish: providers.FinishLength},
			winner: "fast", status: StatusDegraded, degraded: []string{DegradedTruncated}},
		{name: "the whole one failed", slow: script{ttft: 500 * time.Millisecond, err: providers.Errorf(providers.KindHTTP, "boom")},
			winner: "fast", status: StatusDegraded, degraded: []string{DegradedModelFailed, DegradedTruncated}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := testConfig("fast", "slow")
				c.Race.AcceptTruncated = tt.accept
				e := newTestEngine(c, map[string]*fake{"fast": fixed(cut), "slow": fixed(tt.slow)})
				defer e.Close()
				evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
				if sum.Winner != tt.winner || sum.Status != tt.status || strings.Join(sum.Degraded, ",") != strings.Join(tt.degraded, ",") {
					t.Errorf("winner %q status %s degraded %v; want %q %s %v", sum.Winner, sum.Status, sum.Degraded, tt.winner, tt.status, tt.degraded)
				}
				if r := result(sum, "fast"); r.Finish != providers.FinishLength || !r.Truncated {
					t.Errorf("fast finish %q truncated %v, want length true", r.Finish, r.Truncated)
				}
				d, _ := find(evs, AttemptDone, "fast")
				if b, _ := json.Marshal(d); !strings.Contains(string(b), `"finish":"length","truncated":true`) {
					t.Errorf("attempt_done JSON %s", b)
				}
			})
		})
	}
}

// An answer whose every token went to reasoning says so.
func TestEmptyAnswerAfterReasoning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fixed(script{ttft: 10 * time.Millisecond, reasoning: "hmm let me see", finish: providers.FinishLength})
		g := fixed(script{ttft: 10 * time.Millisecond, text: "", finish: providers.FinishStop})
		tool := fixed(script{ttft: 10 * time.Millisecond, text: "", finish: providers.FinishToolCalls})
		e := newTestEngine(testConfig("thinker", "blank", "tool"), map[string]*fake{"thinker": f, "blank": g, "tool": tool})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		if r := result(sum, "thinker"); r.Status != AttemptFailedStatus || r.Error != "empty answer: the token limit was spent on reasoning" || r.Finish != providers.FinishLength {
			t.Errorf("thinker %s %q finish %q", r.Status, r.Error, r.Finish)
		}
		if r := result(sum, "blank"); r.Error != "empty answer" {
			t.Errorf("blank error %q, want empty answer", r.Error)
		}
		if r := result(sum, "tool"); r.Error != "empty answer: the model asked for a tool" || r.Finish != providers.FinishToolCalls {
			t.Errorf("tool error %q finish %v", r.Error, r.Finish)
		}
	})
}

// A slow consumer gets reasoning merged into reasoning and answer into
// answer, in order, never one into the other.
func TestSlowConsumerMergesReasoningApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fixed(script{ttft: time.Millisecond, gap: time.Millisecond,
			reasoning: strings.Repeat("think ", 40), text: strings.Repeat("word ", 40)})
		e := newTestEngine(testConfig("m"), map[string]*fake{"m": f})
		defer e.Close()
		ch, err := e.Start(t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the consumer is away while everything streams
		var reasoning, answer strings.Builder
		var evs []Event
		for ev := range ch {
			evs = append(evs, ev)
			switch ev.Type {
			case ReasoningDelta:
				if answer.Len() > 0 {
					t.Errorf("reasoning after the answer began")
				}
				reasoning.WriteString(ev.Text)
			case Delta:
				answer.WriteString(ev.Text)
			}
		}
		checkOrder(t, evs)
		if reasoning.String() != strings.Repeat("think ", 40) || answer.String() != strings.Repeat("word ", 40) {
			t.Errorf("reasoning %q\nanswer %q", reasoning.String(), answer.String())
		}
		if n := count(evs, ReasoningDelta) + count(evs, Delta); n >= 80 {
			t.Errorf("%d deltas for a consumer that was away, want them merged", n)
		}
	})
}

// Reasoning starts the stall timer: a model that reasons and then goes
// silent is stalled after stall_timeout, not kept until per_model_timeout.
func TestReasoningThenSilenceStalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fixed(script{ttft: 10 * time.Millisecond, reasoning: "thinking hard", text: "never", after: 2, stall: true})
		e := newTestEngine(testConfig("m"), map[string]*fake{"m": f})
		defer e.Close()
		evs, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
		failed, ok := find(evs, AttemptFailed, "m")
		if !ok || failed.Kind != providers.KindStalled || failed.T != 3010*time.Millisecond {
			t.Errorf("got %v kind %v at %v, want stalled at 3.01s", ok, failed.Kind, failed.T)
		}
		if r := result(sum, "m"); r.FirstReasoningMS != 10 || r.FirstTokenMS != 0 {
			t.Errorf("first_reasoning_ms %v first_token_ms %v", r.FirstReasoningMS, r.FirstTokenMS)
		}
	})
}

// A model cancelled while it was still reasoning was streaming: its
// breaker counts the call as healthy, as it does a cancelled answer.
func TestCancelledWhileReasoningIsHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast := fixed(script{ttft: 50 * time.Millisecond, text: "a"})
		thinker := fixed(script{ttft: 10 * time.Millisecond, gap: time.Second, reasoning: "hmm let me think", text: "b"})
		e := newTestEngine(testConfig("fast", "thinker"), map[string]*fake{"fast": fast, "thinker": thinker})
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "x"})
		if r := result(sum, "thinker"); r.Status != AttemptCancelledStatus || r.FirstReasoningMS != 10 || r.FirstTokenMS != 0 {
			t.Fatalf("thinker %+v", r)
		}
		for _, h := range e.Health() {
			if h.ID == "thinker" && (h.Breaker.Requests != 1 || h.Breaker.Failures != 0) {
				t.Errorf("thinker breaker %+v, want one healthy call", h.Breaker)
			}
		}
	})
}
