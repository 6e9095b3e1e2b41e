package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/themes"
)

// Tests that a screen never says something false (issue 9).

// TestTooSmallQQuits: the too-small screen names q, and q quits there even
// though the dashboard starts in prompt typing.
func TestTooSmallQQuits(t *testing.T) { synctest.Test(t, testTooSmallQQuits) }

func testTooSmallQQuits(t *testing.T) {
	m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(teaSize(40, 10))
	if m.mode != modePrompt {
		t.Fatalf("mode = %s, want prompt (the start)", m.mode)
	}
	if got := plain(m); !strings.Contains(got, "q quits") {
		t.Fatalf("too-small screen does not name q:\n%s", got)
	}
	press(m, "q")
	if !m.quitting {
		t.Fatalf("q on the too-small screen did not quit (prompt value %q)", m.input.Value())
	}
}

// TestPasteNewlinesBecomeSpaces: terminals send CR for a newline; CR, LF
// and CRLF each become one space, never glue two words.
func TestPasteNewlinesBecomeSpaces(t *testing.T) { synctest.Test(t, testPasteNewlinesBecomeSpaces) }

func testPasteNewlinesBecomeSpaces(t *testing.T) {
	m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(teaSize(120, 40))
	_, cmd := m.Update(tea.PasteMsg{Content: "line one\rline two\r\nline three\nend"})
	runCmd(m, cmd)
	if got, want := m.input.Value(), "line one line two line three end"; got != want {
		t.Errorf("pasted value = %q, want %q", got, want)
	}
}

// TestZoomTitleIsNotARate: the zoom's scroll position must not read like
// an error rate ("sim/swift 100%").
func TestZoomTitleIsNotARate(t *testing.T) { synctest.Test(t, testZoomTitleIsNotARate) }

func testZoomTitleIsNotARate(t *testing.T) {
	f := newFake()
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
			{Type: engine.AttemptDone, Model: "sim/swift", T: ms(400), Text: strings.Repeat("a long answer line\n", 80), OutputTokens: 400},
			{Type: engine.SessionDone, T: ms(400), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(400)}},
		})
	}
	m := newTestModel(f, 80, 24)
	press(m, "esc", "r", "z")
	if m.mode != modeZoom {
		t.Fatalf("mode = %s, want zoom", m.mode)
	}
	top := strings.Split(plain(m), "\n")[2]
	if title, _, _ := strings.Cut(top, "━ ●"); strings.Contains(title, "%") {
		t.Errorf("zoom title %q carries a bare percentage", title)
	}
	if !strings.Contains(top, "lines ") || !strings.Contains(top, " of ") {
		t.Errorf("zoom title %q does not say which lines are shown", top)
	}
}

// TestStatusNotStale: a new session clears the last one's verdict; typing
// clears "type a prompt first".
func TestStatusNotStale(t *testing.T) { synctest.Test(t, testStatusNotStale) }

func testStatusNotStale(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 120, 40)
	press(m, "esc", "r")
	if !strings.Contains(m.status, "won") {
		t.Fatalf("after session #1 status = %q, want its verdict", m.status)
	}
	f.live = true
	l := newLoop(t, m)
	defer l.close()
	l.send(keyMsg("r"))
	l.until(func() bool { return m.running && m.sessionN == 2 })
	if strings.Contains(m.status, "won") {
		t.Errorf("while session #2 runs the status still says #1's verdict %q", m.status)
	}
	l.send(keyMsg("esc"))
	l.until(func() bool { return !m.running })

	m2 := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m2.Update(teaSize(120, 40))
	press(m2, "enter")
	if m2.status != "type a prompt first" {
		t.Fatalf("enter on an empty prompt: status %q", m2.status)
	}
	typeText(m2, "hello")
	if m2.status == "type a prompt first" {
		t.Errorf("while typing the status still says %q", m2.status)
	}
}

// TestForceReportsItsOwnModel: c on one model is reported for that model,
// not overwritten by another model's breaker change a moment later.
func TestForceReportsItsOwnModel(t *testing.T) { synctest.Test(t, testForceReportsItsOwnModel) }

