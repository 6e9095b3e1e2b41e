package ui

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine/watch"
)

// TestWatchInFlightLine: the servers' line says how many sessions a
// server has in flight (its health's in_flight), as
// docs/serve-and-watch.md quotes it.
func TestWatchInFlightLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		u := r.feedUntil("health", func(u watch.Update) bool { return u.Kind == watch.KindHealth })
		if line := strings.Split(plain(r.m), "\n")[2]; !strings.Contains(line, "● h1:8484") || strings.Contains(line, "in flight") {
			t.Errorf("an idle server's line: %s", line)
		}
		u.InFlight = 2
		r.m.Update(watchMsg{updates: []watch.Update{u}})
		if line := strings.Split(plain(r.m), "\n")[2]; !strings.Contains(line, "● h1:8484 (2 in flight)") {
			t.Errorf("the servers' line with 2 sessions in flight: %s", line)
		}
	})
}
