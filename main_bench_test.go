package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"charm.land/bubbles/v2/progress"
	"github.com/charmbracelet/x/ansi"
)

// TestBenchJSON: council bench --json on simulated models is one object
// with the documented fields, and the same seed gives the same bytes.
func TestBenchJSON(t *testing.T) {
	args := []string{"bench", "--config", "testdata/fast.toml", "--compare", "race,hedge,consensus", "--sessions", "60", "--seed", "3", "--json"}
	out, errOut, code := council(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep struct {
		Clock      string           `json:"clock"`
		Partial    bool             `json:"partial"`
		Strategies []map[string]any `json:"strategies"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if rep.Clock != "virtual" || rep.Partial || len(rep.Strategies) != 3 {
		t.Fatalf("clock %q partial %v, %d strategies; want virtual, whole, 3", rep.Clock, rep.Partial, len(rep.Strategies))
	}
	for _, s := range rep.Strategies {
		for _, k := range []string{"strategy", "sessions", "successes", "p50_ms", "p95_ms", "p99_ms", "extra_requests",
			"degraded", "failed", "cost_usd", "wasted_cost_usd", "models"} {
			if _, ok := s[k]; !ok {
				t.Errorf("%v has no %q", s["strategy"], k)
			}
		}
		if s["sessions"].(float64) != 60 {
			t.Errorf("%v: %v sessions, want 60", s["strategy"], s["sessions"])
		}
		_, acc := s["accuracy"]
		_, votes := s["mean_votes"]
		if s["strategy"] == "consensus" && !votes {
			t.Errorf("consensus has no mean_votes")
		}
		if s["strategy"] != "consensus" && (acc || votes) {
			t.Errorf("%v has accuracy or mean_votes", s["strategy"])
		}
	}
	again, _, _ := council(t, nil, args...)
	if again != out {
		t.Errorf("same seed, different report:\n%s\n%s", out, again)
	}
}

func TestBenchTableAndCSV(t *testing.T) {
	out, errOut, code := council(t, nil, "bench", "--config", "testdata/fast.toml", "--strategy", "race", "--sessions", "30")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"strategy", "race", "p99", "sim/a", "latency of every session", "p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("table has no %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "30/30 sessions") {
		t.Errorf("no progress line on stderr (stdout is not a terminal): %q", errOut)
	}
	out, _, code = council(t, nil, "bench", "--config", "testdata/fast.toml", "--strategy", "race", "--sessions", "30", "--csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], "strategy,model,sessions,") || !strings.HasPrefix(lines[1], "race,,30,") {
		t.Errorf("CSV: exit %d\n%s", code, out)
	}
}

func TestBenchSweepJSON(t *testing.T) {
	out, errOut, code := council(t, nil, "bench", "--config", "testdata/bench/ceiling.toml", "--sweep-concurrency", "2..5", "--sessions", "80", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep struct {
		Sweep struct {
			Points []struct {
				Concurrency int     `json:"concurrency"`
				Throughput  float64 `json:"throughput_per_s"`
			} `json:"points"`
			Ceiling int `json:"ceiling"`
		} `json:"sweep"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Sweep.Points) != 4 || rep.Sweep.Points[0].Concurrency != 2 || rep.Sweep.Ceiling != 4 {
		t.Errorf("sweep 2..5: %+v, want 4 points from 2, ceiling 4", rep.Sweep)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--strategy", "race", "--compare", "race,hedge"}, "not both"},
		{[]string{"--sweep-concurrency", "5..2"}, "--sweep-concurrency"},
		{[]string{"--sweep-concurrency", "x"}, "--sweep-concurrency"},
		{[]string{"--compare", "race,nope"}, "nope"},
		{[]string{"--json", "--csv"}, "not both"},
		{[]string{"--strategy", "section"}, "document"},
		{[]string{"--models", "sim/zz"}, "unknown model"},
	} {
		_, errOut, code := council(t, nil, append([]string{"bench", "--config", "testdata/fast.toml"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestBenchAsksBeforeSpending: with a real model, bench prints the
// estimated cost and runs only on yes.
func TestBenchAsksBeforeSpending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bench := func(stdin string, extra ...string) (string, string, int) {
			var out, errb bytes.Buffer
			args := append([]string{"bench", "--config", "testdata/paid.toml", "--sessions", "4", "--json"}, extra...)
			code := realMain(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
			return out.String(), errb.String(), code
		}
		// 4 sessions, a race of one (two calls at worst, a failover), 1000
		// output tokens at $15/M: at least $0.12.
		out, errOut, code := bench("n\n")
		if code != exitUsage || out != "" || !strings.Contains(errOut, "may cost up to $0.12") || !strings.Contains(errOut, "not confirmed") {
			t.Errorf("answer n: exit %d, stdout %q, stderr %q; want 2, nothing run, the estimate shown", code, out, errOut)
		}
		_, _, code = bench("")
		if code != exitUsage {
			t.Errorf("no answer (EOF): exit %d, want 2", code)
		}
		out, errOut, code = bench("y\n")
		if code != exitOK || !strings.Contains(out, `"clock": "real"`) || !strings.Contains(out, `"failed": 4`) {
			t.Errorf("answer y: exit %d, stderr %q, stdout:\n%s\nwant the bench run (its calls fail: no key)", code, errOut, out)
		}
		out, errOut, code = bench("", "--yes")
		if code != exitOK || strings.Contains(errOut, "go ahead") || !strings.Contains(out, `"sessions": 4`) {
			t.Errorf("--yes: exit %d, stderr %q: want no question", code, errOut)
		}
	})
}

// TestBenchCtrlCPrintsPartial: a cancelled bench prints what it measured,
// marked partial, and exits 130.
func TestBenchCtrlCPrintsPartial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The real clock (synctest's here): ctrl+c after 2 seconds of sessions of a few milliseconds.
		time.AfterFunc(2*time.Second, cancel)
		var out, errb bytes.Buffer
		code := realMain(ctx, []string{"bench", "--config", "testdata/fast.toml", "--real-clock", "--strategy", "race", "--sessions", "100000", "--json"},
			strings.NewReader(""), &out, &errb, func(string) string { return "" })
		if code != exitCancelled {
			t.Fatalf("exit %d, want 130; stderr %q", code, errb.String())
		}
		var rep struct {
			Partial    bool `json:"partial"`
			Strategies []struct {
				Sessions int `json:"sessions"`
			} `json:"strategies"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("no report: %v\n%s", err, out.String())
		}
		if !rep.Partial || len(rep.Strategies) != 1 || rep.Strategies[0].Sessions == 0 || rep.Strategies[0].Sessions >= 100000 {
			t.Errorf("partial %v, %+v: want partial, some of the 100000 sessions", rep.Partial, rep.Strategies)
		}
		if !strings.Contains(errb.String(), "partial") {
			t.Errorf("stderr does not say partial: %q", errb.String())
		}
	})
}

// TestConfigCheckShowsBenchKnobs: config check lists the keys a bench is
// measured against, and a negative capacity names its file, line and key.
func TestConfigCheckShowsBenchKnobs(t *testing.T) {
	out, errOut, code := council(t, nil, "config", "check", "--config", "testdata/bench/ceiling.toml")
	if code != 0 || !strings.Contains(out, "sim/server  -          4") {
		t.Errorf("exit %d, stderr %q; want the capacity listed:\n%s", code, errOut, out)
	}
	out, _, _ = council(t, nil, "config", "check", "--config", "testdata/bench/tail.toml")
	if !strings.Contains(out, "5% of calls 10x slower") {
		t.Errorf("no slow tail listed:\n%s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	b, _ := os.ReadFile("testdata/bench/ceiling.toml")
	os.WriteFile(bad, bytes.Replace(b, []byte("capacity = 4"), []byte("capacity = -2"), 1), 0o600)
	_, errOut, code = council(t, nil, "config", "check", "--config", bad)
	if code != exitUsage || !strings.Contains(errOut, "bad.toml:") || !strings.Contains(errOut, "capacity") {
		t.Errorf("capacity = -2: exit %d, stderr %q; want 2 naming the file, line and key", code, errOut)
	}
}

// TestBenchStopsAtTheRunCap: a spending cap ends the bench with what it
// measured, says why, and exits 1; nothing is lost.
func TestBenchStopsAtTheRunCap(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "capped.toml")
	b, _ := os.ReadFile("testdata/fast.toml")
	// A session may cost $0.0082 at worst and costs about $0.00006: the
	// cap admits about 200 sessions of the 500.
	b = append([]byte("max_run_cost_usd = 0.02\n"), b...)
	os.WriteFile(cfg, b, 0o600)
	out, errOut, code := council(t, nil, "bench", "--config", cfg, "--strategy", "race", "--sessions", "500", "--json")
	var rep struct {
		Partial    bool   `json:"partial"`
		Stopped    string `json:"stopped"`
		Strategies []struct {
			Sessions int `json:"sessions"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, stderr %q, no report: %v\n%s", code, errOut, err, out)
	}
	if code != exitFailed || !rep.Partial || !strings.Contains(rep.Stopped, "max_run_cost_usd") ||
		len(rep.Strategies) != 1 || rep.Strategies[0].Sessions == 0 || rep.Strategies[0].Sessions >= 500 {
		t.Errorf("exit %d, partial %v, stopped %q, %+v; want 1, partial, the cap named, some sessions", code, rep.Partial, rep.Stopped, rep.Strategies)
	}
	if !strings.Contains(errOut, "max_run_cost_usd") {
		t.Errorf("stderr does not say why: %q", errOut)
	}
	// Each strategy runs on an engine of its own; the cap is the bench's.
	out, _, code = council(t, nil, "bench", "--config", cfg, "--compare", "race,hedge,race", "--sessions", "150", "--json")
	var cmp struct {
		Stopped    string `json:"stopped"`
		Strategies []struct {
			CostUSD float64 `json:"cost_usd"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal([]byte(out), &cmp); err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, s := range cmp.Strategies {
		total += s.CostUSD
	}
	if code != exitFailed || cmp.Stopped == "" || total > 0.02 {
		t.Errorf("three batches under a $0.02 cap: exit %d, stopped %q, spent $%.6f; want stopped within the cap", code, cmp.Stopped, total)
	}
}

// TestBenchFitsEightyColumns: council bench --compare single,race,hedge on
// the demo council, told the width by $COLUMNS, writes no line wider.
func TestBenchFitsEightyColumns(t *testing.T) {
	out, errOut, code := council(t, map[string]string{"COLUMNS": "80"}, "bench", "--compare", "single,race,hedge", "--sessions", "40", "--seed", "1")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("%d cells: %s", w, line)
		}
	}
	if !strings.Contains(out, "sim/straggler") || !strings.Contains(out, "hedge: sim/straggler") {
		t.Errorf("no model table or hedge note:\n%s", out)
	}
}

// TestBenchProgressBarFitsTheWidth: the progress bar's line, redrawn in
// place with \r, is cut to the width: a line that wrapped could not be.
func TestBenchProgressBarFitsTheWidth(t *testing.T) {
	var tty bytes.Buffer
	c := &cli{stdout: &tty, getenv: func(k string) string {
		return map[string]string{"COLUMNS": "80", "NO_COLOR": "1"}[k]
	}}
	p := c.newBenchProgress()
	b := progress.New(progress.WithWidth(min(40, p.width/3)))
	p.bar, p.tty = &b, &tty
	p.update("a-strategy-with-a-long-name at concurrency 12 of 1..16", 2500, 16000)
	line := strings.TrimSuffix(strings.TrimPrefix(tty.String(), "\r"), "\x1b[K")
	if w := ansi.StringWidth(line); w > 79 || !strings.HasSuffix(line, "…") || !strings.Contains(line, "concurrency 12") {
		t.Errorf("%d cells: %q; want at most 79, cut with …", w, line)
	}
}