func testForceReportsItsOwnModel(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	press(m, "esc")
	id := m.focused().ID
	press(m, "c")
	if !strings.Contains(m.status, id) {
		t.Fatalf("after c on %s status = %q", id, m.status)
	}
	m.Update(eventsMsg{gen: m.gen, events: []engine.Event{{Type: engine.BreakerChanged, Model: "sim/flaky", From: engine.BreakerClosed, To: engine.BreakerOpen}}})
	if !strings.Contains(m.status, id) || strings.Contains(m.status, "sim/flaky") {
		t.Errorf("c on %s then status %q names another model's breaker", id, m.status)
	}
}

// consensusCancelled is a consensus session cancelled after two
// disagreeing votes: the engine reports status cancelled, agreement 0.
func consensusCancelled(engine.SessionRequest) []engine.Event {
	return seqEvents([]engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleVoter},
		{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleVoter, T: ms(1)},
		{Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleVoter, T: ms(2)},
		{Type: engine.AttemptDone, Model: "sim/swift", T: ms(300), Text: "billing", OutputTokens: 2, Cost: 0.00001},
		{Type: engine.VoteCast, Model: "sim/swift", T: ms(300), Vote: "billing"},
		{Type: engine.AttemptDone, Model: "sim/steady", T: ms(400), Text: "account", OutputTokens: 2, Cost: 0.00001},
		{Type: engine.VoteCast, Model: "sim/steady", T: ms(400), Vote: "account"},
		{Type: engine.AttemptCancelled, Model: "sim/slow", T: ms(500), Reason: engine.ReasonUser},
		{Type: engine.SessionDone, T: ms(500), Summary: &engine.Summary{
			Status: engine.StatusCancelled, Error: "cancelled by the user", Votes: map[string]int{"billing": 1, "account": 1},
			Elapsed: ms(500), CostUSD: 0.00002,
		}},
	})
}

// TestCancelledConsensusIsNotAFailure: a cancelled consensus reads
// cancelled in the header and the tally, never "quorum not reached" and
// never 0% agreement over two votes.
func TestCancelledConsensusIsNotAFailure(t *testing.T) {
	synctest.Test(t, testCancelledConsensusIsNotAFailure)
}

