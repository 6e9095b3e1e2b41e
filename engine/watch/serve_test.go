package watch_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/serve"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/watch/watchtest"
)

// TestHubWatchesCouncilServe: the hub against council serve itself (its
// handler, in memory): a chat completion's session is announced with its
// strategy, models and prompt, its events arrive whole and in order, the
// board has the server's models, and an admin action reaches its engine.
func TestHubWatchesCouncilServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, 0)
		srv := serve.New(serve.Options{Engine: eng, Instance: "127.0.0.1:8484", Version: "test", AdminToken: "adm"})
		tr := watchtest.NewTransport()
		tr.Handle("serve:8484", srv.Handler())
		hub, err := watch.New([]string{"http://serve:8484"}, watch.Options{Client: tr.Client(), AdminToken: "adm"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		hello := c.until("hello", status(watch.Connected)).Status.Hello
		if hello == nil || hello.Instance != "127.0.0.1:8484" || !hello.Admin {
			t.Fatalf("hello %+v", hello)
		}

		answered := make(chan string, 1)
		go func() {
			body := `{"model":"council/race@quick","messages":[{"role":"user","content":"How do indexes work?"}]}`
			resp, err := tr.Client().Post("http://serve:8484/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				answered <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answered <- resp.Header.Get("X-Council-Session") + " " + string(b)
		}()
		s := c.until("the session", func(u watch.Update) bool { return u.Kind == watch.KindSession })
		if s.Session.Strategy != "race" || s.Session.Tier != "quick" || s.Session.Prompt != "How do indexes work?" || len(s.Session.Models) == 0 {
			t.Errorf("session %+v", s.Session)
		}
		end := c.until("its end", done(s.Key))
		if end.Event.Summary == nil || end.Event.Summary.Session != s.Session.Session || end.Event.Summary.Winner == "" {
			t.Errorf("session_done %+v", end.Event.Summary)
		}
		if a := <-answered; !strings.HasPrefix(a, s.Session.Session+" ") {
			t.Errorf("the client's answer is not session %s's: %.80s", s.Session.Session, a)
		}
		var seqs []int
		for _, u := range c.got {
			if u.Kind == watch.KindEvent && u.Key == s.Key {
				seqs = append(seqs, u.Event.Seq)
			}
		}
		for i, seq := range seqs {
			if seq != i+1 {
				t.Fatalf("seqs %v, want 1..%d", seqs, len(seqs))
			}
		}
		h := c.until("health", func(u watch.Update) bool { return u.Kind == watch.KindHealth })
		if len(h.Health) != len(eng.Health()) {
			t.Errorf("board %d rows, the engine has %d models", len(h.Health), len(eng.Health()))
		}
		if err := hub.ForceBreaker("sim/swift", engine.ForceOpen); err != nil {
			t.Fatal(err)
		}
		if v, err := hub.Tune("sim/flaky", "error_rate", 0.5); err != nil || v < 0.5 {
			t.Errorf("tune: %v %v, want the server's new error_rate", v, err)
		}
		for _, m := range eng.Health() {
			if m.ID == "sim/swift" && m.Breaker.Forced != "open" {
				t.Errorf("sim/swift %+v, want forced open by the admin action", m.Breaker)
			}
		}
		cancel()
		c.drain()
		tr.Wait()
	})
}
