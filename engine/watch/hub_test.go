package watch_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/watch/watchtest"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// newEngine is the demo council over quick simulated models; inside a
// bubble they stream on its virtual clock.
func newEngine(t *testing.T, errorRate float64) *engine.Engine {
	t.Helper()
	cfg := config.Demo()
	clients := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: 100 * time.Millisecond, TokensPerSec: 50, OutputTokens: 20, ErrorRate: errorRate}, 3)
	}
	e, err := engine.New(cfg, clients, engine.WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// collector reads a hub's updates.
type collector struct {
	t   *testing.T
	ch  <-chan watch.Update
	got []watch.Update
}

// until reads updates until one matches (failing after a virtual minute).
func (c *collector) until(what string, match func(watch.Update) bool) watch.Update {
	c.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case u, ok := <-c.ch:
			if !ok {
				c.t.Fatalf("updates closed before %s", what)
			}
			c.got = append(c.got, u)
			if match(u) {
				return u
			}
		case <-timeout:
			c.t.Fatalf("no %s within a minute", what)
		}
	}
}

// drain reads until the hub closes its channel.
func (c *collector) drain() {
	for u := range c.ch {
		c.got = append(c.got, u)
	}
}

func done(key string) func(watch.Update) bool {
	return func(u watch.Update) bool {
		return u.Kind == watch.KindEvent && u.Event.Type == engine.SessionDone && (key == "" || u.Key == key)
	}
}

func status(st watch.State) func(watch.Update) bool {
	return func(u watch.Update) bool { return u.Kind == watch.KindStatus && u.Status.State == st }
}

// TestHubReconnectsAndResumes: the server drops its streams mid-session
// and is down for a while; the hub says it is reconnecting with growing,
// capped delays, comes back, and resumes from the backlog: every event of
// every session is delivered once, in order, none twice.
func TestHubReconnectsAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, 0)
		srv := watchtest.NewServer(eng, "127.0.0.1:8484")
		tr := watchtest.NewTransport()
		tr.Handle("h1:8484", srv)
		hub, err := watch.New([]string{"http://h1:8484"}, watch.Options{Client: tr.Client(), Jitter: func() float64 { return 0 }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		c.until("connected", status(watch.Connected))

		// A finished session, then one cut in the middle of its stream.
		req := engine.SessionRequest{Prompt: "one", Strategy: config.Race, Tier: "quick"}
		if err := srv.Run(ctx, req); err != nil {
			t.Fatal(err)
		}
		c.until("the first session's end", done(""))
		req.Prompt = "two"
		srv.Run(ctx, req)
		c.until("a token of the second", func(u watch.Update) bool { return u.Kind == watch.KindEvent && u.Event.Type == engine.Delta })
		tr.SetDown("h1:8484", true)
		srv.Drop()
		var delays []time.Duration
		for i := 1; i <= 4; i++ {
			u := c.until("reconnecting", status(watch.Reconnecting))
			if u.Status.Attempt != i {
				t.Fatalf("attempt %d, want %d", u.Status.Attempt, i)
			}
			delays = append(delays, u.Status.In)
		}
		if want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}; !slices.Equal(delays, want) {
			t.Errorf("delays %v, want %v (jitter 0: half of 500ms doubling)", delays, want)
		}
		if u := c.got[len(c.got)-1]; !strings.Contains(u.Status.Err, "connection refused") {
			t.Errorf("reconnecting says %q, want why (connection refused)", u.Status.Err)
		}
		srv.Wait() // the second session ends while the watcher is away
		tr.SetDown("h1:8484", false)
		c.until("connected again", status(watch.Connected))
		c.until("the second session's end, from the backlog", done(""))
		req.Prompt = "three"
		srv.Run(ctx, req)
		c.until("the third session's end", done(""))
		srv.Wait()
		cancel()
		c.drain()
		tr.Wait()

		sessions := map[string]int{}
		seqs := map[string][]int{}
		for _, u := range c.got {
			switch u.Kind {
			case watch.KindSession:
				sessions[u.Session.Prompt]++
			case watch.KindEvent:
				seqs[u.Key] = append(seqs[u.Key], u.Event.Seq)
			}
		}
		if len(sessions) != 3 || sessions["one"] != 1 || sessions["two"] != 1 || sessions["three"] != 1 {
			t.Errorf("sessions announced %v, want one, two, three once each", sessions)
		}
		if len(seqs) != 3 {
			t.Errorf("events of %d sessions, want 3", len(seqs))
		}
		for key, s := range seqs {
			for i, seq := range s {
				if seq != i+1 {
					t.Fatalf("%s: seqs %v, want 1..%d once each, in order", key, s, len(s))
				}
			}
		}
	})
}

