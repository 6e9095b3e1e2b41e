package serve

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/council-dev/council/engine"
)

// TestAdmission: with max_sessions = 2 and 12 requests at once, two run,
// two wait in the queue (served if a place frees within queue_timeout,
// else refused when it runs out) and the rest are refused at once: every
// client gets a 200 or a fast 503 overloaded with Retry-After, never a
// session that starts too late.
func TestAdmission(t *testing.T) {
	for _, tc := range []struct {
		queue time.Duration
		ok    int
	}{{time.Second, 2}, {10 * time.Second, 4}} {
		t.Run(tc.queue.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, "", func(o *Options) { o.MaxSessions = 2; o.QueueTimeout = tc.queue })
				h.fake.ttft = 5 * time.Second
				type result struct {
					code       int
					body, wait string
					took       time.Duration
				}
				var mu sync.Mutex
				var got []result
				var wg sync.WaitGroup
				start := time.Now()
				for range 12 {
					wg.Go(func() {
						resp, body := h.do("POST", "/v1/chat/completions", "", `{"model":"fake/x","messages":[{"role":"user","content":"hi"}]}`)
						mu.Lock()
						got = append(got, result{resp.StatusCode, body, resp.Header.Get("Retry-After"), time.Since(start)})
						mu.Unlock()
					})
				}
				wg.Wait()
				ok := 0
				for _, r := range got {
					switch r.code {
					case 200:
						ok++
					case 503:
						if !strings.Contains(r.body, `"code":"overloaded"`) || r.wait == "" {
							t.Errorf("503 %s, Retry-After %q; want overloaded with Retry-After", r.body, r.wait)
						}
						if s, _ := strconv.Atoi(r.wait); s < 1 {
							t.Errorf("Retry-After %q, want at least a second", r.wait)
						}
						if r.took > tc.queue {
							t.Errorf("refused after %s, want within the queue timeout %s", r.took, tc.queue)
						}
					default:
						t.Errorf("status %d %s; want 200 or 503", r.code, r.body)
					}
				}
				if ok != tc.ok {
					t.Errorf("%d answered, want %d", ok, tc.ok)
				}
			})
		})
	}
}

// TestEvery503RetryAfter: a breaker forced open, whose wait is unknown,
// and a request during a drain are 503s with Retry-After too.
func TestEvery503RetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		if err := h.eng.ForceBreaker("fake/x", engine.ForceOpen); err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		c := h.client("")
		_, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
			t.Fatalf("got %v, want 503", err)
		}
		resp = apiErr.Response
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("a forced-open breaker's 503 has no Retry-After")
		}
		rec := &headerOnly{h: http.Header{}}
		writeError(rec, 503, "server_error", "shutting_down", "bye")
		if rec.h.Get("Retry-After") == "" {
			t.Errorf("shutting_down 503 has no Retry-After")
		}
	})
}

type headerOnly struct {
	h    http.Header
	code int
}

func (w *headerOnly) Header() http.Header         { return w.h }
func (w *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerOnly) WriteHeader(code int)        { w.code = code }

// TestTooLateIs503: a session whose every model was left uncalled because
// its median call is longer than the time left is refused at once as
// overloaded, with Retry-After, not a 502 after the timeout.
func TestTooLateIs503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "\n[tiers.tight]\nmodels = [\"fake/x\"]\ntimeout = \"1s\"\n", nil)
		h.fake.ttft = 2 * time.Second // fake/x learns a 2 s median on the solo tier
		c := h.client("")
		if _, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := c.Chat.Completions.New(t.Context(), userParams("council/race@tight", "hi"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(apiErr.RawJSON(), `"code":"overloaded"`) {
			t.Fatalf("got %v, want 503 overloaded", err)
		}
		if apiErr.Response.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("refused after %v, want at once", d)
		}
		if !strings.Contains(apiErr.Message, "deadline") && !strings.Contains(apiErr.Message, "could not answer") {
			t.Errorf("message %q does not say why", apiErr.Message)
		}
	})
}
