package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// compactView is one line per model when boxes do not fit: name, status,
// the metrics that fit, and the breaker badge in a column of its own.
func (m *Model) compactView(w, h int) string {
	s := &m.ctx.S
	nameW, badgeW, statusW := 4, 0, 0
	badges := make([]string, len(m.panes))
	statuses := make([]string, len(m.panes))
	for i, p := range m.panes {
		nameW = max(nameW, lipgloss.Width(p.ID))
		badges[i] = p.badge()
		badgeW = max(badgeW, lipgloss.Width(badges[i]))
		statuses[i] = p.statusText()
		statusW = max(statusW, lipgloss.Width(statuses[i]))
	}
	nameW = min(nameW, w/4)
	statusW = min(statusW, 26)
	lines := make([]string, 0, len(m.panes))
	for i, p := range m.panes {
		mark := "  "
		name := s.Subtle.Render(fit(truncate(p.ID, nameW), nameW))
		if i == m.focus {
			mark, name = s.Focus.Render("▶ "), s.Focus.Render(fit(truncate(p.ID, nameW), nameW))
		}
		line := mark + name + " " + fit(statuses[i], statusW)
		if room := w - lipgloss.Width(line) - badgeW - 3; room > 0 && !p.excluded {
			if p.multi() { // the stages say more than the answer's metrics
				line += " " + fit(p.stripOf(true), room)
			} else {
				line += " " + p.metricsFit(room)
			}
		}
		lines = append(lines, spread(line, "  "+fit(badges[i], badgeW), w))
	}
	if len(lines) > h {
		// Keep the focused line visible.
		start := min(max(m.focus-h+1, 0), len(lines)-h)
		lines = lines[start : start+h]
	}
	return strings.Join(lines, "\n")
}

// detailMin is the fewest lines worth giving the focused model's text in
// the compact layout (its title and three lines).
const detailMin = 4

// detailPane is the model whose answer the compact layout shows: the
// focused one, which follows the answer forming (followAnswer) until the
// user moves it.
func (m *Model) detailPane() *ModelPane { return m.focused() }

// followAnswer keeps the compact layout's focus, until the user moves it,
// on the answer worth showing: the council's synthesis once it has a
// chairman, else the winner, else, while nobody has won, the model that
// has streamed the most (of those that neither failed nor were cancelled,
// if any has text), so the rows show the answer forming rather than
// a straggler with nothing to say. It moves the focus itself, not only
// what is drawn, so that ▶, enter and y are about the answer shown.
func (m *Model) followAnswer() {
	if m.userFocus || m.sectioning() || len(m.panes) == 0 || !m.compactLayout() {
		return
	}
	if m.council() && m.synth.Active() {
		m.setFocus(len(m.panes))
		return
	}
	// An answer that failed or was cancelled is shown only when no other
	// has text: a consensus's failed voter is not the answer people mean.
	alive := func(p *ModelPane) bool { return p.a.phase != phaseFailed && p.a.phase != phaseCancelled }
	better := func(p, q *ModelPane) bool {
		if alive(p) != alive(q) {
			return alive(p)
		}
		return p.a.textRunes > q.a.textRunes
	}
	best := -1
	for i, p := range m.panes {
		if p.a.won {
			best = i
			break
		}
		if p.a.textRunes > 0 && (best < 0 || better(p, m.panes[best])) {
			best = i
		}
	}
	if best >= 0 && best != m.focus {
		m.setFocus(best)
	}
}

// compactBody is the layout of small terminals: one line per model, then
// the focused model's answer in the rows left over, then the timeline,
// the votes and the breakers. On a narrow screen the breaker board
// shrinks to one summary line when it would crowd the answer out (each
// model's line carries its breaker badge anyway).
func (m *Model) compactBody(w, bh int) string {
	listH := min(len(m.panes), max(bh/3, 1))
	avail := bh - listH
	var bottom string
	var bottomH int
	council := m.council()
	if council {
		avail-- // the stage bar
	}
	switch {
	case council && w < 100:
		bottom, bottomH = m.councilStacked(w, avail, detailMin)
	case w >= 100:
		bottomH = min(m.bottomWant(w), avail)
		bottom = m.bottomView(w, bottomH)
	default:
		bottom, bottomH = m.stackedBottom(w, avail, detailMin)
	}
	dh := avail - bottomH
	if dh == 1 { // a title without text: rather one more model line
		listH = min(len(m.panes), listH+1)
		dh = bh - listH - bottomH
		if council {
			dh--
		}
	}
	parts := []string{padLines(m.compactView(w, listH), listH)}
	if council {
		parts = append(parts, m.stages.View(w, 1))
	}
	if dh > 0 {
		parts = append(parts, padLines(m.detailView(w, dh), dh))
	}
	if bottomH > 0 {
		parts = append(parts, bottom)
	}
	return strings.Join(parts, "\n")
}

