package ui

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
)

// An auto session shows its route and why on screen for the whole
// session, at every width: not for a status's few seconds, not only
// where the header has room.
func TestAutoShowsItsRouteAndWhy(t *testing.T) { synctest.Test(t, testAutoShowsItsRouteAndWhy) }

func testAutoShowsItsRouteAndWhy(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 30}, {120, 40}, {160, 48}} {
		f := newFake()
		f.script = autoScript
		now := fixedClock
		m := newTestModel(f, sz[0], sz[1])
		m.clock = func() time.Time { return now }
		m.strategy = config.Auto
		press(m, "r")
		for _, later := range []time.Duration{0, time.Minute} {
			now = fixedClock.Add(later)
			m.Update(tickMsg{})
			out := plain(m)
			flat := strings.Join(strings.Fields(out), " ")
			for _, want := range []string{"code", "race", "classifier said code; keywords matched: func, panic"} {
				if !strings.Contains(flat, want) {
					t.Errorf("%dx%d, %v after: the screen lacks %q:\n%s", sz[0], sz[1], later, want, out)
				}
			}
			if n := len(strings.Split(out, "\n")); n != sz[1] {
				t.Errorf("%dx%d: %d lines", sz[0], sz[1], n)
			}
		}
		press(m, "enter") // zoomed, too
		if out := plain(m); !strings.Contains(strings.Join(strings.Fields(out), " "), "keywords matched: func, panic") {
			t.Errorf("%dx%d zoomed: no route:\n%s", sz[0], sz[1], out)
		}
	}
}
