package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/themes"
)

func TestMain(m *testing.M) {
	// A test that exports without a temporary ExportDir writes into the
	// package's directory, where the file would be committed by mistake.
	before, _ := filepath.Glob("council-*")
	code := m.Run()
	if after, _ := filepath.Glob("council-*"); len(after) != len(before) {
		fmt.Fprintf(os.Stderr, "a test exported into the package directory: %v (give it ExportDir: t.TempDir())\n", after)
		code = 1
	}
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// testCtx is a context for rendering panes directly.
func testCtx() *Context {
	th := themes.NoColor()
	return &Context{Theme: th, S: NewStyles(th), Keys: DefaultKeyMap(), Now: fixedClock, Elapsed: ms(800)}
}

func TestModelPaneRendering(t *testing.T) {
	ev := func(typ engine.EventType, tms int, mod func(*engine.Event)) engine.Event {
		e := engine.Event{Type: typ, Model: "sim/a", T: ms(tms)}
		if mod != nil {
			mod(&e)
		}
		return e
	}
	started := ev(engine.AttemptStarted, 100, func(e *engine.Event) { e.Role = engine.RolePrimary })
	tests := []struct {
		name   string
		events []engine.Event
		health *engine.ModelHealth
		want   []string
		not    []string
	}{
		{"idle before any session", nil, nil, []string{"sim/a", "· ready"}, []string{"ttft", "not in this session"}},
		{"queued", []engine.Event{ev(engine.AttemptQueued, 0, nil)}, nil, []string{"◌ queued"}, nil},
		{"connecting", []engine.Event{started}, nil, []string{"connecting", "ttft …", "primary", "700ms/20s"}, nil},
		{"streaming", []engine.Event{started, ev(engine.FirstToken, 220, nil),
			ev(engine.Delta, 300, func(e *engine.Event) { e.Text = "hello brave new world of tokens" })},
			nil, []string{"streaming", "ttft 120ms", "~8 tok", "tok/s", "hello brave new world", "▼"}, nil},
		{"won", []engine.Event{started, ev(engine.FirstToken, 220, nil),
			ev(engine.AttemptDone, 600, func(e *engine.Event) { e.Text, e.OutputTokens, e.Cost = "the answer", 40, 0.0012 }),
			ev(engine.Decided, 600, nil)},
			nil, []string{"★ won", "40 tok", "$0.00120", "the answer", "500ms/20s"}, []string{"~"}},
		{"cancelled", []engine.Event{started, ev(engine.AttemptCancelled, 500, func(e *engine.Event) { e.Reason = engine.ReasonLostRace; e.Cost = 0.00002 })},
			nil, []string{"■ cancelled · lost race", "$0.00002"}, nil},
		{"failed", []engine.Event{started, ev(engine.AttemptFailed, 300, func(e *engine.Event) { e.Kind = providers.KindRateLimited; e.Err = "HTTP 429" })},
			nil, []string{"✗ failed · rate_limited", "HTTP 429"}, nil},
		{"timeout", []engine.Event{started, ev(engine.AttemptFailed, 300, func(e *engine.Event) { e.Kind = providers.KindTimeout })},
			nil, []string{"✗ timeout"}, []string{"failed"}},
		{"skipped", []engine.Event{ev(engine.AttemptSkipped, 0, func(e *engine.Event) { e.Reason = engine.ReasonBreakerOpen })},
			nil, []string{"⊘ skipped · breaker open"}, []string{"/20s"}},
		{"hedge mark", []engine.Event{started, {Type: engine.HedgeFired, Model: "sim/b", T: ms(400)}},
			nil, []string{"↯"}, nil},
		{"invalid vote", []engine.Event{started, ev(engine.AttemptDone, 300, nil), ev(engine.VoteCast, 300, func(e *engine.Event) { e.Err = "not a category" })},
			nil, []string{"invalid vote"}, nil},
		{"badge closed", nil, &engine.ModelHealth{ID: "sim/a", Breaker: engine.BreakerSnapshot{Requests: 4, FailureRate: 0.25}}, []string{"● closed 25%"}, nil},
		{"badge open countdown", nil, &engine.ModelHealth{ID: "sim/a", Breaker: engine.BreakerSnapshot{State: engine.BreakerOpen, HalfOpenIn: 12 * time.Second}}, []string{"○ open 12s"}, nil},
		{"badge half-open", nil, &engine.ModelHealth{ID: "sim/a", Breaker: engine.BreakerSnapshot{State: engine.BreakerHalfOpen}}, []string{"◐ half-open"}, nil},
		{"badge forced", nil, &engine.ModelHealth{ID: "sim/a", Breaker: engine.BreakerSnapshot{State: engine.BreakerOpen, Forced: "open"}}, []string{"⚑ forced open"}, nil},
		{"control chars stripped", []engine.Event{started, ev(engine.Delta, 200, func(e *engine.Event) { e.Text = "ok\x1b[2Jclear\x07" })},
			nil, []string{"okclear"}, []string{"\x1b[2J"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCtx()
			p := NewModelPane(c, "sim/a", 20*time.Second)
			if tt.health != nil {
				p.SetHealth(*tt.health, fixedClock)
			}
			for _, e := range tt.events {
				p.Apply(e)
			}
			got := stripANSI(p.View(60, 9))
			if n := strings.Count(got, "\n") + 1; n != 9 {
				t.Errorf("View has %d lines, want 9", n)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("pane does not show %q; got:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("pane shows %q, want it absent; got:\n%s", w, got)
				}
			}
		})
	}
}

// TestIdleWording: before any session a pane is ready; a model a session
// leaves out says so; a model that appears later (another tier) is ready.
func TestIdleWording(t *testing.T) { synctest.Test(t, testIdleWording) }

func testIdleWording(t *testing.T) {
	f := newFake()
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RolePrimary},
			{Type: engine.AttemptDone, Model: "sim/swift", T: ms(300), Text: "ok", OutputTokens: 1},
			{Type: engine.Decided, Model: "sim/swift", T: ms(300)},
			{Type: engine.SessionDone, T: ms(300), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(300)}},
		})
	}
	f.cfg.Tiers["other"] = config.TierConfig{Models: []string{"sim/swift", "sim/new"}}
	m := newTestModel(f, 160, 48)
	if got := plain(m); strings.Count(got, "· ready") != 4 || strings.Contains(got, "not in this session") {
		t.Fatalf("before any session, want 4 panes ready:\n%s", got)
	}
	press(m, "r")
	want := map[string]string{"sim/swift": "★ won", "sim/steady": "· not in this session", "sim/flaky": "· not in this session", "sim/slow": "· not in this session"}
	for id, w := range want {
		if got := stripANSI(m.byID[id].a.statusLine(m.ctx)); got != w {
			t.Errorf("after a session %s says %q, want %q", id, got, w)
		}
	}
	press(m, "t", "t") // quick → balanced → other
	if m.tier != "other" {
		t.Fatalf("tier = %s, want other", m.tier)
	}
	// The finished session keeps its panes until the next one starts.
	if m.byID["sim/new"] != nil {
		t.Errorf("t added the next tier's model to the finished session's panes")
	}
	press(m, "r")
	if m.byID["sim/new"] == nil {
		t.Errorf("the next session does not show its tier's model sim/new")
	}
}

