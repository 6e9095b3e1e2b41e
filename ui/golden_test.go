package ui

import (
	"bytes"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// runGolden runs the real program at w×h (pinned colour profile, pinned
// clock, scripted backend) inside the test's synctest bubble, presses
// keys, waits for the session to end, and compares the final frame, as
// plain text, with the golden file. (The final frame rather than the byte
// stream: the renderer's frame timing is not deterministic, the model's
// frame is.) Not teatest: it calls signal.Notify with a channel made in
// the bubble, which the runtime refuses (and so would the program's own
// signal handler, hence WithoutSignalHandler).
func runGolden(t *testing.T, f *fakeBackend, w, h int, keys []string, wait string) *Model {
	t.Helper()
	mustBeInBubble("runGolden")
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Why do circuit breakers help?"})
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignalHandler(),
		tea.WithWindowSize(w, h), tea.WithColorProfile(colorprofile.Ascii))
	type result struct {
		m   tea.Model
		err error
	}
	done := make(chan result, 1)
	go func() {
		fm, err := p.Run()
		done <- result{fm, err}
	}()
	for _, k := range keys {
		p.Send(keyMsg(k))
	}
	// Polls on the bubble's clock: 5 s of virtual time, no real wait.
	for start := time.Now(); !out.contains(wait); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			p.Kill()
			<-done
			t.Fatalf("%q not drawn in 5s (virtual):\n%s", wait, out.String())
		}
	}
	p.Quit()
	r := <-done
	// Commands still waiting on a timer (the tick, the cursor blink) end
	// once it fires; the bubble's time stops when the test returns.
	time.Sleep(time.Minute)
	if r.err != nil {
		t.Fatal(r.err)
	}
	final := r.m.(*Model)
	golden.RequireEqual(t, plain(final))
	return final
}

// syncBuffer is the program's output, read by the test while the
// program writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.buf.Bytes(), []byte(s))
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestGoldenRace120x40(t *testing.T) { synctest.Test(t, testGoldenRace120x40) }

func testGoldenRace120x40(t *testing.T) {
	m := runGolden(t, newFake(), 120, 40, []string{"r"}, "642ms")
	if m.summary == nil || m.summary.Winner != "sim/swift" {
		t.Fatalf("summary = %+v, want sim/swift the winner", m.summary)
	}
}

func TestGoldenConsensus120x40(t *testing.T) { synctest.Test(t, testGoldenConsensus120x40) }

func testGoldenConsensus120x40(t *testing.T) {
	f := newFake()
	f.script = consensusScript
	m := runGolden(t, f, 120, 40, []string{"m", "m", "r"}, "502ms")
	if m.strategy != config.Consensus {
		t.Fatalf("strategy = %s", m.strategy)
	}
}

// TestGoldenRace160x48 is a race at full size: the panes, the timeline
// and the breaker board. (docs/dashboard.md shows this frame, copied by
// make docs; TestDocCaptures fails when the two differ.)
func TestGoldenRace160x48(t *testing.T) { synctest.Test(t, testGoldenRace160x48) }

func testGoldenRace160x48(t *testing.T) {
	runGolden(t, newFake(), 160, 48, []string{"r"}, "642ms")
}

// TestGoldenRace80x24 is a race in the compact layout: one line per
// model, the focused model's answer under them.
func TestGoldenRace80x24(t *testing.T) { synctest.Test(t, testGoldenRace80x24) }

func testGoldenRace80x24(t *testing.T) {
	runGolden(t, newFake(), 80, 24, []string{"r"}, "642ms")
}

// TestGoldenCouncil160x48 is a council at full size: the stage bar, the
// members' panes with their stage strips, the synthesis beside the
// rankings and the timeline (one row per attempt).
func TestGoldenCouncil160x48(t *testing.T) { synctest.Test(t, testGoldenCouncil160x48) }

func testGoldenCouncil160x48(t *testing.T) {
	f := newFake()
	f.script = councilScript
	m := runGolden(t, f, 160, 48, []string{"m", "m", "m", "r"}, "3.50s")
	if m.strategy != config.Council || m.synth.Text() != synthesis {
		t.Fatalf("strategy %s, synthesis %q", m.strategy, m.synth.Text())
	}
}

// TestGoldenCouncil80x24 is the council's compact layout: a line per
// member, the stage bar, the synthesis, the Borda line.
func TestGoldenCouncil80x24(t *testing.T) { synctest.Test(t, testGoldenCouncil80x24) }

func testGoldenCouncil80x24(t *testing.T) {
	f := newFake()
	f.script = councilScript
	runGolden(t, f, 80, 24, []string{"m", "m", "m", "r"}, "3.50s")
}
