package ui

import (
	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// strategyCycle is what m cycles through: the engine's strategies that
// run on a prompt alone, then, withDocument (--input), those that need a
// document.
func strategyCycle(withDocument bool) []config.Strategy {
	var out, doc []config.Strategy
	for _, info := range engine.Strategies() {
		if info.PromptAlone {
			out = append(out, info.Name)
		} else if withDocument {
			doc = append(doc, info.Name)
		}
	}
	return append(out, doc...)
}

// firstNeedingDocument is the first of cycle that needs a document (what
// the dashboard starts on when given one), else the first.
func firstNeedingDocument(cycle []config.Strategy) config.Strategy {
	for _, st := range cycle {
		if info, ok := engine.LookupStrategy(st); ok && !info.PromptAlone {
			return st
		}
	}
	if len(cycle) == 0 {
		return ""
	}
	return cycle[0]
}

// strategyStages are the stages strategy st declares, in order.
func strategyStages(st config.Strategy) []engine.Stage {
	info, _ := engine.LookupStrategy(st)
	return info.Stages
}