func testCancelledConsensusIsNotAFailure(t *testing.T) {
	f := newFake()
	f.script = consensusCancelled
	m := newTestModel(f, 160, 48)
	press(m, "esc", "m", "m") // race → hedge → consensus
	press(m, "r")
	got := plain(m)
	head := strings.Split(got, "\n")[0]
	if !strings.Contains(head, "cancelled") || strings.Contains(head, "failed") {
		t.Errorf("header %q, want cancelled", head)
	}
	for _, bad := range []string{"quorum not reached", "agreement 0%", "✗ failed", "no decision"} {
		if strings.Contains(got, bad) {
			t.Errorf("cancelled consensus shows %q:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, "agreement 50%") {
		t.Errorf("two disagreeing votes should read agreement 50%%:\n%s", got)
	}
}

// TestCancelledRaceIsNotAFailure: a race cancelled with esc never shows
// "✗ failed".
func TestCancelledRaceIsNotAFailure(t *testing.T) { synctest.Test(t, testCancelledRaceIsNotAFailure) }

func testCancelledRaceIsNotAFailure(t *testing.T) {
	f := newFake()
	f.live = true
	f.script = func(engine.SessionRequest) []engine.Event {
		return []engine.Event{{Type: engine.SessionStarted}, {Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleRacer}}
	}
	m := newTestModel(f, 120, 40)
	l := newLoop(t, m)
	defer l.close()
	l.send(keyMsg("esc"))
	l.send(keyMsg("r"))
	l.until(func() bool { return m.running })
	l.send(keyMsg("esc"))
	l.until(func() bool { return !m.running })
	got := plain(m)
	if strings.Contains(got, "✗ failed") || !strings.Contains(strings.Split(got, "\n")[0], "cancelled") {
		t.Errorf("cancelled race:\n%s", got)
	}
}

// TestImpossibleQuorumNotStarted: a consensus over fewer models than its
// quorum is refused at start, naming the keys, rather than run to a
// failure.
func TestImpossibleQuorumNotStarted(t *testing.T) { synctest.Test(t, testImpossibleQuorumNotStarted) }

func testImpossibleQuorumNotStarted(t *testing.T) {
	f := newFake()
	f.script = consensusScript
	m := newTestModel(f, 120, 40)
	press(m, "esc", "t", "m", "m") // balanced (2 models), consensus (quorum 3)
	press(m, "r")
	if len(f.starts) != 0 {
		t.Errorf("a consensus that cannot reach quorum was started: %+v", f.starts)
	}
	if !strings.Contains(m.status, "consensus.min_responses") || !strings.Contains(m.status, "tiers.balanced.models") {
		t.Errorf("status %q does not name the keys", m.status)
	}
}

// TestTierKeepsFinishedSession: t after a session changes the next
// session's tier; the finished one keeps its tier, panes and scale.
func TestTierKeepsFinishedSession(t *testing.T) { synctest.Test(t, testTierKeepsFinishedSession) }

func testTierKeepsFinishedSession(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 48)
	press(m, "esc", "r")
	before := plain(m)
	if !strings.Contains(strings.Split(before, "\n")[0], "quick") {
		t.Fatalf("header before t: %q", strings.Split(before, "\n")[0])
	}
	press(m, "t")
	if m.tier != "balanced" {
		t.Fatalf("t: next tier %q, want balanced", m.tier)
	}
	after := plain(m)
	head := strings.Split(after, "\n")[0]
	if !strings.Contains(head, "quick") {
		t.Errorf("t rewrote the finished session's header: %q", head)
	}
	if len(m.panes) != 4 || m.byID["sim/swift"] == nil || m.byID["sim/swift"].timeout != 20*time.Second {
		t.Errorf("t rewrote the finished session's panes or scale: %d panes", len(m.panes))
	}
	if !strings.Contains(m.status, "next session") {
		t.Errorf("status %q does not say the tier is for the next session", m.status)
	}
	press(m, "r")
	if f.starts[1].Tier != "balanced" || !strings.Contains(strings.Split(plain(m), "\n")[0], "balanced") {
		t.Errorf("the next session does not run the new tier: %q, header %q", f.starts[1].Tier, strings.Split(plain(m), "\n")[0])
	}
}

// TestOptionsSetTheFirstSession: --strategy, --tier and --models reach the
// first session.
func TestOptionsSetTheFirstSession(t *testing.T) { synctest.Test(t, testOptionsSetTheFirstSession) }

func testOptionsSetTheFirstSession(t *testing.T) {
	f := newFake()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "x",
		Strategy: "hedge", Tier: "balanced", Models: []string{"sim/swift", "sim/slow"}})
	m.Update(teaSize(120, 40))
	if len(m.panes) != 2 || m.panes[0].ID != "sim/swift" {
		t.Errorf("panes %d, want the two --models", len(m.panes))
	}
	press(m, "r")
	got := f.starts[0]
	if got.Strategy != "hedge" || got.Tier != "balanced" || strings.Join(got.Models, ",") != "sim/swift,sim/slow" {
		t.Errorf("first session %+v", got)
	}
}

// TestAutoFireHoldAndPause: auto-fire holds a result for the configured
// hold before the next session, and p pauses and resumes it (on
// synctest's clock: the hold's tick is virtual).
func TestAutoFireHoldAndPause(t *testing.T) {
	synctest.Test(t, testAutoFireHoldAndPause)
}

