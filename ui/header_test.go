package ui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
	"github.com/council-dev/council/themes"
)

// simEngine is an engine over the demo council's simulated models (to be
// made inside a synctest bubble: they stream on its virtual clock).
func simEngine(t *testing.T, cfg *config.Config) *engine.Engine {
	t.Helper()
	clients := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: 100 * time.Millisecond, TokensPerSec: 50, OutputTokens: 12,
			Answers: map[string]float64{"billing": 1}}, 5)
	}
	eng, err := engine.New(cfg, clients, engine.WithSeed(5))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return eng
}

// recordLog runs each request on eng and returns the sessions as a log
// written by council --record reads back.
func recordLog(t *testing.T, cfg *config.Config, eng *engine.Engine, reqs ...engine.SessionRequest) []record.Session {
	t.Helper()
	var log bytes.Buffer
	w := record.NewWriter(&log)
	for _, req := range reqs {
		w.Header(record.NewHeader(cfg, req, eng.Health(), "test", fixedClock))
		if _, err := eng.Run(context.Background(), req, func(ev engine.Event) { w.Event(ev) }); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := record.Read(&log)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// headerLine is the frame's first line, the header.
func headerLine(m *Model) string { return strings.SplitN(plain(m), "\n", 2)[0] }

// body is the frame below the prompt line.
func body(m *Model) string { return strings.SplitN(plain(m), "\n", 3)[2] }

// promptLine is the frame's second line, the prompt line.
func promptLine(m *Model) string { return strings.SplitN(plain(m), "\n", 3)[1] }

// shownAs is how the header and the history name one session.
type shownAs struct {
	strategy, tier, prompt string
}

// checkReplay plays every session of ss in the dashboard (r plays the
// next) and checks that the header and the prompt line draw each as it
// was recorded, whatever the dashboard's own strategy and tier, and that
// the history lists each, and shows it again, as it was.
func checkReplay(t *testing.T, ss []record.Session, want []shownAs) {
	t.Helper()
	p, err := record.NewPlayer(ss, 1000)
	if err != nil {
		t.Fatal(err)
	}
	m := New(p, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: p.Prompt(), AutoRun: true})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	runCmd(m, m.Init())
	check := func(i int, where string) {
		t.Helper()
		w := want[i]
		h := headerLine(m)
		if !strings.Contains(h, "strategy "+w.strategy+" ") || !strings.Contains(h, "tier "+w.tier+" ") {
			t.Errorf("%s, session %d: header %q, want strategy %s, tier %s", where, i+1, h, w.strategy, w.tier)
		}
		if pl := promptLine(m); !strings.Contains(pl, w.prompt) {
			t.Errorf("%s, session %d: prompt line %q, want %q", where, i+1, pl, w.prompt)
		}
	}
	for i := range want {
		if i > 0 {
			press(m, "r")
		}
		if m.running || m.summary == nil {
			t.Fatalf("session %d did not play to its end", i+1)
		}
		check(i, "replayed")
	}
	press(m, "H")
	rows := strings.Split(plain(m), "\n")
	for i, w := range want {
		found := false
		for _, r := range rows {
			if strings.Contains(r, fmt.Sprintf("#%d ", i+1)) && strings.Contains(r, " "+w.strategy+" ") &&
				strings.Contains(r, " "+w.tier+" ") && strings.Contains(r, w.prompt) {
				found = true
			}
		}
		if !found {
			t.Errorf("the history has no row #%d %s %s %q:\n%s", i+1, w.strategy, w.tier, w.prompt, plain(m))
		}
	}
	// Back to the first: it is drawn as it was, not as the last one.
	for range want {
		press(m, "k")
	}
	press(m, "enter")
	check(0, "reopened from the history")
}

// A log of a council, a hedge on another tier, a consensus and a section
// session replays with each session's own strategy, tier and prompt in the
// header, the prompt line and the history; so does a log recorded before
// session_started described its session (a council on quick, then a hedge
// on balanced: engine/record/testdata/format1-council-hedge.jsonl, recorded
// by council run --record at commit d3cfd0b), from its headers.
func TestReplayDrawsEachSessionAsRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		eng := simEngine(t, cfg)
		ss := recordLog(t, cfg, eng,
			engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Council},
			engine.SessionRequest{Prompt: "Why is the sky blue?", Strategy: config.Hedge, Tier: "balanced"},
			engine.SessionRequest{Prompt: "Is my invoice wrong?", Strategy: config.Consensus, Tier: "high"},
			engine.SessionRequest{Prompt: "Summarise each part", Strategy: config.Section, Document: "# A\n\nOne.\n\n# B\n\nTwo.", DocumentName: "doc.md"},
		)
		checkReplay(t, ss, []shownAs{
			{"council", "quick", "How do database indexes work?"},
			{"hedge", "balanced", "Why is the sky blue?"},
			{"consensus", "high", "Is my invoice wrong?"},
			{"section", "quick", "Summarise each part"},
		})
	})
	t.Run("format1", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ss, err := record.ReadFile("../engine/record/testdata/format1-council-hedge.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			checkReplay(t, ss, []shownAs{
				{"council", "quick", "How do database indexes work?"},
				{"hedge", "balanced", "Why is the sky blue?"},
			})
		})
	})
}

