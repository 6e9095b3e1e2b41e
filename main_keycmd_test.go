package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A signal while api_key_cmd runs (here: before it could start) is a
// cancel: `council run` reports the session cancelled, exits 130, and the
// model's breaker counts no failure. It reported failed with a breaker
// failure.
func TestKeyCmdCancelledIsACancel(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "council.toml")
	if err := os.WriteFile(cfg, []byte(`
[providers.oai]
kind = "openai"
api_key_cmd = "echo sk-test-key"
base_url = "http://127.0.0.1:9/v1"
[[models]]
id = "oai/x"
provider = "oai"
model = "x"
[tiers.t]
models = ["oai/x"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal
	var out, errb bytes.Buffer
	code := realMain(ctx, []string{"run", "--config", cfg, "--json", "hi"}, strings.NewReader(""), &out, &errb,
		func(k string) string {
			if k == "HOME" {
				return dir
			}
			return ""
		})
	var sum struct {
		Status   string `json:"status"`
		Breakers map[string]struct {
			Failures int `json:"failures"`
		} `json:"breakers"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("exit %d, not one JSON object: %v\n%s\n%s", code, err, out.String(), errb.String())
	}
	if code != exitCancelled || sum.Status != "cancelled" || sum.Breakers["oai/x"].Failures != 0 {
		t.Errorf("exit %d status %s breaker %+v: want 130, cancelled, no breaker failure", code, sum.Status, sum.Breakers)
	}
}
