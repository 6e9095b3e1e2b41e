package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/council-dev/council/engine"
)

// TestDrain: on shutdown the server stops accepting and lets a session in
// flight finish within the drain timeout; Serve returns nil.
func TestDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.DrainTimeout = 10 * time.Second })
		h.fake.ttft = 5 * time.Second
		type result struct {
			c   *openai.ChatCompletion
			err error
		}
		res := make(chan result, 1)
		go func() {
			c := h.client("")
			got, err := c.Chat.Completions.New(context.Background(), userParams("fake/x", "hi"))
			res <- result{got, err}
		}()
		time.Sleep(time.Second)
		start := time.Now()
		served := make(chan error, 1)
		go func() { served <- h.shutdown() }()
		time.Sleep(100 * time.Millisecond)
		if _, err := h.ln.Dial(context.Background(), "", ""); err == nil {
			t.Error("a new connection was accepted while draining")
		}
		r := <-res
		if r.err != nil || r.c.Choices[0].Message.Content != "a scripted answer from x" {
			t.Fatalf("the session in flight: %v", r.err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after a drain, want nil", err)
		}
		if d := time.Since(start); d < 4*time.Second || d > 5*time.Second {
			t.Errorf("drained in %s, want when the session ended (about 4.1s)", d)
		}
	})
}

// TestDrainDeadline: a session still running when the drain timeout ends
// is cancelled with reason shutdown; its client is told so (503), and the
// summary says cancelled/shutdown, not a failure or the user.
func TestDrainDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.DrainTimeout = 2 * time.Second })
		h.fake.ttft = time.Hour
		sub, _ := h.srv.hub.subscribe("", true)
		res := make(chan error, 1)
		go func() {
			c := h.client("")
			_, err := c.Chat.Completions.New(context.Background(), userParams("fake/x", "hi"))
			res <- err
		}()
		time.Sleep(time.Second)
		start := time.Now()
		if err := h.shutdown(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		if d := time.Since(start); d < 2*time.Second || d > 2100*time.Millisecond {
			t.Errorf("shut down after %s, want the drain timeout, 2s", d)
		}
		err := <-res
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Code != "shutting_down" {
			t.Fatalf("client got %v, want 503 shutting_down", err)
		}
		if !strings.Contains(apiErr.Message, "shutting down") {
			t.Errorf("message %q", apiErr.Message)
		}
		done := doneSummary(t, sub)
		if done.Status != engine.StatusCancelled || done.Models[0].Reason != "shutdown" {
			t.Errorf("summary %s, row %+v; want cancelled, reason shutdown", done.Status, done.Models[0])
		}
		if h.fake.ended.Load() != 1 {
			t.Error("the upstream call was not cancelled")
		}
	})
}

// doneSummary reads the hub's messages up to session_done and returns its summary.
func doneSummary(t *testing.T, sub *subscriber) *engine.Summary {
	t.Helper()
	for m := range sub.ch {
		if strings.HasPrefix(string(m), "event: session_done\n") {
			var ev engine.Event
			data := strings.TrimSuffix(strings.TrimPrefix(string(m), "event: session_done\ndata: "), "\n\n")
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			return ev.Summary
		}
	}
	t.Fatal("no session_done")
	return nil
}

// TestDisconnectCancelsUpstream: a client that goes away cancels its
// session (reason user), and the upstream call's context ends before the
// session's session_done.
func TestDisconnectCancelsUpstream(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, "", nil)
				h.fake.ttft = time.Hour
				sub, _ := h.srv.hub.subscribe("", true)
				endedBeforeDone := make(chan bool, 1)
				ctx, cancel := context.WithCancel(context.Background())
				res := make(chan error, 1)
				go func() {
					c := h.client("")
					if stream {
						st := c.Chat.Completions.NewStreaming(ctx, userParams("fake/x", "hi"))
						for st.Next() {
						}
						res <- st.Err()
						st.Close()
						return
					}
					_, err := c.Chat.Completions.New(ctx, userParams("fake/x", "hi"))
					res <- err
				}()
				time.Sleep(time.Second)
				cancel()
				for m := range sub.ch {
					if strings.HasPrefix(string(m), "event: session_done\n") {
						endedBeforeDone <- h.fake.ended.Load() == 1
						if !strings.Contains(string(m), `"status":"cancelled"`) || !strings.Contains(string(m), `"reason":"user"`) {
							t.Errorf("session_done %s; want cancelled by the user", m)
						}
						break
					}
				}
				if !<-endedBeforeDone {
					t.Error("session_done came before the upstream call's context ended")
				}
				if err := <-res; !errors.Is(err, context.Canceled) {
					t.Errorf("client: %v", err)
				}
				synctest.Wait()
				if n, _, _ := h.srv.hub.counts(); n != 0 {
					t.Errorf("%d sessions still in flight", n)
				}
			})
		})
	}
}

// TestDrainStreamsTheEnd: a watcher's event stream stays open through a
// drain until the sessions in flight have ended, so it sees their
// session_done (here after the drain deadline cancels one: reason
// shutdown) rather than losing them when the server goes.
func TestDrainStreamsTheEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.DrainTimeout = 2 * time.Second })
		h.fake.ttft = time.Hour
		sub := h.subscribe("")
		defer sub.close()
		res := make(chan error, 1)
		go func() {
			c := h.client("")
			_, err := c.Chat.Completions.New(context.Background(), userParams("fake/x", "hi"))
			res <- err
		}()
		time.Sleep(time.Second)
		served := make(chan error, 1)
		go func() { served <- h.shutdown() }()
		msgs := sub.until(t, "session_done")
		var ev engine.Event
		if err := json.Unmarshal([]byte(msgs[len(msgs)-1].data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Summary == nil || ev.Summary.Status != engine.StatusCancelled || ev.Summary.Models[0].Reason != "shutdown" {
			t.Fatalf("the stream's session_done: %s", msgs[len(msgs)-1].data)
		}
		for {
			if _, ok := sub.next(); !ok {
				break // the stream ends once nothing is in flight
			}
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		<-res
	})
}
