package ui

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
	"github.com/council-dev/council/themes"
)

// newReplay opens the dashboard on a player of ss, as council replay does.
func newReplay(t *testing.T, ss []record.Session, speed float64, w, h int) (*Model, *record.Player) {
	t.Helper()
	p, err := record.NewPlayer(ss, speed)
	if err != nil {
		t.Fatal(err)
	}
	p.SetName("/tmp/logs/s.jsonl")
	m := New(p, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: p.Prompt(), AutoRun: true})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m, p
}

// A replay is marked in the header: the log, the speed, which session of
// how many; at 80 columns too, beside the session's strategy. Its
// sessions' cost is never added to the run's spend, however often r plays
// a one-session log again.
func TestReplayIsMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		eng := simEngine(t, cfg)
		ss := recordLog(t, cfg, eng,
			engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Council},
			engine.SessionRequest{Prompt: "Why is the sky blue?", Strategy: config.Race},
			engine.SessionRequest{Prompt: "Is my invoice wrong?", Strategy: config.Consensus, Tier: "high"},
		)
		m, _ := newReplay(t, ss, 10, 160, 48)
		runCmd(m, m.Init())
		if h := headerLine(m); !strings.Contains(h, "replay s.jsonl · 10× · 1 of 3") || !strings.Contains(h, "council") {
			t.Errorf("header %q, want the replay marked", h)
		}
		press(m, "r")
		if h := headerLine(m); !strings.Contains(h, "replay s.jsonl · 10× · 2 of 3") || !strings.Contains(h, "race") {
			t.Errorf("header %q after r, want the second session marked", h)
		}
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		press(m, "r", "r") // the third, then the first again
		if h := headerLine(m); !strings.Contains(h, "replay") || !strings.Contains(h, "1 of 3") || !strings.Contains(h, "council") {
			t.Errorf("80 columns: header %q, want replay, the position and the council", h)
		}

		one := ss[:1]
		m, _ = newReplay(t, one, 10, 160, 48)
		runCmd(m, m.Init())
		if m.sessionCost <= 0 {
			t.Fatalf("the recorded council cost nothing (%v): nothing to check", m.sessionCost)
		}
		if f := plain(m); !strings.Contains(f, "r play it again") || strings.Contains(f, "next session") {
			t.Errorf("a one-session log: the footer names a next session it does not have:\n%s", f)
		}
		press(m, "r", "r")
		if m.runCost != 0 || strings.Contains(headerLine(m), "run $") {
			t.Errorf("after replaying a one-session log three times: run cost %v, header %q; a replay never adds to the run's spend", m.runCost, headerLine(m))
		}
	})
}

// A replay refuses, with a message, every key that would start or change
// a session (the recorded ones are what they were).
func TestReplayRefusesWhatWouldChangeASession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		ss := recordLog(t, cfg, simEngine(t, cfg), engine.SessionRequest{Prompt: "Why is the sky blue?", Strategy: config.Race})
		m, _ := newReplay(t, ss, 10, 160, 48)
		runCmd(m, m.Init())
		strategy, tier, settings := m.strategy, m.tier, m.settings
		for _, k := range []string{"m", "t", "O", "C", "a", "/", "i", "p", "E", "S", "e", "s"} {
			m.status = ""
			press(m, k)
			if m.mode != modePanes || m.status == "" || !m.statusErr || !strings.Contains(m.status, "replay") {
				t.Errorf("%s in a replay: mode %s status %q (error %v), want it refused with a word about the replay", k, m.mode, m.status, m.statusErr)
			}
		}
		if m.strategy != strategy || m.tier != tier || !reflect.DeepEqual(m.settings, settings) || m.auto || m.cont {
			t.Errorf("a replay changed the next session: %s %s %+v auto %v continue %v", m.strategy, m.tier, m.settings, m.auto, m.cont)
		}
		// A click on the prompt line does not open it either.
		m.status = ""
		m.Update(tea.MouseClickMsg{X: 5, Y: 1, Button: tea.MouseLeft})
		if m.mode == modePrompt || !strings.Contains(m.status, "replay") {
			t.Errorf("a click on the prompt line in a replay: mode %s status %q", m.mode, m.status)
		}
	})
}

