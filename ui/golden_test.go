package ui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// runGolden drives the real program with teatest at w×h (pinned colour
// profile, pinned clock, scripted backend), presses keys, waits for the
// session to end, and compares the final frame, as plain text, with the
// golden file. (The final frame rather than the byte stream: the
// renderer's frame timing is not deterministic, the model's frame is.)
func runGolden(t *testing.T, f *fakeBackend, w, h int, keys []string, wait string) *Model {
	t.Helper()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Why do circuit breakers help?"})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	for _, k := range keys {
		tm.Send(keyMsg(k))
	}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(wait)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	_, _ = io.ReadAll(tm.FinalOutput(t))
	golden.RequireEqual(t, plain(final))
	return final
}

func TestGoldenRace120x40(t *testing.T) {
	m := runGolden(t, newFake(), 120, 40, []string{"r"}, "642ms")
	if m.summary == nil || m.summary.Winner != "sim/swift" {
		t.Fatalf("summary = %+v, want sim/swift the winner", m.summary)
	}
}

func TestGoldenConsensus120x40(t *testing.T) {
	f := newFake()
	f.script = consensusScript
	m := runGolden(t, f, 120, 40, []string{"m", "m", "r"}, "502ms")
	if m.strategy != config.Consensus {
		t.Fatalf("strategy = %s", m.strategy)
	}
}

// TestGoldenREADME160x48 is the capture pasted into the README
// (testdata/TestGoldenREADME160x48.golden).
func TestGoldenREADME160x48(t *testing.T) {
	runGolden(t, newFake(), 160, 48, []string{"r"}, "642ms")
}

// TestGoldenREADME80x24 is the compact layout of the README: one line per
// model, the focused model's answer under them.
func TestGoldenREADME80x24(t *testing.T) {
	runGolden(t, newFake(), 80, 24, []string{"r"}, "642ms")
}

// TestGoldenCouncil160x48 is a council at full size: the stage bar, the
// members' panes with their stage strips, the synthesis beside the
// rankings and the timeline (one row per attempt).
func TestGoldenCouncil160x48(t *testing.T) {
	f := newFake()
	f.script = councilScript
	m := runGolden(t, f, 160, 48, []string{"m", "m", "m", "r"}, "3.50s")
	if m.strategy != config.Council || m.synth.Text() != synthesis {
		t.Fatalf("strategy %s, synthesis %q", m.strategy, m.synth.Text())
	}
}

// TestGoldenCouncil80x24 is the council's compact layout: a line per
// member, the stage bar, the synthesis, the Borda line.
func TestGoldenCouncil80x24(t *testing.T) {
	f := newFake()
	f.script = councilScript
	runGolden(t, f, 80, 24, []string{"m", "m", "m", "r"}, "3.50s")
}
