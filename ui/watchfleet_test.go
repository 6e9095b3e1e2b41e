package ui

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine/watch"
)

// TestWatchLineSaysShared: the servers' line marks a replica whose state
// is shared with its fleet, and warns while that state is degraded.
func TestWatchLineSaysShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		r.health()
		line := func(shared string) string {
			r.m.onWatch(watchMsg{updates: []watch.Update{{Kind: watch.KindHealth, Instance: "h1:8484", Shared: shared}}})
			return strings.Split(plain(r.m), "\n")[2]
		}
		if l := line(""); strings.Contains(l, "shared") {
			t.Errorf("a server alone: %s", l)
		}
		if l := line("shared"); !strings.Contains(l, "● h1:8484 · shared") {
			t.Errorf("a replica sharing its state: %s", l)
		}
		if l := line("degraded"); !strings.Contains(l, "shared: degraded (local state)") {
			t.Errorf("a degraded replica: %s", l)
		}
	})
}
