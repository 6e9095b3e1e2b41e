package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// handleKey dispatches a key by the focused area.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if m.watch != nil {
		if cmd, ok := m.watchKey(msg); ok {
			return cmd
		}
	}
	if msg.String() == "ctrl+c" {
		if m.running {
			m.cancelSession()
			return nil
		}
		return m.quit()
	}
	if m.tooSmall() && key.Matches(msg, k.Quit) {
		return m.quit() // the too-small screen says "q quits", whatever the mode
	}
	switch m.mode {
	case modeHelp:
		off := m.helpOff
		switch {
		case key.Matches(msg, k.CloseHelp):
			m.mode = m.back
		case key.Matches(msg, k.Quit):
			return m.quit()
		case m.scrollKeys(msg, m.helpScroll, func() { m.helpOff = 0 }):
			m.scrolled(off == m.helpOff)
		case m.helpNames(msg):
			// A key the help lists is the screen's: it closes the help and
			// does what it says there.
			m.mode = m.back
			m.syncKeys()
			return m.handleKey(msg)
		}
		return nil
	case modePrompt:
		return m.promptKey(msg)
	case modeHistory:
		return m.historyKey(msg)
	case modeForm:
		return m.formKey(msg)
	case modeCompare:
		off := m.cmpOff
		switch {
		case key.Matches(msg, k.Unzoom):
			m.mode = modePanes
		case m.scrollKeys(msg, m.compareScroll, func() { m.cmpOff = 0 }):
			m.render() // the view keeps the offset within the text
			m.scrolled(off == m.cmpOff)
		case key.Matches(msg, k.Quit):
			return m.quit()
		case key.Matches(msg, k.Help):
			m.back, m.mode, m.helpOff = m.mode, modeHelp, 0
		}
		return nil
	case modeZoom:
		if cmd, ok := m.replayKey(msg); ok {
			return cmd
		}
		if cmd, ok := m.sectionZoomKey(msg); ok { // sections.go
			return cmd
		}
		if cmd, ok := m.zoomKey(msg); ok {
			return cmd
		}
	}
	if cmd, ok := m.replayKey(msg); ok {
		return cmd
	}
	if m.mode == modePanes && m.sectioning() {
		if cmd, ok := m.sectionKey(msg); ok { // sections.go
			return cmd
		}
	}
	return m.panesKey(msg)
}

const statusTypeFirst = "type a prompt first"

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if m.cancel != nil {
		m.cancel()
	}
	return tea.Quit
}

// promptKey handles typing mode: the prompt has the keys but enter, esc
// and the history.
func (m *Model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Run):
		p := strings.TrimSpace(m.input.Value())
		if p == "" {
			m.setStatus(statusTypeFirst, true)
			return nil
		}
		if m.running {
			m.setStatus("a session is running: ctrl+c cancels it", true)
			return nil
		}
		m.blurPrompt()
		return m.startSession(p)
	case key.Matches(msg, k.Leave):
		m.blurPrompt()
		return nil
	case key.Matches(msg, k.HistoryUp):
		if m.histIdx > 0 {
			m.histIdx--
			m.setPrompt(m.history[m.histIdx])
		} else {
			m.setStatus("no older prompt: ↑ goes through this run's prompts", false)
		}
		return nil
	case key.Matches(msg, k.HistoryDown):
		if m.histIdx >= len(m.history) && m.input.Value() == "" {
			m.setStatus("no newer prompt", false)
			return nil
		}
		if m.histIdx < len(m.history)-1 {
			m.histIdx++
			m.setPrompt(m.history[m.histIdx])
		} else {
			m.histIdx = len(m.history)
			m.setPrompt("")
		}
		return nil
	}
	if m.status == statusTypeFirst {
		m.status = "" // typing answers it
	}
	return m.updatePrompt(msg)
}

