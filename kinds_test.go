package main

import (
	"testing"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

// kindProblems lists what a provider kind built into this council lacks:
// an entry in the default council's catalogue (what runs from API keys
// alone) and a dialect for the fault suite. Simulated kinds need neither.
func kindProblems(kind string, f providers.Factory, catalogue map[string]bool) []string {
	if f.Simulated {
		return nil
	}
	var out []string
	if !catalogue[kind] {
		out = append(out, "no entry in the default council's catalogue (engine/config defaultProviders)")
	}
	if _, ok := providertest.Dialects[kind]; !ok {
		out = append(out, "no dialect for the fault suite (providertest.Dialects)")
	}
	return out
}

// TestEveryKindIsWhole: every provider kind wire.go builds in is whole:
// registered (with a factory), in the default council's catalogue and in
// the fault suite; a kind registered with providers.Register alone fails
// here.
func TestEveryKindIsWhole(t *testing.T) {
	// Every catalogue key found: the default council then holds every
	// provider of the catalogue whose kind is built in.
	all := config.DefaultCouncil(func(string) string { return "set" })
	catalogue := map[string]bool{}
	for _, p := range all.Providers {
		catalogue[p.Kind] = true
	}
	kinds := providers.Kinds()
	if len(kinds) < 5 {
		t.Fatalf("kinds built in: %v, want openai, openai-compatible, anthropic, gemini and sim at least", kinds)
	}
	for _, k := range kinds {
		f, _ := providers.Lookup(k)
		if f.New == nil {
			t.Errorf("kind %s: no New", k)
		}
		for _, p := range kindProblems(k, f, catalogue) {
			t.Errorf("kind %s: %s", k, p)
		}
	}
	// The check itself catches a kind registered and nothing more.
	if got := kindProblems("zz-new", providers.Factory{}, catalogue); len(got) != 2 {
		t.Errorf("a bare registration: %q, want 2 problems", got)
	}
}
