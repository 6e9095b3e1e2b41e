package watch_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/watch/watchtest"
)

// TestHubRelaysShared: a replica's health says whether its state is
// shared with the fleet, or degraded; the update carries it.
func TestHubRelaysShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := watchtest.NewTransport()
		tr.Handle("h:1", handlerFunc(func(w writer) {
			w.write("event: hello\ndata: {\"type\":\"hello\",\"instance\":\"h:1\",\"started_ms\":1}\n\n")
			w.write("event: health\ndata: {\"type\":\"health\",\"in_flight\":0,\"models\":[],\"shared\":\"degraded\"}\n\n")
		}))
		hub, _ := watch.New([]string{"http://h:1"}, watch.Options{Client: tr.Client()})
		ctx, cancel := context.WithCancel(t.Context())
		hub.Connect(ctx)
		c := &collector{t: t, ch: hub.Updates()}
		h := c.until("health", func(u watch.Update) bool { return u.Kind == watch.KindHealth })
		cancel()
		c.drain()
		tr.Wait()
		if h.Shared != "degraded" {
			t.Errorf("shared %q, want degraded", h.Shared)
		}
	})
}
