package ui

import (
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
