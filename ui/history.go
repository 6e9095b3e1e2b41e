package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
)

// pastSession is a finished session of this run, or one recorded by an
// earlier run, kept so that the history (H) can show its panes again and
// export it (x, X).
type pastSession struct {
	n      int    // the session number shown in the header; 0 for a recorded one
	file   string // the log a recorded session came from
	req    engine.SessionRequest
	header record.Header
	events []engine.Event
	sum    *engine.Summary
}

// Stepper is a backend that plays recorded sessions (a replay): it can
// pause, release one event at a time, and play a session again; Playing
// says what it plays, for the header.
type Stepper interface {
	TogglePause() (paused bool)
	Step()
	Rewind()
	Playing() record.Playing
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

// recordedMsg brings the sessions earlier runs recorded in HistoryDir.
type recordedMsg struct{ sessions []pastSession }

// loadRecorded reads the logs in dir recorded before the dashboard
// started (this run's own are in the history already), at most the
// newest 50, oldest first.
func loadRecorded(dir string, before time.Time) tea.Cmd {
	return func() tea.Msg {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if len(files) > 50 {
			files = files[len(files)-50:]
		}
		var out []pastSession
		for _, f := range files {
			ss, _ := record.ReadFile(f) // a log cut short still gives what it has
			for _, s := range ss {
				if !s.Header.Recorded.Before(before) {
					continue
				}
				ps := pastSession{file: f, header: s.Header, events: s.Events, sum: s.Summary(), req: askedBy(s)}
				out = append(out, ps)
			}
		}
		return recordedMsg{sessions: out}
	}
}

// askedBy is the request a recorded session ran, as its session_started
// describes it (record.Read describes an older log's from its header).
func askedBy(s record.Session) engine.SessionRequest {
	h := s.Header
	req := engine.SessionRequest{Prompt: h.Prompt, Strategy: config.Strategy(h.Strategy), Tier: h.Tier, Turns: h.Turns}
	if len(s.Events) > 0 {
		if in := detail(s.Events[0]).Info; in != nil {
			req.Strategy, req.Tier, req.Models, req.Settings, req.MaxCostUSD, req.DocumentName =
				in.Strategy, in.Tier, in.Models, in.Settings, in.CostCapUSD, in.Input
		}
	}
	return req
}

// openHistory shows the list of past sessions, the one on screen selected;
// the first time, it also reads the sessions earlier runs recorded.
func (m *Model) openHistory() tea.Cmd {
	var load tea.Cmd
	if m.opts.HistoryDir != "" && !m.loadedRecorded {
		m.loadedRecorded = true
		load = loadRecorded(m.opts.HistoryDir, m.opened)
	}
	if len(m.past) == 0 && load == nil {
		m.setStatus("no finished session yet: the history lists this run's sessions", true)
		return nil
	}
	m.back, m.mode = m.mode, modeHistory
	m.histSel = len(m.past) - 1
	for i, ps := range m.past { // the session on screen, if it is one of them
		if ps.n == m.sessionN && ps.n > 0 {
			m.histSel = i
		}
	}
	return load
}

// onRecorded puts the recorded sessions before this run's.
func (m *Model) onRecorded(msg recordedMsg) {
	m.past = append(msg.sessions, m.past...)
	m.histSel += len(msg.sessions)
	if m.mode == modeHistory && len(m.past) == 0 {
		m.mode = m.back
		m.setStatus("no session yet, here or recorded in "+m.opts.HistoryDir, true)
	}
}

// historyKey handles the history list: move, open, export, leave.
func (m *Model) historyKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.ctx.Keys // the history's keymap: what its footer names
	switch {
	case key.Matches(msg, k.Down):
		if m.histSel >= len(m.past)-1 {
			m.setStatus("the newest session is the last row", false)
		}
		m.histSel = min(m.histSel+1, len(m.past)-1)
	case key.Matches(msg, k.Up):
		if m.histSel <= 0 {
			m.setStatus("the oldest session is the first row", false)
		}
		m.histSel = max(m.histSel-1, 0)
	case key.Matches(msg, k.ListShow):
		if m.watch != nil {
			m.showPastWatched(m.past[m.histSel])
			m.mode = modePanes
			return nil
		}
		if !m.running {
			m.show(m.past[m.histSel])
			m.mode = modePanes
		} else {
			m.setStatus("a session is running: esc cancels it first", true)
		}
	case key.Matches(msg, k.Export):
		return m.export(m.past[m.histSel], msg.String() == "X")
	case key.Matches(msg, k.ListBack, k.History):
		m.mode = m.back
	case key.Matches(msg, k.Help):
		m.back, m.mode, m.helpOff = modeHistory, modeHelp, 0
	}
	return nil
}

