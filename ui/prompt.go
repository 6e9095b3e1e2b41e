package ui

import (
	"cmp"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// The prompt line is a bubbles textinput: it brings the editing keys
// (word moves and deletes, ctrl+u/k, home/end, bracketed paste, ctrl+v from
// the clipboard) and horizontal scrolling. The dashboard keeps enter, esc
// and up/down (the history) for itself.

const (
	promptMark        = "❯ "
	promptPlaceholder = "type a prompt; enter runs it (/ focuses this line, esc leaves it)"
	watchPlaceholder  = "watching: the prompt of the session on screen shows here; sessions start on the servers"
)

// newPromptInput returns the prompt line styled by s: bright when typing,
// dim otherwise, a reverse-video cursor that reads without colour and
// does not blink (a blinking cursor would redraw the dashboard twice a
// second for nothing).
func newPromptInput(t themes.Theme, s *Styles) textinput.Model {
	in := textinput.New()
	in.Prompt = promptMark
	in.Placeholder = promptPlaceholder
	// Suggestions are off; their keys (tab, up, down) belong to the dashboard.
	in.KeyMap.AcceptSuggestion.SetEnabled(false)
	in.KeyMap.NextSuggestion.SetEnabled(false)
	in.KeyMap.PrevSuggestion.SetEnabled(false)
	st := textinput.Styles{
		Focused: textinput.StyleState{Text: s.Text, Placeholder: s.Muted, Suggestion: s.Muted, Prompt: s.Title},
		Blurred: textinput.StyleState{Text: s.Subtle, Placeholder: s.Muted, Suggestion: s.Muted, Prompt: s.Muted},
		Cursor:  textinput.CursorStyle{Shape: tea.CursorBlock},
	}
	if !t.NoColor {
		st.Cursor.Color = t.Accent
	}
	in.SetStyles(st)
	return in
}

// setPrompt replaces the prompt line's text, the cursor at its end.
func (m *Model) setPrompt(s string) {
	m.input.SetValue(strings.ReplaceAll(sanitize(s), "\n", " "))
	m.input.CursorEnd()
}

// focusPrompt gives the keys to the prompt line (typing mode), the cursor
// at the end of the text.
func (m *Model) focusPrompt() {
	m.mode = modePrompt
	m.input.Focus()
	m.input.CursorEnd()
}

// blurPrompt gives the keys back to the panes; the line then shows the
// start of a long prompt.
func (m *Model) blurPrompt() {
	m.mode = modePanes
	m.input.Blur()
	m.input.CursorStart()
}

// updatePrompt hands a message to the prompt line: keys while typing,
// pastes, and the input's own clipboard results.
func (m *Model) updatePrompt(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok {
		// Terminals send CR for a newline: CRLF, CR and LF each become one
		// space (sanitize would drop a CR and glue the words).
		p.Content = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(p.Content)
		p.Content = sanitize(p.Content) // no escape sequences from the clipboard
		msg = p
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if err := m.input.Err; err != nil {
		m.input.Err = nil
		m.setStatus("paste: "+err.Error(), true)
	}
	return cmd
}

// promptStatusWidth is the room the status takes on the right of the
// prompt line (at most half the line).
func (m *Model) promptStatusWidth(w int) int {
	tag := 0
	if tags := m.promptTags(w); tags != "" {
		tag = lipgloss.Width(tags) + 2
	}
	status := m.status
	if status == "" {
		status = m.routeWhy()
	}
	if status == "" {
		return 1 + tag
	}
	return min(lipgloss.Width(status), w/2) + 3 + tag
}

// layoutPrompt sizes the prompt line to the room the status leaves. The
// input scrolls horizontally by state kept between updates, so its width
// is set here, in Update, and never in View.
func (m *Model) layoutPrompt() {
	if m.width == 0 {
		return
	}
	// The input draws its mark, width cells of text and one for the cursor.
	w := max(m.width-m.promptStatusWidth(m.width)-lipgloss.Width(promptMark)-1, 1)
	ph := promptPlaceholder
	if m.watch != nil {
		ph = watchPlaceholder // nothing typed here runs
	}
	m.input.Placeholder = truncate(ph, w+1)
	if w == m.input.Width() {
		return
	}
	m.input.SetWidth(w)
	// Re-anchor the visible window for the new width: scroll to the end,
	// then back to the cursor.
	pos := m.input.Position()
	m.input.CursorEnd()
	m.input.SetCursor(pos)
}

// routeLines are an auto session's route and why, under the prompt line
// for as long as the session is on screen (the header has room for the
// route only when it is wide; a status would go): at most two lines,
// cut with "…" and whole in the help's notes.
func (m *Model) routeLines(w int) []string {
	if m.sessionN == 0 || w <= 0 || m.tooSmall() {
		return nil
	}
	s := &m.ctx.S
	r := m.route
	var text string
	switch {
	case r != nil:
		// A route that keeps the tier names none: the session's is it.
		text = fmt.Sprintf("route %s → %s on %s (%.2f) · why: %s", r.Name, orDash(string(r.Strategy)), orDash(cmp.Or(r.Tier, m.sessTier)), r.Confidence, orDash(r.Why))
	case m.sessInfo.Strategy != config.Auto:
		return nil
	case m.running:
		text = "route: the router is classifying the prompt…"
	default:
		text = "route: none was chosen"
	}
	lines := strings.Split(wrapAll(text, w-2), "\n")
	if len(lines) > 2 {
		lines = lines[:2]
		lines[1] = truncate(lines[1]+" …", w-2)
	}
	for i, l := range lines {
		lines[i] = " " + s.Subtle.Render(l)
	}
	return lines
}

// routeWhy is why the router chose the session's route: the prompt
// line's right side whenever no status is shown, so it stays on screen.
func (m *Model) routeWhy() string {
	if m.route == nil {
		return ""
	}
	return m.route.Why
}

// promptView is the prompt line with the transient status on its right
// (else the route's why); the chaos form takes its place while it is open.
func (m *Model) promptView(w int) string {
	s := &m.ctx.S
	if m.mode == modeForm {
		return fit(m.form.View(), w)
	}
	right := " "
	switch {
	case m.status != "":
		sty := s.Accent
		if m.statusErr {
			sty = s.Error
		}
		right = "  " + sty.Render(truncate(m.status, w/2)) + " "
	case m.routeWhy() != "":
		right = "  " + s.Subtle.Render(truncate(m.routeWhy(), w/2)) + " "
	}
	if tags := m.promptTags(w); tags != "" {
		right = "  " + s.Accent.Render(tags) + right
	}
	return spread(m.input.View(), right, w)
}