func TestTimelineShowsOutcomes(t *testing.T) {
	c := testCtx()
	tl := NewTimeline(c)
	for _, e := range raceScript(engine.SessionRequest{}) {
		tl.Apply(e)
	}
	got := stripANSI(tl.View(100, 8))
	for _, w := range []string{"★", "won 640ms", "■", "lost race", "✗", "rate_limited", "▼", "┆ decided 640ms", "1s"} {
		if !strings.Contains(got, w) {
			t.Errorf("timeline lacks %q:\n%s", w, got)
		}
	}
}

func TestTimelineLegendFits(t *testing.T) {
	c := testCtx()
	tl := NewTimeline(c)
	if got := stripANSI(tl.View(120, 4)); !strings.Contains(got, "◌┄ queued ├ start ▼ 1st token ↯ hedge ★ won ✓ done ■ cancelled ✗ failed ⊘ skipped") {
		t.Errorf("before a session the legend is not whole:\n%s", got)
	}
	for _, e := range raceScript(engine.SessionRequest{}) {
		tl.Apply(e)
	}
	tests := []struct {
		width     int
		want, not []string
	}{
		{120, []string{"◌┄ queued", "├ start", "▼ 1st token", "★ won", "■ cancelled", "✗ failed"}, []string{"↯ hedge", "✓ done", "⊘ skipped"}},
		// Narrow, every glyph the rows use is still there, with its short word.
		{60, []string{"◌┄queue", "├start", "▼1st", "★won", "■cancel", "✗fail"}, []string{"…", "↯", "✓", "⊘"}},
	}
	for _, tt := range tests {
		head := strings.Split(stripANSI(tl.View(tt.width, 8)), "\n")[0]
		if w := ansiWidth(head); w > tt.width {
			t.Errorf("%d: legend is %d wide", tt.width, w)
		}
		for _, w := range tt.want {
			if !strings.Contains(head, w) {
				t.Errorf("%d: legend %q lacks %q", tt.width, head, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(head, w) {
				t.Errorf("%d: legend %q has %q", tt.width, head, w)
			}
		}
	}
}

// TestRowsFollowPaneOrder: the timeline and the breaker board list models
// in the panes' order, whatever order the events and the engine use.
func TestRowsFollowPaneOrder(t *testing.T) { synctest.Test(t, testRowsFollowPaneOrder) }

func testRowsFollowPaneOrder(t *testing.T) {
	f := newFake()
	slices.Reverse(f.health)
	m := newTestModel(f, 160, 48)
	press(m, "r")
	out := plain(m)
	tl := out[strings.Index(out, "Timeline"):]
	var tlOrder, boardOrder []string
	for _, l := range strings.Split(tl, "\n") {
		if id, _, ok := strings.Cut(l, " "); ok && strings.HasPrefix(id, "sim/") {
			tlOrder = append(tlOrder, id)
		}
		if i := strings.LastIndex(l, "sim/"); i > 0 {
			id, _, _ := strings.Cut(l[i:], " ")
			boardOrder = append(boardOrder, id)
		}
	}
	want := "sim/swift sim/steady sim/flaky sim/slow"
	if got := strings.Join(tlOrder, " "); got != want {
		t.Errorf("timeline order %q, want %q", got, want)
	}
	if got := strings.Join(boardOrder, " "); got != want {
		t.Errorf("board order %q, want %q", got, want)
	}
}

func TestVoteTally(t *testing.T) {
	c := testCtx()
	v := NewVoteTally(c, 5, 3)
	for _, e := range consensusScript(engine.SessionRequest{}) {
		v.Apply(e)
	}
	got := stripANSI(v.View(70, 10))
	for _, w := range []string{"quorum 3 of 5", "agreement 100%", "decided billing at 500ms", "billing", "invalid", "┆", "1 straggler cancelled: sim/slow"} {
		if !strings.Contains(got, w) {
			t.Errorf("tally lacks %q:\n%s", w, got)
		}
	}
	if h, lines := v.Height(), strings.Count(got, "\n")+1; h != lines {
		t.Errorf("Height() = %d, View drew %d lines", h, lines)
	}
}

func TestBreakerBoard(t *testing.T) {
	c := testCtx()
	b := NewBreakerBoard(c)
	b.SetHealth(testHealth(), fixedClock.Add(-4*time.Second))
	got := stripANSI(b.View(110, 8))
	for _, w := range []string{"○ OPEN", "50%", "25s", "⚑ forced closed", "640ms", "9s", "▁██▁██"} {
		if !strings.Contains(got, w) {
			t.Errorf("board lacks %q:\n%s", w, got)
		}
	}
	b.Apply(engine.Event{Type: engine.BreakerChanged, Model: "sim/flaky", From: engine.BreakerOpen, To: engine.BreakerHalfOpen})
	if got := stripANSI(b.View(110, 8)); !strings.Contains(got, "◐ half-open") {
		t.Errorf("board did not take breaker_changed:\n%s", got)
	}
}

// TestBreakerBoardLowerBounds: a latency quantile known only as a lower
// bound (a hedge's primary cut before its end) is drawn as one, "≥".
func TestBreakerBoardLowerBounds(t *testing.T) {
	c := testCtx()
	b := NewBreakerBoard(c)
	hs := testHealth()
	hs[3].Latency.Total.P99AtLeast = true // sim/slow: p50 2.50s exact, p99 9s at least
	b.SetHealth(hs, fixedClock)
	var row string
	for _, l := range strings.Split(stripANSI(b.View(110, 8)), "\n") {
		if strings.Contains(l, "sim/slow") {
			row = l
		}
	}
	if !strings.Contains(row, "≥9s") || strings.Contains(row, "≥2.50s") || !strings.Contains(row, " 2.50s") {
		t.Errorf("sim/slow's row = %q, want p50 2.50s and p99 ≥9s", row)
	}
}

func TestFocusAndLayoutKeys(t *testing.T) { synctest.Test(t, testFocusAndLayoutKeys) }

func testFocusAndLayoutKeys(t *testing.T) {
	m := newTestModel(newFake(), 160, 48) // 4 panes in a 2×2 grid
	if m.mode != modePanes {
		t.Fatalf("mode = %v, want panes (a prompt was given)", m.mode)
	}
	steps := []struct {
		key   string
		focus int
	}{
		{"tab", 1}, {"tab", 2}, {"shift+tab", 1}, {"h", 0}, {"j", 2}, {"l", 3}, {"k", 1},
		{"left", 0}, {"down", 2}, {"right", 3}, {"l", 3}, {"tab", 0},
	}
	if g := m.gridCols(); g != 2 {
		t.Fatalf("gridCols = %d, want 2", g)
	}
	for _, s := range steps {
		press(m, s.key)
		if m.focus != s.focus {
			t.Fatalf("after %q focus = %d, want %d", s.key, m.focus, s.focus)
		}
	}
	press(m, "z")
	if m.mode != modeZoom {
		t.Fatalf("z: mode = %v, want zoom", m.mode)
	}
	press(m, "esc")
	if m.mode != modePanes {
		t.Fatalf("esc: mode = %v, want panes", m.mode)
	}
	press(m, "?")
	if m.mode != modeHelp || !strings.Contains(plain(m), "Chaos (focused model)") {
		t.Fatalf("?: mode = %v; full help not shown:\n%s", m.mode, plain(m))
	}
	press(m, "?")
	if m.mode != modePanes {
		t.Fatalf("? again: mode = %v, want panes", m.mode)
	}
}

func TestStrategyTierToggle(t *testing.T) { synctest.Test(t, testStrategyTierToggle) }

func testStrategyTierToggle(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 120, 40)
	for _, want := range []config.Strategy{config.Hedge, config.Consensus, config.Council, config.Auto, config.Race} {
		press(m, "m")
		if m.strategy != want {
			t.Fatalf("m: strategy = %s, want %s", m.strategy, want)
		}
	}
	press(m, "t")
	if m.tier != "balanced" || len(m.panes) != 2 || m.timeout() != 45*time.Second {
		t.Fatalf("t: tier %s with %d panes (timeout %s), want balanced with 2 (45s)", m.tier, len(m.panes), m.timeout())
	}
	press(m, "t")
	if m.tier != "quick" || m.focused().ID != "sim/steady" {
		t.Fatalf("t: tier = %s focus %s, want quick, focus kept on sim/steady", m.tier, m.focused().ID)
	}
	press(m, "tab", "space") // leave sim/flaky out
	press(m, "r")
	if len(f.starts) != 1 {
		t.Fatalf("r started %d sessions, want 1", len(f.starts))
	}
	req := f.starts[0]
	want := []string{"sim/swift", "sim/steady", "sim/slow"}
	if strings.Join(req.Models, ",") != strings.Join(want, ",") || req.Strategy != config.Race || req.Tier != "quick" {
		t.Fatalf("request = %+v, want models %v, race, quick", req, want)
	}
	if !strings.Contains(plain(m), "○ off") {
		t.Errorf("toggled-out pane does not say so:\n%s", plain(m))
	}
	press(m, "tab", "tab", "space") // the winner, sim/swift, took the focus: back to sim/flaky
	press(m, "r")
	if got := f.starts[1].Models; got != nil {
		t.Fatalf("with every model back, Models = %v, want nil (the tier's)", got)
	}
}

func TestChaosKeysReachBackend(t *testing.T) { synctest.Test(t, testChaosKeysReachBackend) }

func testChaosKeysReachBackend(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 120, 40)
	press(m, "tab", "e", "e", "s")
	wantTunes := []tuneCall{{"sim/steady", "error_rate", 0.25}, {"sim/steady", "error_rate", 0.25}, {"sim/steady", "stall_rate", 0.25}}
	if !equalTunes(f.tunes, wantTunes) {
		t.Fatalf("tunes = %v, want %v", f.tunes, wantTunes)
	}
	if !strings.Contains(m.status, "stall_rate → 0.25") {
		t.Errorf("status = %q, want the new stall rate", m.status)
	}
	press(m, "0")
	got := f.tunes[3:]
	if len(got) != 2 {
		t.Fatalf("reset made %d Tune calls, want 2: %v", len(got), got)
	}
	for _, c := range got {
		want := map[string]float64{"error_rate": -0.5, "stall_rate": -0.25}[c.knob]
		if c.model != "sim/steady" || c.delta != want {
			t.Errorf("reset call %+v, want %s delta %v", c, c.knob, want)
		}
	}
	press(m, "o", "c", "f")
	wantF := []forceCall{{"sim/steady", engine.ForceOpen}, {"sim/steady", engine.ForceClosed}, {"sim/steady", engine.ForceNone}}
	if len(f.forces) != 3 || f.forces[0] != wantF[0] || f.forces[1] != wantF[1] || f.forces[2] != wantF[2] {
		t.Fatalf("forces = %v, want %v", f.forces, wantF)
	}
	if !strings.Contains(m.status, "back to automatic") {
		t.Errorf("status = %q after f", m.status)
	}
	// A model the backend cannot tune reports the error.
	f.cfg.Tiers["quick"] = config.TierConfig{Models: []string{"real/gpt"}}
	m = newTestModel(f, 120, 40)
	press(m, "e")
	if !m.statusErr || !strings.Contains(m.status, "not a simulated model") {
		t.Errorf("status = %q (err %v), want the backend's error", m.status, m.statusErr)
	}
}