// A replay started with --step is paused before its first event: the
// header says so, nothing spins as if it ran, until n plays an event.
func TestReplayStepShowsPaused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		ss := recordLog(t, cfg, simEngine(t, cfg), engine.SessionRequest{Prompt: "Is my invoice wrong?", Strategy: config.Consensus, Tier: "high"})
		m, p := newReplay(t, ss, 10, 160, 48)
		p.TogglePause()
		l := newLoop(t, m)
		defer func() {
			l.close()
			time.Sleep(time.Second) // let pending ticks fire and exit
			synctest.Wait()
		}()
		l.until(func() bool { return m.events != nil }) // the playback has started
		synctest.Wait()
		h := headerLine(m)
		if !strings.Contains(h, "strategy consensus") || !strings.Contains(h, "tier high") {
			t.Errorf("a --step replay before n: header %q, want the recorded session's strategy", h)
		}
		if strings.Contains(h, "running") || !strings.Contains(h, "paused") {
			t.Errorf("a --step replay before n: header %q, want paused, not running", h)
		}
		f := m.ctx.Frame
		l.send(tickMsg{})
		if m.ctx.Frame != f {
			t.Errorf("the spinners turn while the replay is paused (frame %d → %d)", f, m.ctx.Frame)
		}
		l.send(keyMsg("n"))
		l.until(func() bool { return m.lastT > 0 || m.cur != nil && len(m.cur.events) > 0 })
		if h := headerLine(m); !strings.Contains(h, "stepping") {
			t.Errorf("after n: header %q, want stepping", h)
		}
		l.send(keyMsg("q"))
	})
}

// At 80 columns a replayed council keeps what names it in the header:
// its strategy, its tier and the replay mark with the position, even
// degraded (the right side's reasons are long) and from a log with a long
// name; what gives way is the session's number, clock and cost, then the
// log's name, cut with "…".
func TestReplayHeaderKeepsTheTierAt80Columns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		clients := map[string]providers.Provider{}
		for _, mc := range cfg.Models {
			p := sim.Params{TTFT: 100 * time.Millisecond, TokensPerSec: 50, OutputTokens: 12}
			if mc.ID == "sim/flaky" {
				p.BadRankingRate = 1 // its ranking is invalid: degraded, reviewers_missing
			}
			clients[mc.ID] = sim.New(mc.ID, p, 5)
		}
		eng, err := engine.New(cfg, clients, engine.WithSeed(5))
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		ss := recordLog(t, cfg, eng, engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Council, Tier: "quick"})
		for _, name := range []string{"/tmp/logs/s.jsonl", "/tmp/logs/council-2026-12-06-indexes.jsonl"} {
			m, p := newReplay(t, ss, 10, 80, 24)
			p.SetName(name)
			runCmd(m, m.Init())
			if m.summary == nil || len(m.summary.Degraded) == 0 {
				t.Fatalf("the replayed council is not degraded (%+v): nothing to check", m.summary)
			}
			h := headerLine(m)
			for _, want := range []string{"council · quick", "replay ", "10×", "1 of 1", "degraded"} {
				if !strings.Contains(h, want) {
					t.Errorf("%s at 80 columns: header %q, want %q in it", name, h, want)
				}
			}
			if base := filepath.Base(name); !strings.Contains(h, base) && !strings.Contains(h, base[:4]) {
				t.Errorf("%s at 80 columns: header %q names no part of the log", name, h)
			}
			if lipgloss.Width(h) > 80 {
				t.Errorf("header %q is %d wide", h, lipgloss.Width(h))
			}
		}
	})
}

// A replay started with --step, before its first event: no pane says its
// model is not in the session (nothing has been played yet), and the
// timeline does not ask for a prompt a replay would refuse; after its
// session_started, the models it lists are not said to be out of it.
func TestReplayStepBeforeItsFirstEventClaimsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		ss := recordLog(t, cfg, simEngine(t, cfg), engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Council})
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			m, p := newReplay(t, ss, 10, size[0], size[1])
			p.TogglePause()
			l := newLoop(t, m)
			l.until(func() bool { return m.events != nil })
			synctest.Wait()
			out := plain(m)
			if strings.Contains(out, "not in this session") || strings.Contains(out, "type a prompt") {
				t.Errorf("%dx%d: a --step replay before n claims what it does not know:\n%s", size[0], size[1], out)
			}
			l.send(keyMsg("n")) // session_started: it lists the council's models, all of the tier's
			l.until(func() bool { return m.heard })
			if out := plain(m); strings.Contains(out, "not in this session") {
				t.Errorf("%dx%d: after session_started, a model of the session is said not to be in it:\n%s", size[0], size[1], out)
			}
			l.send(keyMsg("q"))
			l.close()
			time.Sleep(time.Second)
			synctest.Wait()
		}
	})
}
