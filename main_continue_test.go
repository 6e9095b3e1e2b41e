package main

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
)

// `council run --continue LOG` asks each model with its own earlier
// answers before the new prompt (seen in the input tokens the simulated
// models count: about four characters a token), and with --record LOG
// the follow-up is appended to the same log.
func TestRunContinuesARecordedConversation(t *testing.T) {
	log := t.TempDir() + "/talk.jsonl"
	const p1, p2 = "I was charged twice this month", "and what should I do now?"
	synctest.Test(t, func(t *testing.T) {
		run := func(args ...string) engine.Summary {
			t.Helper()
			base := []string{"run", "--config", "testdata/fast.toml", "--json", "--seed", "3", "--strategy", "consensus", "--record", log}
			out, errOut, code := council(t, nil, append(base, args...)...)
			if code != 0 {
				t.Fatalf("run %q: exit %d: %s", args, code, errOut)
			}
			var sum engine.Summary
			if err := json.Unmarshal([]byte(out), &sum); err != nil {
				t.Fatalf("run %q: %v\n%s", args, err, out)
			}
			return sum
		}
		first := run(p1)
		second := run("--continue", log, p2)
		if len(first.Models) == 0 || len(second.Models) == 0 {
			t.Fatalf("no model rows: %+v %+v", first, second)
		}
		tokens := func(n int) int { return max(n/4, 1) }
		for _, r1 := range first.Models {
			if r1.Status != engine.AttemptDoneStatus && r1.Status != engine.AttemptWon {
				continue
			}
			var r2 *engine.ModelResult
			for i := range second.Models {
				if second.Models[i].ID == r1.ID {
					r2 = &second.Models[i]
				}
			}
			if r2 == nil {
				continue
			}
			system := r1.InputTokens - tokens(len(p1)) // the voter's instructions, the same both times
			want := tokens(len(p1)+len(r1.Text)+len(p2)) + system
			if r2.InputTokens != want {
				t.Errorf("%s read %d input tokens in the follow-up, want %d (p1, its own answer %q, p2)", r1.ID, r2.InputTokens, want, r1.Text)
			}
		}
	})
	if n := strings.Count(string(mustRead(t, log)), `"kind":"council.session"`); n != 2 {
		t.Errorf("%d sessions in the log, want the first and the follow-up", n)
	}
	_, errOut, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--continue", t.TempDir()+"/none.jsonl", "hi")
	if code != exitUsage || !strings.Contains(errOut, "--continue") {
		t.Errorf("--continue a missing log: exit %d, %q; want a usage error naming the flag", code, errOut)
	}
}

// The dashboard takes the request settings as run does, and refuses bad
// ones before it needs a terminal.
func TestDashboardSettingsFlags(t *testing.T) {
	for _, tt := range []struct{ args []string }{
		{[]string{"--temperature", "5"}},
		{[]string{"--max-tokens", "-1"}},
		{[]string{"--max-cost", "-1"}},
		{[]string{"--system", "a", "--system-file", "b"}},
	} {
		_, errOut, code := council(t, nil, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.args[0]) {
			t.Errorf("council %q: exit %d, %q; want a usage error naming %s", tt.args, code, errOut, tt.args[0])
		}
	}
}
