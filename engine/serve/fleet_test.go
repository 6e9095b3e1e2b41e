package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// newReplica is a harness whose engine shares st with the fleet's other
// replicas.
func newReplica(t *testing.T, st engine.SharedState, rpm int) *harness {
	t.Helper()
	cfg, err := config.Parse([]byte(testTOML), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	fk := &fake{ttft: 50 * time.Millisecond, gap: 10 * time.Millisecond, text: "a scripted answer from x"}
	clients := map[string]providers.Provider{"fake/x": fk}
	for _, m := range cfg.Models {
		if m.ID != "fake/x" {
			clients[m.ID] = providers.Failing(&providers.Error{Message: "unused"})
		}
	}
	eng, err := engine.New(cfg, clients, engine.WithSeed(7), engine.WithShared(st))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Engine: eng, Instance: "127.0.0.1:8484", Version: "test", DrainTimeout: 5 * time.Second, RateLimitRPM: rpm}
	h := &harness{t: t, eng: eng, srv: New(o), ln: NewPipeListener(), done: make(chan struct{}), fake: fk}
	h.tr = &http.Transport{DialContext: h.ln.Dial}
	h.hc = &http.Client{Transport: h.tr}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.serveErr = h.srv.Serve(ctx, h.ln); close(h.done) }()
	t.Cleanup(h.close)
	return h
}

// TestFleetServe: two replicas sharing their state take one client's
// rate_limit_rpm from one budget, and /healthz and /metrics say the state
// is shared.
func TestFleetServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := engine.NewMemoryShared()
		a, b := newReplica(t, st, 2), newReplica(t, st, 2)
		ok := `{"model":"fake/x","messages":[{"role":"user","content":"hi"}]}`
		for i, h := range []*harness{a, b} {
			if resp, out := h.do("POST", "/v1/chat/completions", "", ok); resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, out)
			}
		}
		// Each replica alone would let a third through (a burst of two).
		if resp, out := a.do("POST", "/v1/chat/completions", "", ok); resp.StatusCode != 429 {
			t.Errorf("third request across the fleet: %d %s, want 429", resp.StatusCode, out)
		}
		_, out := b.do("GET", "/healthz", "", "")
		var hz map[string]any
		if err := json.Unmarshal([]byte(out), &hz); err != nil || hz["shared"] != "shared" {
			t.Errorf("healthz %s: want shared: shared", out)
		}
		if _, out := b.do("GET", "/metrics", "", ""); !strings.Contains(out, "council_shared_degraded 0") {
			t.Errorf("metrics without council_shared_degraded 0")
		}
	})
}
