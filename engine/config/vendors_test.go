package config

// The vendor packages register their kinds; without them no provider kind
// is known and no config validates. Only tests import them: the config
// package itself never does.
import (
	_ "github.com/council-dev/council/providers/anthropic"
	_ "github.com/council-dev/council/providers/gemini"
	_ "github.com/council-dev/council/providers/openai"
	_ "github.com/council-dev/council/providers/sim"
)
