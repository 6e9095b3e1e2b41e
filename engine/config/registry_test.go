package config

import (
	"context"
	"strings"
	"testing"

	"github.com/council-dev/council/providers"
)

// What validation knows of a kind comes from its registration.
func TestKindsComeFromTheRegistry(t *testing.T) {
	build := func(context.Context, providers.Settings) (providers.Provider, error) { return nil, nil }
	providers.Register("zz-local", providers.Factory{New: build, NeedsBaseURL: true, BaseURLExample: "http://localhost:1234/v1"})
	providers.Register("zz-keyed", providers.Factory{New: build, KeyEnvs: []string{"ZZ_KEY", "ZZ_OTHER_KEY"}})
	providers.Register("zz-sim", providers.Factory{New: build, Simulated: true})
	t.Cleanup(func() {
		for _, k := range []string{"zz-local", "zz-keyed", "zz-sim"} {
			providers.Unregister(k)
		}
	})

	_, err := Parse([]byte(cfgLines(`[providers.l]`, `kind = "zz-local"`, `[[models]]`, `id = "a"`, `provider = "l"`)), "c.toml")
	if err == nil || err.Error() != "c.toml:1: key providers.l.base_url: provider l of kind zz-local needs a base_url (e.g. http://localhost:1234/v1)" {
		t.Errorf("missing base_url: %v", err)
	}

	c, err := Parse([]byte(cfgLines(`[providers.zz-keyed]`, `[[models]]`, `id = "a"`, `provider = "zz-keyed"`)), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Providers["zz-keyed"]; p.Kind != "zz-keyed" || p.APIKeyEnv != "ZZ_KEY" {
		t.Errorf("provider named after its kind: %+v; want kind zz-keyed, api_key_env ZZ_KEY", p)
	}

	c, err = Parse([]byte(cfgLines(`[providers.s]`, `kind = "zz-sim"`, `[[models]]`, `id = "a"`, `provider = "s"`, `[models.sim]`, `ttft = "1ms"`)), "c.toml")
	if err != nil {
		t.Fatalf("[models.sim] on a simulated kind: %v", err)
	}
	var b strings.Builder
	c.Describe(&b, func(string) string { return "" })
	if !strings.Contains(b.String(), "none needed") {
		t.Errorf("a simulated kind needs no key, config check should say so:\n%s", b.String())
	}

	_, err = Parse([]byte(cfgLines(`[providers.k]`, `kind = "zz-keyed"`, `[[models]]`, `id = "a"`, `provider = "k"`, `[models.sim]`, `ttft = "1ms"`)), "c.toml")
	if err == nil || !strings.Contains(err.Error(), "only for providers of kind sim or zz-sim") {
		t.Errorf("[models.sim] on a keyed kind: %v", err)
	}
}
