package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/record"
)

// pastSession is a finished session of this run, kept so that the
// history (H) can show its panes again and export it (x, X).
type pastSession struct {
	n      int // the session number shown in the header
	req    engine.SessionRequest
	header record.Header
	events []engine.Event
	sum    *engine.Summary
}

// Stepper is a backend that plays recorded sessions (a replay): it can
// pause, release one event at a time, and play a session again.
type Stepper interface {
	TogglePause() (paused bool)
	Step()
	Rewind()
}

// exportedMsg says where an export went, or why it failed.
type exportedMsg struct {
	path string
	err  error
}

// keep records the session that just ended in the history.
func (m *Model) keep() {
	if m.cur == nil {
		return
	}
	m.past = append(m.past, *m.cur)
	m.past[len(m.past)-1].sum = m.summary
	m.cur = nil
	const maxPast = 100 // the newest; each keeps its events
	if len(m.past) > maxPast {
		m.past = m.past[len(m.past)-maxPast:]
	}
}

// openHistory shows the list of past sessions, the one on screen selected.
func (m *Model) openHistory() {
	if len(m.past) == 0 {
		m.setStatus("no finished session yet: the history lists this run's sessions", true)
		return
	}
	m.back, m.mode = m.mode, modeHistory
	m.histSel = len(m.past) - 1
	for i, ps := range m.past { // the session on screen, if it is one of them
		if ps.n == m.sessionN {
			m.histSel = i
		}
	}
}

// historyKey handles the history list: move, open, export, leave.
func (m *Model) historyKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "j", "down":
		m.histSel = min(m.histSel+1, len(m.past)-1)
	case "k", "up":
		m.histSel = max(m.histSel-1, 0)
	case "enter":
		if !m.running {
			m.show(m.past[m.histSel])
			m.mode = modePanes
		} else {
			m.setStatus("a session is running: esc cancels it first", true)
		}
	case "x":
		return m.export(m.past[m.histSel], false)
	case "X":
		return m.export(m.past[m.histSel], true)
	case "esc", "H", "q":
		m.mode = m.back
	}
	return nil
}

// show draws a past session again, as it ended.
func (m *Model) show(ps pastSession) {
	m.gen++ // a late event of another session must not land here
	m.sessionN, m.summary, m.sessionCost = ps.n, nil, 0
	m.startWall, m.lastT = m.clock(), 0
	for _, p := range m.panes {
		p.Reset()
	}
	m.route, m.sessStrategy = nil, ps.req.Strategy
	m.ctx.Labels, m.ctx.AttemptModel = map[string]string{}, map[string]string{}
	for _, a := range []interface{ Apply(engine.Event) }{m.timeline, m.votes, m.stages, m.rank, m.synth} {
		a.Apply(engine.Event{Type: engine.SessionStarted})
	}
	for _, ev := range ps.events {
		m.apply(ev)
	}
	m.setPrompt(ps.req.Prompt)
	m.setStatus(fmt.Sprintf("session #%d from the history (x exports it)", ps.n), false)
}

// export writes a session as a Markdown report (asJSON false) or as a log
// council replay can play, in ExportDir; the writing is a command.
func (m *Model) export(ps pastSession, asJSON bool) tea.Cmd {
	dir := m.opts.ExportDir
	if dir == "" {
		dir = "."
	}
	session := "session"
	if ps.sum != nil {
		session = ps.sum.Session
	}
	name := "council-" + session + "-" + time.Now().Format("150405")
	return func() tea.Msg {
		var b bytes.Buffer
		var path string
		if asJSON {
			path = filepath.Join(dir, name+".jsonl")
			w := record.NewWriter(&b)
			w.Header(ps.header)
			for _, ev := range ps.events {
				w.Event(ev)
			}
			if err := w.Err(); err != nil {
				return exportedMsg{err: err}
			}
		} else {
			path = filepath.Join(dir, name+".md")
			if err := record.Markdown(&b, record.Session{Header: ps.header, Events: ps.events}); err != nil {
				return exportedMsg{err: err}
			}
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			return exportedMsg{err: err}
		}
		return exportedMsg{path: path}
	}
}

// historyView lists the past sessions, newest last, the selected one
// marked.
func (m *Model) historyView(w, h int) string {
	s := &m.ctx.S
	lines := []string{s.Title.Render("History") + s.Subtle.Render("  j/k move · enter show · x export Markdown · X export log · esc back")}
	first := max(0, m.histSel-(h-3))
	for i := first; i < len(m.past) && len(lines) < h-1; i++ {
		ps := m.past[i]
		status, took, cost := "—", "—", ""
		if ps.sum != nil {
			status, took, cost = string(ps.sum.Status), fmtDur(ps.sum.Elapsed), fmtCost(ps.sum.CostUSD)
		}
		who := ""
		if ps.sum != nil && ps.sum.Winner != "" {
			who = ps.sum.Winner
		} else if ps.sum != nil && ps.sum.Chairman != "" {
			who = "chair " + ps.sum.Chairman
		}
		row := fmt.Sprintf("#%-3d %-10s %-9s %7s %10s  %-20s %s", ps.n, ps.req.Strategy, status, took, cost, truncate(who, 20),
			strings.Join(strings.Fields(ps.req.Prompt), " "))
		row = truncate(row, w-3)
		if i == m.histSel {
			lines = append(lines, s.Focus.Render("▶ "+row))
		} else {
			lines = append(lines, "  "+row)
		}
	}
	return lipgloss.NewStyle().Padding(1, 1).Render(strings.Join(lines, "\n"))
}

// replayKey handles a replay's own keys (space pause, n next event, 0
// back to the start); ok is false for every other key.
func (m *Model) replayKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	st, isReplay := m.b.(Stepper)
	if !isReplay {
		return nil, false
	}
	switch msg.String() {
	case "space":
		if st.TogglePause() {
			m.setStatus("paused: n plays the next event, space goes on", false)
		} else {
			m.setStatus("playing", false)
		}
	case "n":
		st.Step()
		m.setStatus("paused: one event at a time (space goes on)", false)
	case "0":
		st.Rewind()
		if m.running && m.cancel != nil {
			m.cancel()
			m.restart = true
			return nil, true
		}
		return m.startSession(m.lastPrompt), true
	default:
		return nil, false
	}
	return nil, true
}

func isStepper(b Backend) bool {
	_, ok := b.(Stepper)
	return ok
}
