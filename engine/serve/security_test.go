package serve

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// TestCheckExposure: beyond loopback, no token means no server.
func TestCheckExposure(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		tokens []string
		ok     bool
	}{
		{"127.0.0.1:8484", nil, true},
		{"localhost:8484", nil, true},
		{"[::1]:8484", nil, true},
		{"0.0.0.0:8484", nil, false},
		{":8484", nil, false},
		{"192.168.1.5:8484", nil, false},
		{"0.0.0.0:8484", []string{"t"}, true},
		{"8484", nil, false},
	} {
		err := CheckExposure(tc.addr, tc.tokens)
		if (err == nil) != tc.ok {
			t.Errorf("%s with %d tokens: %v, want ok %v", tc.addr, len(tc.tokens), err, tc.ok)
		}
		if err != nil && tc.addr != "8484" && !strings.Contains(err.Error(), "tokens_env") {
			t.Errorf("%s: %v does not say how to fix it", tc.addr, err)
		}
	}
	if got := ParseTokens(" a, ,b ,"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("ParseTokens: %q", got)
	}
}

// TestAuth: with client tokens every endpoint but /healthz needs one,
// and the session says which client asked (to the admin); admin actions need the admin
// token, and are off without one.
func TestAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"tok-a", "tok-b"}; o.AdminToken = "adm" })
		for _, tok := range []string{"", "tok-c", "tok-"} {
			c := h.client(tok)
			_, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" {
				t.Errorf("token %q: %v; want 401", tok, err)
			}
		}
		for _, path := range []string{"/v1/models", "/v1/council/events", "/metrics"} {
			if resp, _ := h.do("GET", path, "", ""); resp.StatusCode != 401 {
				t.Errorf("%s without a token: %d", path, resp.StatusCode)
			}
		}
		c := h.client("tok-b")
		got, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "hi"))
		if err != nil {
			t.Fatal(err)
		}
		// A client token sees only its own sessions (TestEventsPrivate):
		// the admin sees tok-b's.
		sub := h.subscribe("adm")
		defer sub.close()
		m := sub.until(t, wire.EventSession)
		if !strings.Contains(m[len(m)-1].data, `"client":"1"`) || !strings.Contains(m[len(m)-1].data, `"session":"`+councilOf(t, got.RawJSON()).Session) {
			t.Errorf("session message %s; want client 1 (tok-b)", m[len(m)-1].data)
		}

		body := `{"model":"fake/x","force":"open"}`
		if resp, _ := h.do("POST", "/v1/council/admin/breaker", "tok-a", body); resp.StatusCode != 403 {
			t.Errorf("admin with a client token: %d", resp.StatusCode)
		}
		resp, out := h.do("POST", "/v1/council/admin/breaker", "adm", body)
		var mh wire.ModelHealth
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &mh) != nil || mh.Breaker.Forced != "open" || mh.Breaker.State != engine.BreakerOpen {
			t.Errorf("force open: %d %s", resp.StatusCode, out)
		}
		resp, out = h.do("POST", "/v1/council/admin/breaker", "adm", `{"model":"fake/x","force":"none"}`)
		if resp.StatusCode != 200 || strings.Contains(out, "forced") {
			t.Errorf("force none: %d %s", resp.StatusCode, out)
		}
		resp, out = h.do("POST", "/v1/council/admin/tune", "adm", `{"model":"sim/a","knob":"error_rate","delta":0.5}`)
		if resp.StatusCode != 200 || !strings.Contains(out, `"error_rate":0.5`) {
			t.Errorf("tune: %d %s", resp.StatusCode, out)
		}
		if resp, out = h.do("POST", "/v1/council/admin/reset", "adm", `{"model":"nope"}`); resp.StatusCode != 404 {
			t.Errorf("reset an unknown model: %d %s", resp.StatusCode, out)
		}
		if resp, out = h.do("POST", "/v1/council/admin/reset", "adm", `{"model":"sim/a"}`); resp.StatusCode != 200 {
			t.Errorf("reset: %d %s", resp.StatusCode, out)
		}
	})
}

// TestAdminOff: without an admin token, admin actions are refused and
// the hello says so.
func TestAdminOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		resp, out := h.do("POST", "/v1/council/admin/breaker", "anything", `{"model":"sim/a","force":"open"}`)
		if resp.StatusCode != 403 || !strings.Contains(out, "admin_token_env") {
			t.Errorf("%d %s", resp.StatusCode, out)
		}
		if h.eng.Health()[0].Breaker.Forced != "" {
			t.Error("the breaker was forced")
		}
		sub := h.subscribe("")
		defer sub.close()
		if m, _ := sub.next(); !strings.Contains(m.data, `"admin":false`) {
			t.Errorf("hello %s", m.data)
		}
	})
}

