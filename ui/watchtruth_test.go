package ui

import (
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/themes"
)

// newWatchModel is a dashboard watching server h:1 through a fake,
// before anything arrived, on the clock *now.
func newWatchModel(now *time.Time) *Model {
	f := newFake()
	f.cfg.Tiers = map[string]config.TierConfig{"watched": {}}
	f.cfg.DefaultTier = "watched"
	m := New(fakeWatcher{f}, Options{Theme: themes.NoColor(), Clock: func() time.Time { return *now }})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	return m
}

// announce hands the dashboard session id of h:1 and events.
func announce(m *Model, id string, evs ...engine.Event) {
	ups := []watch.Update{{Kind: watch.KindSession, Instance: "h:1", Key: "h:1/" + id, Session: &wire.Session{Session: id, Strategy: "race", Tier: "quick",
		Models: []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"}, Prompt: "p " + id}}}
	for _, ev := range evs {
		ups = append(ups, watch.Update{Kind: watch.KindEvent, Instance: "h:1", Key: "h:1/" + id, Event: ev})
	}
	m.Update(watchMsg{updates: ups})
}

// Watching, the latency bars are scaled by the server's tier (its hello
// says 10 s), not by the dashboard's fallback of 20 s.
func TestWatchTimeoutsAreTheServers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := fixedClock
		m := newWatchModel(&now)
		hello := &wire.Hello{Instance: "h:1", Tiers: []wire.Tier{{Name: "quick", Models: []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"},
			TimeoutMS: 60000, PerModelTimeoutMS: 10000}}}
		m.Update(watchMsg{updates: []watch.Update{{Kind: watch.KindStatus, Instance: "h:1", Status: watch.Status{State: watch.Connected, Hello: hello}}}})
		announce(m, "s1", raceScript(engine.SessionRequest{})...)
		out := plain(m)
		if strings.Contains(out, "/20s") || !strings.Contains(out, "/10s") {
			t.Errorf("the latency labels are not on the server's 10 s:\n%s", out)
		}
	})
}

// What the watch has seen spent never goes down: following a new session
// does not forget what the one still running has cost.
func TestWatchSeenSpendIsMonotonic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := fixedClock
		m := newWatchModel(&now)
		seen := func() string {
			return regexp.MustCompile(`seen \$[0-9.]+`).FindString(strings.Split(plain(m), "\n")[0])
		}
		evs := raceScript(engine.SessionRequest{})
		announce(m, "s1", evs[:len(evs)-3]...) // swift done: $0.000036 spent, still running
		before := seen()
		announce(m, "s2", evs[0])
		if after := seen(); after != before || before == "seen $0" {
			t.Errorf("following a new session, %q became %q", before, after)
		}
		m.Update(watchMsg{updates: []watch.Update{{Kind: watch.KindEvent, Instance: "h:1", Key: "h:1/s1", Event: evs[len(evs)-1]}}})
		if got := seen(); got != "seen $0.000047" {
			t.Errorf("s1 ended costing $0.000047: header says %q", got)
		}
	})
}

// Before any session, the screen says what it waits for, not that a tier
// has no models; the reconnection counts down on the clock; the counts
// of sessions agree wherever they are shown.
func TestWatchSaysOnlyWhatItKnows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := fixedClock
		m := newWatchModel(&now)
		m.Update(watchMsg{updates: []watch.Update{{Kind: watch.KindHealth, Instance: "h:1", Health: testHealth()}}})
		if out := plain(m); strings.Contains(out, "no models in tier") || !strings.Contains(out, "no session yet") {
			t.Errorf("before any session:\n%s", out)
		}
		m.Update(watchMsg{updates: []watch.Update{{Kind: watch.KindStatus, Instance: "h:1", Status: watch.Status{State: watch.Reconnecting, Attempt: 2, In: 3500 * time.Millisecond}}}})
		if out := plain(m); !strings.Contains(out, "in 3.50s") {
			t.Errorf("reconnecting: %s", strings.Split(out, "\n")[2])
		}
		now = now.Add(time.Second)
		m.Update(tickMsg{})
		if out := plain(m); !strings.Contains(out, "in 2.50s") {
			t.Errorf("a second later the countdown did not move: %s", strings.Split(out, "\n")[2])
		}
		if !m.hot() {
			t.Error("a reconnection's countdown does not keep the clock ticking")
		}
		for _, id := range []string{"s1", "s2", "s3"} {
			announce(m, id, engine.Event{Type: engine.SessionStarted, Session: id, Seq: 1})
		}
		press(m, "[")
		announce(m, "s4", engine.Event{Type: engine.SessionStarted, Session: "s4", Seq: 1})
		announce(m, "s5", engine.Event{Type: engine.SessionStarted, Session: "s5", Seq: 1})
		out := plain(m)
		counts := map[string]bool{}
		for _, c := range regexp.MustCompile(`#\d+ of (\d+)`).FindAllStringSubmatch(out, -1) {
			counts[c[1]] = true
		}
		if len(counts) != 1 || !counts["5"] {
			t.Errorf("the session counts on screen %v; want one: 5\n%s", counts, out)
		}
	})
}

// Before the first session arrives a watch's header names no strategy and
// no tier (it has seen none: its own config's are no server's), and the
// empty board says what it waits for in full, at 80 columns too.
func TestWatchBeforeASessionInventsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := fixedClock
		m := newWatchModel(&now)
		if h := headerLine(m); !strings.Contains(h, "strategy —") || !strings.Contains(h, "tier —") {
			t.Errorf("watching, before a session: header %q, want no strategy and no tier", h)
		}
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		if h := headerLine(m); strings.Contains(h, "race") || strings.Contains(h, "watched") {
			t.Errorf("watching at 80 columns, before a session: header %q names a strategy or tier", h)
		}
		for _, l := range strings.Split(plain(m), "\n") {
			if lipgloss.Width(l) > 80 {
				t.Errorf("at 80 columns a line is %d wide (the terminal cuts it, with no sign): %q", lipgloss.Width(l), l)
			}
		}
		flat := strings.Join(strings.Fields(plain(m)), " ")
		if want := "(the breakers are their models)"; !strings.Contains(flat, want) {
			t.Errorf("at 80 columns the empty board is cut: want %q in\n%s", want, plain(m))
		}
		announce(m, "s1", raceScript(engine.SessionRequest{})...)
		if h := headerLine(m); !strings.Contains(h, "race · quick") {
			t.Errorf("after a race on quick arrived: header %q", h)
		}
	})
}