func equalTunes(a, b []tuneCall) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPromptModeAndHistory(t *testing.T) { synctest.Test(t, testPromptModeAndHistory) }

func testPromptModeAndHistory(t *testing.T) {
	f := newFake()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if m.mode != modePrompt {
		t.Fatalf("without a prompt the dashboard starts in %v, want prompt", m.mode)
	}
	press(m, "q", "x")
	if m.quitting || m.input.Value() != "qx" {
		t.Fatalf("q in typing mode: quitting=%v value=%q, want it typed", m.quitting, m.input.Value())
	}
	press(m, "backspace", "backspace", "h", "i", "enter")
	if len(f.starts) != 1 || f.starts[0].Prompt != "hi" || m.mode != modePanes {
		t.Fatalf("enter: starts=%v mode=%v", f.starts, m.mode)
	}
	press(m, "/")
	m.input.SetValue("")
	press(m, "s", "e", "c", "o", "n", "d", "enter", "i", "up")
	if m.input.Value() != "second" {
		t.Fatalf("up: value = %q, want the latest prompt", m.input.Value())
	}
	press(m, "up")
	if m.input.Value() != "hi" {
		t.Fatalf("up twice: value = %q, want hi", m.input.Value())
	}
	press(m, "down", "down")
	if m.input.Value() != "" {
		t.Fatalf("down past the newest: value = %q, want empty", m.input.Value())
	}
	press(m, "esc")
	if m.mode != modePanes {
		t.Fatalf("esc: mode = %v, want panes", m.mode)
	}
	_, cmd := m.Update(keyMsg("q"))
	if !m.quitting || cmd == nil {
		t.Fatalf("q in navigation mode did not quit")
	}
}