// TestLimits: a body over max_body_bytes and a prompt over
// limits.max_prompt_bytes are 413; past rate_limit_rpm a client gets 429
// with Retry-After, and is served again once its bucket refills.
func TestLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "[limits]\nmax_prompt_bytes = 100\n", func(o *Options) { o.MaxBodyBytes = 1000; o.RateLimitRPM = 2 })
		big := `{"model":"fake/x","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`
		resp, out := h.do("POST", "/v1/chat/completions", "", big)
		if resp.StatusCode != 413 || !strings.Contains(out, "max_body_bytes") {
			t.Errorf("big body: %d %s", resp.StatusCode, out)
		}
		long := `{"model":"fake/x","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`
		resp, out = h.do("POST", "/v1/chat/completions", "", long)
		if resp.StatusCode != 413 || !strings.Contains(out, "max_prompt_bytes") {
			t.Errorf("long prompt: %d %s", resp.StatusCode, out)
		}
		ok := `{"model":"fake/x","messages":[{"role":"user","content":"hi"}]}`
		// Two requests were taken above: the bucket of two is empty.
		resp, out = h.do("POST", "/v1/chat/completions", "", ok)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(out, "rate_limit_rpm") {
			t.Errorf("third request: %d %s", resp.StatusCode, out)
		}
		time.Sleep(30 * time.Second)
		if resp, out = h.do("POST", "/v1/chat/completions", "", ok); resp.StatusCode != 200 {
			t.Errorf("after 30s: %d %s", resp.StatusCode, out)
		}
	})
}

// TestMetrics: /metrics exposes requests, sessions, latency, breakers,
// cancellations and cost.
func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		c := h.client("")
		if _, err := c.Chat.Completions.New(t.Context(), userParams("council/race", "hi")); err != nil {
			t.Fatal(err)
		}
		h.eng.ForceBreaker("fake/x", engine.ForceOpen)
		resp, out := h.do("GET", "/metrics", "", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d", resp.StatusCode)
		}
		for _, want := range []string{
			`council_http_requests_total{code="200",path="POST /v1/chat/completions"} 1`,
			`council_sessions_total{status="decided",strategy="race"} 1`,
			`council_request_duration_seconds_count{strategy="race"} 1`,
			`council_model_latency_seconds_count{model="sim/a"} 1`,
			`council_cancellations_total{reason="lost_race"} 2`,
			`council_breaker_state{model="fake/x"} 2`,
			`council_breaker_state{model="sim/a"} 0`,
			`council_hedges_fired_total 0`,
			`council_cost_usd_total{model="sim/a"}`,
			`council_sessions_in_flight 0`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// sessionsSeen reads sub until it has seen n session_done messages and
// returns the clients of the session messages read on the way.
func sessionsSeen(t *testing.T, sub *sse, n int) []string {
	t.Helper()
	var clients []string
	for range n {
		for _, m := range sub.until(t, "session_done") {
			if m.event == wire.EventSession {
				var s wire.Session
				if err := json.Unmarshal([]byte(m.data), &s); err != nil {
					t.Fatal(err)
				}
				clients = append(clients, s.Client)
			}
		}
	}
	return clients
}

// TestEventsPrivate: a client token's event stream carries its own
// sessions only, live and in the backlog; a watch token and the admin
// token see every client's.
func TestEventsPrivate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) {
			o.Tokens = []string{"tok-a", "tok-b"}
			o.AdminToken = "adm"
			o.WatchTokens = []string{"watch"}
		})
		a, b, w, adm := h.subscribe("tok-a"), h.subscribe("tok-b"), h.subscribe("watch"), h.subscribe("adm")
		for _, tok := range []string{"tok-a", "tok-b", "tok-a"} {
			c := h.client(tok)
			if _, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "secret of "+tok)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			sub  *sse
			n    int
			want string
		}{{"tok-a", a, 2, "0 0"}, {"tok-b", b, 1, "1"}, {"watch", w, 3, "0 1 0"}, {"admin", adm, 3, "0 1 0"}} {
			if got := strings.Join(sessionsSeen(t, tc.sub, tc.n), " "); got != tc.want {
				t.Errorf("%s saw the sessions of clients %q, want %q", tc.name, got, tc.want)
			}
			tc.sub.close()
		}
		// tok-a's first live stream would have shown tok-b's session
		// before its own second one; a new subscriber's backlog is
		// filtered alike.
		late := h.subscribe("tok-b")
		if got := strings.Join(sessionsSeen(t, late, 1), " "); got != "1" {
			t.Errorf("tok-b's backlog: clients %q, want its own (1)", got)
		}
		late.close()
		if resp, _ := h.do("POST", "/v1/chat/completions", "watch", `{"model":"fake/x","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 401 {
			t.Errorf("a watch token asked for a completion: %d, want 401", resp.StatusCode)
		}
	})
}

// TestMetricsNeedWatcher: beyond loopback /metrics wants a watch or the
// admin token, a client token is refused; from loopback a client token
// serves (a local scraper).
func TestMetricsNeedWatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) {
			o.Tokens = []string{"tok-a"}
			o.AdminToken = "adm"
			o.WatchTokens = []string{"watch"}
		})
		// The in-memory connections are not loopback's.
		for tok, want := range map[string]int{"": 401, "tok-a": 403, "watch": 200, "adm": 200} {
			if resp, body := h.do("GET", "/metrics", tok, ""); resp.StatusCode != want {
				t.Errorf("/metrics with %q: %d %s, want %d", tok, resp.StatusCode, body, want)
			}
		}
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Authorization", "Bearer tok-a")
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("/metrics from loopback with a client token: %d, want 200", rec.Code)
		}
	})
}
