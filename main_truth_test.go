package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Tests that the CLI never says something false (issue 9).

// writeConfig writes a config file for one test and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "council.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCancelled runs council with a context cancelled after d of synctest's
// virtual time, as ctrl+c would.
func runCancelled(t *testing.T, d time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(d, cancel)
		var out, errb bytes.Buffer
		code = realMain(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string {
			if k == "HOME" {
				return "/nonexistent"
			}
			return ""
		})
		stdout, stderr = out.String(), errb.String()
	})
	return stdout, stderr, code
}

// TestCancelledConsensusCLI: ctrl+c on a consensus reads cancelled in the
// JSON and the text line, exit 130; never a missed quorum, never 0%.
func TestCancelledConsensusCLI(t *testing.T) {
	cfg := "testdata/slowvote.toml" // three voters, two of them 20s slow
	out, errOut, code := runCancelled(t, time.Second, "run", "--config", cfg, "--strategy", "consensus", "--json", "--seed", "1", "charged twice")
	if code != exitCancelled {
		t.Errorf("--json: exit %d, want 130; stderr %q", code, errOut)
	}
	var sum struct {
		Status    string
		Error     string
		Agreement *float64
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if sum.Status != "cancelled" || strings.Contains(sum.Error, "quorum") {
		t.Errorf("JSON status %q error %q, want cancelled and no quorum message", sum.Status, sum.Error)
	}
	out, errOut, code = runCancelled(t, time.Second, "run", "--config", cfg, "--strategy", "consensus", "--seed", "1", "charged twice")
	if code != exitCancelled || !strings.Contains(errOut, ": cancelled") {
		t.Errorf("text: exit %d stderr %q, want 130 and cancelled", code, errOut)
	}
	for _, bad := range []string{"quorum", "agreement 0%", "failed"} {
		if strings.Contains(out+errOut, bad) {
			t.Errorf("text output says %q:\n%s%s", bad, out, errOut)
		}
	}
}

// TestHedgeBackupWithheldIsShown: a backup withheld by max_extra is an
// attempt row in --json and named on the text line.
func TestHedgeBackupWithheldIsShown(t *testing.T) {
	body, _ := os.ReadFile("testdata/fast.toml")
	cfg := writeConfig(t, strings.Replace(string(body), "max_extra = 1.0", "max_extra = 0.0", 1))
	var out, errOut string
	var code int
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code = council(t, nil, "run", "--config", cfg, "--strategy", "hedge", "--models", "sim/c,sim/a", "--json", "--seed", "1", "x")
	})
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var sum struct {
		Models []struct{ ID, Role, Status, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range sum.Models {
		if m.Role == "backup" && m.Status == "skipped" && m.Reason == "hedge_budget" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no backup row skipped for hedge_budget in %+v", sum.Models)
	}
	synctest.Test(t, func(t *testing.T) {
		_, errOut, _ = council(t, nil, "run", "--config", cfg, "--strategy", "hedge", "--models", "sim/c,sim/a", "--seed", "1", "x")
	})
	if !strings.Contains(errOut, "sim/a backup skipped (hedge_budget)") {
		t.Errorf("text line does not name the withheld backup:\n%s", errOut)
	}
}

// TestHedgeFailoverIsASecondRow: when the primary fails after max_extra
// withheld the backup, the backup runs as a failover: a second row for the
// same model, and the text line tells the two apart.
func TestHedgeFailoverIsASecondRow(t *testing.T) {
	body, _ := os.ReadFile("testdata/fast.toml")
	// sim/bad1 fails at 20ms, after the hedge would have fired (5ms).
	slowFail := strings.Replace(string(body), "id = \"sim/bad1\"\nprovider = \"sim\"\n[models.sim]\nttft = \"2ms\"\nttft_p95 = \"3ms\"",
		"id = \"sim/bad1\"\nprovider = \"sim\"\n[models.sim]\nttft = \"20ms\"\nttft_p95 = \"30ms\"", 1)
	if slowFail == string(body) {
		t.Fatal("testdata/fast.toml's sim/bad1 changed: update this test")
	}
	cfg := writeConfig(t, strings.Replace(slowFail, "max_extra = 1.0", "max_extra = 0.0", 1))
	var out, errOut string
	synctest.Test(t, func(t *testing.T) {
		out, _, _ = council(t, nil, "run", "--config", cfg, "--strategy", "hedge", "--models", "sim/bad1,sim/a", "--json", "--seed", "1", "x")
		_, errOut, _ = council(t, nil, "run", "--config", cfg, "--strategy", "hedge", "--models", "sim/bad1,sim/a", "--seed", "1", "x")
	})
	var sum struct {
		Status string
		Winner string
		Models []struct{ ID, Role, Status, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range sum.Models {
		if m.ID == "sim/a" {
			rows = append(rows, m.Role+" "+m.Status+" "+m.Reason)
		}
	}
	if strings.Join(rows, ", ") != "backup skipped hedge_budget, backup won " || sum.Winner != "sim/a" {
		t.Errorf("sim/a rows %q, winner %q; want the withheld backup, then the failover that won", rows, sum.Winner)
	}
	if !strings.Contains(errOut, "winner sim/a") || !strings.Contains(errOut, "sim/a backup skipped (hedge_budget)") || !strings.Contains(errOut, "sim/bad1 primary failed") {
		t.Errorf("text line:\n%s", errOut)
	}
}

// TestNoTokensNoCost: a model that failed before sending anything costs
// nothing, and JSON money carries no float noise.
func TestNoTokensNoCost(t *testing.T) {
	body, _ := os.ReadFile("testdata/fast.toml")
	priced := strings.Replace(string(body), "id = \"sim/bad1\"\nprovider = \"sim\"\n", "id = \"sim/bad1\"\nprovider = \"sim\"\ninput_per_mtok = 3.0\noutput_per_mtok = 15.0\n", 1)
	cfg := writeConfig(t, priced)
	for _, seed := range []string{"1", "2", "3"} {
		var out string
		synctest.Test(t, func(t *testing.T) {
			out, _, _ = council(t, nil, "run", "--config", cfg, "--models", "sim/bad1,sim/a,sim/b", "--json", "--seed", seed, "How do indexes work?")
		})
		var sum struct {
			Models []struct {
				ID                        string
				Status                    string
				InputTokens, OutputTokens int     `json:"-"`
				CostUSD                   float64 `json:"cost_usd"`
			}
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		for _, m := range sum.Models {
			if m.ID == "sim/bad1" && m.CostUSD != 0 {
				t.Errorf("seed %s: failed %s costs $%g, want 0", seed, m.ID, m.CostUSD)
			}
		}
		if noise := regexp.MustCompile(`"cost_usd":[0-9.]*[0-9]{10,}|"cost_usd":[0-9.]+e-`).FindString(out); noise != "" {
			t.Errorf("seed %s: float noise in %s", seed, noise)
		}
	}
}

// impossibleQuorum: a tier of two models under a consensus that needs
// three valid votes.
const impossibleQuorum = `
default_strategy = "race"
[consensus]
voters = 5
min_responses = 3
categories = ["billing", "account"]

[tiers.quick]
models = ["sim/a", "sim/b"]

[providers.sim]
kind = "sim"

[[models]]
id = "sim/a"
provider = "sim"

[[models]]
id = "sim/b"
provider = "sim"
`

// TestImpossibleQuorum: config check does not say a plain "config ok" for
// a consensus that can never reach quorum; it names the keys. run
// refuses such a consensus before any model is called.
func TestImpossibleQuorum(t *testing.T) {
	cfg := writeConfig(t, impossibleQuorum)
	out, errOut, _ := council(t, nil, "config", "check", "--config", cfg)
	if strings.Contains(out, "config ok\n") && !strings.Contains(errOut, "warning") {
		t.Errorf("config check says ok with no warning:\n%s%s", out, errOut)
	}
	for _, k := range []string{"consensus.min_responses", "tiers.quick.models"} {
		if !strings.Contains(errOut, k) {
			t.Errorf("config check does not name %s:\n%s", k, errOut)
		}
	}
	var code int
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code = council(t, nil, "run", "--config", cfg, "--strategy", "consensus", "--json", "x")
	})
	if code != exitUsage || !strings.Contains(errOut, "consensus.min_responses") || strings.Contains(out, `"decided"`) {
		t.Errorf("run: exit %d stdout %q stderr %q, want 2 naming consensus.min_responses", code, out, errOut)
	}
}

// TestHelpIsUsageOnStdout: --help of every command exits 0 and prints a
// usage in the style of council --help: double-dash flags, the prompt
// and stdin explained, examples.
func TestHelpIsUsageOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"run", "-h"}, {"config", "check", "--help"}} {
		out, errOut, code := council(t, nil, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d stderr %q, want 0 and nothing", args, code, errOut)
		}
		for _, want := range []string{"usage:", "--config", "examples:"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: usage has no %q:\n%s", args, want, out)
			}
		}
		if regexp.MustCompile(`(^|\s)-[a-z]{2,}`).MatchString(out) {
			t.Errorf("%v: a single-dash long flag in:\n%s", args, out)
		}
	}
	out, _, _ := council(t, nil, "run", "--help")
	for _, want := range []string{"PROMPT", "stdin", "--strategy", "--repeat", "--json"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help has no %q:\n%s", want, out)
		}
	}
}

