package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
)

// session_started describes the session as every screen draws it: the
// strategy, tier, models, prompt, settings, cap, turn and document it was
// asked with, whatever the screen's own next-session settings are.
func TestSessionStartedDescribesTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(script{ttft: 10 * time.Millisecond, text: "billing"}),
			"b": fixed(script{ttft: 20 * time.Millisecond, text: "billing"}),
			"c": fixed(script{ttft: 30 * time.Millisecond, text: "billing"}),
		}
		cfg := testConfig("a", "b", "c")
		cfg.MaxCostUSD = 2
		e := newTestEngine(cfg, fakes)
		defer e.Close()
		temp := 0.3
		cases := []struct {
			req  SessionRequest
			want SessionInfo
		}{
			{SessionRequest{Prompt: "hi"},
				SessionInfo{Strategy: config.Race, Tier: "t", Models: []string{"a", "b", "c"}, CostCapUSD: 2, Turn: 1}},
			{SessionRequest{Prompt: "which?", Strategy: config.Consensus, Models: []string{"c", "b", "a"},
				Settings: Settings{System: "be brief", MaxTokens: 300, Temperature: &temp}, MaxCostUSD: 0.5, Turns: turns},
				SessionInfo{Strategy: config.Consensus, Tier: "t", Models: []string{"c", "b", "a"},
					Settings: Settings{System: "be brief", MaxTokens: 300, Temperature: &temp}, CostCapUSD: 0.5, Turn: 3}},
			{SessionRequest{Prompt: "sum up", Strategy: config.Section, Document: "# A\n\none\n\n# B\n\ntwo", DocumentName: "doc.md"},
				SessionInfo{Strategy: config.Section, Tier: "t", Models: []string{"a", "b", "c"}, CostCapUSD: 2, Turn: 1, Input: "doc.md"}},
		}
		for _, c := range cases {
			evs, _ := collect(e, t.Context(), c.req)
			st := evs[0]
			if st.Type != SessionStarted || st.Text != c.req.Prompt {
				t.Fatalf("first event %s %q, want session_started with the prompt %q", st.Type, st.Text, c.req.Prompt)
			}
			if st.Detail == nil || st.Detail.Info == nil {
				t.Fatalf("%s: session_started has no description", c.req.Strategy)
			}
			if got := *st.Detail.Info; !reflect.DeepEqual(got, c.want) {
				t.Errorf("session_started describes\n%+v\nwant\n%+v", got, c.want)
			}
			// The --events line carries it, and reads back to the same line.
			line, _ := json.Marshal(st)
			for _, key := range []string{`"strategy":`, `"tier":"t"`, `"models":[`, `"turn":`, `"cost_cap_usd":`} {
				if !strings.Contains(string(line), key) {
					t.Errorf("the session_started line lacks %s: %s", key, line)
				}
			}
			var back Event
			if err := json.Unmarshal(line, &back); err != nil {
				t.Fatal(err)
			}
			if again, _ := json.Marshal(back); string(again) != string(line) {
				t.Errorf("session_started does not read back to its line:\n%s\n%s", line, again)
			}
			if back.Detail == nil || !reflect.DeepEqual(*back.Detail.Info, c.want) {
				t.Errorf("read back as %+v, want %+v", back.Detail, c.want)
			}
		}
	})
}
