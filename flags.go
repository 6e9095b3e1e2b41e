package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// sessionFlags are the flags of every command that runs sessions (the
// dashboard, council run and council bench): the config, the strategy,
// tier and models, the seed, how every model is asked and the spending
// cap. They are defined by [addSessionFlags] and checked in one place,
// [sessionFlags.request], so the commands cannot disagree on them.
type sessionFlags struct {
	config   string
	strategy *string // nil: the command defines its own --strategy
	tier     string
	models   string
	seed     int64

	system, systemFile string
	maxTokens          int
	temperature        string
	maxCost            float64
}

// addSessionFlags defines the session flags on fs. seed is --seed's
// default (0: random); withStrategy false leaves --strategy to the command
// (council bench takes names the engine does not, such as single).
func addSessionFlags(fs *flag.FlagSet, seed int64, withStrategy bool) *sessionFlags {
	f := &sessionFlags{}
	fs.StringVar(&f.config, "config", "", "config file")
	if withStrategy {
		f.strategy = fs.String("strategy", "", engine.StrategyNames(", ", true)+" (default: the config's default_strategy)")
	}
	fs.StringVar(&f.tier, "tier", "", "tier name (default: the config's default_tier)")
	fs.StringVar(&f.models, "models", "", "comma-separated model ids (default: the tier's models)")
	fs.Int64Var(&f.seed, "seed", seed, "seed for simulated models")
	fs.StringVar(&f.system, "system", "", "a system prompt for every model (over the config's)")
	fs.StringVar(&f.systemFile, "system-file", "", "read the system prompt from this file")
	fs.IntVar(&f.maxTokens, "max-tokens", 0, "cap each answer at N tokens (over the config's)")
	fs.StringVar(&f.temperature, "temperature", "", "sampling temperature, 0 to 2 (dropped, with a note, for models that refuse one)")
	fs.Float64Var(&f.maxCost, "max-cost", 0, "cap each session's cost in USD: a session that may cost more does not start")
	return f
}

// request checks the flags and returns the request they describe (all
// but the prompt and document), or what is wrong with them.
func (f *sessionFlags) request() (engine.SessionRequest, string) {
	req := engine.SessionRequest{Tier: f.tier, MaxCostUSD: f.maxCost}
	if msg := settingsFlags(&req.Settings, f.system, f.systemFile, f.maxTokens, f.temperature); msg != "" {
		return req, msg
	}
	if f.maxCost < 0 || math.IsNaN(f.maxCost) || math.IsInf(f.maxCost, 0) {
		return req, "--max-cost must be a positive number of dollars"
	}
	if f.strategy != nil && *f.strategy != "" {
		s, err := engine.ParseStrategy(*f.strategy)
		if err != nil {
			return req, err.Error()
		}
		req.Strategy = s
	}
	var err error
	if req.Models, err = parseModels(f.models); err != nil {
		return req, err.Error()
	}
	return req, ""
}

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
