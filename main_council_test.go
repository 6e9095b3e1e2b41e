package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// runJSON runs `council run --json` on the demo council inside a synctest
// bubble (the simulated models' times are virtual) and decodes the summary.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var sum map[string]any
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code := council(t, nil, append([]string{"run", "--json", "--seed", "7"}, args...)...)
		if code != 0 {
			t.Fatalf("council run %v: exit %d, stderr %q", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("not one JSON object: %v\n%s", err, out)
		}
	})
	return sum
}

func TestRunCouncilJSON(t *testing.T) {
	sum := runJSON(t, "--strategy", "council", "How do database indexes work?")
	for _, k := range []string{"stages", "rankings", "borda", "chairman", "synthesis", "degraded", "models"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("council summary has no %q", k)
		}
	}
	if sum["strategy"] != "council" || sum["answer"] == "" || sum["answer"] != sum["synthesis"] {
		t.Errorf("strategy %v answer %.60q synthesis %.60q; want council with the synthesis as the answer", sum["strategy"], sum["answer"], sum["synthesis"])
	}
	var names []string
	for _, st := range sum["stages"].([]any) {
		names = append(names, st.(map[string]any)["name"].(string))
	}
	if len(names) != 3 || names[0] != "answers" || names[1] != "review" || names[2] != "synthesis" {
		t.Errorf("stages %v, want answers, review, synthesis", names)
	}
	roles := map[string]int{}
	ids := map[string]bool{}
	for _, m := range sum["models"].([]any) {
		r := m.(map[string]any)
		roles[r["role"].(string)]++
		ids[r["attempt"].(string)] = true
		if r["stage"] == "" {
			t.Errorf("attempt row %v has no stage", r["attempt"])
		}
	}
	if roles["member"] != 5 || roles["reviewer"] == 0 || roles["chairman"] == 0 || len(ids) != len(sum["models"].([]any)) {
		t.Errorf("roles %v over %d rows with %d ids; want 5 members, reviewers and a chairman, one id each", roles, len(sum["models"].([]any)), len(ids))
	}
	deg := sum["degraded"].([]any)
	if (sum["status"] == "degraded") != (len(deg) > 0) {
		t.Errorf("status %v with degraded %v: the list must be empty exactly when not degraded", sum["status"], deg)
	}
}

// Three prompts of different kinds go to three strategies.
func TestRunAutoRoutes(t *testing.T) {
	for _, tt := range []struct{ prompt, route, strategy string }{
		{"Is my invoice overdue?", "yes-no", "consensus"},
		{"Classify this ticket: I was charged twice for one order.", "classification", "consensus"},
		{"Why does this fail?\n```go\nfunc main() { panic(\"x\") }\n```", "code", "race"},
		{"Tell me something nice about autumn.", "chat", "hedge"},
	} {
		sum := runJSON(t, "--strategy", "auto", tt.prompt)
		r, _ := sum["route"].(map[string]any)
		if r == nil || r["name"] != tt.route || r["strategy"] != tt.strategy || sum["strategy"] != tt.strategy {
			t.Errorf("%.30q: route %v strategy %v; want %s (%s)", tt.prompt, r, sum["strategy"], tt.route, tt.strategy)
			continue
		}
		if _, ok := r["confidence"]; !ok || r["why"] == "" {
			t.Errorf("%.30q: route %v lacks confidence or why", tt.prompt, r)
		}
		if sum["answer"] == "" && sum["status"] != "failed" {
			t.Errorf("%.30q: no answer", tt.prompt)
		}
		// The simulated voters answer a yes/no question yes or no, never
		// with a ticket category.
		if a := sum["answer"]; tt.route == "yes-no" && a != "yes" && a != "no" {
			t.Errorf("%.30q: answer %q (%v), want yes or no", tt.prompt, a, sum["status"])
		}
	}
}

// The built-in demo council is clean: config check warns about nothing
// (a new user's first run must not start with a warning about our own demo).
func TestDemoCouncilHasNoWarnings(t *testing.T) {
	out, errOut, code := council(t, nil, "config", "check")
	if code != 0 || errOut != "" || !strings.Contains(out, "config ok") {
		t.Errorf("config check on the demo: exit %d, stderr %q", code, errOut)
	}
}

// A council whose reviewer fails and whose fallback ranks in its place:
// `council run --json` exits 0 with a summary that names the fallback's
// row and says a fallback was needed. This panicked in parseRanking.
func TestRunCouncilReviewerFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code := council(t, nil, "run", "--config", "testdata/reviewer_fallback.toml", "--json", "--seed", "7", "How do database indexes work?")
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		var sum struct {
			Status   string   `json:"status"`
			Degraded []string `json:"degraded"`
			Models   []struct {
				ID          string `json:"id"`
				Role        string `json:"role"`
				Stage       string `json:"stage"`
				FallbackFor string `json:"fallback_for"`
			} `json:"models"`
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("not one JSON object: %v\n%s", err, out)
		}
		found := false
		for _, m := range sum.Models {
			found = found || (m.ID == "sim/fb" && m.FallbackFor == "sim/bad" && m.Role == "reviewer" && m.Stage == "review")
		}
		if !found || sum.Status != "degraded" || !slices.Contains(sum.Degraded, "fallback") {
			t.Errorf("status %s degraded %v rows %+v: want degraded (fallback) and sim/fb's review row standing in for sim/bad", sum.Status, sum.Degraded, sum.Models)
		}
	})
}
