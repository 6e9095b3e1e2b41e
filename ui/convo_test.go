package ui

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// convoScript is a race in which swift wins and steady also finishes,
// each answer naming the prompt it answers.
func convoScript(req engine.SessionRequest) []engine.Event {
	return seqEvents([]engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.AttemptDone, Model: "sim/swift", T: ms(100), Text: "swift on " + req.Prompt},
		{Type: engine.AttemptDone, Model: "sim/steady", T: ms(110), Text: "steady on " + req.Prompt},
		{Type: engine.SessionDone, T: ms(111), Summary: &engine.Summary{
			Status: engine.StatusDecided, Winner: "sim/swift", Answer: "swift on " + req.Prompt, Elapsed: ms(111),
			Models: []engine.ModelResult{
				{ID: "sim/swift", Role: engine.RoleRacer, Status: engine.AttemptWon, Text: "swift on " + req.Prompt},
				{ID: "sim/steady", Role: engine.RoleRacer, Status: engine.AttemptDoneStatus, Text: "steady on " + req.Prompt},
			}}},
	})
}

// C toggles whether the next prompt continues the conversation: on, the
// session is asked with the turns so far (each model's own answer in
// them), the prompt line says so and the panes count the turn; off, a
// new conversation starts.
func TestFollowUpToggle(t *testing.T) { synctest.Test(t, testFollowUpToggle) }

func testFollowUpToggle(t *testing.T) {
	f := newFake()
	f.script = convoScript
	m := newTestModel(f, 120, 40)
	press(m, "r")
	if len(f.starts) != 1 || len(f.starts[0].Turns) != 0 {
		t.Fatalf("the first session: %d starts, turns %v; want none", len(f.starts), f.starts[0].Turns)
	}
	press(m, "/")
	if v := plain(m); !strings.Contains(v, "new conversation") {
		t.Errorf("typing after a session, the prompt line does not say the prompt starts a new conversation:\n%s", v)
	}
	press(m, "esc", "C")
	if !m.cont || !strings.Contains(plain(m), "continue · turn 2") {
		t.Fatalf("C: cont=%v; want continuing shown on the prompt line:\n%s", m.cont, plain(m))
	}
	press(m, "/")
	m.input.SetValue("")
	press(m, "n", "e", "x", "t", "enter")
	if len(f.starts) != 2 {
		t.Fatalf("%d starts, want 2", len(f.starts))
	}
	turns := f.starts[1].Turns
	if len(turns) != 1 || turns[0].Prompt != "Why do circuit breakers help?" ||
		turns[0].Answers["sim/steady"] != "steady on Why do circuit breakers help?" ||
		turns[0].Answer != "swift on Why do circuit breakers help?" {
		t.Fatalf("the follow-up's turns %+v, want the first prompt with each model's answer and the final one", turns)
	}
	if v := plain(m); !strings.Contains(v, "turn 2") || !strings.Contains(v, "continue · turn 3") {
		t.Errorf("after the follow-up, want the panes on turn 2 and the next prompt on turn 3:\n%s", v)
	}
	press(m, "r")
	if got := len(f.starts[2].Turns); got != 2 {
		t.Errorf("r while continuing asked with %d turns, want 2", got)
	}
	press(m, "C", "r")
	if got := len(f.starts[3].Turns); got != 0 || m.cont {
		t.Errorf("C off then r: %d turns (cont=%v), want a new conversation", got, m.cont)
	}
	if len(m.convo) != 1 || m.convo[0].Prompt != "next" {
		t.Errorf("the conversation after a new one %+v, want the last session alone", m.convo)
	}
	if strings.Contains(plain(m), "turn 2") {
		t.Errorf("a new conversation still shows a turn counter:\n%s", plain(m))
	}
}

// A follow-up's pane shows the model's own earlier answers, dimmed above
// the current turn's, in the pane and when zoomed.
func TestFollowUpPaneShowsEarlierTurns(t *testing.T) {
	synctest.Test(t, testFollowUpPaneShowsEarlierTurns)
}

func testFollowUpPaneShowsEarlierTurns(t *testing.T) {
	f := newFake()
	f.script = convoScript
	m := newTestModel(f, 160, 48)
	press(m, "r", "C", "/")
	m.input.SetValue("")
	press(m, "n", "e", "x", "t", "enter")
	p := m.byID["sim/steady"]
	if len(p.earlier) != 1 || p.earlier[0].reply != "steady on Why do circuit breakers help?" {
		t.Fatalf("steady's earlier turns %q, want its own first answer", p.earlier)
	}
	view := stripANSI(p.View(80, 20))
	for _, want := range []string{"── turn 1 ──", "❯ Why do circuit breakers help?", "steady on Why do circuit breakers help?", "── turn 2 ──", "steady on next"} {
		if !strings.Contains(view, want) {
			t.Errorf("pane lacks %q:\n%s", want, view)
		}
	}
	if z := stripANSI(p.zoomText()); !strings.Contains(z, "turn 1") || !strings.Contains(z, "steady on next") {
		t.Errorf("zoom lacks the turns:\n%s", z)
	}
}

// With follow_up = "winner" a pane shows, as the model's reply in an
// earlier turn, the winner's answer: what the engine showed it.
func TestFollowUpPaneShowsWhatTheModelWasShown(t *testing.T) {
	synctest.Test(t, testFollowUpPaneShowsWhatTheModelWasShown)
}

func testFollowUpPaneShowsWhatTheModelWasShown(t *testing.T) {
	f := newFake()
	f.script = convoScript
	f.cfg.FollowUp = config.FollowWinner
	m := newTestModel(f, 160, 48)
	press(m, "r", "C", "/")
	m.input.SetValue("")
	press(m, "n", "e", "x", "t", "enter")
	p := m.byID["sim/steady"]
	if len(p.earlier) != 1 || p.earlier[0].reply != "swift on Why do circuit breakers help?" {
		t.Fatalf("steady's earlier turns %q, want the winner's first answer, as the engine showed it", p.earlier)
	}
}
