package ui

import (
	"slices"

	"github.com/council-dev/council/themes"
)

// setTheme colours the dashboard with t, live: every area draws with the
// context's styles; the help and the prompt line keep copies.
func (m *Model) setTheme(t themes.Theme) {
	m.ctx.Theme, m.ctx.S = t, NewStyles(t)
	m.help.Styles.ShortKey = m.ctx.S.Accent
	m.help.Styles.ShortDesc = m.ctx.S.Subtle
	m.help.Styles.ShortSeparator = m.ctx.S.Muted
	m.help.Styles.FullKey = m.ctx.S.Accent
	m.help.Styles.FullDesc = m.ctx.S.Text
	m.help.Styles.Ellipsis = m.ctx.S.Muted
	in := newPromptInput(t, &m.ctx.S)
	m.input.SetStyles(in.Styles())
}

// themeNames are the themes T cycles through: the built-in ones, then none.
func themeNames() []string { return append(themes.Names(), "none") }

// nextTheme switches to the theme after the current one.
func (m *Model) nextTheme() {
	names := themeNames()
	cur := m.ctx.Theme.Name
	if m.ctx.Theme.NoColor {
		cur = "none"
	}
	next := names[(slices.Index(names, cur)+1)%len(names)]
	t, err := themes.Load(next)
	if err != nil {
		m.setStatus("theme: "+err.Error(), true)
		return
	}
	m.setTheme(t)
	m.setStatus("theme: "+next, false)
}