// TestHubSkipsWhatIsNotItsOwn: comments, unknown event types and
// malformed data are read past; the engine's events still arrive.
func TestHubSkipsWhatIsNotItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := watchtest.NewTransport()
		tr.Handle("h:1", handlerFunc(func(w writer) {
			w.write(": ping\n\n")
			w.write("event: hello\ndata: {\"type\":\"hello\",\"instance\":\"h:1\",\"started_ms\":1}\n\n")
			// Sessions the server's backlog left out (serve.backlog_bytes).
			w.write("event: dropped\ndata: {\"type\":\"dropped\",\"sessions\":[\"s0\"],\"limit_bytes\":100}\n\n")
			w.write("event: surprise\ndata: {\"type\":\"surprise\",\"x\":1}\n\n")
			w.write("event: session\ndata: {\"type\":\"session\",\"session\":\"s1\",\"strategy\":\"race\",\"models\":[\"a\"],\"prompt\":\"p\"}\n\n")
			w.write("event: attempt_started\ndata: {not json\n\n")
			w.write("event: attempt_started\ndata: {\"seq\":1,\"t_ms\":0,\"type\":\"attempt_started\",\"session\":\"s1\",\"model\":\"a\",\"attempt\":\"a1\"}\n\n")
			w.write("event: health\ndata: {\"type\":\"health\",\"in_flight\":1,\"models\":[{\"model\":\"a\",\"kind\":\"sim\",\"breaker\":{\"state\":\"open\",\"failure_rate\":0.5,\"requests\":4,\"failures\":2,\"half_open_in_ms\":1500},\"latency\":{\"count\":3,\"p50_ms\":120,\"p99_ms\":900}}]}\n\n")
		}))
		hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		h := c.until("health", func(u watch.Update) bool { return u.Kind == watch.KindHealth })
		cancel()
		c.drain()
		tr.Wait()
		var kinds []watch.Kind
		for _, u := range c.got {
			if u.Kind != watch.KindStatus {
				kinds = append(kinds, u.Kind)
			}
		}
		if want := []watch.Kind{watch.KindSession, watch.KindEvent, watch.KindHealth}; !slices.Equal(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
		if len(h.Health) != 1 || h.Health[0].Breaker.State != engine.BreakerOpen || h.Health[0].Breaker.HalfOpenIn != 1500*time.Millisecond ||
			h.Health[0].Latency.Total.P99 != 900*time.Millisecond || h.InFlight != 1 {
			t.Errorf("health %+v in flight %d", h.Health, h.InFlight)
		}
	})
}

