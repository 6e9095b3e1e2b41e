package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// parseModels splits --models; a model listed twice is an error (each is
// a paid call; a repeat is a typo).
func parseModels(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if seen[m] {
			return nil, fmt.Errorf("--models lists %q more than once", m)
		}
		seen[m] = true
		out = append(out, m)
	}
	return out, nil
}

// checkChoices checks a tier and models against the config, listing the
// valid choices, as council run's errors do.
func checkChoices(cfg *config.Config, tier string, models []string) string {
	if tier != "" {
		if _, ok := cfg.Tier(tier); !ok {
			return fmt.Sprintf("unknown tier %q (tiers: %s)", tier, strings.Join(cfg.TierOrder(), ", "))
		}
	}
	for _, id := range models {
		if _, ok := cfg.Model(id); !ok {
			ids := make([]string, len(cfg.Models))
			for i, m := range cfg.Models {
				ids[i] = m.ID
			}
			return fmt.Sprintf("unknown model %q (models: %s)", id, strings.Join(ids, ", "))
		}
	}
	return ""
}

// settingsFlags fills s from the --system, --system-file, --max-tokens
// and --temperature flags; it returns what is wrong with them, if anything.
func settingsFlags(s *engine.Settings, system, systemFile string, maxTokens int, temperature string) string {
	if system != "" && systemFile != "" {
		return "give --system or --system-file, not both"
	}
	s.System = system
	if systemFile != "" {
		b, err := os.ReadFile(systemFile)
		if err != nil {
			return "--system-file: " + err.Error()
		}
		s.System = strings.TrimSpace(string(b))
	}
	if maxTokens < 0 {
		return "--max-tokens cannot be negative"
	}
	s.MaxTokens = maxTokens
	if temperature != "" {
		t, err := strconv.ParseFloat(temperature, 64)
		if err != nil || t < 0 || t > 2 || math.IsNaN(t) {
			return fmt.Sprintf("--temperature %q: want a number from 0 to 2", temperature)
		}
		s.Temperature = &t
	}
	return ""
}