func testAutoFireHoldAndPause(t *testing.T) {
	f := newFake()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "x", AutoFireEvery: 5 * time.Second})
	m.Update(teaSize(120, 40))
	press(m, "esc", "p")
	if m.autoPaused || strings.Contains(m.status, "paused") {
		t.Errorf("p with auto-fire off: paused %v, status %q", m.autoPaused, m.status)
	}
	press(m, "a")
	if !strings.Contains(plain(m), "auto 5s") {
		t.Errorf("header does not show the 5s hold:\n%s", plain(m))
	}
	if m.running || !strings.Contains(strings.Split(plain(m), "\n")[0], "auto 5s · next 5s") {
		t.Errorf("the held result does not say when the next session comes: %q", strings.Split(plain(m), "\n")[0])
	}
	press(m, "p")
	if !strings.Contains(strings.Split(plain(m), "\n")[0], "paused") {
		t.Errorf("p: header does not say paused: %q", strings.Split(plain(m), "\n")[0])
	}
	_, cmd := m.Update(autoFireMsg{gen: m.autoGen})
	runCmd(m, cmd)
	if len(f.starts) != 1 {
		t.Fatalf("paused auto-fire started a session (%d in all)", len(f.starts))
	}
	_, cmd = m.Update(keyMsg("p"))
	if cmd == nil || m.autoPaused {
		t.Fatalf("p again did not resume auto-fire")
	}
	_, cmd = m.Update(autoFireMsg{gen: m.autoGen})
	runCmd(m, cmd)
	if len(f.starts) != 2 {
		t.Errorf("resumed auto-fire did not start the next session (%d in all)", len(f.starts))
	}
	if !m.ctx.Keys.Pause.Enabled() {
		t.Errorf("p is not in the help while auto-fire is on")
	}
}

// TestHelpScrollsAtEverySize: at 60x16 the full help is taller than the
// screen; it scrolls to its last line, and says so.
func TestHelpScrollsAtEverySize(t *testing.T) { synctest.Test(t, testHelpScrollsAtEverySize) }

func testHelpScrollsAtEverySize(t *testing.T) {
	for _, sz := range [][2]int{{60, 16}, {80, 24}} {
		m := newTestModel(newFake(), sz[0], sz[1])
		press(m, "esc", "?")
		first := plain(m)
		if !strings.Contains(first, "j/k") {
			t.Errorf("%v: a cut help does not say it scrolls:\n%s", sz, first)
		}
		for i := 0; i < 60; i++ {
			press(m, "j")
		}
		last := plain(m)
		if !strings.Contains(last, "ctrl+v pastes") {
			t.Errorf("%v: scrolled to the end, the last note is not shown:\n%s", sz, last)
		}
		if n := len(strings.Split(m.render(), "\n")); n != sz[1] {
			t.Errorf("%v: %d lines", sz, n)
		}
		press(m, "g")
		if plain(m) != first {
			t.Errorf("%v: g does not go back to the top", sz)
		}
	}
}

// TestTimelineAxisReadsWell: a 1.02 s session sits on an axis that uses
// most of the width, its tick labels share one unit and precision, and a
// narrow legend keeps "├ start".
func TestTimelineAxisReadsWell(t *testing.T) {
	c := testCtx()
	tl := NewTimeline(c)
	for _, e := range seqEvents([]engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
		{Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleRacer},
		{Type: engine.FirstToken, Model: "sim/swift", T: ms(300)},
		{Type: engine.AttemptDone, Model: "sim/swift", T: ms(1020), Text: "x", OutputTokens: 9},
		{Type: engine.Decided, Model: "sim/swift", T: ms(1020)},
		{Type: engine.AttemptCancelled, Model: "sim/slow", T: ms(1020), Reason: engine.ReasonLostRace},
		{Type: engine.SessionDone, T: ms(1020), Summary: &engine.Summary{Status: engine.StatusDecided, Elapsed: ms(1020)}},
	}) {
		tl.Apply(e)
	}
	lines := strings.Split(stripANSI(tl.View(100, 6)), "\n")
	axis := strings.Fields(lines[len(lines)-1])
	if len(axis) < 3 || axis[0] != "0" {
		t.Fatalf("axis %q", axis)
	}
	last := axis[len(axis)-1]
	if d, err := time.ParseDuration(last); err != nil || d > 1500*time.Millisecond {
		t.Errorf("a 1.02s session on an axis to %s (%v)", last, err)
	}
	unit := func(s string) string { return strings.Trim(s, "0123456789.") }
	for _, l := range axis[1:] {
		if unit(l) != unit(axis[1]) || len(l) != len(axis[1]) {
			t.Errorf("tick labels %q differ in unit or precision", axis)
			break
		}
	}
	if head := strings.Split(stripANSI(tl.View(60, 6)), "\n")[0]; !strings.Contains(head, "├ start") {
		t.Errorf("narrow legend %q dropped ├ start", head)
	}
}