// zoomKey handles the zoomed pane's own keys; ok is false for keys that
// fall through to the panes' handling (chaos, tab, quit...).
func (m *Model) zoomKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	off := m.zoom.YOffset()
	defer func() {
		if key.Matches(msg, k.ScrollUp, k.ScrollDown, k.PageUp, k.PageDown, k.Top, k.Bottom) {
			m.scrolled(off == m.zoom.YOffset())
		}
	}()
	switch {
	case key.Matches(msg, k.Unzoom):
		m.mode = modePanes
	case key.Matches(msg, k.ScrollUp):
		m.zoom.ScrollUp(1)
	case key.Matches(msg, k.ScrollDown):
		m.zoom.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		m.zoom.PageUp()
	case key.Matches(msg, k.PageDown):
		m.zoom.PageDown()
	case key.Matches(msg, k.Top):
		m.zoom.GotoTop()
	case key.Matches(msg, k.Bottom):
		m.zoom.GotoBottom()
	case key.Matches(msg, k.Next, k.Prev):
		m.moveFocus(msg)
		m.refreshZoom(true)
	case key.Matches(msg, k.Copy):
		return nil, false // the panes' handling copies
	case key.Matches(msg, k.Left, k.Right, k.Zoom, k.Toggle, k.Strategy, k.Tier, k.Prompt, k.Rerun):
		return nil, true // not while zoomed
	default:
		return nil, false
	}
	return nil, true
}

// panesKey handles navigation mode.
func (m *Model) panesKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	p := m.focused()
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.back, m.mode, m.helpOff = m.mode, modeHelp, 0
	case key.Matches(msg, k.History):
		return m.openHistory()
	case key.Matches(msg, k.Export):
		if len(m.past) == 0 {
			m.setStatus("no finished session to export yet", true)
			return nil
		}
		return m.export(m.onScreen(), msg.String() == "X")
	case msg.String() == "esc":
		m.cancelSession()
	case key.Matches(msg, k.Prompt):
		m.focusPrompt()
	case key.Matches(msg, k.Rerun):
		return m.startSession(m.sessionPrompt())
	case key.Matches(msg, k.Continue):
		m.toggleContinue()
	case key.Matches(msg, k.Settings):
		m.openSettings()
	case key.Matches(msg, k.Next, k.Prev, k.Left, k.Right, k.Up, k.Down):
		m.moveFocus(msg)
	case key.Matches(msg, k.Copy):
		return m.copyAnswer()
	case key.Matches(msg, k.Compare):
		m.compareKey(p)
	case key.Matches(msg, k.Zoom):
		m.zoomFocused(p)
	case key.Matches(msg, k.Toggle):
		m.toggleModel(p)
	case key.Matches(msg, k.Strategy):
		m.nextStrategy()
	case key.Matches(msg, k.Tier):
		m.nextTier()
	case key.Matches(msg, k.Pause):
		return m.togglePause()
	case key.Matches(msg, k.Reasoning):
		m.toggleReasoning()
	case key.Matches(msg, k.Auto):
		return m.toggleAuto()
	case key.Matches(msg, k.Theme):
		m.nextTheme()
	default:
		return m.chaosKey(msg, p)
	}
	return nil
}

// zoomFocused zooms the focused pane or the synthesis.
func (m *Model) zoomFocused(p *ModelPane) {
	if p != nil || m.synthFocused() {
		m.mode = modeZoom
		m.refreshZoom(true)
		if m.focusStreaming() { // follow the words as they arrive; a finished answer opens at its top
			m.zoom.GotoBottom()
		}
	}
}

// toggleModel leaves p's model out of the next sessions, or brings it back.
func (m *Model) toggleModel(p *ModelPane) {
	if p == nil {
		return
	}
	if m.excluded[p.ID] {
		delete(m.excluded, p.ID)
		m.setStatus(p.ID+" back in the next sessions", false)
	} else {
		m.excluded[p.ID] = true
		m.setStatus(p.ID+" left out of the next sessions", false)
	}
	p.excluded = m.excluded[p.ID]
}

// nextStrategy moves the next session to the strategy after its current one.
func (m *Model) nextStrategy() {
	i := slices.Index(m.strategies, m.strategy)
	m.strategy = m.strategies[(i+1)%len(m.strategies)]
	m.setStatus("strategy: "+string(m.strategy)+m.nextNote(), false)
}