// After a session, m, t, O and C change what the next session runs, never
// the header (or the panes' turn) of the session on screen, live or
// reopened from the history; the prompt line says what comes next. m and
// t behave alike.
func TestNextSessionIsShownApartFromTheSessionOnScreen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		eng := simEngine(t, cfg)
		m := New(eng, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Is my invoice wrong?",
			Strategy: config.Consensus})
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
		press(m, "r")
		if m.running || m.summary == nil {
			t.Fatal("the consensus did not run to its end")
		}
		first := headerLine(m)
		if !strings.Contains(first, "strategy consensus ") || !strings.Contains(first, "tier quick ") || strings.Contains(first, "⚙") {
			t.Fatalf("header of the consensus: %q", first)
		}
		if pl := promptLine(m); strings.Contains(pl, "next:") {
			t.Errorf("prompt line says next before anything changed: %q", pl)
		}
		press(m, "m")
		if !strings.Contains(m.status, "from the next session") {
			t.Errorf("m after a session: status %q, want it to say the next session", m.status)
		}
		press(m, "t")
		if !strings.Contains(m.status, "from the next session") {
			t.Errorf("t after a session: status %q, want it to say the next session", m.status)
		}
		press(m, "O", "ctrl+u", "B", "e", " ", "b", "r", "i", "e", "f", "enter", "ctrl+u", "3", "0", "0", "enter", "enter")
		press(m, "C")
		if h := headerLine(m); h != first {
			t.Errorf("m, t, O and C changed the finished session's header:\n%q\nwant\n%q", h, first)
		}
		if v := body(m); strings.Contains(v, "turn 2") {
			t.Errorf("the finished session's panes show turn 2:\n%s", v)
		}
		next := string(m.strategy) + " · balanced"
		if pl := promptLine(m); !strings.Contains(pl, "next: "+next) {
			t.Errorf("prompt line %q, want it to say next: %s", pl, next)
		}

		// The next session runs with them, and its header says so.
		press(m, "r")
		second := headerLine(m)
		if !strings.Contains(second, "strategy "+string(m.strategy)+" ") || !strings.Contains(second, "tier balanced ") ||
			!strings.Contains(second, "⚙ sys · 300 tok") {
			t.Fatalf("header of the second session: %q", second)
		}
		if v := body(m); !strings.Contains(v, "turn 2") {
			t.Errorf("the follow-up's panes do not show turn 2:\n%s", v)
		}
		if pl := promptLine(m); strings.Contains(pl, "next:") {
			t.Errorf("prompt line says next although nothing changed since: %q", pl)
		}

		// The consensus, reopened from the history, is drawn as it was.
		press(m, "H", "k", "enter")
		if h := headerLine(m); !strings.Contains(h, "strategy consensus ") || !strings.Contains(h, "tier quick ") || strings.Contains(h, "⚙") {
			t.Errorf("the consensus reopened from the history: header %q", h)
		}
		if v := body(m); strings.Contains(v, "turn 2") {
			t.Errorf("the consensus reopened from the history shows turn 2:\n%s", v)
		}
		if pl := promptLine(m); !strings.Contains(pl, "Is my invoice wrong?") || !strings.Contains(pl, "next: ") {
			t.Errorf("the consensus reopened: prompt line %q, want its prompt and what the next session runs", pl)
		}
	})
}

