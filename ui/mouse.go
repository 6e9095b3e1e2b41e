package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// The mouse (off with council --no-mouse): a click on a pane focuses it,
// a click on a model's row (the breaker board, the timeline, a compact
// line) selects that model, a click on the prompt line edits the prompt,
// the wheel scrolls a zoomed answer and the help.

// wheelStep is how many lines one wheel notch scrolls.
const wheelStep = 3

func (m *Model) onClick(ms tea.Mouse) tea.Cmd {
	if ms.Button != tea.MouseLeft || m.tooSmall() || m.mode == modeHelp || m.mode == modeZoom || m.mode == modeForm {
		return nil
	}
	if ms.Y == 1 {
		if m.watch != nil {
			m.refuse(watchNoRun)
			return nil
		}
		if isStepper(m.b) {
			m.refuse(fmt.Sprintf(replayNoChange, "the prompt line"))
			return nil
		}
		m.focusPrompt()
		return nil
	}
	if m.sectioning() && m.sectionClick(ms.Y) { // sections.go
		return nil
	}
	for _, r := range m.paneRects {
		if ms.X >= r.x && ms.X < r.x+r.w && ms.Y >= r.y && ms.Y < r.y+r.h {
			m.selectPane(r.pane)
			return nil
		}
	}
	if ms.Y >= 2 && ms.Y < len(m.frame) {
		if i := m.modelAt(ansi.Strip(m.frame[ms.Y]), ms.X); i >= 0 {
			m.selectPane(i)
		}
	}
	return nil
}

// selectPane focuses pane i, leaving the prompt line if it had the keys.
func (m *Model) selectPane(i int) {
	if m.mode == modePrompt {
		m.blurPrompt()
	}
	m.userFocus = true
	m.setFocus(i)
}

// modelAt is the pane whose model's name is the last one that starts at
// or before column x of line (a board or timeline row starts with its
// model's name), or -1.
func (m *Model) modelAt(line string, x int) int {
	best, bestCol, bestLen := -1, -1, 0
	for i, p := range m.panes {
		rest, off := line, 0
		for {
			j := strings.Index(rest, p.ID)
			if j < 0 {
				break
			}
			col := ansi.StringWidth(line[:off+j])
			end := off + j + len(p.ID)
			// A whole name: not the start of a longer one (sim/slow in sim/slow2).
			whole := end == len(line) || !isNameByte(line[end])
			if whole && col <= x && (col > bestCol || col == bestCol && len(p.ID) > bestLen) {
				best, bestCol, bestLen = i, col, len(p.ID)
			}
			rest, off = rest[j+len(p.ID):], end
		}
	}
	return best
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (m *Model) onWheel(ms tea.Mouse) tea.Cmd {
	up := ms.Button == tea.MouseWheelUp
	if !up && ms.Button != tea.MouseWheelDown {
		return nil
	}
	switch m.mode {
	case modePanes:
		d := wheelStep
		if up {
			d = -d
		}
		if m.sectioning() {
			m.sectionWheel(ms.Y, d)
		}
	case modeZoom:
		if up {
			m.zoom.ScrollUp(wheelStep)
		} else {
			m.zoom.ScrollDown(wheelStep)
		}
	case modeHelp:
		if up {
			m.helpScroll(-wheelStep)
		} else {
			m.helpScroll(wheelStep)
		}
	}
	return nil
}
