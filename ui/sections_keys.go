package ui

import (
	"cmp"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// sectionKey handles the section screen's keys in navigation: tab (and
// h/l) go between the list and the merge, the only areas drawn; j/k pick
// a row or scroll the merge, pgup/pgdn and g/G page and jump; enter zooms
// the section (its attempts) or the merge; y copies it. ok is false for
// every other key, which the panes' handling answers.
func (m *Model) sectionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	l := m.sections
	page := max(l.mergeRows-1, 1)
	if l.focus == focusSectionList {
		page = max(l.listH-3, 1)
	}
	move := func(d int) {
		if l.focus == focusMerge {
			l.scrollMerge(d)
		} else {
			l.selectRow(d)
		}
	}
	switch {
	case key.Matches(msg, k.Next, k.Prev, k.Left, k.Right):
		l.focus = 1 - l.focus
		m.userFocus = true
	case key.Matches(msg, k.Down):
		move(1)
	case key.Matches(msg, k.Up):
		move(-1)
	case key.Matches(msg, k.PageDown) && msg.String() != "space":
		move(page)
	case key.Matches(msg, k.PageUp):
		move(-page)
	case key.Matches(msg, k.Top):
		move(-1 << 20)
	case key.Matches(msg, k.Bottom):
		move(1 << 20)
	case key.Matches(msg, k.Zoom):
		l.zoomed = true
		m.mode = modeZoom
		m.refreshZoom(true)
	case key.Matches(msg, k.Copy):
		return m.copySection(), true
	case key.Matches(msg, k.Toggle, k.Compare):
		m.setStatus("the section screen shows no model's pane: tab picks the list or the merge", true)
	default:
		return nil, false
	}
	m.setFocus(len(m.panes)) // no model's pane has the focus on this screen
	return nil, true
}

// sectionZoomKey handles tab in a zoomed section or merge: the other one
// zoomed.
func (m *Model) sectionZoomKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	if !m.sections.zoomed {
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Next, k.Prev):
		m.sections.focus = 1 - m.sections.focus
		m.refreshZoom(true)
	case key.Matches(msg, k.Copy):
		return m.copySection(), true
	case key.Matches(msg, k.Unzoom):
		m.sections.zoomed = false
		m.mode = modePanes
	default:
		return nil, false
	}
	return nil, true
}

// copySection copies the merged result, or the selected section's answer.
func (m *Model) copySection() tea.Cmd {
	l := m.sections
	var what, text string
	if l.focus == focusMerge {
		what, text = "the merged result", l.answer
	} else if rows := l.planned(); l.sel < len(rows) {
		what, text = fmt.Sprintf("section %d (%s)", rows[l.sel].Index, rows[l.sel].Title), rows[l.sel].Text
	}
	if text == "" {
		m.setStatus(cmp.Or(what, "the section screen")+": nothing to copy yet", true)
		return nil
	}
	return m.copyText(what, text)
}

// sectionClick picks the list row or the merge under a click at row y.
func (m *Model) sectionClick(y int) bool {
	l := m.sections
	switch {
	case y > l.listY && y < l.listY+l.listH-1:
		if i := l.listOff + y - l.listY - 1; i < len(l.planned()) {
			l.focus, l.sel, l.picked = focusSectionList, i, true
		}
	case y >= l.mergeY && y < l.mergeY+l.mergeH:
		l.focus = focusMerge
	default:
		return false
	}
	if m.mode == modePrompt {
		m.blurPrompt()
	}
	m.userFocus = true
	m.setFocus(len(m.panes))
	return true
}

// sectionWheel scrolls the merge (or moves the list) under the wheel.
func (m *Model) sectionWheel(y, d int) bool {
	l := m.sections
	switch {
	case y >= l.mergeY && y < l.mergeY+l.mergeH:
		l.scrollMerge(d)
	case y >= l.listY && y < l.listY+l.listH:
		l.selectRow(d)
	default:
		return false
	}
	return true
}