// TestHubToken: the token goes in the Authorization header; a server that
// refuses it is named as wanting one, and the token is never shown.
func TestHubToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, 0)
		srv := watchtest.NewServer(eng, "h")
		srv.Token = "s3cret-token"
		tr := watchtest.NewTransport()
		tr.Handle("h:1", srv)
		for _, tc := range []struct {
			token string
			want  watch.State
		}{{"wrong-token", watch.Reconnecting}, {"s3cret-token", watch.Connected}} {
			hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client(), Token: tc.token})
			ctx, cancel := context.WithCancel(t.Context())
			hub.Connect(ctx)
			c := &collector{t: t, ch: hub.Updates()}
			u := c.until(tc.want.String(), status(tc.want))
			if tc.want == watch.Reconnecting && !strings.Contains(u.Status.Err, "HTTP 401") {
				t.Errorf("refused: %q, want HTTP 401 and what to do", u.Status.Err)
			}
			cancel()
			c.drain()
			for _, u := range c.got {
				if strings.Contains(u.Status.Err, "s3cret") || strings.Contains(u.Status.Err, "wrong-token") {
					t.Errorf("a status shows the token: %q", u.Status.Err)
				}
			}
		}
		tr.Wait()
	})
}

// adminRig is an engine served (admin token "adm") to hubs made by
// connect, each connected and past its first health message; stop ends
// one. Run it inside a synctest bubble.
func adminRig(t *testing.T) (*engine.Engine, *watchtest.Server, *watchtest.Transport, func(admin string) (*watch.Hub, func())) {
	eng := newEngine(t, 0)
	srv := watchtest.NewServer(eng, "h")
	srv.AdminToken = "adm"
	tr := watchtest.NewTransport()
	tr.Handle("h:1", srv)
	connect := func(admin string) (*watch.Hub, func()) {
		hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client(), AdminToken: admin})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		c.until("health", func(u watch.Update) bool { return u.Kind == watch.KindHealth })
		return hub, func() { cancel(); c.drain() }
	}
	return eng, srv, tr, connect
}

// TestHubAdmin: without the admin token breaker actions are refused here;
// with it they reach the server's admin endpoints, which act on the
// engine; a wrong one is refused by the server.
func TestHubAdmin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, srv, tr, connect := adminRig(t)
		ro, stop := connect("")
		if err := ro.ForceBreaker("sim/swift", engine.ForceOpen); !errors.Is(err, watch.ErrReadOnly) {
			t.Errorf("read-only force: %v, want ErrReadOnly", err)
		}
		if _, err := ro.Tune("sim/swift", "error_rate", 0.25); !errors.Is(err, watch.ErrReadOnly) {
			t.Errorf("read-only tune: %v", err)
		}
		stop()
		bad, stop := connect("nope")
		if err := bad.ForceBreaker("sim/swift", engine.ForceOpen); err == nil || !strings.Contains(err.Error(), "403") {
			t.Errorf("wrong admin token: %v, want the server's 403", err)
		}
		stop()
		adm, stop := connect("adm")
		if err := adm.ForceBreaker("sim/swift", engine.ForceOpen); err != nil {
			t.Fatal(err)
		}
		if v, err := adm.Tune("sim/swift", "error_rate", 0.25); err != nil || v != 0.25 {
			t.Errorf("tune: %v %v, want 0.25", v, err)
		}
		if _, err := adm.ResetBreaker("sim/swift"); err != nil {
			t.Fatal(err)
		}
		if err := adm.ForceBreaker("sim/nosuch", engine.ForceOpen); err == nil {
			t.Error("a model no server reports was forced")
		}
		stop()
		if got, want := srv.AdminCalls(), []string{"breaker sim/swift open", "tune sim/swift error_rate", "reset sim/swift "}; !slices.Equal(got, want) {
			t.Errorf("server saw %q, want %q", got, want)
		}
		for _, h := range eng.Health() {
			if h.ID == "sim/swift" && (h.Breaker.Forced != "open" || h.Knobs["error_rate"] != 0.25) {
				t.Errorf("engine: %+v", h)
			}
		}
		tr.Wait()
	})
}

