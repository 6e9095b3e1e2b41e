package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/council-dev/council/providers"
)

// fakeProvider answers every request with its fixed text.
type fakeProvider struct{ answer string }

func (f fakeProvider) Stream(context.Context, providers.Request) (providers.Stream, error) {
	return &fakeStream{chunks: strings.SplitAfter(f.answer, " ")}, nil
}

type fakeStream struct {
	chunks []string
	i      int
}

func (s *fakeStream) Next() bool { s.i++; return s.i <= len(s.chunks) }
func (s *fakeStream) Chunk() providers.Chunk {
	c := providers.Chunk{Text: s.chunks[s.i-1]}
	if s.i == len(s.chunks) {
		c.Usage = &providers.Usage{InputTokens: 3, OutputTokens: len(s.chunks)}
	}
	return c
}
func (s *fakeStream) Err() error   { return nil }
func (s *fakeStream) Close() error { return nil }

// TestRegisteredKindEndToEnd adds a provider kind with one registration
// and uses it from a config: the kind is known to validation (even
// without kind = "..." when the provider is named after it), its second
// key variable is found, the factory gets the settings, and a missing key
// is an auth error in the model naming the first variable.
func TestRegisteredKindEndToEnd(t *testing.T) {
	var (
		mu  sync.Mutex
		got []providers.Settings
	)
	providers.Register("fakevendor", providers.Factory{
		KeyEnvs: []string{"COUNCIL_FAKEVENDOR_KEY", "COUNCIL_FAKEVENDOR_ALT_KEY"},
		New: func(_ context.Context, s providers.Settings) (providers.Provider, error) {
			mu.Lock()
			got = append(got, s)
			mu.Unlock()
			return fakeProvider{answer: "the fake vendor says hello"}, nil
		},
	})
	t.Cleanup(func() { providers.Unregister("fakevendor") })

	cfg := filepath.Join(t.TempDir(), "fake.toml")
	os.WriteFile(cfg, []byte(`[providers.fakevendor]
base_url = "https://fake.example/v1"

[[models]]
id = "fakevendor/one"
provider = "fakevendor"
input_per_mtok = 1.0
`), 0o600)

	// The kind's second variable is the fallback.
	t.Setenv("COUNCIL_FAKEVENDOR_KEY", "")
	t.Setenv("COUNCIL_FAKEVENDOR_ALT_KEY", "fake-key-123")
	out, errOut, code := council(t, nil, "run", "--config", cfg, "--json", "hi")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var sum struct {
		Status, Winner, Answer string
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if sum.Status != "decided" || sum.Winner != "fakevendor/one" || sum.Answer != "the fake vendor says hello" {
		t.Errorf("summary %+v; want the fake vendor's answer", sum)
	}
	mu.Lock()
	if len(got) != 1 {
		t.Fatalf("factory called %d times, want once", len(got))
	}
	s := got[0]
	mu.Unlock()
	if s.Name != "fakevendor" || s.Kind != "fakevendor" || s.BaseURL != "https://fake.example/v1" ||
		s.APIKey != "fake-key-123" || s.KeyEnv != "COUNCIL_FAKEVENDOR_ALT_KEY" || s.Limits.MaxEventBytes == 0 {
		t.Errorf("factory got %+v", s)
	}

	// No key: the model fails with an auth error naming the first variable.
	t.Setenv("COUNCIL_FAKEVENDOR_ALT_KEY", "")
	out, errOut, code = council(t, nil, "run", "--config", cfg, "--json", "hi")
	if code != 1 || !strings.Contains(out, "no API key: set COUNCIL_FAKEVENDOR_KEY") || !strings.Contains(out, `"reason":"auth"`) {
		t.Errorf("exit %d, stdout %s, stderr %q; want a failed session with an auth error naming COUNCIL_FAKEVENDOR_KEY", code, out, errOut)
	}

	// config check shows the kind and where its key comes from.
	out, errOut, code = council(t, nil, "config", "check", "--config", cfg)
	if code != 0 || !strings.Contains(out, "fakevendor") || !strings.Contains(out, "env COUNCIL_FAKEVENDOR_KEY") {
		t.Errorf("config check: exit %d stderr %q\n%s", code, errOut, out)
	}

	// An unknown kind's error lists the registered ones, the new one too.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[providers.x]\nkind = \"nope\"\n[[models]]\nid = \"x/a\"\nprovider = \"x\"\n"), 0o600)
	_, errOut, code = council(t, nil, "config", "check", "--config", bad)
	if code != 2 || !strings.Contains(errOut, `bad.toml:2: key providers.x.kind: unknown provider kind "nope" (want anthropic, fakevendor, gemini, openai, openai-compatible, sim)`) {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}
