package config

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// cache_write_per_mtok is a model's price for prompt-cache writes: parsed,
// refused when negative with the file, line and key, and shown by config
// check beside the cached-read price (each the input price when unset).
func TestCacheWritePrice(t *testing.T) {
	lines := []string{
		`[providers.anthropic]`,
		`[[models]]`,
		`id = "claude"`,
		`provider = "anthropic"`,
		`model = "claude-sonnet-4-5"`,
		`input_per_mtok = 3.0`,
		`cached_input_per_mtok = 0.30`,
		`cache_write_per_mtok = 3.75`,
		`output_per_mtok = 15.0`,
		`[[models]]`,
		`id = "plain"`,
		`provider = "anthropic"`,
		`model = "claude-haiku-4-5"`,
		`input_per_mtok = 1.25`,
		`output_per_mtok = 5.0`,
	}
	ok := cfgWith(lines...)
	c, err := Parse([]byte(ok), "council.toml")
	if err != nil {
		t.Fatal(err)
	}
	var claude, plain *ModelConfig
	for i := range c.Models {
		switch c.Models[i].ID {
		case "claude":
			claude = &c.Models[i]
		case "plain":
			plain = &c.Models[i]
		}
	}
	if claude == nil || claude.CacheWritePerMTok == nil || *claude.CacheWritePerMTok != 3.75 || plain == nil || plain.CacheWritePerMTok != nil {
		t.Fatalf("parsed %+v / %+v", claude, plain)
	}

	var buf bytes.Buffer
	c.Describe(&buf, func(string) string { return "" })
	var claudeRow, plainRow []string
	for line := range strings.Lines(buf.String()) {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "claude":
			claudeRow = f
		case len(f) > 0 && f[0] == "plain":
			plainRow = f
		}
	}
	if !strings.Contains(buf.String(), "INPUT  CACHE READ  CACHE WRITE  OUTPUT") {
		t.Errorf("no price columns INPUT, CACHE READ, CACHE WRITE, OUTPUT:\n%s", buf.String())
	}
	// ID PROVIDER MODEL INPUT CACHE-READ CACHE-WRITE OUTPUT MAX
	if want := []string{"claude", "anthropic", "claude-sonnet-4-5", "3.00", "0.30", "3.75", "15.00", "default"}; !slices.Equal(claudeRow, want) {
		t.Errorf("claude row %q, want %q\n%s", claudeRow, want, buf.String())
	}
	if want := []string{"plain", "anthropic", "claude-haiku-4-5", "1.25", "1.25", "1.25", "5.00", "default"}; !slices.Equal(plainRow, want) {
		t.Errorf("plain row %q, want %q\n%s", plainRow, want, buf.String())
	}

	neg := strings.Replace(ok, "cache_write_per_mtok = 3.75", "cache_write_per_mtok = -3.75", 1)
	_, err = Parse([]byte(neg), "council.toml")
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "council.toml" || ce.Key != "models.cache_write_per_mtok" ||
		!strings.Contains(ce.Msg, "cannot be negative") {
		t.Fatalf("negative cache write price: %v", err)
	}
	if want := strings.Count(neg[:strings.Index(neg, "cache_write_per_mtok = -3.75")], "\n") + 1; ce.Line != want {
		t.Errorf("error at line %d, want %d: %v", ce.Line, want, err)
	}
}
