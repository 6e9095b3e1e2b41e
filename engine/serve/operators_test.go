package serve

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLog: one line per request with method, path, status, model,
// session, duration and a hash of the token; never the token or the
// prompt.
func TestAccessLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"tok-secret"}; o.AccessLog = &log })
		c := h.client("tok-secret")
		if _, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "my private prompt")); err != nil {
			t.Fatal(err)
		}
		h.do("GET", "/v1/models", "", "")
		synctest.Wait() // a line is written once its answer has gone out
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want one per request:\n%s", len(lines), log.String())
		}
		for _, want := range []string{"msg=request", "method=POST", "path=/v1/chat/completions", "status=200", "model=fake/x",
			"session=s1", "duration_ms=", "token=" + tokenHash("tok-secret"), "time="} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("chat line lacks %s: %s", want, lines[0])
			}
		}
		for _, want := range []string{"method=GET", "path=/v1/models", "status=401", "model=-", "session=-", "token=-"} {
			if !strings.Contains(lines[1], want) {
				t.Errorf("models line lacks %s: %s", want, lines[1])
			}
		}
		if s := log.String(); strings.Contains(s, "tok-secret") || strings.Contains(s, "private prompt") {
			t.Errorf("the access log gives away a token or a prompt:\n%s", s)
		}
	})
}

// TestDebugHandler: pprof answers the admin token only, and nobody when
// there is none.
func TestDebugHandler(t *testing.T) {
	for _, tc := range []struct {
		admin, token string
		want         int
	}{{"adm", "", 401}, {"adm", "tok", 401}, {"adm", "adm", 200}, {"", "", 401}} {
		req := httptest.NewRequest("GET", "/debug/pprof/", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		DebugHandler(tc.admin).ServeHTTP(rec, req)
		if rec.Code != tc.want || (tc.want == 200 && !strings.Contains(rec.Body.String(), "goroutine")) {
			t.Errorf("admin %q, token %q: %d, want %d", tc.admin, tc.token, rec.Code, tc.want)
		}
	}
}

// TestRuntimeMetrics: /metrics carries the Go runtime's and the
// process's collectors.
func TestRuntimeMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		resp, out := h.do("GET", "/metrics", "", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d", resp.StatusCode)
		}
		for _, want := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ", "process_open_fds "} {
			if !strings.Contains(out, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if resp, _ := h.do("GET", "/debug/pprof/", "", ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("pprof on the API's listener: %d, want 404", resp.StatusCode)
		}
	})
}
