package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// footerView is the short help of the focused area, "? help" and the mode.
func (m *Model) footerView(w int) string {
	s := &m.ctx.S
	right := s.Muted.Render(" " + m.mode.String() + " ")
	if m.mode != modePrompt && m.mode != modeHelp && m.mode != modeForm {
		right = s.Accent.Render("?") + s.Subtle.Render(" help ") + right
	}
	if m.mode == modeForm && m.status != "" {
		// The form has the prompt line, where the status goes: what it
		// refused, and why, is said here.
		sty := s.Accent
		if m.statusErr {
			sty = s.Error
		}
		right = sty.Render(truncate(m.status, w*2/3)) + " " + right
	}
	return spread(" "+shortHelpView(m.help.Styles, m.ctx.Keys.ShortHelp(), w-lipgloss.Width(right)-3), right, w)
}

// shortHelpView is the enabled bindings as "key desc • key desc", as many
// whole items as fit in w cells, then "…". (help.Model.ShortHelpView adds
// the item anyway when the ellipsis does not fit, overflowing its width.)
func shortHelpView(st help.Styles, bindings []key.Binding, w int) string {
	var b strings.Builder
	used := 0
	sep := st.ShortSeparator.Inline(true).Render(" • ")
	for _, kb := range bindings {
		if !kb.Enabled() {
			continue
		}
		item := st.ShortKey.Inline(true).Render(kb.Help().Key) + " " + st.ShortDesc.Inline(true).Render(kb.Help().Desc)
		if used > 0 {
			item = sep + item
		}
		iw := lipgloss.Width(item)
		if used+iw > w {
			if used+2 <= w {
				b.WriteString(" " + st.Ellipsis.Inline(true).Render("…"))
			}
			break
		}
		b.WriteString(item)
		used += iw
	}
	return b.String()
}
