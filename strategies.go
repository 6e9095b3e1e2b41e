package main

import (
	"fmt"
	"strings"

	"github.com/council-dev/council/engine"
)

// withStrategies fills a usage text from the engine's registry of
// strategies: STRATEGIES_COMMA with those that run on a prompt alone
// (race, hedge, ...), STRATEGIES_OR with the same ending "... or auto",
// STRATEGIES with the same joined by |,
// STRATEGIES_DOC with those that need a document, and STRATEGY_LINES
// with a line for every strategy and what it does.
func withStrategies(usage string) string {
	var lines strings.Builder
	var doc []string
	for _, info := range engine.Strategies() {
		sum := info.Summary
		if !info.PromptAlone {
			sum += " (needs --input)"
			doc = append(doc, string(info.Name))
		}
		fmt.Fprintf(&lines, "  %-10s %s\n", info.Name, sum)
	}
	return strings.NewReplacer(
		"STRATEGIES_COMMA", engine.StrategyNames(", ", true),
		"STRATEGIES_OR", orList(engine.StrategyNames(", ", true)),
		"STRATEGIES_DOC", strings.Join(doc, "|"),
		"STRATEGIES", engine.StrategyNames("|", true),
		"STRATEGY_LINES\n", lines.String(),
	).Replace(usage)
}

// orList ends a list joined by ", " with " or " instead.
func orList(list string) string {
	if i := strings.LastIndex(list, ", "); i >= 0 {
		return list[:i] + " or " + list[i+2:]
	}
	return list
}
