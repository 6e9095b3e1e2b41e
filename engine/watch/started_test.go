package watch_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/serve"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/watch/watchtest"
)

// A session's session_started reaches the watcher through council serve
// whole: the strategy, tier, models, settings and prompt it describes are
// what the watching dashboard draws the session's header from.
func TestSessionStartedReachesTheWatcherWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, 0)
		srv := serve.New(serve.Options{Engine: eng, Instance: "127.0.0.1:8484", Version: "test"})
		tr := watchtest.NewTransport()
		tr.Handle("serve:8484", srv.Handler())
		hub, err := watch.New([]string{"http://serve:8484"}, watch.Options{Client: tr.Client()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		c.until("hello", status(watch.Connected))
		go func() {
			body := `{"model":"council/hedge@balanced","max_tokens":300,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why is the sky blue?"}]}`
			resp, err := tr.Client().Post("http://serve:8484/v1/chat/completions", "application/json", strings.NewReader(body))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		u := c.until("session_started", func(u watch.Update) bool {
			return u.Kind == watch.KindEvent && u.Event.Type == engine.SessionStarted
		})
		d := u.Event.Detail
		if d == nil || d.Info == nil {
			t.Fatalf("session_started arrived without its description: %+v", u.Event)
		}
		in := d.Info
		if in.Strategy != config.Hedge || in.Tier != "balanced" || len(in.Models) == 0 || in.Turn != 1 ||
			in.Settings.System != "Be brief." || in.Settings.MaxTokens != 300 || u.Event.Text != "Why is the sky blue?" {
			t.Errorf("session_started describes %+v, prompt %q; want a hedge on balanced, Be brief., 300 tokens, turn 1", *in, u.Event.Text)
		}
		c.until("its end", done(u.Key))
		cancel()
		c.drain()
		tr.Wait()
	})
}

// A session whose session message was missed is announced from its
// session_started: the watcher still knows its strategy, tier, models and
// prompt.
func TestMissedSessionIsAnnouncedFromItsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := watchtest.NewTransport()
		tr.Handle("h:1", handlerFunc(func(w writer) {
			w.write("event: hello\ndata: {\"type\":\"hello\",\"instance\":\"h:1\",\"started_ms\":1}\n\n")
			w.write("event: session_started\ndata: {\"seq\":1,\"t_ms\":0,\"type\":\"session_started\",\"session\":\"s1\",\"text\":\"p\"," +
				"\"strategy\":\"consensus\",\"tier\":\"high\",\"models\":[\"a\",\"b\"],\"turn\":1}\n\n")
		}))
		hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		s := c.until("the session", func(u watch.Update) bool { return u.Kind == watch.KindSession })
		if got := s.Session; got.Session != "s1" || got.Strategy != "consensus" || got.Tier != "high" || got.Prompt != "p" || strings.Join(got.Models, ",") != "a,b" {
			t.Errorf("announced %+v, want s1, a consensus on high of a and b, prompt p", got)
		}
		cancel()
		c.drain()
		tr.Wait()
	})
}
