package ui

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/themes"
)

// watchedRace is a dashboard watching one server that ran raceScript.
func watchedRace(w, h int) *Model {
	f := newFake()
	f.cfg.Tiers = map[string]config.TierConfig{"watched": {Models: nil}}
	f.cfg.DefaultTier = "watched"
	m := New(fakeWatcher{f}, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	inst := "h:1"
	ups := []watch.Update{
		{Kind: watch.KindStatus, Instance: inst, Status: watch.Status{State: watch.Connected, Hello: &wire.Hello{Instance: inst}}},
		{Kind: watch.KindHealth, Instance: inst, Health: testHealth()},
		{Kind: watch.KindSession, Instance: inst, Key: inst + "/s-test", Session: &wire.Session{Session: "s-test", Strategy: "race", Tier: "quick",
			Models: []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"}, Prompt: "Why do circuit breakers help?"}},
	}
	for _, ev := range raceScript(engine.SessionRequest{}) {
		ups = append(ups, watch.Update{Kind: watch.KindEvent, Instance: inst, Key: inst + "/s-test", Event: ev})
	}
	m.Update(watchMsg{updates: ups})
	return m
}

// walkScreens are the dashboard's screens, each built afresh: a key
// pressed on one must not leak into the next.
func walkScreens(t *testing.T) []struct {
	name  string
	build func() *Model
} {
	done := func(s config.Strategy, script func(engine.SessionRequest) []engine.Event, then ...string) func() *Model {
		return func() *Model {
			f := newFake()
			f.script = script
			m := newTestModel(f, 120, 40)
			m.opts.ExportDir = t.TempDir()
			m.strategy = s
			press(m, "r")
			press(m, then...)
			return m
		}
	}
	return []struct {
		name  string
		build func() *Model
	}{
		{"live idle", func() *Model { return newTestModel(newFake(), 120, 40) }},
		{"prompt", func() *Model { m := newTestModel(newFake(), 120, 40); press(m, "/"); return m }},
		{"live running", func() *Model {
			f := newFake()
			m := newTestModel(f, 120, 40)
			m.handleKey(keyMsg("r")) // started; its events are handed over below
			evs := raceScript(engine.SessionRequest{})
			m.Update(eventsMsg{gen: m.gen, events: evs[:10]})
			return m
		}},
		{"live done race", done(config.Race, raceScript)},
		{"live done consensus", done(config.Consensus, consensusScript)},
		{"live done council", done(config.Council, councilScript)},
		{"live done auto", done(config.Auto, autoScript)},
		{"zoom", done(config.Race, raceScript, "enter")},
		{"compare", done(config.Race, raceScript, "d", "tab", "d")},
		{"form chaos", func() *Model { m := newTestModel(newFake(), 120, 40); press(m, "E"); return m }},
		{"form settings", func() *Model { m := newTestModel(newFake(), 120, 40); press(m, "O"); return m }},
		{"history", done(config.Race, raceScript, "H")},
		{"help", done(config.Race, raceScript, "?")},
		{"replay", func() *Model {
			st := &stepper{fakeBackend: newFake()}
			m := New(st, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "p"})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			press(m, "r")
			return m
		}},
		{"watch", func() *Model { return watchedRace(120, 40) }},
		{"watch list", func() *Model { m := watchedRace(120, 40); m.handleKey(keyMsg("L")); return m }},
		{"section", func() *Model {
			f := newFake()
			f.script = sectionScript
			m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Summarise", Document: "# A\na\n"})
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			press(m, "r")
			return m
		}},
		{"too small", func() *Model { return newTestModel(newFake(), 50, 12) }},
	}
}

// named is every binding a screen names: its footer and its help.
func named(m *Model) []key.Binding {
	var out []key.Binding
	seen := map[string]bool{}
	add := func(b key.Binding) {
		if b.Enabled() && !seen[b.Help().Key+b.Help().Desc] {
			seen[b.Help().Key+b.Help().Desc] = true
			out = append(out, b)
		}
	}
	for _, b := range m.ctx.Keys.ShortHelp() {
		add(b)
	}
	for _, g := range m.helpKeys().FullHelp() {
		for _, b := range g {
			add(b)
		}
	}
	return out
}

// walkKey is k as the terminal sends it.
func walkKey(k string) tea.KeyPressMsg {
	switch k {
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	}
	return keyMsg(k)
}

// TestEveryNamedKeyAnswers walks every screen and every key it names, in
// its footer or its help: pressed, each does something (the screen
// changes, or a command runs) or says why it does not. A key named and
// dead fails.
func TestEveryNamedKeyAnswers(t *testing.T) { synctest.Test(t, testEveryNamedKeyAnswers) }

func testEveryNamedKeyAnswers(t *testing.T) {
	for _, sc := range walkScreens(t) {
		m := sc.build()
		m.syncKeys()
		bs := named(m)
		if len(bs) == 0 {
			t.Errorf("%s: names no key", sc.name)
		}
		for _, b := range bs {
			for _, k := range b.Keys() {
				m := sc.build()
				m.syncKeys()
				before, mode := m.render(), m.mode
				cmd := m.handleKey(walkKey(k))
				m.syncKeys()
				if cmd == nil && m.mode == mode && !m.quitting && m.render() == before {
					t.Errorf("%s: %s (%q, %s) does nothing and says nothing", sc.name, k, b.Help().Key, b.Help().Desc)
				}
				if m.cancel != nil {
					m.cancel()
				}
			}
		}
	}
}

// The help lists the keys of the screen it was opened from: the live
// dashboard's help names no replay or watch key, a replay's names its
// playback.
func TestHelpListsTheScreensKeys(t *testing.T) { synctest.Test(t, testHelpListsTheScreensKeys) }

func testHelpListsTheScreensKeys(t *testing.T) {
	m := newTestModel(newFake(), 160, 48)
	press(m, "r", "?")
	out := plain(m)
	for _, dead := range []string{"pause replay", "replay from the start", "next event", "older session", "newer session", "follow the latest", "sessions list", "reset chaos"} {
		if strings.Contains(out, dead) {
			t.Errorf("the live dashboard's help names %q, which does nothing there:\n%s", dead, out)
		}
	}
	st := &stepper{fakeBackend: newFake()}
	r := New(st, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "p"})
	r.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	press(r, "r", "?")
	if out := plain(r); !strings.Contains(out, "pause replay") || strings.Contains(out, "model in/out") {
		t.Errorf("a replay's help lacks its playback or names space as model in/out:\n%s", out)
	}
}

// A form's keys are its own: q is typed into the field (the footer does
// not offer it as quit), and a value refused says which rule it broke,
// on screen.
func TestFormsSayWhatIsWrong(t *testing.T) { synctest.Test(t, testFormsSayWhatIsWrong) }

func testFormsSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		open, value, want string
	}{
		{"E", "2", "error_rate must be a number from 0 to 1"},
		{"S", "q", "stall_rate must be a number from 0 to 1"},
		{"O", "", ""}, // the first step takes any system prompt
	} {
		m := newTestModel(newFake(), 120, 40)
		press(m, c.open)
		if m.mode != modeForm {
			t.Fatalf("%s: mode %s, want the form", c.open, m.mode)
		}
		lines := strings.Split(plain(m), "\n")
		if foot := lines[len(lines)-1]; strings.Contains(foot, "quit") || !strings.Contains(foot, "enter") {
			t.Errorf("%s: the form's footer %q offers quit or lacks enter", c.open, foot)
		}
		press(m, "ctrl+a", "ctrl+k", "q")
		if m.quitting || m.form.Value() != "q" {
			t.Errorf("%s: q quit=%v, field %q; want q typed into the field", c.open, m.quitting, m.form.Value())
		}
		if c.want == "" {
			press(m, "enter", "ctrl+a", "ctrl+k", "x", "enter") // max tokens: x
			c.want = "max tokens must be a whole number, 0 or more"
		} else {
			press(m, "ctrl+a", "ctrl+k")
			for _, r := range c.value {
				press(m, string(r))
			}
			press(m, "enter")
		}
		if out := plain(m); m.mode != modeForm || !strings.Contains(out, c.want) {
			t.Errorf("%s: an invalid value: mode %s, the screen lacks %q:\n%s", c.open, m.mode, c.want, out)
		}
	}
}

// Watching, the prompt line does not invite typing: nothing typed runs.
func TestWatchPromptDoesNotInviteTyping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := watchedRace(120, 40)
		m.input.SetValue("")
		if out := plain(m); strings.Contains(out, "enter runs it") {
			t.Errorf("watching, the screen invites typing a prompt:\n%s", out)
		}
	})
}
