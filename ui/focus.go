package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
)

// focusDecided gives the focus to the answer a session decided on — the
// race's or hedge's winner, the council's synthesis, the section
// strategy's merge — unless the user moved the focus during the session:
// y then copies, and enter zooms, the answer people mean rather than a
// cancelled loser.
func (m *Model) focusDecided(ev engine.Event) {
	if m.userFocus {
		return
	}
	switch {
	case m.sectioning():
		m.sections.focus = focusMerge
		m.setFocus(len(m.panes)) // off the panes: the section screen's focus is its own
	case m.council() && m.synth.Active() && (ev.Model == "" || ev.Model == m.synth.model):
		m.setFocus(len(m.panes))
	case ev.Attempt != "" || ev.Model != "" && m.byID[ev.Model] != nil && m.byID[ev.Model].a.phase.ended():
		for i, p := range m.panes {
			if p.ID == ev.Model {
				m.setFocus(i)
			}
		}
	}
}

// focusStreaming reports whether the focused answer is still arriving,
// so that its zoom follows the tail.
func (m *Model) focusStreaming() bool {
	if m.synthFocused() {
		return m.synth.a.phase.active()
	}
	p := m.focused()
	return p != nil && p.a.phase.active()
}

// moveFocus moves the focus: tab cycles, h/j/k/l and arrows move in the grid.
func (m *Model) moveFocus(msg tea.KeyPressMsg) {
	n := len(m.panes)
	if n == 0 {
		return
	}
	m.userFocus = true
	k := &m.keys
	cols := max(m.gridCols(), 1)
	f := m.focus
	// In a council the synthesis comes after the panes: tab reaches it,
	// and so does down from the last row of panes.
	total := n
	if m.council() {
		total++
	}
	f = min(f, total-1)
	was := f
	defer func() {
		if m.focus == was {
			m.setStatus("no pane that way", false)
		}
	}()
	switch {
	case key.Matches(msg, k.Next):
		f = (f + 1) % total
	case key.Matches(msg, k.Prev):
		f = (f + total - 1) % total
	case f == n: // on the synthesis
		if key.Matches(msg, k.Up) {
			f = n - 1
		}
	case key.Matches(msg, k.Left):
		if f%cols > 0 {
			f--
		}
	case key.Matches(msg, k.Right):
		if f%cols < cols-1 && f+1 < n {
			f++
		}
	case key.Matches(msg, k.Up):
		if f-cols >= 0 {
			f -= cols
		}
	case key.Matches(msg, k.Down):
		switch {
		case f+cols < n:
			f += cols
		case total > n:
			f = n
		}
	}
	m.setFocus(f)
}

func (m *Model) setFocus(f int) {
	for i, p := range m.panes {
		p.focused = i == f
	}
	m.synth.focused = f == len(m.panes)
	m.focus = f
}