// Watching, the header draws the session from its session_started too: a
// session message that says less (an older server's, or one made up for
// a session whose message was missed) is filled in from it, in the header,
// the prompt line and the history.
func TestWatchDrawsTheHeaderFromTheSessionsStart(t *testing.T) {
	synctest.Test(t, testWatchDrawsTheHeaderFromTheSessionsStart)
}

func testWatchDrawsTheHeaderFromTheSessionsStart(t *testing.T) {
	m := New(fakeWatcher{newFake()}, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	key := "h:1/s1"
	m.Update(watchMsg{updates: []watch.Update{
		{Kind: watch.KindSession, Instance: "h:1", Key: key, Session: &wire.Session{Session: "s1"}},
		{Kind: watch.KindEvent, Instance: "h:1", Key: key, Event: engine.Event{Type: engine.SessionStarted, Session: "s1", Seq: 1,
			Text: "Is my invoice wrong?", Detail: &engine.Detail{Info: &engine.SessionInfo{Strategy: config.Consensus, Tier: "high",
				Models: []string{"sim/swift", "sim/steady", "sim/slow"}, Settings: engine.Settings{MaxTokens: 300}, Turn: 1}}}},
	}})
	h := headerLine(m)
	if !strings.Contains(h, "strategy consensus ") || !strings.Contains(h, "tier high ") || !strings.Contains(h, "⚙ 300 tok") {
		t.Errorf("watched session's header %q, want a consensus on high with 300 tokens", h)
	}
	if pl := promptLine(m); !strings.Contains(pl, "Is my invoice wrong?") {
		t.Errorf("watched session's prompt line %q", pl)
	}
	if len(m.panes) != 3 {
		t.Errorf("%d panes, want the session's 3 models", len(m.panes))
	}
	m.Update(watchMsg{updates: []watch.Update{
		{Kind: watch.KindEvent, Instance: "h:1", Key: key, Event: engine.Event{Type: engine.SessionDone, Session: "s1", Seq: 2,
			Summary: &engine.Summary{Session: "s1", Strategy: config.Consensus, Tier: "high", Status: engine.StatusDecided}}},
	}})
	press(m, "H")
	if v := plain(m); !strings.Contains(v, "consensus  high") || !strings.Contains(v, "Is my invoice wrong?") {
		t.Errorf("the history lists the watched session as:\n%s", v)
	}
}

// An auto session's header starts as auto on the tier asked and takes
// the route, and the route's tier, when route_chosen says.
func TestAutoHeaderFollowsTheRoute(t *testing.T) { synctest.Test(t, testAutoHeaderFollowsTheRoute) }

func testAutoHeaderFollowsTheRoute(t *testing.T) {
	f := newFake()
	f.script = func(req engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted, Text: req.Prompt, Detail: &engine.Detail{Info: &engine.SessionInfo{Strategy: config.Auto, Tier: "quick", Turn: 1}}},
			{Type: engine.RouteChosen, T: ms(100), Detail: &engine.Detail{Route: &engine.Route{Name: "chat", Strategy: config.Hedge, Tier: "balanced", Confidence: 0.7}}},
		})
	}
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "hello", Strategy: config.Auto})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	press(m, "r")
	h := headerLine(m)
	if !strings.Contains(h, "strategy auto → chat (hedge) 0.70") || !strings.Contains(h, "tier balanced ") {
		t.Errorf("header after the route %q, want auto → chat (hedge) on balanced", h)
	}
	if pl := promptLine(m); strings.Contains(pl, "next:") {
		t.Errorf("the route is not a change of the next session: prompt line %q", pl)
	}
}