// typeText presses one key per rune of s.
func typeText(m *Model, s string) {
	for _, r := range s {
		if r == ' ' {
			press(m, "space")
			continue
		}
		press(m, string(r))
	}
}

func TestPromptEditing(t *testing.T) {
	tests := []struct {
		name  string
		typed string
		keys  []string
		want  string
	}{
		{"insert mid-line", "hello world", []string{"left", "left", "left", "left", "left", "B", "I", "G", "space"}, "hello BIG world"},
		{"ctrl+w deletes a word", "one two three", []string{"ctrl+w"}, "one two "},
		{"ctrl+u deletes to the start", "one two three", []string{"alt+b", "ctrl+u"}, "three"},
		{"ctrl+k deletes to the end", "one two three", []string{"home", "alt+f", "ctrl+k"}, "one"},
		{"ctrl+a, ctrl+e", "bc", []string{"ctrl+a", "a", "ctrl+e", "d"}, "abcd"},
		{"backspace and delete", "abcd", []string{"backspace", "home", "ctrl+d"}, "bc"},
		{"tab types nothing", "ab", []string{"tab"}, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
				m.Update(teaSize(120, 40))
				typeText(m, tt.typed)
				press(m, tt.keys...)
				if got := m.input.Value(); got != tt.want {
					t.Errorf("value = %q, want %q", got, tt.want)
				}
				if m.mode != modePrompt {
					t.Errorf("mode = %v, want prompt", m.mode)
				}
			})
		})
	}
}

