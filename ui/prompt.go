package ui

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// promptInput is the one-line prompt editor. (bubbles/textinput would pull
// in a clipboard module the build does not carry; a prompt line needs only
// this much: insert, delete, move, paste.)
type promptInput struct {
	Prompt      string
	Placeholder string
	value       []rune
	pos         int
	focused     bool
}

func (p *promptInput) Value() string { return string(p.value) }

func (p *promptInput) SetValue(s string) {
	p.value = []rune(strings.ReplaceAll(sanitize(s), "\n", " "))
	p.pos = len(p.value)
}

func (p *promptInput) Focus()        { p.focused = true }
func (p *promptInput) Blur()         { p.focused = false }
func (p *promptInput) Focused() bool { return p.focused }

// Update edits the value for a key press or a paste.
func (p *promptInput) Update(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		p.insert(strings.ReplaceAll(sanitize(msg.Content), "\n", " "))
	case tea.KeyPressMsg:
		switch msg.String() {
		case "backspace", "ctrl+h":
			if p.pos > 0 {
				p.value = append(p.value[:p.pos-1], p.value[p.pos:]...)
				p.pos--
			}
		case "delete", "ctrl+d":
			if p.pos < len(p.value) {
				p.value = append(p.value[:p.pos], p.value[p.pos+1:]...)
			}
		case "left", "ctrl+b":
			p.pos = max(p.pos-1, 0)
		case "right", "ctrl+f":
			p.pos = min(p.pos+1, len(p.value))
		case "home", "ctrl+a":
			p.pos = 0
		case "end", "ctrl+e":
			p.pos = len(p.value)
		case "ctrl+u":
			p.value, p.pos = p.value[p.pos:], 0
		case "ctrl+k":
			p.value = p.value[:p.pos]
		case "ctrl+w", "alt+backspace":
			i := p.pos
			for i > 0 && unicode.IsSpace(p.value[i-1]) {
				i--
			}
			for i > 0 && !unicode.IsSpace(p.value[i-1]) {
				i--
			}
			p.value, p.pos = append(p.value[:i], p.value[p.pos:]...), i
		default:
			if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
				p.insert(sanitize(msg.Text))
			}
		}
	}
}

func (p *promptInput) insert(s string) {
	r := []rune(s)
	if len(r) == 0 {
		return
	}
	v := make([]rune, 0, len(p.value)+len(r))
	v = append(append(append(v, p.value[:p.pos]...), r...), p.value[p.pos:]...)
	p.value, p.pos = v, p.pos+len(r)
}

// View draws the line in w cells, scrolled to keep the cursor in sight.
func (p *promptInput) View(w int, s *Styles) string {
	ps := s.Muted
	if p.focused {
		ps = s.Title
	}
	out := ps.Render(p.Prompt)
	w -= ansi.StringWidth(p.Prompt)
	if w < 2 {
		return out
	}
	if len(p.value) == 0 {
		cur := ""
		if p.focused {
			cur = s.Text.Reverse(true).Render(" ")
		}
		return out + cur + s.Muted.Render(truncate(p.Placeholder, w-1))
	}
	start := 0
	if p.pos >= w-1 {
		start = p.pos - (w - 2)
	}
	end := min(len(p.value), start+w-1)
	text := s.Text
	if !p.focused {
		return out + s.Subtle.Render(truncate(string(p.value[start:]), w))
	}
	before := string(p.value[start:p.pos])
	cur, after := " ", ""
	if p.pos < len(p.value) {
		cur = string(p.value[p.pos])
		after = string(p.value[p.pos+1 : max(end, p.pos+1)])
	}
	return out + text.Render(before) + text.Reverse(true).Render(cur) + text.Render(after)
}
