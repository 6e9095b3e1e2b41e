package ui

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// longAnswer is a winner's answer longer than its pane.
var longAnswer = "FIRSTWORDS of the answer. " + strings.Repeat("More of the answer follows here. ", 40) + "THEEND."

// steadyWinsScript is a race sim/steady wins with a long answer; sim/swift,
// the first pane, is cancelled before its first token.
func steadyWinsScript(engine.SessionRequest) []engine.Event {
	return seqEvents([]engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.FirstToken, Model: "sim/steady", T: ms(100)},
		{Type: engine.Delta, Model: "sim/steady", T: ms(200), Text: longAnswer},
		{Type: engine.AttemptDone, Model: "sim/steady", T: ms(640), Text: longAnswer, OutputTokens: 400},
		{Type: engine.Decided, Model: "sim/steady", T: ms(640), Text: longAnswer},
		{Type: engine.AttemptCancelled, Model: "sim/swift", T: ms(641), Reason: engine.ReasonLostRace},
		{Type: engine.SessionDone, T: ms(642), Summary: &engine.Summary{Strategy: config.Race, Tier: "quick", Status: engine.StatusDecided,
			Winner: "sim/steady", Answer: longAnswer, Elapsed: ms(642), ElapsedMS: 642}},
	})
}

// A finished answer opens at its top, saying how much is below; one still
// streaming shows its tail, where the words arrive.
func TestFinishedAnswerOpensAtItsTop(t *testing.T) {
	c := testCtx()
	p := NewModelPane(c, "sim/steady", 0)
	p.Reset()
	for _, ev := range steadyWinsScript(engine.SessionRequest{})[1:5] {
		p.Apply(ev)
	}
	if v := stripANSI(p.View(60, 10)); !strings.Contains(v, "THEEND.") || strings.Contains(v, "FIRSTWORDS") {
		t.Errorf("a streaming answer should show its tail:\n%s", v)
	}
	for _, ev := range steadyWinsScript(engine.SessionRequest{})[5:7] {
		p.Apply(ev)
	}
	v := stripANSI(p.View(60, 10))
	if !strings.Contains(v, "FIRSTWORDS of the answer.") || strings.Contains(v, "THEEND.") || !strings.Contains(v, "more lines") {
		t.Errorf("a finished answer should open at its top and say what is below:\n%s", v)
	}
}

// When a race decides, the winner's pane takes the focus (the first pane,
// a cancelled loser, had it), so y copies the winner's answer and enter
// zooms it from its top; unless the user moved the focus meanwhile.
func TestWinnerTakesTheFocus(t *testing.T) { synctest.Test(t, testWinnerTakesTheFocus) }

func testWinnerTakesTheFocus(t *testing.T) {
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		f := newFake()
		f.script = steadyWinsScript
		m := newTestModel(f, size[0], size[1])
		press(m, "esc")
		if p := m.focused(); p == nil || p.ID != "sim/swift" {
			t.Fatalf("focus before the session: %v", p)
		}
		press(m, "r")
		if p := m.focused(); p == nil || p.ID != "sim/steady" {
			t.Fatalf("%dx%d: focus after the race on %v, want the winner sim/steady", size[0], size[1], p)
		}
		press(m, "y")
		if !strings.Contains(m.status, "copied sim/steady's answer") {
			t.Errorf("%dx%d: y after the race: status %q, want the winner's answer copied", size[0], size[1], m.status)
		}
		press(m, "enter")
		if m.mode != modeZoom || m.zoom.YOffset() != 0 {
			t.Errorf("%dx%d: the zoomed winner opens at line %d, want its top", size[0], size[1], m.zoom.YOffset())
		}
		press(m, "esc")
		if size[0] == 80 {
			if out := plain(m); !strings.Contains(out, "FIRSTWORDS") {
				t.Errorf("80x24: the compact answer should open at its top:\n%s", out)
			}
		}

		// Moved by the user during the session, the focus stays.
		cmd := m.startSession("again")
		press(m, "tab", "tab")
		want := m.focused()
		runCmd(m, cmd)
		if m.running || m.focused() != want || want.ID == "sim/steady" {
			t.Errorf("%dx%d: focus moved by the user during the session went to %v, want it left on %v", size[0], size[1], m.focused(), want)
		}
	}
}

// A zoomed model with several attempts (a council member's answer and
// review, a model that answered four sections) shows each of them, not
// only the one its pane shows.
func TestZoomShowsEveryAttempt(t *testing.T) {
	p := NewModelPane(testCtx(), "sim/swift", 0)
	p.Reset()
	for i, text := range []string{"FIRSTSECTION answer", "SECONDSECTION answer", "THIRDSECTION answer"} {
		id := fmt.Sprintf("a%d", i+1)
		p.Apply(engine.Event{Type: engine.AttemptStarted, Model: "sim/swift", Attempt: id, Stage: engine.StageSections, Role: engine.RoleSection, T: ms(10 * i)})
		p.Apply(engine.Event{Type: engine.AttemptDone, Model: "sim/swift", Attempt: id, Stage: engine.StageSections, Role: engine.RoleSection, T: ms(10*i + 5), Text: text})
	}
	z := stripANSI(p.zoomText())
	for _, want := range []string{"FIRSTSECTION", "SECONDSECTION", "THIRDSECTION", "── a2 sections"} {
		if !strings.Contains(z, want) {
			t.Errorf("the zoom lacks %q:\n%s", want, z)
		}
	}
}
