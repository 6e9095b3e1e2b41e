package engine

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// turns is a two-turn conversation: in the first, a and b answered (a
// won); in the second, only a answered (b failed), and a's answer was final.
var turns = []Turn{
	{Prompt: "p1", Answers: map[string]string{"a": "a1", "b": "b1"}, Answer: "a1"},
	{Prompt: "p2", Answers: map[string]string{"a": "a2"}, Answer: "a2"},
}

// flat renders a request's messages as "role:content" strings.
func flat(r providers.Request) []string {
	var out []string
	for _, m := range r.Messages {
		out = append(out, m.Role+":"+m.Content)
	}
	return out
}

// A session that continues a conversation asks each model with its own
// history (its own answers as the assistant), a model without an answer
// in a turn gets that turn's final answer, and the new prompt comes last.
func TestFollowUpOwnHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(script{ttft: 10 * time.Millisecond, text: "a3"}),
			"b": fixed(script{ttft: 20 * time.Millisecond, text: "b3"}),
			"c": fixed(script{ttft: 30 * time.Millisecond, text: "c3"}),
		}
		e := newTestEngine(testConfig("a", "b", "c"), fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "p3", Turns: turns})
		if sum.Answer != "a3" {
			t.Fatalf("answer %q, want a3", sum.Answer)
		}
		want := map[string][]string{
			"a": {"user:p1", "assistant:a1", "user:p2", "assistant:a2", "user:p3"},
			"b": {"user:p1", "assistant:b1", "user:p2", "assistant:a2", "user:p3"},
			// c was in neither turn: the final answers.
			"c": {"user:p1", "assistant:a1", "user:p2", "assistant:a2", "user:p3"},
		}
		for id, w := range want {
			if got := flat(fakes[id].requests()[0]); !slices.Equal(got, w) {
				t.Errorf("%s was asked %q, want %q", id, got, w)
			}
		}
		// Without turns, the prompt alone.
		_, _ = collect(e, t.Context(), SessionRequest{Prompt: "new"})
		if got := flat(fakes["b"].requests()[1]); !slices.Equal(got, []string{"user:new"}) {
			t.Errorf("a new conversation asked b %q, want the prompt alone", got)
		}
	})
}

// With follow_up = "winner", every model is shown each turn's final answer.
func TestFollowUpWinnerHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(script{ttft: 10 * time.Millisecond, text: "a3"}),
			"b": fixed(script{ttft: 20 * time.Millisecond, text: "b3"}),
		}
		c := testConfig("a", "b")
		c.FollowUp = config.FollowWinner
		e := newTestEngine(c, fakes)
		defer e.Close()
		collect(e, t.Context(), SessionRequest{Prompt: "p3", Turns: turns})
		w := []string{"user:p1", "assistant:a1", "user:p2", "assistant:a2", "user:p3"}
		for _, id := range []string{"a", "b"} {
			if got := flat(fakes[id].requests()[0]); !slices.Equal(got, w) {
				t.Errorf("%s was asked %q, want the winners' answers %q", id, got, w)
			}
		}
	})
}

// Voters, reviewers and chairmen get the history too, before their own
// instruction, which stays the last message (with its kind and system).
func TestFollowUpReachesEveryRole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(vote("billing", 10*time.Millisecond)),
			"b": fixed(vote("billing", 20*time.Millisecond)),
		}
		c := testConfig("a", "b")
		c.Consensus.Voters, c.Consensus.MinResponses = 2, 2
		e := newTestEngine(c, fakes)
		defer e.Close()
		collect(e, t.Context(), SessionRequest{Prompt: "p3", Strategy: config.Consensus, Turns: turns})
		r := fakes["b"].requests()[0]
		if got, w := flat(r), []string{"user:p1", "assistant:b1", "user:p2", "assistant:a2", "user:p3"}; !slices.Equal(got, w) {
			t.Errorf("voter b was asked %q, want %q", got, w)
		}
		if r.Kind != providers.KindClassify || !strings.Contains(r.System, "Classify") {
			t.Errorf("voter b's request lost its instructions: kind %v, system %q", r.Kind, r.System)
		}

		cf, cc := staggeredCouncil()
		ce := councilEngine(t, cc, cf)
		defer ce.Close()
		_, sum := collect(ce, t.Context(), SessionRequest{Prompt: "Why?", Strategy: config.Council,
			Turns: []Turn{{Prompt: "p1", Answers: map[string]string{"m2": "m2 said"}, Answer: "final"}}})
		if sum.Status != StatusDecided {
			t.Fatalf("council %s, want decided", sum.Status)
		}
		kinds := map[providers.RequestKind]bool{}
		for _, id := range []string{"m1", "m2", "m3"} {
			for _, r := range cf[id].requests() {
				kinds[r.Kind] = true
				own := map[string]string{"m1": "final", "m2": "m2 said", "m3": "final"}[id]
				got := flat(r)
				if len(got) != 3 || got[0] != "user:p1" || got[1] != "assistant:"+own || !strings.HasPrefix(got[2], "user:") {
					t.Errorf("%s's %v request %q, want p1, %q, then its instruction", id, r.Kind, got, own)
				}
			}
		}
		if !kinds[providers.KindRank] || !kinds[providers.KindSynthesize] {
			t.Errorf("kinds seen %v, want reviews and a synthesis", kinds)
		}
	})
}

// A fallback is asked what the model it stands in for was asked, with its
// own history and the settings applied once, not on top of that model's.
func TestFollowUpFallbackGetsItsOwnHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := &providers.Error{Kind: providers.KindHTTP, Status: 500, Message: "boom"}
		fakes := map[string]*fake{
			"a":  fixed(script{ttft: 10 * time.Millisecond, err: boom}),
			"fb": fixed(script{ttft: 10 * time.Millisecond, text: "fb3"}),
		}
		c := testConfig("a")
		c.Models = append(c.Models, config.ModelConfig{ID: "fb", Provider: "fake", Model: "fb"})
		c.Models[0].Fallbacks = []string{"fb"}
		e := newTestEngine(c, fakes)
		defer e.Close()
		_, sum := collect(e, t.Context(), SessionRequest{Prompt: "p3", Turns: turns, Settings: Settings{System: "Be brief."}})
		if sum.Answer != "fb3" {
			t.Fatalf("answer %q, want the fallback's", sum.Answer)
		}
		r := fakes["fb"].requests()[0]
		if got, w := flat(r), []string{"user:p1", "assistant:a1", "user:p2", "assistant:a2", "user:p3"}; !slices.Equal(got, w) {
			t.Errorf("the fallback was asked %q, want %q", got, w)
		}
		if r.System != "Be brief." {
			t.Errorf("the fallback's system prompt %q, want the request's once", r.System)
		}
	})
}