// TestBadFlagPrintsTheUsage: an unknown flag is named with its double
// dash and followed by the command's usage, exit 2.
func TestBadFlagPrintsTheUsage(t *testing.T) {
	for _, args := range [][]string{{"run", "--bogus", "x"}, {"config", "check", "--bogus"}, {"--bogus"}} {
		out, errOut, code := council(t, nil, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "--bogus") || !strings.Contains(errOut, "usage:") {
			t.Errorf("%v: exit %d stdout %q stderr %q, want 2 with the usage on stderr", args, code, out, errOut)
		}
	}
}

// TestDashboardTakesRunFlags: the dashboard takes --strategy, --tier and
// --models, checked (with the valid choices listed once) before it needs
// a terminal.
func TestDashboardTakesRunFlags(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--tier", "nope"}, `unknown tier "nope" (tiers: quick, broken)`},
		{[]string{"--strategy", "vote"}, `unknown strategy "vote"`},
		{[]string{"--models", "sim/a,sim/zz"}, `unknown model "sim/zz"`},
		{[]string{"--theme", "neon"}, `none`},
	}
	for _, tt := range tests {
		_, errOut, code := council(t, nil, append([]string{"--config", "testdata/fast.toml"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tt.msg) || strings.Contains(errOut, "terminal") {
			t.Errorf("%v: exit %d stderr %q, want 2 with %q", tt.args, code, errOut, tt.msg)
		}
		if strings.Count(errOut, "dark") > 1 {
			t.Errorf("%v: the choices are listed twice: %q", tt.args, errOut)
		}
	}
	// Valid flags get as far as the terminal check.
	_, errOut, code := council(t, nil, "--config", "testdata/fast.toml", "--strategy", "hedge", "--tier", "broken", "--models", "sim/a,sim/c")
	if code != exitUsage || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("valid flags: exit %d stderr %q", code, errOut)
	}
}