// TestRerunShowsItsPrompt: r on an empty prompt line runs the demo
// prompt and shows it there, so the screen says what was asked.
func TestRerunShowsItsPrompt(t *testing.T) { synctest.Test(t, testRerunShowsItsPrompt) }

func testRerunShowsItsPrompt(t *testing.T) {
	f := newFake()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(teaSize(120, 40))
	press(m, "esc", "r")
	if len(f.starts) != 1 || f.starts[0].Prompt != demoPrompt {
		t.Fatalf("starts = %+v, want the demo prompt", f.starts)
	}
	if got := m.input.Value(); got != demoPrompt {
		t.Errorf("prompt line = %q, want the prompt that ran", got)
	}
	if line := strings.Split(plain(m), "\n")[1]; !strings.Contains(line, "❯ In one paragraph") {
		t.Errorf("prompt line shows %q, want the start of the prompt", line)
	}
}

func TestPromptPasteIsOneCleanLine(t *testing.T) { synctest.Test(t, testPromptPasteIsOneCleanLine) }

func testPromptPasteIsOneCleanLine(t *testing.T) {
	m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(teaSize(120, 40))
	typeText(m, "a")
	_, cmd := m.Update(tea.PasteMsg{Content: "b\x1b[2Jc\nd\te"})
	runCmd(m, cmd)
	if got, want := m.input.Value(), "abc d e"; got != want {
		t.Errorf("after paste value = %q, want %q", got, want)
	}
	press(m, "esc")
	_, cmd = m.Update(tea.PasteMsg{Content: "ignored"})
	runCmd(m, cmd)
	if got := m.input.Value(); got != "abc d e" {
		t.Errorf("a paste in navigation mode changed the prompt to %q", got)
	}
}

// TestPromptLineFits: a long prompt scrolls inside the line, beside a
// status, at any width; the cursor's end stays in view while typing and
// the start shows once the prompt is left.
func TestPromptLineFits(t *testing.T) { synctest.Test(t, testPromptLineFits) }

func testPromptLineFits(t *testing.T) {
	long := strings.Repeat("word ", 30) + "END"
	for _, w := range []int{60, 80, 160} {
		m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Why: "a status message that is rather long for a narrow terminal"})
		m.Update(teaSize(w, 24))
		line := func() string { return stripANSI(strings.Split(m.render(), "\n")[1]) }
		if got := line(); !strings.Contains(got, "type a prompt") || ansiWidth(got) != w {
			t.Errorf("%d: empty prompt line %q (width %d), want the placeholder in %d cells", w, got, ansiWidth(got), w)
		}
		typeText(m, long)
		if got := line(); !strings.Contains(got, "END") || ansiWidth(got) != w {
			t.Errorf("%d: typing, line %q (width %d), want its end in view in %d cells", w, got, ansiWidth(got), w)
		}
		press(m, "esc")
		if got := line(); !strings.Contains(got, "❯ word word") || ansiWidth(got) != w {
			t.Errorf("%d: left, line %q (width %d), want its start in %d cells", w, got, ansiWidth(got), w)
		}
		press(m, "/")
		m.Update(tickMsg{}) // the status expires: the line widens
		m.clock = func() time.Time { return fixedClock.Add(time.Minute) }
		m.Update(tickMsg{})
		if got := line(); m.status != "" || !strings.Contains(got, "END") || ansiWidth(got) != w {
			t.Errorf("%d: status gone (%q), line %q (width %d), want its end in view", w, m.status, got, ansiWidth(got))
		}
	}
}

func TestEscCancelsRunningSession(t *testing.T) {
	for _, key := range []string{"esc", "ctrl+c"} {
		t.Run(key, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				f.live = true
				f.script = func(engine.SessionRequest) []engine.Event {
					return []engine.Event{{Type: engine.SessionStarted}, {Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleRacer}}
				}
				m := newTestModel(f, 120, 40)
				l := newLoop(t, m)
				defer l.close()
				l.send(keyMsg("r"))
				l.until(func() bool { return m.byID["sim/slow"].Status() == "connecting" })
				ctx := f.ctxs[0]
				l.send(keyMsg(key))
				if ctx.Err() != context.Canceled {
					t.Fatalf("%s: session ctx err = %v, want canceled", key, ctx.Err())
				}
				if m.quitting {
					t.Fatalf("%s while running quit the dashboard", key)
				}
				// The final events still arrive and are drawn.
				l.until(func() bool { return !m.running })
				if got := m.byID["sim/slow"].Status(); got != "cancelled" {
					t.Fatalf("slow status = %s, want cancelled", got)
				}
				if !strings.Contains(plain(m), "cancelled · user") {
					t.Errorf("pane does not say the user cancelled:\n%s", plain(m))
				}
				l.send(keyMsg("ctrl+c"))
				if !m.quitting {
					t.Fatal("ctrl+c when idle did not quit")
				}
			})
		})
	}
}

