package config

import (
	"errors"
	"strings"
	"testing"
)

// headers, query, cached_input_per_mtok and race.accept_truncated are
// known keys; a header the key or the SDK owns is refused.
func TestGatewayAndNewKeys(t *testing.T) {
	ok := cfgLines(
		`[race]`,
		`accept_truncated = true`,
		`[providers.gw]`,
		`kind = "openai-compatible"`,
		`base_url = "https://api.portkey.ai/v1"`,
		`headers = { "x-portkey-provider" = "openai", "x-portkey-api-key" = "${PORTKEY_API_KEY}" }`,
		`query = { "api-version" = "2024-10-21" }`,
		`[[models]]`,
		`id = "gw/m"`,
		`provider = "gw"`,
		`model = "gpt-4.1-mini"`,
		`input_per_mtok = 2.0`,
		`cached_input_per_mtok = 0.5`,
		`output_per_mtok = 8.0`,
	)
	c, err := Parse([]byte(ok), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers["gw"]
	if !c.Race.AcceptTruncated || p.Headers["x-portkey-api-key"] != "${PORTKEY_API_KEY}" || p.Query["api-version"] != "2024-10-21" ||
		c.Models[0].CachedInputPerMTok == nil || *c.Models[0].CachedInputPerMTok != 0.5 {
		t.Errorf("parsed %+v %+v %+v", c.Race, p, c.Models[0])
	}
	for _, bad := range []struct{ line, want string }{
		{`headers = { "Authorization" = "Bearer x" }`, "belongs to the key or the SDK"},
		{`headers = { "x-api-key" = "x" }`, "belongs to the key or the SDK"},
		{`headers = { "bad name" = "x" }`, "is not a header name"},
	} {
		cfg := strings.Replace(ok, `headers = { "x-portkey-provider" = "openai", "x-portkey-api-key" = "${PORTKEY_API_KEY}" }`, bad.line, 1)
		_, err := Parse([]byte(cfg), "council.toml")
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, bad.want) || ce.Key != "providers.gw.headers" {
			t.Errorf("%s: err %v, want %q at providers.gw.headers", bad.line, err, bad.want)
		}
	}
	neg := strings.Replace(ok, "cached_input_per_mtok = 0.5", "cached_input_per_mtok = -1.0", 1)
	if _, err := Parse([]byte(neg), "council.toml"); err == nil || !strings.Contains(err.Error(), "cached_input_per_mtok") {
		t.Errorf("negative cached price: err %v", err)
	}
}
