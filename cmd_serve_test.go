package main

import (
	"bytes"
	"context"
	"fmt"
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

	"github.com/council-dev/council/engine/config"
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
		// The access log goes to stderr without serve.access_log.
		if !strings.Contains(stderr.String(), "method=GET path=/v1/models status=200") {
			t.Errorf("no access-log line on stderr: %q", stderr.String())
		}
	})
}

// TestServeDebugAddr: --debug-addr serves pprof on a listener of its own,
// to the admin token only, and refuses to start without one;
// serve.access_log appends the access log to a file.
func TestServeDebugAddr(t *testing.T) {
	if _, errOut, code := council(t, nil, "serve", "--config", "testdata/fast.toml", "--debug-addr", "127.0.0.1:6060"); code != exitUsage || !strings.Contains(errOut, "admin_token_env") {
		t.Errorf("--debug-addr without an admin token: exit %d %q, want 2 naming admin_token_env", code, errOut)
	}
	dir := t.TempDir()
	fast, _ := os.ReadFile("testdata/fast.toml")
	path, logPath := filepath.Join(dir, "c.toml"), filepath.Join(dir, "access.log")
	os.WriteFile(path, append(fast, "\n[serve]\nadmin_token_env = \"COUNCIL_TEST_ADMIN\"\naccess_log = \""+logPath+"\"\n"...), 0o600)
	synctest.Test(t, func(t *testing.T) {
		ln, dln := serve.NewPipeListener(), serve.NewPipeListener()
		old := serveListen
		serveListen = func(addr string) (net.Listener, error) {
			if addr == "127.0.0.1:6060" {
				return dln, nil
			}
			return ln, nil
		}
		defer func() { serveListen = old }()
		ctx, sigterm := context.WithCancel(context.Background())
		var stderr syncBuffer
		code := make(chan int, 1)
		go func() {
			code <- realMain(ctx, []string{"serve", "--config", path, "--debug-addr", "127.0.0.1:6060"}, strings.NewReader(""), io.Discard, &stderr,
				func(k string) string { return map[string]string{"COUNCIL_TEST_ADMIN": "adm"}[k] })
		}()
		time.Sleep(10 * time.Millisecond)
		get := func(l *serve.PipeListener, path, token string) int {
			tr := &http.Transport{DialContext: l.Dial}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "http://council.test"+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		if c := get(dln, "/debug/pprof/", "adm"); c != 200 {
			t.Errorf("pprof with the admin token: %d", c)
		}
		if c := get(dln, "/debug/pprof/", ""); c != 401 {
			t.Errorf("pprof without a token: %d, want 401", c)
		}
		if c := get(ln, "/debug/pprof/", "adm"); c != 404 {
			t.Errorf("pprof on the API's listener: %d, want 404", c)
		}
		sigterm()
		if c := <-code; c != exitOK {
			t.Errorf("exit %d; stderr %s", c, stderr.String())
		}
		b, err := os.ReadFile(logPath)
		if err != nil || !strings.Contains(string(b), "path=/debug/pprof/ status=404") || strings.Contains(stderr.String(), "path=") {
			t.Errorf("access log file %q (%v), stderr %q; want the API's request in the file only", b, err, stderr.String())
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

// TestServeSixtyParallel: 60 races at once on the demo council, with the
// default serve.max_sessions and queue_timeout: every client gets a 200 or
// a fast 503 overloaded (within the queue timeout, with Retry-After),
// never a 502 after the tier's timeout — sessions admitted beyond what the
// call slots can serve in time used to queue their calls until it ran out.
func TestServeSixtyParallel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.toml")
	if err := os.WriteFile(path, config.DemoTOML(), 0o600); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ln := serve.NewPipeListener()
		old := serveListen
		serveListen = func(string) (net.Listener, error) { return ln, nil }
		defer func() { serveListen = old }()
		ctx, sigterm := context.WithCancel(context.Background())
		code := make(chan int, 1)
		go func() {
			code <- realMain(ctx, []string{"serve", "--config", path, "--seed", "3"}, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
		}()
		time.Sleep(10 * time.Millisecond)
		tr := &http.Transport{DialContext: ln.Dial}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		type result struct {
			status int
			wait   string
			took   time.Duration
			body   string
		}
		var mu sync.Mutex
		var got []result
		var wg sync.WaitGroup
		start := time.Now()
		for i := range 60 {
			wg.Go(func() {
				resp, err := hc.Post("http://council.test/v1/chat/completions", "application/json",
					strings.NewReader(fmt.Sprintf(`{"model":"council/race","messages":[{"role":"user","content":"question %d: how do indexes work?"}]}`, i)))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				got = append(got, result{resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start), string(b)})
				mu.Unlock()
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, r := range got {
			counts[r.status]++
			switch r.status {
			case 200:
			case 503:
				if r.wait == "" || r.took > config.DefaultQueueTimeout || !strings.Contains(r.body, "overloaded") {
					t.Errorf("503 after %s, Retry-After %q: %s; want overloaded within the queue timeout", r.took, r.wait, r.body)
				}
			default:
				t.Errorf("status %d after %s: %.300s", r.status, r.took, r.body)
			}
		}
		if counts[200] == 0 {
			t.Errorf("no request answered: %v", counts)
		}
		t.Logf("60 races at once: %v", counts)
		sigterm()
		if c := <-code; c != exitOK {
			t.Errorf("exit %d", c)
		}
	})
}

// TestServeRedisURL: a --redis URL council cannot use is refused, without
// its password in the message.
func TestServeRedisURL(t *testing.T) {
	_, errOut, code := council(t, nil, "serve", "--config", "testdata/fast.toml", "--redis", "http://user:hunter2@localhost:6379")
	if code != exitUsage || !strings.Contains(errOut, "redis_url") || strings.Contains(errOut, "hunter2") {
		t.Errorf("exit %d, stderr %q; want 2 naming redis_url, without the password", code, errOut)
	}
}