// TestHeaderNarrow: on a narrow screen the header drops whole items (run
// cost, then tier) rather than cutting a value in half.
func TestHeaderNarrow(t *testing.T) { synctest.Test(t, testHeaderNarrow) }

func testHeaderNarrow(t *testing.T) {
	tests := []struct {
		w         int
		auto      bool
		want, not []string
	}{
		{160, true, []string{"strategy race", "tier quick", "run $"}, nil},
		{80, false, []string{"race · quick · #1", "run $"}, []string{"…"}},
		{60, true, []string{"race ·", "auto 3s", "#1"}, []string{"…", "run $"}},
	}
	for _, tt := range tests {
		m := newTestModel(newFake(), tt.w, 24)
		press(m, "r")
		m.auto, m.running = tt.auto, true
		head := stripANSI(m.headerView(tt.w))
		if ansiWidth(head) != tt.w {
			t.Errorf("%d: header is %d wide: %q", tt.w, ansiWidth(head), head)
		}
		for _, w := range tt.want {
			if !strings.Contains(head, w) {
				t.Errorf("%d: header %q lacks %q", tt.w, head, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(head, w) {
				t.Errorf("%d: header %q has %q", tt.w, head, w)
			}
		}
	}
}

// TestHelpFits: the full help never runs past the screen; its notes come
// when there is room, and the footer says how to close it.
func TestHelpFits(t *testing.T) { synctest.Test(t, testHelpFits) }

func testHelpFits(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		m := newTestModel(newFake(), sz[0], sz[1])
		press(m, "?")
		out := m.render()
		lines := strings.Split(out, "\n")
		if len(lines) != sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for i, l := range lines {
			if w := ansiWidth(l); w > sz[0] {
				t.Errorf("%v: line %d is %d wide: %q", sz, i, w, stripANSI(l))
			}
		}
		if !strings.Contains(stripANSI(lines[len(lines)-1]), "esc/? close help") {
			t.Errorf("%v: footer %q does not say how to close the help", sz, stripANSI(lines[len(lines)-1]))
		}
		if notes := strings.Contains(stripANSI(out), "ctrl+v pastes"); notes != (sz[1] >= 40) {
			t.Errorf("%v: notes shown = %v", sz, notes)
		}
		press(m, "esc")
		if m.mode != modePanes {
			t.Errorf("%v: esc left mode %v", sz, m.mode)
		}
	}
}

// TestFooterFits: the key hints end on a whole item and leave a gap
// before "? help", at every width.
func TestFooterFits(t *testing.T) {
	for w := minWidth; w <= 160; w += 7 {
		m := newTestModel(newFake(), w, 24)
		f := stripANSI(m.footerView(w))
		if ansiWidth(f) != w {
			t.Errorf("%d: footer is %d wide: %q", w, ansiWidth(f), f)
		}
		hints, _, ok := strings.Cut(f, "? help")
		if !ok || !strings.HasSuffix(hints, "  ") {
			t.Errorf("%d: no gap before ? help: %q", w, f)
		}
		if h := strings.TrimSpace(hints); strings.HasSuffix(h, "…") && !strings.HasSuffix(h, " …") {
			t.Errorf("%d: a hint cut in the middle: %q", w, f)
		}
	}
}

func TestZoomFailedShowsError(t *testing.T) { synctest.Test(t, testZoomFailedShowsError) }

func testZoomFailedShowsError(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	press(m, "r", "tab", "tab", "enter") // sim/flaky, rate limited
	if got := plain(m); !strings.Contains(got, "HTTP 429: rate limited") || !strings.Contains(got, "(no text)") {
		t.Errorf("zoomed failed pane lacks its error:\n%s", got)
	}
}

func TestTokPerSecNeedsTime(t *testing.T) {
	c := testCtx()
	p := NewModelPane(c, "sim/a", 20*time.Second)
	p.Apply(engine.Event{Type: engine.AttemptStarted, Model: "sim/a", T: ms(0)})
	p.Apply(engine.Event{Type: engine.FirstToken, Model: "sim/a", T: ms(1400)})
	p.Apply(engine.Event{Type: engine.AttemptCancelled, Model: "sim/a", T: ms(1403), OutputTokens: 2, Reason: engine.ReasonLostRace})
	if got := stripANSI(p.metrics()); strings.Contains(got, "tok/s") {
		t.Errorf("2 tokens in 3 ms: metrics %q, want no rate", got)
	}
	p.Apply(engine.Event{Type: engine.AttemptDone, Model: "sim/a", T: ms(1900), OutputTokens: 50})
	if got := stripANSI(p.metrics()); !strings.Contains(got, "100 tok/s") {
		t.Errorf("50 tokens in 500 ms: metrics %q, want 100 tok/s", got)
	}
}

func TestTooSmall(t *testing.T) {
	m := newTestModel(newFake(), 50, 12)
	if got := plain(m); !strings.Contains(got, "terminal too small: 50×12") {
		t.Fatalf("small terminal view:\n%s", got)
	}
}

func TestLayoutAdapts(t *testing.T) { synctest.Test(t, testLayoutAdapts) }

func testLayoutAdapts(t *testing.T) {
	tests := []struct {
		n, w, h   int
		cols, rws int
		compact   bool
	}{
		{4, 160, 30, 2, 2, false},
		{8, 200, 30, 4, 2, false},
		{2, 120, 20, 2, 1, false},
		{1, 80, 20, 1, 1, false},
		{8, 60, 8, 1, 8, true},
	}
	for _, tt := range tests {
		g := chooseGrid(tt.n, tt.w, tt.h)
		if g.compact != tt.compact || !tt.compact && (g.cols != tt.cols || g.rows != tt.rws) {
			t.Errorf("chooseGrid(%d, %d, %d) = %+v, want %d×%d compact=%v", tt.n, tt.w, tt.h, g, tt.cols, tt.rws, tt.compact)
		}
	}
	// Every frame fills the terminal exactly, at any size.
	f := newFake()
	for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {120, 40}, {160, 48}, {200, 50}} {
		m := newTestModel(f, sz[0], sz[1])
		press(m, "r")
		lines := strings.Split(m.render(), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines, want %d", sz[0], sz[1], len(lines), sz[1])
		}
		for i, l := range lines {
			if w := ansiWidth(l); w > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, stripANSI(l))
			}
		}
	}
}