// councilStacked is the council's bottom area on a small screen, in at
// most h lines leaving keep free: the Borda count in a line, the latest
// rows of the timeline, the breakers' summary line.
func (m *Model) councilStacked(w, h, keep int) (string, int) {
	if h <= 0 {
		return "", 0
	}
	var parts []string
	used := 0
	if m.rank.Active() && h-used > keep {
		parts = append(parts, m.rank.Line(w))
		used++
	}
	if tlH := min(m.timeline.Height(), (h-used-1-keep)/1); tlH >= 3 {
		tlH = min(tlH, max(h/2, 3))
		parts = append(parts, padLines(m.timeline.View(w, tlH), tlH))
		used += tlH
	}
	if used < h {
		parts = append(parts, m.board.SummaryView(w))
		used++
	}
	return strings.Join(parts, "\n"), used
}

// stackedBottom stacks timeline, votes and breakers in at most h lines,
// leaving keep lines free when it can: the board is drawn in full only if
// it fits beside them, else as its one-line summary. It returns the
// drawing and the lines it uses.
func (m *Model) stackedBottom(w, h, keep int) (string, int) {
	if h <= 0 {
		return "", 0
	}
	parts, used := stack(m.logAreas(), w, h)
	switch full := m.board.Height(); {
	case h-used-full >= keep:
		parts = append(parts, padLines(m.board.View(w, full), full))
		used += full
	case used < h:
		parts = append(parts, m.board.SummaryView(w))
		used++
	}
	return strings.Join(parts, "\n"), used
}

// detailView is the focused model's answer in the compact layout: a rule
// with its name and status, then the word-wrapped tail of its text.
func (m *Model) detailView(w, h int) string {
	s := &m.ctx.S
	if m.council() && m.synthFocused() {
		return m.synthDetail(w, h)
	}
	p := m.detailPane()
	if p == nil || h <= 0 {
		return ""
	}
	head := s.Muted.Render("── ") + s.Title.Render(p.ID) + " " + p.statusText()
	lines := []string{head + " " + s.Muted.Render(strings.Repeat("─", max(w-lipgloss.Width(head)-1, 0)))}
	rows := h - 1
	add := func(st lipgloss.Style, ls ...string) {
		for _, l := range ls {
			if len(lines) < h {
				lines = append(lines, st.Render(l))
			}
		}
	}
	if p.a.phase == phaseFailed && p.a.err != "" {
		add(s.Error, truncate(sanitize(p.a.err), w))
		rows--
	}
	switch text := p.Text(); {
	case text != "":
		st := s.Text
		if p.a.phase == phaseCancelled || p.a.phase == phaseFailed {
			st = s.Subtle
		}
		add(st, wrapEnd(text, w, rows, p.a.phase.ended())...)
	case m.sessionN == 0:
		if m.opts.Why != "" {
			add(s.Subtle, wrapTail(m.opts.Why, w, rows)...)
		}
		add(s.Muted, wrapTail("Type a prompt and press enter: every model answers at once. tab or j/k picks the model shown here, enter zooms it, ? shows every key.", w, h-len(lines))...)
	case p.a.phase.active():
		add(s.Muted, "waiting for the first token…")
	case p.a.phase != phaseIdle:
		add(s.Muted, "(no text)")
	}
	return strings.Join(lines, "\n")
}

// synthDetail is the synthesis in the compact layout: a rule with the
// chairman and its status, then the tail of the text.
func (m *Model) synthDetail(w, h int) string {
	s := &m.ctx.S
	sp := m.synth
	head := s.Muted.Render("── ") + s.Title.Render(sp.Title()) + " " + sp.a.statusLine(m.ctx)
	if sp.fallback {
		head += " " + sp.badge()
	}
	lines := []string{head + " " + s.Muted.Render(strings.Repeat("─", max(w-lipgloss.Width(head)-1, 0)))}
	rows := h - 1
	switch text := sp.Text(); {
	case text != "":
		for _, l := range wrapEnd(text, w, rows, sp.a.phase.ended()) {
			lines = append(lines, s.Text.Render(l))
		}
	case sp.a.phase.active():
		lines = append(lines, s.Muted.Render("waiting for the first token…"))
	case !sp.Active():
		lines = append(lines, s.Muted.Render("the chairman writes here once the review is done"))
	}
	return strings.Join(lines, "\n")
}
