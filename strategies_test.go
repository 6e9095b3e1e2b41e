package main

import (
	"strings"
	"testing"

	"github.com/council-dev/council/engine"
)

// TestUsageReadsTheRegistry: the usages name every registered strategy
// (run's with its summary), and an unknown strategy is refused naming
// them all, so a strategy registered in the engine shows in the CLI
// without editing a usage string.
func TestUsageReadsTheRegistry(t *testing.T) {
	help, _, _ := council(t, nil, "--help")
	runHelp, _, _ := council(t, nil, "run", "--help")
	benchHelp, _, _ := council(t, nil, "bench", "--help")
	for _, info := range engine.Strategies() {
		if !strings.Contains(runHelp, string(info.Name)+" ") || !strings.Contains(runHelp, info.Summary) {
			t.Errorf("run --help lacks %s: %s", info.Name, info.Summary)
		}
		if info.PromptAlone && !strings.Contains(benchHelp, string(info.Name)) {
			t.Errorf("bench --help lacks %s", info.Name)
		}
	}
	if want := "--strategy " + engine.StrategyNames("|", true) + " "; !strings.Contains(help, want) {
		t.Errorf("council --help lacks %q", want)
	}
	for _, args := range [][]string{{"run", "--strategy", "vote", "x"}, {"bench", "--strategy", "vote"}} {
		_, errOut, code := council(t, nil, args...)
		if code != exitUsage || !strings.Contains(errOut, `unknown strategy "vote"`) || !strings.Contains(errOut, "section (with a document)") {
			t.Errorf("%v: exit %d %q, want 2 listing every strategy", args, code, errOut)
		}
	}
	if _, errOut, code := council(t, nil, "bench", "--strategy", "section"); code != exitUsage || !strings.Contains(errOut, "needs a document") {
		t.Errorf("bench --strategy section: exit %d %q", code, errOut)
	}
}
