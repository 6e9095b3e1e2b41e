package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cfgLines joins lines with newlines, so that a case's line numbers can be
// read off its list.
func cfgLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// cfgBase is a minimal valid config of eight lines.
var cfgBase = []string{
	`[providers.sim]`, // 1
	`kind = "sim"`,    // 2
	`[[models]]`,      // 3
	`id = "a"`,        // 4
	`provider = "sim"`,
	`[[models]]`, // 6
	`id = "b"`,   // 7
	`provider = "sim"`,
}

func cfgWith(extra ...string) string {
	return cfgLines(append(slices.Clone(cfgBase), extra...)...)
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		line int
		key  string
		msg  string // substring of the message
	}{
		{"unknown key in a tier", cfgWith(`[tiers.quick]`, `models = ["a"]`, `timout = "5s"`),
			11, "tiers.quick.timout", `did you mean "timeout"`},
		{"unknown top-level key", cfgLines(append([]string{`max_concurency = 4`}, cfgBase...)...),
			1, "max_concurency", `did you mean "max_concurrency"`},
		{"unknown key in the second model", cfgWith(`inptu_per_mtok = 1.0`),
			9, "models.inptu_per_mtok", `did you mean "input_per_mtok"`},
		{"unknown key in a model's sim", cfgWith(`[models.sim]`, `ttf = "1s"`),
			10, "models.sim.ttf", "unknown key"},
		{"unknown table", cfgWith(`[hedges]`, `delay = "p95"`),
			9, "hedges", `did you mean "hedge"`},
		{"unknown key in an inline table", cfgLines(append([]string{`breaker = { failure_rate = 0.5, windw = "1m" }`}, cfgBase...)...),
			1, "breaker.windw", `did you mean "window"`},
		{"unknown key in a quoted tier name", cfgWith(`[tiers."deep think"]`, `timout = "5s"`),
			10, `tiers."deep think".timout`, "unknown key"},
		{"unknown key after a multi-line array", cfgWith(
			`[consensus]`,
			`categories = [`,
			`  "a",  # a comment with key = value`,
			`  "b",`,
			`]`,
			`votrs = 3`),
			14, "consensus.votrs", `did you mean "voters"`},
		{"unknown key after a multi-line string", cfgLines(append([]string{
			`theme = """`,
			`voters = 3`,
			`"""`,
			`temprature = 0.5`}, cfgBase...)...),
			4, "temprature", "unknown key"},
		{"bad follow_up", cfgLines(append([]string{`follow_up = "best"`}, cfgBase...)...),
			1, "follow_up", `must be "own" or "winner", got "best"`},
		{"bad duration", cfgWith(`[breaker]`, `window = "10 minutes"`),
			10, "breaker.window", "invalid duration"},
		{"bad duration in the first of two sims", cfgLines(
			`[providers.sim]`,
			`kind = "sim"`,
			`[[models]]`,
			`id = "a"`,
			`provider = "sim"`,
			`[models.sim]`,
			`ttft = "fast"`, // 7
			`[[models]]`,
			`id = "b"`,
			`provider = "sim"`,
			`[models.sim]`,
			`ttft = "1s"`),
			7, "models.sim.ttft", "invalid duration"},
		{"bad duration in the second of two sims", cfgLines(
			`[providers.sim]`,
			`kind = "sim"`,
			`[[models]]`,
			`id = "a"`,
			`provider = "sim"`,
			`[models.sim]`,
			`ttft = "1s"`,
			`[[models]]`,
			`id = "b"`,
			`provider = "sim"`,
			`[models.sim]`,
			`ttft = "fast"`), // 12
			12, "models.sim.ttft", "invalid duration"},
		{"type error in the second model", cfgWith(`input_per_mtok = "0.15"`),
			9, "models.input_per_mtok", "want a number, got a string"},
		{"bad hedge delay", cfgWith(`[hedge]`, `delay = "p200"`),
			10, "hedge.delay", "invalid hedge delay"},
		{"negative duration", cfgWith(`[tiers.quick]`, `timeout = "-5s"`),
			10, "tiers.quick.timeout", "negative"},
		{"type error in the first model", cfgLines(
			`[providers.sim]`,
			`kind = "sim"`,
			`[[models]]`,
			`id = "a"`,
			`provider = "sim"`,
			`input_per_mtok = "0.15"`, // 6
			`[[models]]`,
			`id = "b"`,
			`provider = "sim"`,
			`input_per_mtok = 0.2`),
			6, "models.input_per_mtok", "want a number, got a string"},
		{"type error at the top", cfgLines(append([]string{`max_concurrency = "8"`}, cfgBase...)...),
			1, "max_concurrency", "want an integer, got a string"},
		{"type error: string for an array", cfgWith(`[tiers.quick]`, `models = "a"`),
			10, "tiers.quick.models", "want an array"},
		{"type error: value for a table", cfgLines(append([]string{`breaker = 5`}, cfgBase...)...),
			1, "breaker", ""},
		{"[models] instead of [[models]]", cfgLines(`[providers.sim]`, `kind = "sim"`, `[models]`, `id = "a"`),
			3, "models", "double brackets"},
		{"type error in an inline array of tables", cfgLines(
			`models = [`,
			`  { id = "a", provider = "sim", max_tokens = 5 },`,
			`  { id = "b", provider = "sim", max_tokens = "lots" },`, // 3
			`]`,
			`[providers.sim]`,
			`kind = "sim"`),
			3, "models.max_tokens", "want an integer"},
		{"syntax error", cfgWith(`[breaker]`, `window =`),
			10, "", "invalid TOML"},
		{"failure rate above 1", cfgWith(`[breaker]`, `failure_rate = 1.5`),
			10, "breaker.failure_rate", "at most 1"},
		{"failure rate 0", cfgWith(`[breaker]`, `failure_rate = 0`),
			10, "breaker.failure_rate", "more than 0"},
		{"negative max_extra", cfgWith(`[hedge]`, `max_extra = -0.1`),
			10, "hedge.max_extra", "between 0 and 1"},
		{"sim error rate above 1", cfgWith(`[models.sim]`, `error_rate = 2.0`),
			10, "models.sim.error_rate", "between 0 and 1"},
		{"sim stall rate negative", cfgWith(`[models.sim]`, `stall_rate = -0.5`),
			10, "models.sim.stall_rate", "between 0 and 1"},
		{"negative min_requests", cfgWith(`[breaker]`, `min_requests = -1`),
			10, "breaker.min_requests", "at least 1"},
		{"zero window", cfgWith(`[breaker]`, `window = "0s"`),
			10, "breaker.window", "longer than 0"},
		{"max_concurrency 0", cfgLines(append([]string{`max_concurrency = 0`}, cfgBase...)...),
			1, "max_concurrency", "at least 1"},
		{"unknown strategy", cfgLines(append([]string{`default_strategy = "fastest"`}, cfgBase...)...),
			1, "default_strategy", `unknown strategy "fastest"`},
		{"default tier not defined", cfgLines(append([]string{`default_tier = "slow"`}, cfgBase...)...),
			1, "default_tier", `"slow" is not a tier`},
		{"tier names an unknown model", cfgWith(`[tiers.quick]`, `models = ["a", "zz"]`),
			10, "tiers.quick.models", `no model has id "zz"`},
		{"tier lists a model twice", cfgWith(`[tiers.quick]`, `models = ["a", "a"]`),
			10, "tiers.quick.models", "twice"},
		{"tier with no models", cfgWith(`[tiers.quick]`, `models = []`),
			10, "tiers.quick.models", "no models"},
		{"zero tier timeout", cfgWith(`[tiers.quick]`, `timeout = "0s"`),
			10, "tiers.quick.timeout", "longer than 0"},
		{"model provider not defined", cfgLines(
			`[providers.sim]`, `kind = "sim"`,
			`[[models]]`, `id = "a"`, `provider = "sim"`,
			`[[models]]`, `id = "b"`, `provider = "nope"`), // 8
			8, "models.provider", `provider "nope" is not defined`},
		{"model without provider", cfgLines(
			`[providers.sim]`, `kind = "sim"`,
			`[[models]]`, `id = "a"`, `provider = "sim"`,
			`[[models]]`, `id = "b"`), // header on 6
			6, "models.provider", "no provider"},
		{"model without id", cfgLines(
			`[providers.sim]`, `kind = "sim"`,
			`[[models]]`, `provider = "sim"`), // header on 3
			3, "models.id", "no id"},
		{"duplicate model ids", cfgLines(
			`[providers.sim]`, `kind = "sim"`,
			`[[models]]`, `id = "a"`, `provider = "sim"`,
			`[[models]]`, `id = "a"`, `provider = "sim"`), // 7
			7, "models.id", `duplicate model id "a" (first at line 4)`},
		{"negative price", cfgWith(`output_per_mtok = -1.0`),
			9, "models.output_per_mtok", "negative"},
		{"negative max_tokens", cfgWith(`max_tokens = -5`),
			9, "models.max_tokens", "negative"},
		{"negative output_tokens", cfgWith(`[models.sim]`, `output_tokens = -5`),
			10, "models.sim.output_tokens", "negative"},
		{"slow factor below 1", cfgWith(`[models.sim]`, `slow_factor = 0.5`),
			10, "models.sim.slow_factor", "at least 1"},
		{"ttft_p95 below ttft", cfgWith(`[models.sim]`, `ttft = "1s"`, `ttft_p95 = "500ms"`),
			11, "models.sim.ttft_p95", "less than"},
		{"negative answer weight", cfgWith(`[models.sim]`, `answers = { billing = 0.8, spam = -1.0 }`),
			10, "models.sim.answers.spam", "negative"},
		{"hedge primary unknown", cfgWith(`[hedge]`, `primary = "zz"`),
			10, "hedge.primary", `no model has id "zz"`},
		{"hedge backup unknown", cfgWith(`[hedge]`, `primary = "a"`, `backup = "zz"`),
			11, "hedge.backup", `no model has id "zz"`},
		{"hedge primary is the backup", cfgWith(`[hedge]`, `primary = "a"`, `backup = "a"`),
			11, "hedge.backup", "same model"},
		{"escalate_to unknown", cfgWith(`[consensus]`, `escalate_to = "zz"`),
			10, "consensus.escalate_to", `no model has id "zz"`},
		{"unknown tie_break", cfgWith(`[consensus]`, `tie_break = "coin"`),
			10, "consensus.tie_break", `unknown tie_break "coin"`},
		{"default_answer not a category", cfgWith(`[consensus]`, `categories = ["spam", "ham"]`, `default_answer = "misc"`),
			11, "consensus.default_answer", `"misc" is not one of the categories`},
		{"tie_break default without a default answer", cfgWith(`[consensus]`, `categories = ["spam", "ham"]`, `tie_break = "default"`),
			11, "consensus.tie_break", "needs a default_answer"},
		{"duplicate category", cfgWith(`[consensus]`, `categories = ["spam", "Spam"]`),
			10, "consensus.categories", "twice"},
		{"min_responses above voters", cfgWith(`[consensus]`, `voters = 3`, `min_responses = 4`),
			11, "consensus.min_responses", "more than voters"},
		{"default min_responses above voters", cfgWith(`[consensus]`, `voters = 2`, `min_responses = 3`),
			11, "consensus.min_responses", "more than voters"},
		{"zero voters", cfgWith(`[consensus]`, `voters = 0`),
			10, "consensus.voters", "at least 1"},
		{"negative min_responses", cfgWith(`[consensus]`, `min_responses = -1`),
			10, "consensus.min_responses", "at least 1"},
		{"unknown provider kind", cfgWith(`[providers.llama]`, `kind = "llama"`),
			10, "providers.llama.kind", `unknown provider kind "llama"`},
		{"provider without kind", cfgWith(`[providers.work]`, `api_key_env = "WORK_KEY"`),
			9, "providers.work.kind", "no kind"},
		{"openai-compatible without base_url", cfgWith(`[providers.local]`, `kind = "openai-compatible"`),
			9, "providers.local.base_url", "needs a base_url"},
		{"base_url not a URL", cfgWith(`[providers.local]`, `kind = "openai-compatible"`, `base_url = "localhost:8080"`),
			11, "providers.local.base_url", "not an http(s) URL"},
		{"two key sources", cfgWith(`[providers.openai]`, `api_key = "sk-x"`, `api_key_cmd = "pass show openai"`),
			11, "providers.openai.api_key_cmd", "choose one"},
		{"sim on a non-sim model", cfgLines(
			`[providers.sim]`, `kind = "sim"`,
			`[providers.openai]`, `kind = "openai"`,
			`[[models]]`, `id = "a"`, `provider = "openai"`,
			`[models.sim]`, // 8
			`ttft = "1s"`),
			8, "models.sim", "only for providers of kind sim"},
		{"the first problem in the file wins", cfgLines(append([]string{`max_concurrency = 0`, `default_tier = "zz"`}, cfgBase...)...),
			1, "max_concurrency", "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.toml), "council.toml")
			if err == nil {
				t.Fatalf("Parse succeeded (%+v); want an error at line %d key %s", c, tt.line, tt.key)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %q is not a *Error", err, err)
			}
			if ce.File != "council.toml" || ce.Line != tt.line || ce.Key != tt.key {
				t.Errorf("got file %q line %d key %q; want council.toml line %d key %q (%v)",
					ce.File, ce.Line, ce.Key, tt.line, tt.key, err)
			}
			if !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.msg)
			}
			wantPrefix := fmt.Sprintf("council.toml:%d: ", tt.line)
			if tt.key != "" {
				wantPrefix += "key " + tt.key + ": "
			}
			if !strings.HasPrefix(err.Error(), wantPrefix) {
				t.Errorf("Error() = %q; want it to start with %q", err, wantPrefix)
			}
		})
	}
}