// TestRepeatKeepsTheStreamsAndTotals: --repeat N writes what N=1 writes,
// N times (answers or JSON on stdout, summaries on stderr), then totals on
// stderr.
func TestRepeatKeepsTheStreamsAndTotals(t *testing.T) {
	var out, errOut string
	var code int
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code = council(t, nil, "run", "--config", "testdata/fast.toml", "--seed", "3", "--repeat", "3", "How do indexes work?")
	})
	if code != 0 {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	if strings.Contains(out, "race/quick") {
		t.Errorf("summary lines on stdout:\n%s", out)
	}
	if n := strings.Count(errOut, "race/quick: "); n != 3 {
		t.Errorf("%d summary lines on stderr, want 3:\n%s", n, errOut)
	}
	for _, want := range []string{"3 sessions", "3 decided", "0 degraded", "0 failed", "0 cancelled", "wins ", "sim/a", "p50 ", "p95 ", "p99 ", "cost $"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("totals have no %q:\n%s", want, errOut)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code = council(t, nil, "run", "--config", "testdata/fast.toml", "--seed", "3", "--repeat", "3", "--json", "x")
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("stdout line is not JSON: %q", l)
		}
	}
	if len(lines) != 3 || !strings.Contains(errOut, "3 sessions") {
		t.Errorf("--json --repeat 3: %d stdout lines, stderr %q", len(lines), errOut)
	}
}
