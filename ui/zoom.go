package ui

import (
	"fmt"
	"strings"
)

// zoomView is the focused pane (or the synthesis) at full size with its
// whole text.
func (m *Model) zoomView(w, h int) string {
	pct := ""
	if m.zoom.TotalLineCount() > m.zoom.Height() {
		// Which lines are shown, not a bare percentage (that reads like an
		// error rate beside a model's name).
		first := m.zoom.YOffset() + 1
		last := min(m.zoom.YOffset()+m.zoom.Height(), m.zoom.TotalLineCount())
		pct = fmt.Sprintf(" · lines %d-%d of %d", first, last, m.zoom.TotalLineCount())
	}
	lines := append(m.zoomHead(w-2), strings.Split(m.zoom.View(), "\n")...)
	if m.sectioning() && m.sections.zoomed {
		title, _ := m.sectionZoom()
		return box(m.ctx, title+pct, "", lines, w, h, true)
	}
	if m.synthFocused() {
		return box(m.ctx, m.synth.Title()+pct, m.synth.badge(), lines, w, h, true)
	}
	p := m.focused()
	if p == nil {
		return ""
	}
	return box(m.ctx, p.ID+pct, p.badge(), lines, w, h, true)
}

// zoomHead is the zoomed box's lines over the scrolling text: the status,
// the stage strip of a model with several attempts, the metrics, the
// latency bar and a rule.
func (m *Model) zoomHead(iw int) []string {
	rule := m.ctx.S.Muted.Render(strings.Repeat("┄", iw))
	var lines []string
	switch p := m.focused(); {
	case m.sectioning() && m.sections.zoomed:
		lines = []string{fit(m.ctx.S.Subtle.Render("tab: the other · y copies · esc back"), iw)}
	case m.synthFocused():
		lines = m.synth.head(iw)
	case p != nil:
		lines = append(lines, spread(p.a.statusLine(m.ctx)+p.a.voteText(m.ctx), " "+m.ctx.S.Subtle.Render(string(p.a.role)), iw))
		if p.multi() {
			lines = append(lines, fit(p.strip(), iw))
		}
		lines = append(lines, p.metrics(), p.bar(iw))
	default:
		return nil
	}
	return append(lines, rule) // an auto session's route is on the line under the prompt
}

// refreshZoom refills the zoomed pane's viewport; it follows the tail of
// a streaming answer unless the reader scrolled up.
func (m *Model) refreshZoom(top bool) {
	if m.mode != modeZoom {
		return
	}
	var text string
	switch p := m.focused(); {
	case m.sectioning() && m.sections.zoomed:
		_, text = m.sectionZoom()
	case m.synthFocused():
		text = m.synth.zoomText()
	case p != nil:
		text = p.zoomText()
	default:
		return
	}
	w, h := m.zoomSize()
	follow := m.zoom.AtBottom() || m.zoom.TotalLineCount() == 0
	m.zoom.SetWidth(w)
	m.zoom.SetHeight(h)
	m.zoom.SetContent(wrapAll(text, w))
	switch {
	case top:
		m.zoom.GotoTop()
	case follow:
		m.zoom.GotoBottom()
	}
}

// zoomSize is the viewport's size inside the zoomed pane's box.
func (m *Model) zoomSize() (w, h int) {
	return max(m.width-2, 1), max(m.bodyH()-2-len(m.zoomHead(max(m.width-2, 1))), 1)
}