// TestLatencyBarUsesTheScreen: a race that takes 640 ms of a 20 s timeout
// fills much of its bar (the shared axis), the timeout still named.
func TestLatencyBarUsesTheScreen(t *testing.T) { synctest.Test(t, testLatencyBarUsesTheScreen) }

func testLatencyBarUsesTheScreen(t *testing.T) {
	m := newTestModel(newFake(), 160, 48)
	press(m, "esc", "r")
	p := m.byID["sim/swift"]
	m.render() // sets the frame's axis
	bar := stripANSI(p.bar(50))
	if n := strings.Count(bar, "█"); n < 15 {
		t.Errorf("640 ms bar %q fills %d cells of ~40", bar, n)
	}
	if !strings.Contains(bar, "/20s") {
		t.Errorf("bar %q does not name the timeout", bar)
	}
}

// TestCopyFocusedAnswer: y copies the focused pane's answer through OSC 52
// (tea.SetClipboard) and the system clipboard, and says so.
func TestCopyFocusedAnswer(t *testing.T) { synctest.Test(t, testCopyFocusedAnswer) }

func testCopyFocusedAnswer(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	var sys []string
	m.sysClipboard = func(s string) error { sys = append(sys, s); return nil }
	press(m, "esc", "r")
	p := m.focused()
	want := p.Text()
	if want == "" {
		t.Fatalf("%s has no answer to copy", p.ID)
	}
	_, cmd := m.Update(keyMsg("y"))
	var kinds []string
	var walk func(tea.Cmd)
	walk = func(c tea.Cmd) {
		if c == nil {
			return
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				walk(c)
			}
		case nil:
		default:
			kinds = append(kinds, fmt.Sprintf("%T", msg))
		}
	}
	walk(cmd)
	if !strings.Contains(strings.Join(kinds, ","), "setClipboardMsg") {
		t.Errorf("y sent %v, want an OSC 52 clipboard write", kinds)
	}
	if len(sys) != 1 || sys[0] != want {
		t.Errorf("system clipboard got %q, want the answer", sys)
	}
	if !strings.Contains(m.status, "copied") || !strings.Contains(m.status, p.ID) {
		t.Errorf("status %q", m.status)
	}
	if !m.ctx.Keys.Copy.Enabled() {
		t.Errorf("y is not in the help")
	}
}

// TestResetBreakerKey: B resets the focused model's breaker counts, and
// the board shows it closed.
func TestResetBreakerKey(t *testing.T) { synctest.Test(t, testResetBreakerKey) }

func testResetBreakerKey(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 48)
	press(m, "esc", "tab", "tab") // sim/flaky, open
	if m.focused().ID != "sim/flaky" {
		t.Fatalf("focus %s", m.focused().ID)
	}
	press(m, "B")
	if len(f.resets) != 1 || f.resets[0] != "sim/flaky" {
		t.Fatalf("resets %v, want sim/flaky", f.resets)
	}
	if !strings.Contains(m.status, "sim/flaky breaker counts reset (open → closed)") {
		t.Errorf("status %q", m.status)
	}
	if st := m.byID["sim/flaky"].health.Breaker.State; st != engine.BreakerClosed {
		t.Errorf("pane's breaker %s after the reset, want closed", st)
	}
}

// TestThemeSwitchesLive: T moves to the next theme at once, through every
// built-in one and none, and back.
func TestThemeSwitchesLive(t *testing.T) { synctest.Test(t, testThemeSwitchesLive) }

