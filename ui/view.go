package ui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Minimum terminal size; below it the dashboard says so.
const minWidth, minHeight = 60, 16

// View draws the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "council"
	if !m.opts.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// render is the frame as a string (the content of View); the mouse reads
// the frame's lines and the panes' places.
func (m *Model) render() string {
	m.paneRects, m.panesY = m.paneRects[:0], 2+len(m.routeLines(m.width))
	if m.watch != nil {
		m.panesY++ // under the watch line
	}
	out := m.renderFrame()
	m.frame = strings.Split(out, "\n")
	return out
}

func (m *Model) renderFrame() string {
	if m.quitting {
		return ""
	}
	w, h := m.width, m.height
	if w == 0 || h == 0 {
		return "starting council…"
	}
	m.ctx.Now = m.clock()
	m.ctx.Elapsed = m.elapsed()
	m.ctx.Axis = m.timeline.scale()
	if m.tooSmall() {
		msg := fmt.Sprintf("terminal too small: %d×%d\nthe dashboard needs at least %d×%d\n\nq quits", w, h, minWidth, minHeight)
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, msg)
	}
	bh := h - 3
	top := m.headerView(w) + "\n" + m.promptView(w)
	if rl := m.routeLines(w); len(rl) > 0 {
		bh -= len(rl)
		top += "\n" + strings.Join(rl, "\n")
	}
	if m.watch != nil {
		bh--
		top += "\n" + m.watchLine(w)
	}
	var body string
	switch m.mode {
	case modeWatchList:
		body = m.watchListView(w, bh)
	case modeHelp:
		body = m.helpView(w, bh)
	case modeZoom:
		body = m.zoomView(w, bh)
	case modeHistory:
		body = m.historyView(w, bh)
	case modeCompare:
		body = m.compareView(w, bh)
	default:
		body = m.bodyView(w, bh)
	}
	return top + "\n" + padLines(body, bh) + "\n" + m.footerView(w)
}

// bodyH is the height left for the body under the header, the prompt
// line, the route and the watch lines, above the footer.
func (m *Model) bodyH() int {
	h := m.height - 3 - len(m.routeLines(m.width))
	if m.watch != nil {
		h--
	}
	return h
}

// tooSmall reports whether the terminal is below the minimum size, where
// the screen only says so (and that q quits).
func (m *Model) tooSmall() bool {
	return m.width > 0 && m.height > 0 && (m.width < minWidth || m.height < minHeight)
}

// elapsed is the session's time: the latest event, or the wall clock since
// it started while it runs.
func (m *Model) elapsed() time.Duration {
	if m.summary != nil && m.summary.Elapsed > 0 {
		return m.summary.Elapsed
	}
	// A replay's time is its events' (recorded) time: paused or played
	// faster, the wall clock would say something false.
	if m.running && !m.startWall.IsZero() && !isStepper(m.b) {
		return max(m.lastT, m.clock().Sub(m.startWall))
	}
	return m.lastT
}

// padLines makes s exactly n lines.
func padLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