// show draws a past session again, as it ended.
func (m *Model) show(ps pastSession) {
	m.gen++ // a late event of another session must not land here
	m.sessionN, m.summary, m.sessionCost, m.heard = ps.n, nil, 0, false
	m.startWall, m.lastT = m.clock(), 0
	for _, p := range m.panes {
		p.Reset()
	}
	m.route, m.sessStrategy = nil, ps.req.Strategy
	m.sessInfo = m.askedInfo(ps.req) // until its session_started says
	if t := m.sessInfo.Tier; t != m.sessTier {
		m.sessTier = t
		m.rebuildPanes()
	}
	m.synth.timeout = m.timeout()
	m.setTurns(ps.req.Turns)
	m.ctx.Labels, m.ctx.AttemptModel = map[string]string{}, map[string]string{}
	m.resetAreas()
	for _, ev := range ps.events {
		m.apply(ev)
	}
	m.setPrompt(ps.req.Prompt)
	if ps.n == 0 {
		m.setStatus("recorded session from "+filepath.Base(ps.file)+" (x exports it)", false)
		return
	}
	m.setStatus(fmt.Sprintf("session #%d from the history (x exports it)", ps.n), false)
}

// export writes a session as a Markdown report (asJSON false) or as a log
// council replay can play, in ExportDir; the writing is a command.
func (m *Model) export(ps pastSession, asJSON bool) tea.Cmd {
	if m.watch != nil {
		ps.header = m.watchedHeader(ps)
	}
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
		num := fmt.Sprintf("#%-3d", ps.n)
		if ps.n == 0 {
			num = ps.header.Recorded.Local().Format("01-02 15:04")
		}
		row := fmt.Sprintf("%-11s %-10s %-9s %-9s %7s %10s  %-20s %s", num, ps.req.Strategy, truncate(orDash(ps.req.Tier), 9), status, took, cost, truncate(who, 20),
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
	if m.mode != modePanes && m.mode != modeZoom {
		return nil, false
	}
	k := &m.keys
	if key.Matches(msg, k.Strategy, k.Tier, k.Settings, k.Continue, k.Auto, k.Prompt, k.Pause,
		k.SetError, k.SetStall, k.ErrorUp, k.StallUp) {
		m.refuse(fmt.Sprintf(replayNoChange, msg.String()))
		return nil, true
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

// replayNoChange answers a key that would start or change a session.
const replayNoChange = "%s: a replay plays what was recorded and changes nothing (r plays the next session, 0 this one again)"

// replayNameW is the most of the log's name the replay mark shows.
const replayNameW = 24

// replayMark is the header's "replay s.jsonl · 10× · 2 of 3", the log's
// name cut to nameW cells (0: none), and the playback's state in a word:
// replaying, paused or stepping.
func replayMark(st Stepper, nameW int) (mark, state string) {
	p := st.Playing()
	mark = "replay"
	if p.Name != "" && nameW > 0 {
		mark += " " + truncate(filepath.Base(p.Name), nameW)
	}
	mark += " · " + strconv.FormatFloat(p.Speed, 'f', -1, 64) + "×"
	if p.Sessions > 0 {
		mark += fmt.Sprintf(" · %d of %d", p.Session, p.Sessions)
	}
	switch {
	case p.Stepped:
		state = "⏯ stepping"
	case p.Paused:
		state = "⏸ paused"
	default:
		state = "▶ replaying"
	}
	return mark, state
}

// describePlaying takes the replayed session's strategy, tier and prompt
// from its log header until its session_started is played: a replay
// started paused (--step) is drawn as the session it is, from the start.
func (m *Model) describePlaying() {
	st, ok := m.b.(Stepper)
	if !ok || m.lastT > 0 || m.cur != nil && len(m.cur.events) > 0 {
		return
	}
	p := st.Playing()
	in := m.sessInfo
	if p.Strategy != "" {
		in.Strategy = config.Strategy(p.Strategy)
	}
	if p.Tier != "" {
		in.Tier = p.Tier
	}
	m.describe(in, p.Prompt)
}

// replayPaused reports whether a replay's playback is paused.
func (m *Model) replayPaused() bool {
	st, ok := m.b.(Stepper)
	return ok && st.Playing().Paused
}

func isStepper(b Backend) bool {
	_, ok := b.(Stepper)
	return ok
}

// onScreen is the past session the panes show: the one opened from the
// history, else the latest.
func (m *Model) onScreen() pastSession {
	for _, ps := range m.past {
		if ps.n == m.sessionN && ps.n > 0 {
			return ps
		}
	}
	return m.past[len(m.past)-1]
}