// TestCompactLayout: at 80×24 the panes are one line each and the rows
// under them show the focused model's answer; with five models the
// breakers shrink to a summary line to leave the answer room.
func TestCompactLayout(t *testing.T) { synctest.Test(t, testCompactLayout) }

func testCompactLayout(t *testing.T) {
	f := newFake()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock },
		Prompt: "Why do circuit breakers help?", Why: "no config file, so the council is simulated"})
	m.Update(teaSize(80, 24))
	m.Update(healthMsg{health: f.Health(), at: fixedClock})
	before := plain(m)
	for _, w := range []string{"── sim/swift · ready", "no config file, so the council is simulated", "Type a prompt and press enter", "state            err%"} {
		if !strings.Contains(before, w) {
			t.Errorf("before the first session the frame lacks %q:\n%s", w, before)
		}
	}
	press(m, "r")
	lines := strings.Split(plain(m), "\n")
	// Header, prompt, four model lines, then the focused model's answer.
	if !strings.HasPrefix(lines[2], "▶ sim/swift") || !strings.Contains(lines[2], "★ won") {
		t.Fatalf("line 3 = %q, want the focused winner", lines[2])
	}
	if !strings.HasPrefix(lines[6], "── sim/swift ★ won ──") {
		t.Fatalf("line 7 = %q, want the detail rule of sim/swift", lines[6])
	}
	got := strings.Join(lines, "\n")
	for _, w := range []string{"Circuit breakers stop a failing dependency", "before traffic", "Timeline", "won 640ms", "sim/flaky  ○ OPEN"} {
		if !strings.Contains(got, w) {
			t.Errorf("after the race the frame lacks %q:\n%s", w, got)
		}
	}
	// Badges line up in one column.
	col := -1
	for _, l := range lines[2:6] {
		i := strings.IndexAny(l, "●○⚑◐")
		if col >= 0 && ansiWidth(l[:i]) != col {
			t.Errorf("badge at column %d, want %d: %q", ansiWidth(l[:i]), col, l)
		}
		col = ansiWidth(l[:i])
	}
	press(m, "j", "j") // the failed model: its error, no text
	got = plain(m)
	for _, w := range []string{"── sim/flaky ✗ failed · rate_limited", "HTTP 429: rate limited"} {
		if !strings.Contains(got, w) {
			t.Errorf("focused on sim/flaky, the frame lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "Circuit breakers stop") {
		t.Errorf("the detail still shows sim/swift's answer:\n%s", got)
	}

	// A fifth model: the full board would leave the answer one line.
	q := f.cfg.Tiers["quick"]
	q.Models = append(q.Models, "sim/sage")
	f.cfg.Tiers["quick"] = q
	f.health = append(f.health, engine.ModelHealth{ID: "sim/sage"})
	m = newTestModel(f, 80, 24)
	press(m, "r")
	got = plain(m)
	for _, w := range []string{"── sim/swift ★ won", "before traffic", "Breakers  ○ sim/flaky OPEN 29s · ⚑ sim/slow forced closed · ● 3 closed"} {
		if !strings.Contains(got, w) {
			t.Errorf("with five models the frame lacks %q:\n%s", w, got)
		}
	}
}

func TestNoColorIsReadable(t *testing.T) { synctest.Test(t, testNoColorIsReadable) }

func testNoColorIsReadable(t *testing.T) {
	m := newTestModel(newFake(), 160, 48)
	press(m, "r")
	out := m.render()
	if strings.Contains(out, "\x1b[3") || strings.Contains(out, "\x1b[38") {
		t.Errorf("colourless theme emits colour codes")
	}
	for _, w := range []string{"★ won", "■ cancelled · lost race", "✗ failed · rate_limited", "○ OPEN", "● closed"} {
		if !strings.Contains(stripANSI(out), w) {
			t.Errorf("without colour, %q is not readable", w)
		}
	}
}

func TestAutoFire(t *testing.T) { synctest.Test(t, testAutoFire) }

func testAutoFire(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 120, 40)
	press(m, "a")
	if !m.auto || len(f.starts) != 1 {
		t.Fatalf("a: auto=%v starts=%d, want on and one session at once", m.auto, len(f.starts))
	}
	if !strings.Contains(plain(m), "auto 3s") {
		t.Errorf("header does not show auto-fire:\n%s", plain(m))
	}
	_, cmd := m.Update(autoFireMsg{gen: m.autoGen})
	runCmd(m, cmd)
	if len(f.starts) != 2 {
		t.Fatalf("auto-fire tick started %d sessions in all, want 2", len(f.starts))
	}
	press(m, "a")
	_, cmd = m.Update(autoFireMsg{gen: m.autoGen - 1}) // a stale tick
	runCmd(m, cmd)
	if m.auto || len(f.starts) != 2 {
		t.Fatalf("after a again: auto=%v starts=%d, want off and no new session", m.auto, len(f.starts))
	}
}

