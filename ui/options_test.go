package ui

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/themes"
)

// The settings given at start reach every session and show in the header
// and the help; O edits them one after another (enter takes each, a bad
// value is refused, esc changes nothing), and the next session has them.
func TestSettingsShownAndEdited(t *testing.T) { synctest.Test(t, testSettingsShownAndEdited) }

func testSettingsShownAndEdited(t *testing.T) {
	f := newFake()
	temp := 0.5
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "hi",
		Settings: engine.Settings{System: "Be brief.", MaxTokens: 200, Temperature: &temp}, MaxCostUSD: 0.05})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	if v := plain(m); !strings.Contains(strings.SplitN(v, "\n", 2)[0], "⚙ sys · 200 tok · t 0.5") {
		t.Errorf("header without the settings:\n%s", strings.SplitN(v, "\n", 2)[0])
	}
	press(m, "?")
	if v := plain(m); !strings.Contains(v, `system "Be brief." · max tokens 200 · temperature 0.5`) {
		t.Errorf("help without the settings:\n%s", v)
	}
	press(m, "esc", "r")
	if r := f.starts[0]; r.Settings.System != "Be brief." || r.Settings.MaxTokens != 200 || *r.Settings.Temperature != 0.5 || r.MaxCostUSD != 0.05 {
		t.Fatalf("first session's settings %+v cap %v, want the options'", r.Settings, r.MaxCostUSD)
	}

	// esc in the form leaves them as they were.
	press(m, "O", "ctrl+u", "X", "enter", "esc")
	if m.mode != modePanes || m.settings.System != "Be brief." {
		t.Fatalf("esc: mode %v, system %q; want the panes and the old system prompt", m.mode, m.settings.System)
	}
	press(m, "O")
	if !strings.Contains(plain(m), "settings 1/3 · system prompt") {
		t.Fatalf("O does not open the form:\n%s", plain(m))
	}
	press(m, "ctrl+u", "T", "e", "r", "s", "e", "enter", "ctrl+u", "x", "enter")
	if m.mode != modeForm || !m.statusErr {
		t.Fatalf("max tokens x: mode %v, status %q; want it refused, the form still open", m.mode, m.status)
	}
	press(m, "ctrl+u", "5", "0", "enter", "ctrl+u", "enter")
	if m.mode != modePanes {
		t.Fatalf("after the last step, mode %v, want the panes", m.mode)
	}
	press(m, "r")
	r := f.starts[1]
	if r.Settings.System != "Terse" || r.Settings.MaxTokens != 50 || r.Settings.Temperature != nil {
		t.Errorf("edited settings %+v, want Terse, 50 tokens, no temperature", r.Settings)
	}
	if v := strings.SplitN(plain(m), "\n", 2)[0]; !strings.Contains(v, "⚙ sys · 50 tok") || strings.Contains(v, "t 0.5") {
		t.Errorf("header after editing: %s", v)
	}
}

// With a cap, the header shows spent / cap: the session's (its summary's,
// else --max-cost, else max_cost_usd) and the run's (max_run_cost_usd).
func TestHeaderShowsSpentAgainstCaps(t *testing.T) { synctest.Test(t, testHeaderShowsSpentAgainstCaps) }

func testHeaderShowsSpentAgainstCaps(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 40)
	if h := strings.SplitN(plain(m), "\n", 2)[0]; strings.Contains(h, " / $") {
		t.Fatalf("no cap, yet the header shows one: %s", h)
	}
	f.cfg.MaxCostUSD, f.cfg.MaxRunCostUSD = 0.05, 1.5
	m = newTestModel(f, 160, 40)
	press(m, "r")
	h := strings.SplitN(plain(m), "\n", 2)[0]
	if !strings.Contains(h, "cost $0.000047 / $0.05") || !strings.Contains(h, "run $0.000047 / $1.5") {
		t.Errorf("header %q, want the session's and the run's spent / cap", h)
	}
	m.summary.CostCapUSD = 0.02
	if h := strings.SplitN(plain(m), "\n", 2)[0]; !strings.Contains(h, "/ $0.02") {
		t.Errorf("header %q, want the summary's cap", h)
	}
}