// nextTier moves the next session to the tier after its current one.
func (m *Model) nextTier() {
	if len(m.tiers) == 0 {
		return
	}
	i := slices.Index(m.tiers, m.tier)
	m.tier = m.tiers[(i+1)%len(m.tiers)]
	note := m.nextNote()
	if m.sessionN == 0 {
		m.sessTier = m.tier
		m.rebuildPanes() // nothing on screen yet: show the tier's models
	}
	m.setStatus(fmt.Sprintf("tier: %s (%d models, %s per model)%s", m.tier, len(m.cfg.Tiers[m.tier].Models), fmtDur(m.tierTimeout(m.tier)), note), false)
}

// toggleReasoning folds the models' reasoning, or shows it dimmed.
func (m *Model) toggleReasoning() {
	m.ctx.FoldReasoning = !m.ctx.FoldReasoning
	if m.ctx.FoldReasoning {
		m.setStatus("reasoning folded: R shows it", false)
	} else {
		m.setStatus("reasoning shown, dimmed: R folds it", false)
	}
	if m.mode == modeZoom {
		m.refreshZoom(false)
	}
}

// copyAnswer copies the focused answer (or the synthesis): OSC 52 through
// the terminal, which works over ssh and in tmux, and the system
// clipboard where there is one (its failure is not an error: over ssh
// there is none).
func (m *Model) copyAnswer() tea.Cmd {
	if m.sectioning() {
		return m.copySection()
	}
	var id, text string
	switch p := m.focused(); {
	case m.synthFocused():
		id, text = "the synthesis", m.synth.Text()
	case p != nil:
		id, text = p.ID, p.Text()
	}
	if id == "" {
		return nil
	}
	if text == "" {
		m.setStatus(id+": no answer to copy", true)
		return nil
	}
	return m.copyText(id+"'s answer", text)
}

// copyText copies text, what it is named in the status.
func (m *Model) copyText(what, text string) tea.Cmd {
	m.setStatus(fmt.Sprintf("copied %s (%d chars)", what, len([]rune(text))), false)
	sys := m.sysClipboard
	return tea.Batch(tea.SetClipboard(text), func() tea.Msg {
		if sys != nil {
			_ = sys(text)
		}
		return nil
	})
}

// nextNote is what m and t add to their status: once a session is on
// screen, it keeps its own strategy and tier.
func (m *Model) nextNote() string {
	if m.sessionN > 0 {
		return " (from the next session)"
	}
	return ""
}

// Chaos and breaker actions: the backend is called in a command; Update
// records the outcome when the actionMsg comes back.

// scrollKeys moves a scrolled view (the help, the compare view) by the
// scroll keys: a line, a page, to the top or the bottom. It reports
// whether msg was one of them.
func (m *Model) scrollKeys(msg tea.KeyPressMsg, scroll func(lines int), toTop func()) bool {
	k := &m.keys
	page := max(m.height-7, 1)
	switch {
	case key.Matches(msg, k.ScrollDown):
		scroll(1)
	case key.Matches(msg, k.ScrollUp):
		scroll(-1)
	case key.Matches(msg, k.PageDown):
		scroll(page)
	case key.Matches(msg, k.PageUp):
		scroll(-page)
	case key.Matches(msg, k.Top):
		toTop()
	case key.Matches(msg, k.Bottom):
		scroll(1 << 20)
	default:
		return false
	}
	return true
}

// scrolled answers a scroll key that moved nothing: the view is at its
// end that way (or shows all of it).
func (m *Model) scrolled(stuck bool) {
	switch {
	case stuck:
		m.setStatus(statusNoScroll, false)
	case m.status == statusNoScroll:
		m.status = "" // it moved: the note is no longer true
	}
}

const statusNoScroll = "nothing more to scroll that way"

// helpNames reports whether msg is a key the help lists for the screen it
// was opened from.
func (m *Model) helpNames(msg tea.KeyPressMsg) bool {
	named := false
	k := m.helpKeys()
	k.each(func(b *key.Binding) { named = named || key.Matches(msg, *b) })
	return named
}