func TestZoomScrollsWholeAnswer(t *testing.T) { synctest.Test(t, testZoomScrollsWholeAnswer) }

func testZoomScrollsWholeAnswer(t *testing.T) {
	f := newFake()
	long := strings.Repeat("line of a long answer\n", 80) + "THE END"
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
			{Type: engine.AttemptDone, Model: "sim/swift", T: ms(500), Text: long, OutputTokens: 400},
			{Type: engine.SessionDone, T: ms(500), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(500)}},
		})
	}
	m := newTestModel(f, 120, 40)
	press(m, "r", "enter")
	if got := plain(m); m.mode != modeZoom || strings.Contains(got, "THE END") || !strings.Contains(got, "· lines 1-") {
		t.Fatalf("a finished answer's zoom does not open at its top:\n%s", got)
	}
	press(m, "G")
	if m.mode != modeZoom || !strings.Contains(plain(m), "THE END") {
		t.Fatalf("G does not go to the end of the answer:\n%s", plain(m))
	}
	press(m, "g")
	if got := plain(m); strings.Contains(got, "THE END") || !strings.Contains(got, "· lines 1-") {
		t.Fatalf("g did not scroll to the top:\n%s", got)
	}
	press(m, "j")
	if m.zoom.YOffset() != 1 {
		t.Fatalf("j: offset %d, want 1", m.zoom.YOffset())
	}
}

// In the compact layout the answer rows follow the winner (or, before
// anyone wins, the model that has streamed most) until the user picks a
// model; then they stay on the user's choice.
func TestCompactDetailFollowsWinnerUntilUserPicks(t *testing.T) {
	synctest.Test(t, testCompactDetailFollowsWinnerUntilUserPicks)
}

func testCompactDetailFollowsWinnerUntilUserPicks(t *testing.T) {
	f := newFake()
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
			{Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleRacer},
			{Type: engine.FirstToken, Model: "sim/slow", T: ms(100)},
			{Type: engine.Delta, Model: "sim/slow", T: ms(100), Text: "Slow but first to finish."},
			{Type: engine.AttemptDone, Model: "sim/slow", T: ms(300), Text: "Slow but first to finish."},
			{Type: engine.Decided, Model: "sim/slow", T: ms(300), Text: "Slow but first to finish."},
			{Type: engine.AttemptCancelled, Model: "sim/swift", T: ms(300), Reason: engine.ReasonLostRace},
			{Type: engine.SessionDone, T: ms(301), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/slow", Elapsed: ms(301)}},
		})
	}
	m := newTestModel(f, 80, 24)
	press(m, "r")
	got := plain(m)
	if !strings.Contains(got, "── sim/slow ★ won") || !strings.Contains(got, "Slow but first to finish.") {
		t.Fatalf("the answer rows do not follow the winner:\n%s", got)
	}
	// The user picks sim/steady while the next session runs.
	cmd := m.startSession(m.sessionPrompt())
	press(m, "shift+tab", "shift+tab") // from the winner, sim/slow
	runCmd(m, cmd)
	got = plain(m)
	if !strings.Contains(got, "── sim/steady") || strings.Contains(got, "── sim/slow ★ won") {
		t.Errorf("after the user moved the focus, the answer rows should stay on sim/steady:\n%s", got)
	}
}

// A model held back by a server's Retry-After shows the hold counting
// down, on its pane and on the board.
func TestRateLimitHoldCountsDown(t *testing.T) {
	c := testCtx()
	h := testHealth()
	h[0].Breaker.HeldFor = 7 * time.Second // sim/swift: a 429 said retry after 7s
	b := NewBreakerBoard(c)
	b.SetHealth(h, fixedClock.Add(-2*time.Second))
	if got := stripANSI(b.View(110, 8)); !strings.Contains(got, "⏸ held 5s") {
		t.Errorf("board lacks the hold's countdown:\n%s", got)
	}
	if got := stripANSI(b.SummaryView(110)); !strings.Contains(got, "⏸ sim/swift held 5s") {
		t.Errorf("summary line lacks the hold: %s", got)
	}
	p := NewModelPane(c, "sim/swift", 20*time.Second)
	p.SetHealth(h[0], fixedClock.Add(-2*time.Second))
	if got := stripANSI(p.badge()); got != "⏸ held 5s" {
		t.Errorf("pane badge %q, want the hold counting down", got)
	}
	p.SetHealth(h[0], fixedClock.Add(-8*time.Second))
	if got := stripANSI(p.badge()); !strings.HasPrefix(got, "● closed") {
		t.Errorf("pane badge %q after the hold, want closed again", got)
	}
}
