package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// TestEveryAreaHasAPlace: at each of the layouts' sizes (wide, medium,
// the compact 80x24), every registered area is drawn on some screen: put
// back to its state before any session, it changes the frame. An area
// registered in newAreas but given no place in the layouts fails here.
func TestEveryAreaHasAPlace(t *testing.T) {
	screens := []struct {
		s      config.Strategy
		script func(engine.SessionRequest) []engine.Event
	}{{config.Race, raceScript}, {config.Consensus, consensusScript}, {config.Council, councilScript}, {config.Section, sectionScript}}
	fresh := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	for _, size := range [][2]int{{160, 48}, {120, 40}, {80, 24}} {
		placed := make([]bool, len(fresh.areas))
		for _, sc := range screens {
			for i := range fresh.areas {
				m := newTestModel(newFake(), size[0], size[1])
				m.sessionN, m.sessStrategy, m.sessInfo.Strategy = 1, sc.s, sc.s
				for _, ev := range sc.script(engine.SessionRequest{}) {
					m.apply(ev)
				}
				before := plain(m)
				reflect.ValueOf(m.areas[i]).Elem().Set(reflect.ValueOf(fresh.areas[i]).Elem())
				if plain(m) != before {
					placed[i] = true
				}
			}
		}
		for i, ok := range placed {
			if !ok {
				t.Errorf("%dx%d: %T changes no screen: give it a place in the layouts (layout.go, compact.go, sections_view.go)", size[0], size[1], fresh.areas[i])
			}
		}
	}
}