// TestHubServerRestart: a server that comes back with a new start time
// has lost the sessions it was running: they are reported lost, and its
// new sessions (whose ids start again) get keys of their own.
func TestHubServerRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, 0)
		srv := watchtest.NewServer(eng, "h")
		tr := watchtest.NewTransport()
		tr.Handle("h:1", srv)
		hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		c.until("connected", status(watch.Connected))
		runCtx, stopRun := context.WithCancel(ctx)
		srv.Run(runCtx, engine.SessionRequest{Prompt: "cut short", Strategy: config.Race})
		first := c.until("its first token", func(u watch.Update) bool { return u.Kind == watch.KindEvent && u.Event.Type == engine.FirstToken })
		srv.Drop()
		stopRun()
		srv.Wait()

		eng2 := newEngine(t, 0)
		srv2 := watchtest.NewServer(eng2, "h")
		srv2.Started = srv.Started.Add(time.Hour)
		tr.Handle("h:1", srv2)
		lost := c.until("the lost session", func(u watch.Update) bool { return u.Kind == watch.KindLost })
		if lost.Key != first.Key {
			t.Errorf("lost %q, want %q", lost.Key, first.Key)
		}
		srv2.Run(ctx, engine.SessionRequest{Prompt: "after", Strategy: config.Race})
		s := c.until("the new session", func(u watch.Update) bool { return u.Kind == watch.KindSession && u.Session.Prompt == "after" })
		if s.Key == first.Key {
			t.Errorf("the restarted server's session has the old one's key %q", s.Key)
		}
		c.until("its end", done(s.Key))
		srv2.Wait()
		cancel()
		c.drain()
		tr.Wait()
	})
}

// TestHubNotAStream: a URL that is not a council server's (a web page, an
// error) is named as such on the servers' line, and tried again.
func TestHubNotAStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := watchtest.NewTransport()
		tr.Handle("web:80", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html>hello</html>")
		}))
		tr.Handle("err:80", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusBadGateway)
		}))
		hub, _ := watch.New([]string{"http://web:80", "http://err:80/"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		why := map[string]string{}
		c.until("both refused", func(u watch.Update) bool {
			if u.Kind == watch.KindStatus && u.Status.State == watch.Reconnecting {
				why[u.Instance] = u.Status.Err
			}
			return len(why) == 2
		})
		cancel()
		c.drain()
		tr.Wait()
		if w := why["web:80"]; !strings.Contains(w, `answered "text/html", not an event stream`) {
			t.Errorf("web:80: %q", w)
		}
		if w := why["err:80"]; w != "HTTP 502 from /v1/council/events" {
			t.Errorf("err:80: %q", w)
		}
	})
}

// TestHubCutsOffASilentStream: a stream that says nothing for Idle (a
// network partition that never closes the connection) is taken for dead
// and reconnected; pings keep a quiet one alive.
func TestHubCutsOffASilentStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := watchtest.NewTransport()
		tr.Handle("quiet:1", handlerFunc(func(w writer) { // pings only
			w.write("event: hello\ndata: {\"type\":\"hello\",\"started_ms\":1}\n\n")
			for range 8 {
				time.Sleep(15 * time.Second)
				w.write(": ping\n\n")
			}
		}))
		tr.Handle("mute:1", handlerFunc(func(w writer) { // nothing after hello
			w.write("event: hello\ndata: {\"type\":\"hello\",\"started_ms\":1}\n\n")
		}))
		hub, _ := watch.New([]string{"http://quiet:1", "http://mute:1"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		u := c.until("the mute one cut off", status(watch.Reconnecting))
		if u.Instance != "mute:1" || u.Status.Err != "nothing received for 45s" || time.Since(start) != 45*time.Second {
			t.Errorf("%s after %s: %q; want mute:1 after 45s, nothing received", u.Instance, time.Since(start), u.Status.Err)
		}
		time.Sleep(90 * time.Second)
		cancel()
		c.drain()
		tr.Wait()
		for _, u := range c.got {
			if u.Instance == "quiet:1" && u.Kind == watch.KindStatus && u.Status.State == watch.Reconnecting {
				t.Errorf("the pinging stream was cut off: %q", u.Status.Err)
			}
		}
	})
}
