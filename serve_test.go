package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/serve"
)

// syncBuffer is a bytes.Buffer safe to write from the server and read
// from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeDrainsOnSignal: council serve answers, and on SIGTERM (its
// context cancelled) stops accepting, cancels a session still running
// after serve.drain_timeout with reason shutdown (503 to its client), and
// exits 0.
func TestServeDrainsOnSignal(t *testing.T) {
	slow, err := os.ReadFile("testdata/slow.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, append(slow, "\n[serve]\ndrain_timeout = \"1s\"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ln := serve.NewPipeListener()
		old := serveListen
		serveListen = func(addr string) (net.Listener, error) {
			if addr != "127.0.0.1:8484" {
				t.Errorf("listening on %s, want the default 127.0.0.1:8484", addr)
			}
			return ln, nil
		}
		defer func() { serveListen = old }()
		ctx, sigterm := context.WithCancel(context.Background())
		var stderr syncBuffer
		code := make(chan int, 1)
		go func() {
			code <- realMain(ctx, []string{"serve", "--config", path, "--seed", "1"}, strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
		}()
		tr := &http.Transport{DialContext: ln.Dial}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		time.Sleep(10 * time.Millisecond)
		resp, err := hc.Get("http://council.test/v1/models")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("models: %v", err)
		}
		resp.Body.Close()
		type result struct {
			status int
			body   string
		}
		res := make(chan result, 1)
		go func() {
			resp, err := hc.Post("http://council.test/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"council/race","messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				res <- result{0, err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			res <- result{resp.StatusCode, string(b)}
		}()
		time.Sleep(time.Second)
		sigterm()
		r := <-res
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "shutting_down") {
			t.Errorf("the session in flight got %d %s; want 503 shutting_down", r.status, r.body)
		}
		if c := <-code; c != exitOK {
			t.Errorf("exit %d after a drain, want 0; stderr %s", c, stderr.String())
		}
		if !strings.Contains(stderr.String(), "serving on http://127.0.0.1:8484") || !strings.Contains(stderr.String(), "drained") {
			t.Errorf("stderr %q", stderr.String())
		}
	})
}

// TestServeRefusesExposure: off loopback without client tokens, or with
// a token variable that is empty, council serve does not start.
func TestServeRefusesExposure(t *testing.T) {
	_, errOut, code := council(t, nil, "serve", "--config", "testdata/fast.toml", "--addr", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(errOut, "tokens_env") {
		t.Errorf("exit %d, stderr %q; want 2 naming tokens_env", code, errOut)
	}
	dir := t.TempDir()
	fast, _ := os.ReadFile("testdata/fast.toml")
	path := filepath.Join(dir, "c.toml")
	os.WriteFile(path, append(fast, "\n[serve]\ntokens_env = \"COUNCIL_TEST_TOKENS\"\n"...), 0o600)
	_, errOut, code = council(t, nil, "serve", "--config", path)
	if code != exitUsage || !strings.Contains(errOut, "COUNCIL_TEST_TOKENS") {
		t.Errorf("exit %d, stderr %q; want 2 naming the empty variable", code, errOut)
	}
	if _, errOut, code = council(t, nil, "serve", "extra"); code != exitUsage {
		t.Errorf("an argument: exit %d %q", code, errOut)
	}
}

// TestServeRedisURL: a --redis URL council cannot use is refused, without
// its password in the message.
func TestServeRedisURL(t *testing.T) {
	_, errOut, code := council(t, nil, "serve", "--config", "testdata/fast.toml", "--redis", "http://user:hunter2@localhost:6379")
	if code != exitUsage || !strings.Contains(errOut, "redis_url") || strings.Contains(errOut, "hunter2") {
		t.Errorf("exit %d, stderr %q; want 2 naming redis_url, without the password", code, errOut)
	}
}