func testThemeSwitchesLive(t *testing.T) {
	dark, _ := themes.Load("dark")
	m := New(newFake(), Options{Theme: dark, Clock: func() time.Time { return fixedClock }, Prompt: "x"})
	m.Update(teaSize(120, 40))
	press(m, "esc")
	seen := []string{m.ctx.Theme.Name}
	for range themeNames() {
		before := m.render()
		press(m, "T")
		seen = append(seen, m.ctx.Theme.Name)
		if !strings.HasPrefix(m.status, "theme: ") {
			t.Errorf("status %q", m.status)
		}
		if m.render() == before {
			t.Errorf("theme %s draws the same frame as the one before", m.ctx.Theme.Name)
		}
	}
	if seen[0] != seen[len(seen)-1] || !slices.Contains(seen, "none") {
		t.Errorf("themes cycled %v, want every one, none, and back", seen)
	}
}

// TestChaosFormSetsExactRate: E opens a form for the focused model's error
// rate; enter sets it exactly (the backend moves it by the difference);
// a value outside 0..1 is refused; esc leaves without a change.
func TestChaosFormSetsExactRate(t *testing.T) { synctest.Test(t, testChaosFormSetsExactRate) }

func testChaosFormSetsExactRate(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 120, 40)
	press(m, "esc", "tab", "tab") // sim/flaky, error_rate 0.5 in its health
	press(m, "E")
	if m.mode != modeForm || !strings.Contains(strings.Split(plain(m), "\n")[1], "sim/flaky error_rate (now 0.50") {
		t.Fatalf("E: mode %s, line %q", m.mode, strings.Split(plain(m), "\n")[1])
	}
	if foot := strings.Split(plain(m), "\n")[39]; !strings.Contains(foot, "enter set") || !strings.Contains(foot, "esc cancel") || strings.Contains(foot, "? help") {
		t.Errorf("form footer %q", foot)
	}
	press(m, "ctrl+u")
	typeText(m, "1.5")
	press(m, "enter")
	if m.mode != modeForm || len(f.tunes) != 0 || !strings.Contains(m.status, "from 0 to 1") {
		t.Fatalf("1.5 accepted: mode %s tunes %v status %q", m.mode, f.tunes, m.status)
	}
	press(m, "ctrl+u")
	typeText(m, "0.1")
	press(m, "enter")
	if m.mode != modePanes || len(f.tunes) != 1 || f.tunes[0].model != "sim/flaky" || f.tunes[0].knob != "error_rate" {
		t.Fatalf("enter: mode %s tunes %v", m.mode, f.tunes)
	}
	if d := f.tunes[0].delta; d < -0.41 || d > -0.39 {
		t.Errorf("delta %v, want -0.4 (0.5 → 0.1)", d)
	}
	press(m, "E", "esc")
	if m.mode != modePanes || len(f.tunes) != 1 {
		t.Errorf("esc: mode %s tunes %d", m.mode, len(f.tunes))
	}
}

// TestMouse: a click on a pane focuses it, a click on a breaker board row
// selects that model, the wheel scrolls a zoomed answer; --no-mouse
// leaves the mouse to the terminal.
func TestMouse(t *testing.T) { synctest.Test(t, testMouse) }

func testMouse(t *testing.T) {
	f := newFake()
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
			{Type: engine.AttemptDone, Model: "sim/swift", T: ms(400), Text: strings.Repeat("a long answer line\n", 80), OutputTokens: 400},
			{Type: engine.SessionDone, T: ms(400), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(400)}},
		})
	}
	m := newTestModel(f, 160, 48)
	if m.View().MouseMode != tea.MouseModeCellMotion {
		t.Fatalf("the mouse is off by default")
	}
	press(m, "esc", "r")
	m.render()
	if len(m.paneRects) != 4 {
		t.Fatalf("%d pane places recorded, want 4", len(m.paneRects))
	}
	r := m.paneRects[1]
	m.Update(tea.MouseClickMsg{X: r.x + r.w/2, Y: r.y + r.h/2, Button: tea.MouseLeft})
	if m.focus != 1 {
		t.Errorf("click in pane 1: focus %d", m.focus)
	}
	// The board's row of sim/slow: the last line naming it, clicked at its end.
	m.render()
	y, x := -1, 0
	for i, l := range m.frame {
		if p := strings.LastIndex(ansi.Strip(l), "sim/slow"); p >= 0 && strings.Contains(ansi.Strip(l), "forced closed") {
			y, x = i, ansi.StringWidth(ansi.Strip(l)[:p])+20
		}
	}
	if y < 0 {
		t.Fatalf("no board row for sim/slow:\n%s", plain(m))
	}
	m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if m.focused().ID != "sim/slow" {
		t.Errorf("click on sim/slow's board row: focus %s", m.focused().ID)
	}
	press(m, "tab", "z") // sim/swift (after sim/slow, the last), zoomed
	if m.mode != modeZoom || m.focused().ID != "sim/swift" {
		t.Fatalf("mode %s focus %s", m.mode, m.focused().ID)
	}
	press(m, "g")
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if m.zoom.YOffset() != wheelStep {
		t.Errorf("wheel down: offset %d, want %d", m.zoom.YOffset(), wheelStep)
	}
	off := New(f, Options{Theme: themes.NoColor(), NoMouse: true})
	if off.View().MouseMode != tea.MouseModeNone {
		t.Errorf("--no-mouse: the mouse is on")
	}
}