func TestLoadConfigFixtures(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "config", "real.toml"))
	if err != nil {
		t.Fatal(err)
	}
	balanced, _ := c.Tier("balanced")
	groq, _ := c.Model("groq/llama-3.1-8b")
	checks := []struct {
		name      string
		got, want any
	}{
		{"strategy", c.DefaultStrategy, Hedge},
		{"tier", c.DefaultTier, "balanced"},
		{"theme", c.Theme, "light"},
		{"breaker kept", []any{c.Breaker.FailureRate, c.Breaker.Window.Duration}, []any{0.3, 5 * time.Minute}},
		{"breaker defaults", []any{c.Breaker.MinRequests, c.Breaker.Cooldown.Duration}, []any{5, 30 * time.Minute}},
		{"hedge", []any{c.Hedge.Delay, c.Hedge.Budget.Duration, c.Hedge.FallbackDelay.Duration}, []any{HedgeDelay{Quantile: 0.9}, 2 * time.Second, 2 * time.Second}},
		{"balanced timeouts", []any{balanced.Timeout.Duration, balanced.PerModelTimeout.Duration}, []any{time.Minute, 45 * time.Second}},
		{"anthropic key by command only", c.Providers["anthropic"].APIKeyEnv, ""},
		{"groq key env", c.Providers["groq"].APIKeyEnv, "GROQ_API_KEY"},
		{"vendor model", groq.Model, "llama-3.1-8b-instant"},
		{"default answer", c.Consensus.DefaultAnswer, "question"},
	}
	for _, ck := range checks {
		if fmt.Sprint(ck.got) != fmt.Sprint(ck.want) {
			t.Errorf("%s = %v; want %v", ck.name, ck.got, ck.want)
		}
	}

	typo := filepath.Join("testdata", "config", "typo.toml")
	_, err = Load(typo)
	want := typo + `:7: key tiers.quick.timout: unknown key (did you mean "timeout"?)`
	if err == nil || err.Error() != want {
		t.Errorf("Load(typo.toml) = %v; want %s", err, want)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "c.toml", Line: 12, Key: "tiers.quick.timout", Msg: "unknown key"}, "c.toml:12: key tiers.quick.timout: unknown key"},
		{Error{File: "c.toml", Key: "default_tier", Msg: "is empty"}, "c.toml: key default_tier: is empty"},
		{Error{File: "c.toml", Line: 3, Msg: "invalid TOML"}, "c.toml:3: invalid TOML"},
		{Error{Msg: "bad"}, "config: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := Parse([]byte(cfgLines(
		`[providers.sim]`,
		`kind = "sim"`,
		`[providers.openai]`,
		`[providers.local]`,
		`kind = "openai-compatible"`,
		`base_url = "http://localhost:11434/v1"`,
		`[[models]]`,
		`id = "sim/a"`,
		`provider = "sim"`,
		`[[models]]`,
		`id = "openai/gpt-4.1-mini"`,
		`provider = "openai"`,
		`[[models]]`,
		`id = "llama"`,
		`provider = "local"`,
		`model = "llama3.3:70b"`,
	)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"source", c.Source, "council.toml"},
		{"default_strategy", c.DefaultStrategy, Race},
		{"default_tier", c.DefaultTier, "quick"},
		{"max_concurrency", c.MaxConcurrency, 8},
		{"follow_up", c.FollowUp, "own"},
		{"breaker.failure_rate", c.Breaker.FailureRate, 0.25},
		{"breaker.min_requests", c.Breaker.MinRequests, 5},
		{"breaker.window", c.Breaker.Window.Duration, 10 * time.Minute},
		{"breaker.cooldown", c.Breaker.Cooldown.Duration, 30 * time.Minute},
		{"hedge.delay", c.Hedge.Delay, HedgeDelay{Quantile: 0.95}},
		{"hedge.fallback_delay", c.Hedge.FallbackDelay.Duration, 2 * time.Second},
		{"hedge.budget", c.Hedge.Budget.Duration, 3 * time.Second},
		{"hedge.max_extra", c.Hedge.MaxExtra, 0.10},
		{"hedge.replace", c.Hedge.Replace, true},
		{"consensus.voters", c.Consensus.Voters, 5},
		{"consensus.min_responses", c.Consensus.MinResponses, 3},
		{"consensus.tie_break", c.Consensus.TieBreak, TieEscalate},
		{"consensus.default_answer", c.Consensus.DefaultAnswer, "general"},
		{"tiers", c.TierOrder(), []string{"quick"}},
		{"quick models", c.Tiers["quick"].Models, []string{"sim/a", "openai/gpt-4.1-mini", "llama"}},
		{"quick timeout", c.Tiers["quick"].Timeout.Duration, 30 * time.Second},
		{"quick per_model_timeout", c.Tiers["quick"].PerModelTimeout.Duration, 20 * time.Second},
		{"quick stall_timeout", c.Tiers["quick"].StallTimeout.Duration, 10 * time.Second},
		{"openai kind from its name", c.Providers["openai"].Kind, KindOpenAI},
		{"openai key env", c.Providers["openai"].APIKeyEnv, "OPENAI_API_KEY"},
		{"local key env", c.Providers["local"].APIKeyEnv, ""},
		{"sim model name", c.Models[0].Model, "a"},
		{"vendor model name", c.Models[1].Model, "gpt-4.1-mini"},
		{"explicit model name", c.Models[2].Model, "llama3.3:70b"},
		{"sim gets a zero SimConfig", c.Models[0].Sim != nil, true},
		{"real model gets no SimConfig", c.Models[1].Sim == nil, true},
	}
	for _, ck := range checks {
		if fmt.Sprint(ck.got) != fmt.Sprint(ck.want) {
			t.Errorf("%s = %v; want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestParseConfigKeysAnyCase(t *testing.T) {
	// The toml package matches keys case-insensitively; explicit values
	// written so must not be replaced by defaults.
	c, err := Parse([]byte(cfgLines(append([]string{
		`Max_Concurrency = 3`,
		`[Breaker]`,
		`Window = "1m"`,
		`[hedge]`,
		`MAX_EXTRA = 0.0`,
	}, cfgBase...)...)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrency != 3 || c.Breaker.Window.Duration != time.Minute || c.Hedge.MaxExtra != 0 {
		t.Errorf("max_concurrency %d window %s max_extra %g; want 3, 1m, 0", c.MaxConcurrency, c.Breaker.Window, c.Hedge.MaxExtra)
	}
}

func TestParseConfigDefaultsPerTier(t *testing.T) {
	c, err := Parse([]byte(cfgWith(
		`[tiers.zeta]`,
		`models = ["b"]`,
		`[tiers.reasoning]`,
		`[tiers.high]`,
		`timeout = "1m"`,
		`[hedge]`,
		`delay = "0s"`,
		`max_extra = 0.0`,
		`replace = false`,
		`[consensus]`,
		`categories = ["spam", "ham"]`,
	)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"default tier is the first defined without quick", c.DefaultTier, "zeta"},
		{"tier order", c.TierOrder(), []string{"high", "reasoning", "zeta"}},
		{"zeta models", c.Tiers["zeta"].Models, []string{"b"}},
		{"zeta timeouts as quick", []time.Duration{c.Tiers["zeta"].Timeout.Duration, c.Tiers["zeta"].PerModelTimeout.Duration}, []time.Duration{30 * time.Second, 20 * time.Second}},
		{"reasoning gets all models", c.Tiers["reasoning"].Models, []string{"a", "b"}},
		{"reasoning timeouts", []time.Duration{c.Tiers["reasoning"].Timeout.Duration, c.Tiers["reasoning"].PerModelTimeout.Duration}, []time.Duration{600 * time.Second, 300 * time.Second}},
		{"high explicit timeout kept", c.Tiers["high"].Timeout.Duration, time.Minute},
		{"high per-model default", c.Tiers["high"].PerModelTimeout.Duration, 90 * time.Second},
		{"explicit hedge delay 0s kept", c.Hedge.Delay, HedgeDelay{}},
		{"explicit max_extra 0 kept", c.Hedge.MaxExtra, 0.0},
		{"explicit replace false kept", c.Hedge.Replace, false},
		{"no default answer outside the categories", c.Consensus.DefaultAnswer, ""},
	}
	for _, ck := range checks {
		if fmt.Sprint(ck.got) != fmt.Sprint(ck.want) {
			t.Errorf("%s = %v; want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestConfigTierAndModel(t *testing.T) {
	// A hand-built config: Tier fills the defaults.
	c := &Config{
		Models: []ModelConfig{{ID: "x"}, {ID: "y"}},
		Tiers:  map[string]TierConfig{"high": {}, "custom": {Models: []string{"y"}, StallTimeout: Duration{time.Second}}},
	}
	high, ok := c.Tier("high")
	if !ok || high.Timeout.Duration != 180*time.Second || high.PerModelTimeout.Duration != 90*time.Second ||
		high.StallTimeout.Duration != 10*time.Second || !slices.Equal(high.Models, []string{"x", "y"}) {
		t.Errorf("Tier(high) = %+v, %v; want the high defaults and every model", high, ok)
	}
	custom, _ := c.Tier("custom")
	if custom.Timeout.Duration != 30*time.Second || custom.StallTimeout.Duration != time.Second || !slices.Equal(custom.Models, []string{"y"}) {
		t.Errorf("Tier(custom) = %+v; want quick's timeouts, its stall timeout and model", custom)
	}
	if _, ok := c.Tier("nope"); ok {
		t.Error("Tier(nope) found")
	}
	if m, ok := c.Model("y"); !ok || m.ID != "y" {
		t.Errorf("Model(y) = %+v, %v", m, ok)
	}
	if _, ok := c.Model("z"); ok {
		t.Error("Model(z) found")
	}
}

func TestValidateHandBuilt(t *testing.T) {
	c := &Config{
		Providers: map[string]ProviderConfig{"sim": {Kind: KindSim}},
		Models:    []ModelConfig{{ID: "x", Provider: "sim"}},
		Tiers:     map[string]TierConfig{"quick": {Models: []string{"x", "ghost"}}},
	}
	c.ApplyDefaults()
	err := c.Validate()
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "tiers.quick.models" || ce.Line != 0 || !strings.Contains(ce.Msg, "ghost") {
		t.Fatalf("Validate() = %v; want a Error for tiers.quick.models naming ghost", err)
	}
	c.Tiers["quick"] = TierConfig{Models: []string{"x"}}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
}

func TestDemoConfig(t *testing.T) {
	c := Demo()
	if c.Source != DemoSource || c.Why == "" {
		t.Errorf("Source %q Why %q", c.Source, c.Why)
	}
	wantIDs := []string{"sim/swift", "sim/steady", "sim/sage", "sim/flaky", "sim/straggler"}
	if got := c.modelIDs(); !slices.Equal(got, wantIDs) {
		t.Errorf("models %v; want %v", got, wantIDs)
	}
	if got := c.TierOrder(); !slices.Equal(got, TierNames) {
		t.Errorf("tiers %v; want %v", got, TierNames)
	}
	if got := c.Consensus.Categories; !slices.Equal(got, []string{"billing", "technical", "account", "general"}) {
		t.Errorf("categories %v", got)
	}
	if c.Hedge.Primary != "sim/straggler" || c.Hedge.Backup != "sim/swift" || c.Consensus.EscalateTo != "sim/sage" {
		t.Errorf("hedge %+v consensus %+v", c.Hedge, c.Consensus)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("the demo has warnings: %q", w)
	}
	for _, m := range c.Models {
		if m.Sim == nil || c.Providers[m.Provider].Kind != KindSim {
			t.Fatalf("model %s is not simulated", m.ID)
		}
		// No fixed answers: the demo's models classify by the prompt's
		// content, so a database question is never voted "billing".
		if len(m.Sim.Answers) != 0 {
			t.Errorf("model %s has fixed answers %v; want none", m.ID, m.Sim.Answers)
		}
	}
	if c.Council.FallbackChairman != "sim/sage" || len(c.Router.Routes) != len(DefaultRoutes()) || c.Limits.MaxEventBytes != 1<<20 {
		t.Errorf("council %+v router %d routes limits %+v", c.Council, len(c.Router.Routes), c.Limits)
	}
	flaky, _ := c.Model("sim/flaky")
	if flaky.Sim.ErrorRate < c.Breaker.FailureRate || c.Breaker.MinRequests > 5 {
		t.Errorf("flaky error rate %g cannot trip a breaker at %g after %d requests",
			flaky.Sim.ErrorRate, c.Breaker.FailureRate, c.Breaker.MinRequests)
	}
	straggler, _ := c.Model("sim/straggler")
	if straggler.Sim.SlowRate < 0.2 || straggler.Sim.SlowFactor < 5 {
		t.Errorf("straggler has no heavy tail: %+v", straggler.Sim)
	}
	if Demo() == c || &Demo().Models[0] == &c.Models[0] {
		t.Error("Demo returns a shared config")
	}
}

func argmax(m map[string]float64) string {
	best, bw := "", -1.0
	for _, k := range sortedKeys(m) {
		if m[k] > bw {
			best, bw = k, m[k]
		}
	}
	return best
}

func cfgEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaultCouncil(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		providers []string
		keyEnv    map[string]string
		demo      bool
	}{
		{"no keys: the demo", map[string]string{"HOME": "/home/x"}, []string{"sim"}, nil, true},
		{"openai", map[string]string{"OPENAI_API_KEY": "sk-secret-1"}, []string{"openai"},
			map[string]string{"openai": "OPENAI_API_KEY"}, false},
		{"google key for gemini", map[string]string{"GOOGLE_API_KEY": "g-secret-2"}, []string{"gemini"},
			map[string]string{"gemini": "GOOGLE_API_KEY"}, false},
		{"gemini key preferred", map[string]string{"GOOGLE_API_KEY": "g-secret-2", "GEMINI_API_KEY": "g-secret-3"}, []string{"gemini"},
			map[string]string{"gemini": "GEMINI_API_KEY"}, false},
		{"all four", map[string]string{"OPENAI_API_KEY": "sk-secret-1", "ANTHROPIC_API_KEY": "sk-ant-secret",
			"GEMINI_API_KEY": "g-secret-3", "OPENROUTER_API_KEY": "sk-or-secret"},
			[]string{"anthropic", "gemini", "openai", "openrouter"},
			map[string]string{"anthropic": "ANTHROPIC_API_KEY", "openrouter": "OPENROUTER_API_KEY"}, false},
		{"anthropic and openrouter", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-secret", "OPENROUTER_API_KEY": "sk-or-secret"},
			[]string{"anthropic", "openrouter"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultCouncil(cfgEnv(tt.env))
			if got := sortedKeys(c.Providers); !slices.Equal(got, tt.providers) {
				t.Fatalf("providers %v; want %v", got, tt.providers)
			}
			if tt.demo != (c.Source == DemoSource) {
				t.Errorf("Source %q; demo %v", c.Source, tt.demo)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("the council is invalid: %v", err)
			}
			for p, env := range tt.keyEnv {
				if got := c.Providers[p].APIKeyEnv; got != env {
					t.Errorf("provider %s key env %q; want %q", p, got, env)
				}
			}
			for k, val := range tt.env {
				if strings.HasSuffix(k, "_KEY") && !tt.demo && !strings.Contains(c.Why, k) && !(k == "GOOGLE_API_KEY" && tt.env["GEMINI_API_KEY"] != "") {
					t.Errorf("Why %q does not name %s", c.Why, k)
				}
				if strings.Contains(c.Why, val) {
					t.Errorf("Why %q contains the value of %s", c.Why, k)
				}
			}
			for _, name := range TierNames {
				tier, ok := c.Tier(name)
				if !ok || len(tier.Models) == 0 {
					t.Errorf("tier %s missing or empty", name)
				}
			}
			for _, m := range c.Models {
				if m.InputPerMTok <= 0 || m.OutputPerMTok <= 0 {
					t.Errorf("model %s has no prices", m.ID)
				}
			}
			quick, _ := c.Tier("quick")
			if cs := c.Consensus; cs.MinResponses > cs.Voters || cs.Voters > len(quick.Models) {
				t.Errorf("consensus %d of %d voters with %d quick models", cs.MinResponses, cs.Voters, len(quick.Models))
			}
			if len(tt.providers) > 1 {
				first, _ := c.Model(quick.Models[0])
				second, _ := c.Model(quick.Models[1])
				if first.Provider == second.Provider {
					t.Errorf("quick's first two models (hedge primary and backup) share provider %s", first.Provider)
				}
			}
		})
	}
}

func TestDefaultCouncilOpenRouter(t *testing.T) {
	c := DefaultCouncil(cfgEnv(map[string]string{"OPENROUTER_API_KEY": "sk-or-secret"}))
	p := c.Providers["openrouter"]
	if p.Kind != KindOpenAICompatible || p.BaseURL != "https://openrouter.ai/api/v1" || p.APIKeyEnv != "OPENROUTER_API_KEY" {
		t.Errorf("openrouter provider %+v", p)
	}
	m, ok := c.Model("openrouter/openai/gpt-4.1-mini")
	if !ok || m.Model != "openai/gpt-4.1-mini" {
		t.Errorf("model %+v %v; want vendor name openai/gpt-4.1-mini", m, ok)
	}
}

func TestFindConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, strategy string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("default_strategy = %q\n", strategy) + cfgLines(cfgBase...)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flag := write("flag.toml", "race")
	env := write("env.toml", "hedge")
	write("xdg/council/council.toml", "consensus")
	write("home/.config/council/council.toml", "hedge")
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("max_concurrency = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xdg := filepath.Join(dir, "xdg")
	home := filepath.Join(dir, "home")

	tests := []struct {
		name     string
		flag     string
		env      map[string]string
		source   string
		why      string
		strategy Strategy
		errKey   string // non-empty: an error is expected
	}{
		{"flag wins", flag, map[string]string{"COUNCIL_CONFIG": env, "XDG_CONFIG_HOME": xdg}, flag, "--config", Race, ""},
		{"COUNCIL_CONFIG next", "", map[string]string{"COUNCIL_CONFIG": env, "XDG_CONFIG_HOME": xdg}, env, "COUNCIL_CONFIG", Hedge, ""},
		{"XDG next", "", map[string]string{"XDG_CONFIG_HOME": xdg, "HOME": home}, filepath.Join(xdg, "council", "council.toml"), "standard location", Consensus, ""},
		{"HOME without XDG", "", map[string]string{"HOME": home}, filepath.Join(home, ".config", "council", "council.toml"), "standard location", Hedge, ""},
		{"relative XDG ignored", "", map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": home}, filepath.Join(home, ".config", "council", "council.toml"), "", Hedge, ""},
		{"nothing: demo", "", map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "empty"), "HOME": dir}, DemoSource, "no API key", Race, ""},
		{"nothing with a key: default council", "", map[string]string{"HOME": dir, "ANTHROPIC_API_KEY": "sk-ant-secret"}, "built-in default council", "ANTHROPIC_API_KEY", Race, ""},
		{"missing flag file is an error", filepath.Join(dir, "nope.toml"), nil, "", "", "", "-"},
		{"missing COUNCIL_CONFIG is an error", "", map[string]string{"COUNCIL_CONFIG": filepath.Join(dir, "nope.toml"), "XDG_CONFIG_HOME": xdg}, "", "", "", "-"},
		{"invalid file is an error, not a fallback", "", map[string]string{"COUNCIL_CONFIG": bad}, "", "", "", "max_concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Find(tt.flag, cfgEnv(tt.env))
			if tt.errKey != "" {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("Find = %v, %v; want a *Error", c, err)
				}
				if tt.errKey == "-" && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("error %v is not fs.ErrNotExist", err)
				}
				if tt.errKey != "-" && ce.Key != tt.errKey {
					t.Errorf("error key %q; want %q", ce.Key, tt.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tt.source || !strings.Contains(c.Why, tt.why) || c.DefaultStrategy != tt.strategy {
				t.Errorf("got source %q why %q strategy %s; want %q, %q, %s", c.Source, c.Why, c.DefaultStrategy, tt.source, tt.why, tt.strategy)
			}
		})
	}
}

func TestDescribeRedactsKeys(t *testing.T) {
	const inline = "sk-inline-SECRET123"
	const envKey = "sk-env-SECRET456"
	c, err := Parse([]byte(cfgWith(
		`[providers.openai]`,
		`[providers.anthropic]`,
		`[providers.inline]`,
		`kind = "openai"`,
		`api_key = "`+inline+`"`,
		`[providers.vault]`,
		`kind = "gemini"`,
		`api_key_cmd = "pass show gemini"`,
		`[providers.local]`,
		`kind = "openai-compatible"`,
		`base_url = "http://localhost:11434/v1"`,
		`[[models]]`,
		`id = "openai/gpt-4.1-mini"`,
		`provider = "openai"`,
		`input_per_mtok = 0.40`,
		`output_per_mtok = 1.60`,
	)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.Describe(&buf, cfgEnv(map[string]string{"OPENAI_API_KEY": envKey}))
	out := buf.String()
	for _, secret := range []string{inline, envKey, "SECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("Describe printed %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"council.toml", "race", "quick",
		"env OPENAI_API_KEY (set)", "env ANTHROPIC_API_KEY (not set)", "inline key [REDACTED]", "api_key_cmd",
		"http://localhost:11434/v1", "openai-compatible",
		"openai/gpt-4.1-mini", "gpt-4.1-mini", "0.40", "1.60",
		"20s", "10s", // per-model and stall timeouts of quick
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
}

// config check lists a gateway's headers and query parameters by name,
// and for a "${VAR}" value whether the variable is set, never a value.
func TestDescribeListsGatewayHeaders(t *testing.T) {
	const token, inline = "gw-SECRET-token", "inline-SECRET-value"
	c, err := Parse([]byte(cfgWith(
		`[providers.gw]`,
		`kind = "openai-compatible"`,
		`base_url = "http://gateway.local/v1"`,
		`headers = { X-Gateway-Key = "Bearer ${GW_TOKEN}", X-Team = "`+inline+`", X-Other = "${GW_UNSET}" }`,
		`query = { api-version = "2024-10-21" }`,
	)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.Describe(&buf, cfgEnv(map[string]string{"GW_TOKEN": token}))
	out := buf.String()
	for _, secret := range []string{token, inline, "2024-10-21", "Bearer"} {
		if strings.Contains(out, secret) {
			t.Errorf("Describe printed a gateway value %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"gw header X-Gateway-Key: ${GW_TOKEN} (set)",
		"gw header X-Other: ${GW_UNSET} (not set)",
		"gw header X-Team: inline value",
		"gw query api-version: inline value",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
}

func TestWarningsInlineKey(t *testing.T) {
	const key = "sk-inline-SECRET789"
	body := cfgWith(`[providers.openai]`, `api_key = "`+key+`"`)
	tests := []struct {
		mode os.FileMode
		want bool
	}{
		{0o644, true},
		{0o640, true},
		{0o600, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "council.toml")
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(c.Warnings(), "\n")
			if got := strings.Contains(w, "chmod 600 "+p); got != tt.want {
				t.Errorf("warnings %q; want the chmod warning: %v", w, tt.want)
			}
			if strings.Contains(w, key) {
				t.Errorf("a warning shows the key: %q", w)
			}
		})
	}
}

func TestWarningsTimeoutsAndAnswers(t *testing.T) {
	c, err := Parse([]byte(cfgWith(
		`[models.sim]`,
		`answers = { billing = 1.0, biling = 0.1 }`,
		`[consensus]`,
		`categories = ["billing", "general"]`,
		`[tiers.quick]`,
		`timeout = "5s"`,
		`per_model_timeout = "10s"`,
		`stall_timeout = "20s"`,
	)), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(c.Warnings(), "\n")
	for _, want := range []string{"per_model_timeout 10s is longer than its timeout 5s", "stall_timeout 20s", `"biling"`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
}

func TestScanKeys(t *testing.T) {
	src := cfgLines(
		`top = 1 # comment`,             // 1
		`"quoted.key" = 'x'`,            // 2
		`[a.b]`,                         // 3
		`c.d = { e = 1, f = [1, 2] }`,   // 4
		`s = """`,                       // 5
		`not = "a key"`,                 // 6
		`"""`,                           // 7
		`[[models]]`,                    // 8
		`id = "x"`,                      // 9
		`[models.sim]`,                  // 10
		`ttft = "1s"`,                   // 11
		`[[models]]`,                    // 12
		`id = "y"`,                      // 13
		`arr = [ { k = 1 },`,            // 14
		`  { k = 2 } ]`,                 // 15
		`lit = 'C:\path\'`,              // 16
		`esc = "a \"quoted\" = b"`,      // 17
		`after = true`,                  // 18
		`list = [{ m = 1 }, { m = 2 }]`, // 19
	)
	got := map[string]string{}
	for _, kp := range scanKeys(src) {
		k := fmt.Sprintf("%s@%d", strings.Join(kp.segs, "|"), kp.elem)
		if _, dup := got[k]; !dup {
			got[k] = fmt.Sprint(kp.line)
		}
	}
	want := map[string]string{
		"top@-1": "1", "quoted.key@-1": "2", "a|b@-1": "3", "a|b|c|d@-1": "4", "a|b|c|d|e@-1": "4",
		"a|b|c|d|f@-1": "4", "a|b|s@-1": "5", "models@0": "8", "models|id@0": "9", "models|sim@0": "10",
		"models|sim|ttft@0": "11", "models@1": "12", "models|id@1": "13", "models|arr@1": "14",
		"models|arr|k@1": "14", "models|lit@1": "16", "models|esc@1": "17", "models|after@1": "18",
		"models|list@1": "19", "models|list|m@1": "19",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s at line %q; want %q", k, got[k], w)
		}
	}
	if _, ok := got["a|b|not@-1"]; ok {
		t.Error("a key inside a multi-line string was recorded")
	}
	// An inline array of tables at the top counts its elements.
	inline := scanKeys("models = [\n{ id = \"a\" },\n{ id = \"b\" },\n]\n")
	if line := findLine(inline, []string{"models", "id"}, 1); line != 3 {
		t.Errorf("second inline model's id at line %d; want 3", line)
	}
}

func ExampleParse() {
	_, err := Parse([]byte(`
[tiers.quick]
timout = "5s"
`), "council.toml")
	fmt.Println(err)

	c, err := Parse([]byte(`
[providers.sim]
kind = "sim"

[[models]]
id = "sim/fast"
provider = "sim"
`), "council.toml")
	if err != nil {
		panic(err)
	}
	quick, _ := c.Tier(c.DefaultTier)
	fmt.Println(c.DefaultStrategy, c.DefaultTier, quick.Models, quick.Timeout, c.Hedge.Delay)
	// Output:
	// council.toml:3: key tiers.quick.timout: unknown key (did you mean "timeout"?)
	// race quick [sim/fast] 30s p95
}

// TOML accepts nan and inf; no number in the config may be either, or
// costs and rates turn into NaN (and a JSON summary cannot be written).
func TestParseConfigNonFinite(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		line  int
		key   string
	}{
		{"nan price", []string{`input_per_mtok = nan`}, 9, "models.input_per_mtok"},
		{"inf price", []string{`output_per_mtok = inf`}, 9, "models.output_per_mtok"},
		{"negative inf price", []string{`input_per_mtok = -inf`}, 9, "models.input_per_mtok"},
		{"nan failure rate", []string{`[breaker]`, `failure_rate = nan`}, 10, "breaker.failure_rate"},
		{"inf max_extra", []string{`[hedge]`, `max_extra = +inf`}, 10, "hedge.max_extra"},
		{"nan min_confidence", []string{`[router]`, `min_confidence = nan`}, 10, "router.min_confidence"},
		{"inf tokens per second", []string{`[models.sim]`, `tokens_per_sec = inf`}, 10, "models.sim.tokens_per_sec"},
		{"inf slow factor", []string{`[models.sim]`, `slow_factor = inf`}, 10, "models.sim.slow_factor"},
		{"nan rate", []string{`[models.sim]`, `cut_rate = nan`}, 10, "models.sim.cut_rate"},
		{"inf answer weight", []string{`[models.sim]`, `answers = { billing = inf }`}, 10, "models.sim.answers.billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(cfgWith(tt.extra...)), "council.toml")
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse error %v; want a *Error", err)
			}
			want := fmt.Sprintf("council.toml:%d: key %s: must be a finite number", tt.line, tt.key)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q; want it to start with %q", err, want)
			}
		})
	}
	if _, err := Parse([]byte(cfgWith(`[hedge]`, `delay = "pnan"`)), "council.toml"); err == nil || !strings.Contains(err.Error(), "hedge.delay") {
		t.Errorf("hedge delay pnan: error %v, want one naming hedge.delay", err)
	}
}
