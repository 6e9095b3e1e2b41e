package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/engine/config"
)

// compatSDK is the OpenAI Node SDK the compatibility test drives council
// serve with, pinned: the newest release that still runs on Node 20.
const compatSDK = "openai@6.49.0"

// compatDir is where the SDK is installed once and kept (gitignored); make
// compat and make clean know it.
const compatDir = ".cache/compat"

// TestCompatNodeSDK runs council serve (the demo council, seed 1, a real
// loopback port, rate_limit_rpm = 60) and drives it with the official
// OpenAI Node SDK through testdata/compat/compat.mjs: every strategy
// streamed and not, include_usage, models.list and models.retrieve, an
// unknown model, an abort, JSON mode and a 429 retried. Skipped where node
// or npm is missing; under CI=true a failed install fails.
func TestCompatNodeSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("compat: skipped in -short mode")
	}
	ci := os.Getenv("CI") == "true"
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("compat: %s is not installed, skipped (the OpenAI Node SDK check needs node and npm)", tool)
		}
	}
	dir, err := filepath.Abs(compatDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := installSDK(t, dir); err != nil {
		if ci {
			t.Fatalf("compat: installing %s: %v", compatSDK, err)
		}
		t.Skipf("compat: installing %s failed, skipped (offline?): %v", compatSDK, err)
	}
	script, err := os.ReadFile("testdata/compat/compat.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compat.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "demo.toml")
	if err := os.WriteFile(cfg, append(config.DemoTOML(), "\n[serve]\nrate_limit_rpm = 60\n"...), 0o600); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	old := serveListen
	serveListen = func(string) (net.Listener, error) { return ln, nil }
	defer func() { serveListen = old }()
	ctx, stop := context.WithCancel(context.Background())
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- realMain(ctx, []string{"serve", "--config", cfg, "--seed", "1"}, strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
	}()
	defer func() {
		stop()
		if c := <-code; c != 0 {
			t.Errorf("council serve exited %d: %s", c, stderr.String())
		}
	}()

	nctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(nctx, "node", "compat.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COMPAT_BASE_URL=http://"+ln.Addr().String()+"/v1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	t.Logf("compat.mjs:\n%s", out.String())
	if runErr != nil {
		t.Errorf("compat.mjs: %v\n%s", runErr, errOut.String())
	}
	got := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "ok "); ok {
			got[name] = true
		} else if strings.HasPrefix(line, "FAIL ") {
			t.Errorf("%s", line)
		}
	}
	want := []string{"models.list", "models.retrieve council/race@quick", "models.retrieve unknown", "chat unknown model",
		"include_usage", "abort ends the session", "json mode", "stop", "429 retried"}
	for _, s := range []string{"race", "hedge", "consensus", "council", "auto"} {
		want = append(want, s+" not streamed", s+" streamed")
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("check %q did not pass (see the log)", w)
		}
	}
}

// installSDK installs compatSDK into dir unless it is there already.
func installSDK(t *testing.T, dir string) error {
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "openai", "package.json"))
	var p struct{ Version string }
	if err == nil && json.Unmarshal(pkg, &p) == nil && "openai@"+p.Version == compatSDK {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private": true, "type": "module"}`+"\n"), 0o644); err != nil {
		return err
	}
	t.Logf("compat: npm install %s into %s", compatSDK, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", compatSDK)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.New(err.Error() + ": " + lastLines(string(out), 5))
	}
	return nil
}

var newlines = regexp.MustCompile(`\n+`)

func lastLines(s string, n int) string {
	lines := newlines.Split(strings.TrimSpace(s), -1)
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