// TestWordDiff: the words outside the longest common subsequence are
// the ones marked.
func TestWordDiff(t *testing.T) {
	a := tokens("the quick brown fox\njumps")
	b := tokens("the slow brown fox jumps high")
	da, db := wordDiff(a, b)
	var ma, mb []string
	for i, d := range da {
		if d {
			ma = append(ma, a[i])
		}
	}
	for j, d := range db {
		if d {
			mb = append(mb, b[j])
		}
	}
	if strings.Join(ma, " ") != "quick \n" || strings.Join(mb, " ") != "slow high" {
		t.Errorf("marked %q and %q", ma, mb)
	}
}

// TestCompareView: d on one model, d on another: the two answers side by
// side with the differing words counted and marked; esc goes back.
func TestCompareView(t *testing.T) { synctest.Test(t, testCompareView) }

func testCompareView(t *testing.T) {
	f := newFake()
	f.script = func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer},
			{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleRacer},
			{Type: engine.AttemptDone, Model: "sim/swift", T: ms(300), Text: "breakers stop cascading failures fast", OutputTokens: 5},
			{Type: engine.AttemptDone, Model: "sim/steady", T: ms(400), Text: "breakers stop cascading outages early", OutputTokens: 5},
			{Type: engine.SessionDone, T: ms(400), Summary: &engine.Summary{Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(400)}},
		})
	}
	m := newTestModel(f, 120, 30)
	press(m, "esc", "r", "d", "tab", "d")
	if m.mode != modeCompare {
		t.Fatalf("d, tab, d: mode %s", m.mode)
	}
	got := plain(m)
	for _, want := range []string{"sim/swift: 2 words differ", "sim/steady: 2 words differ", "breakers stop cascading failures fast", "breakers stop cascading outages early"} {
		if !strings.Contains(got, want) {
			t.Errorf("compare view lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(m.render(), lipgloss.NewStyle().Reverse(true).Render("outages")) {
		t.Errorf("the differing word is not marked")
	}
	press(m, "esc")
	if m.mode != modePanes {
		t.Errorf("esc: mode %s", m.mode)
	}
}

// TestFooterKeysWork: every key the footer names on the compare and form
// screens does what it says ("? help" included).
func TestFooterKeysWork(t *testing.T) { synctest.Test(t, testFooterKeysWork) }

func testFooterKeysWork(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	press(m, "esc", "r", "d", "tab", "d")
	if m.mode != modeCompare {
		t.Fatalf("mode %s", m.mode)
	}
	foot := strings.Split(plain(m), "\n")[39]
	if strings.Contains(foot, "? help") {
		press(m, "?")
		if m.mode != modeHelp {
			t.Errorf("compare footer names ? help, but ? gave mode %s", m.mode)
		}
		press(m, "esc")
		if m.mode != modeCompare {
			t.Errorf("esc from help: mode %s, want back to compare", m.mode)
		}
	}
	if strings.Contains(foot, "esc back") {
		press(m, "esc")
		if m.mode != modePanes {
			t.Errorf("esc back: mode %s", m.mode)
		}
	}
}
