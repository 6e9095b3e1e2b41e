package ui

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/themes"
)

// H lists this run's finished sessions; enter shows one again, as it
// ended; x exports it as Markdown, X as a log that council replay reads.
func TestHistoryShowsAndExportsPastSessions(t *testing.T) {
	synctest.Test(t, testHistoryShowsAndExportsPastSessions)
}

func testHistoryShowsAndExportsPastSessions(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 48)
	m.opts.ExportDir = t.TempDir()
	press(m, "esc", "r") // session #1: the race script
	first := m.byID["sim/swift"].Text()
	if first == "" {
		t.Fatal("the first session streamed nothing")
	}
	f.script = consensusScript
	press(m, "m", "m", "r") // session #2: a consensus
	if m.byID["sim/swift"].Text() == first {
		t.Fatal("the second session did not change the panes")
	}
	press(m, "H")
	if m.mode != modeHistory {
		t.Fatalf("H: mode %s, want history", m.mode)
	}
	view := plain(m)
	for _, w := range []string{"History", "#1", "race", "#2", "consensus"} {
		if !strings.Contains(view, w) {
			t.Errorf("history lacks %q:\n%s", w, view)
		}
	}
	press(m, "k", "enter") // the first session again
	if m.mode != modePanes || m.byID["sim/swift"].Text() != first || m.sessionN != 1 {
		t.Errorf("after opening #1: mode %s, session #%d, swift %.40q; want the race's panes", m.mode, m.sessionN, m.byID["sim/swift"].Text())
	}
	press(m, "H", "x")
	press(m, "X")
	mds, _ := filepath.Glob(filepath.Join(m.opts.ExportDir, "*.md"))
	logs, _ := filepath.Glob(filepath.Join(m.opts.ExportDir, "*.jsonl"))
	if len(mds) != 1 || len(logs) != 1 {
		t.Fatalf("exports: %v %v, want one Markdown and one log", mds, logs)
	}
	md, _ := os.ReadFile(mds[0])
	if !strings.Contains(string(md), "# council session: Why do circuit breakers help?") || !strings.Contains(string(md), "## Models") {
		t.Errorf("markdown export:\n%s", md)
	}
	data, _ := os.ReadFile(logs[0])
	ss, err := record.Read(bytes.NewReader(data))
	if err != nil || len(ss) != 1 || ss[0].Summary() == nil {
		t.Fatalf("the exported log does not read back: %v", err)
	}
	got, _ := json.Marshal(ss[0].Summary())
	want, _ := json.Marshal(m.past[0].sum)
	if !bytes.Equal(got, want) {
		t.Errorf("exported summary\n%s\nwant\n%s", got, want)
	}
}

// stepper is a fake replay backend: it records the playback keys.
type stepper struct {
	*fakeBackend
	calls []string
}

func (s *stepper) TogglePause() bool { s.calls = append(s.calls, "pause"); return true }
func (s *stepper) Step()             { s.calls = append(s.calls, "step") }
func (s *stepper) Rewind()           { s.calls = append(s.calls, "rewind") }
func (s *stepper) Playing() record.Playing {
	return record.Playing{Speed: 1, Session: 1, Sessions: 1}
}

// In a replay, space, n and 0 drive the playback (not a model's
// inclusion or its chaos), and the help says so.
func TestReplayKeysDriveThePlayback(t *testing.T) { synctest.Test(t, testReplayKeysDriveThePlayback) }

func testReplayKeysDriveThePlayback(t *testing.T) {
	st := &stepper{fakeBackend: newFake()}
	m := New(st, Options{Prompt: "p"})
	press(m, "esc", "space", "n", "0")
	if strings.Join(st.calls, ",") != "pause,step,rewind" {
		t.Errorf("playback calls %v, want pause, step, rewind", st.calls)
	}
	if len(m.excluded) != 0 {
		t.Errorf("space toggled a model out in a replay")
	}
	if !m.ctx.Keys.ReplayPause.Enabled() || m.ctx.Keys.Toggle.Enabled() || m.ctx.Keys.ErrorUp.Enabled() {
		t.Errorf("replay keys: pause %v toggle %v chaos %v; want the playback's keys only",
			m.ctx.Keys.ReplayPause.Enabled(), m.ctx.Keys.Toggle.Enabled(), m.ctx.Keys.ErrorUp.Enabled())
	}
	// A paused replay's clock is its events' time, not the wall's.
	m.running, m.summary, m.startWall, m.lastT = true, nil, fixedClock.Add(-time.Minute), 1500*time.Millisecond
	m.clock = func() time.Time { return fixedClock }
	if got := m.elapsed(); got != 1500*time.Millisecond {
		t.Errorf("replay elapsed %v, want the last event's 1.5s", got)
	}
	_ = engine.Event{}
}

// With a record directory, the history lists the sessions earlier runs
// recorded there, before this run's, and shows them like this run's.
func TestHistoryListsRecordedSessions(t *testing.T) {
	synctest.Test(t, testHistoryListsRecordedSessions)
}

func testHistoryListsRecordedSessions(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	evs := raceScript(engine.SessionRequest{Prompt: "an earlier question"})
	fl, err := record.Create(filepath.Join(dir, "earlier.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := record.NewWriter(fl)
	w.Header(record.Header{Kind: "council.session", Format: record.Format, Recorded: fixedClock.Add(-time.Hour),
		Strategy: "race", Tier: "quick", Prompt: "an earlier question"})
	for _, ev := range evs {
		w.Event(ev)
	}
	fl.Close()
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "now", HistoryDir: dir})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	press(m, "esc", "H")
	if m.mode != modeHistory || len(m.past) != 1 || m.past[0].file == "" {
		t.Fatalf("mode %s, %d past sessions; want the recorded one listed", m.mode, len(m.past))
	}
	if view := plain(m); !strings.Contains(view, "an earlier question") {
		t.Errorf("history lacks the recorded session:\n%s", view)
	}
	press(m, "enter")
	if m.byID["sim/swift"].Text() == "" || !strings.Contains(m.status, "earlier.jsonl") {
		t.Errorf("opening the recorded session: swift %q, status %q", m.byID["sim/swift"].Text(), m.status)
	}
}

// A retry shows in its pane: which one, of how many, how long until it
// goes, and what failed.
func TestPaneShowsRetries(t *testing.T) {
	c := testCtx()
	p := NewModelPane(c, "sim/swift", 20*time.Second)
	p.Reset()
	p.Apply(engine.Event{Type: engine.AttemptStarted, Model: "sim/swift", T: 0})
	p.Apply(engine.Event{Type: engine.AttemptRetry, Model: "sim/swift", T: 100 * time.Millisecond, Err: "HTTP 503: overloaded",
		Detail: &engine.Detail{Retry: 1, Retries: 2, RetryIn: 400 * time.Millisecond}})
	c.Elapsed = 200 * time.Millisecond
	if got := stripANSI(p.View(60, 8)); !strings.Contains(got, "↻ retry 1/2 in 300ms") || !strings.Contains(got, "overloaded") {
		t.Errorf("pane lacks the retry:\n%s", got)
	}
}
