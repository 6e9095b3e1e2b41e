package ui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// badge is the breaker state: closed, open with the countdown to
// half-open, half-open, or forced.
func (p *ModelPane) badge() string {
	s := &p.ctx.S
	if !p.hasH {
		return ""
	}
	b := p.health.Breaker
	switch {
	case b.Forced == "open":
		return s.Error.Render("⚑ forced open")
	case b.Forced == "closed":
		return s.Warn.Render("⚑ forced closed")
	case b.State == engine.BreakerOpen:
		t := "○ open"
		if left := b.HalfOpenIn - p.ctx.Now.Sub(p.healthAt); b.HalfOpenIn > 0 && left > 0 {
			t += " " + fmtDur(left.Round(time.Second))
		}
		return s.Error.Render(t)
	case b.State == engine.BreakerHalfOpen:
		return s.Warn.Render("◐ half-open")
	}
	if left := heldLeft(b, p.ctx.Now, p.healthAt); left > 0 {
		return s.Warn.Render("⏸ held " + fmtDur(left))
	}
	t := "● closed"
	if b.Requests > 0 {
		t += fmt.Sprintf(" %d%%", int(b.FailureRate*100+0.5))
	}
	return s.Ok.Render(t)
}

// zoomText is what the zoomed pane scrolls through: the error of a failed
// attempt, then its whole text, or why there is none.
func (p *ModelPane) zoomText() string {
	s := &p.ctx.S
	var b strings.Builder
	for i, e := range p.earlier {
		b.WriteString(s.Muted.Render(fmt.Sprintf("── turn %d ──\n❯ %s\n%s", i+1, e.prompt, e.reply)) + "\n\n")
	}
	if len(p.earlier) > 0 {
		b.WriteString(s.Subtle.Render(fmt.Sprintf("── turn %d ──", len(p.earlier)+1)) + "\n")
	}
	if len(p.atts) > 1 { // every attempt, stage by stage: not only the one the pane shows
		for i, pa := range p.atts {
			if i > 0 {
				b.WriteString("\n\n")
			}
			head := "── " + cmp.Or(pa.id, fmt.Sprintf("#%d", i+1))
			if pa.stage != engine.StageNone {
				head += " " + pa.stage.String()
			}
			b.WriteString(s.Subtle.Render(head+" · "+pa.att.phase.String()+" ──") + "\n")
			if pa.att.err != "" {
				b.WriteString(s.Error.Render(sanitize(pa.att.err)) + "\n")
			}
			if r := pa.att.reasoning.String(); r != "" {
				if p.ctx.FoldReasoning {
					b.WriteString(s.Muted.Render(fmt.Sprintf("▸ reasoning, %d chars · R shows it", len([]rune(r)))) + "\n")
				} else {
					b.WriteString(s.Muted.Render(r) + "\n")
				}
			}
			b.WriteString(cmp.Or(pa.att.text.String(), s.Muted.Render("(no text)")))
		}
		return b.String()
	}
	if p.a.phase == phaseFailed && p.a.err != "" {
		b.WriteString(s.Error.Render(sanitize(p.a.err)) + "\n\n")
	}
	if r := p.a.reasoning.String(); r != "" {
		if p.ctx.FoldReasoning {
			b.WriteString(s.Muted.Render(fmt.Sprintf("▸ reasoning, %d chars · R shows it", len([]rune(r)))) + "\n\n")
		} else {
			b.WriteString(s.Muted.Render(r) + "\n\n")
		}
	}
	switch text := p.Text(); {
	case text != "":
		b.WriteString(text)
	case p.a.phase == phaseIdle && p.a.inSession:
		b.WriteString(s.Muted.Render("(no text: not in this session)"))
	case p.a.phase == phaseIdle:
		b.WriteString(s.Muted.Render("(no text: no session yet)"))
	case p.a.phase == phaseSkipped:
		b.WriteString(s.Muted.Render("(no text: not called, " + reasonText(p.a.reason) + ")"))
	case p.a.phase.active():
		b.WriteString(s.Muted.Render("(no text yet)"))
	default:
		b.WriteString(s.Muted.Render("(no text)"))
	}
	return b.String()
}

// bar is the latency bar on the frame's shared axis (the timeline's
// scale, so that every pane's bar lines up and a race uses the width):
// blank before the attempt started, ▼ the first token, ↯ the hedge firing,
// ┊ the per-model timeout when it falls on the axis; the elapsed time and
// the timeout at its end.
func (p *ModelPane) bar(w int) string {
	a := p.a
	s := &p.ctx.S
	if !a.hasStart || a.phase == phaseSkipped {
		return ""
	}
	el := a.now(p.ctx.Elapsed) - a.start
	label := " " + fmtDur(el)
	if p.timeout > 0 {
		label += "/" + fmtDur(p.timeout)
	}
	scale := p.ctx.Axis
	if scale <= 0 {
		scale = p.timeout
	}
	bw := w - lipgloss.Width(label)
	if bw < 6 || scale <= 0 {
		return s.Subtle.Render(strings.TrimSpace(label))
	}
	col := func(d time.Duration) int {
		c := int(float64(bw) * float64(d) / float64(scale))
		return min(max(c, 0), bw-1)
	}
	from := col(a.start)
	to := min(max(int(float64(bw)*float64(a.start+el)/float64(scale)+0.5), from), bw)
	cells := make([]rune, bw)
	for i := range cells {
		switch {
		case i < from:
			cells[i] = ' '
		case i < to:
			cells[i] = '█'
		default:
			cells[i] = '░'
		}
	}
	if p.timeout > 0 && a.start+p.timeout < scale {
		cells[col(a.start+p.timeout)] = '┊'
	}
	if a.hasFirst {
		cells[col(a.first)] = '▼'
	}
	if a.hasHedge {
		cells[col(a.hedgeFired)] = '↯'
	}
	st := phaseStyle(s, a.phase)
	return string(cells[:from]) + st.Render(string(cells[from:to])) + s.Muted.Render(string(cells[to:])) + s.Subtle.Render(label)
}

// View draws the pane in a box of width x height cells.
func (p *ModelPane) View(width, height int) string {
	iw, ih := width-2, height-2
	if iw < 1 || ih < 1 {
		return ""
	}
	lines := make([]string, 0, ih)
	add := func(l string) {
		if len(lines) < ih && l != "" {
			lines = append(lines, l)
		}
	}
	if p.excluded {
		add(p.ctx.S.Muted.Render("○ off · space to include"))
	} else {
		role := ""
		if p.a.role != "" {
			role = p.ctx.S.Subtle.Render(string(p.a.role))
		}
		if p.turn > 1 {
			role = p.ctx.S.Subtle.Render(fmt.Sprintf("turn %d", p.turn)) + " " + role
		}
		add(spread(p.a.statusLine(p.ctx)+p.a.voteText(p.ctx), " "+role, iw))
		if st := p.strip(); st != "" {
			add(fit(st, iw))
		}
		if p.a.phase == phaseFailed && p.a.err != "" && ih >= 5 {
			add(p.ctx.S.Error.Render(truncate(sanitize(p.a.err), iw)))
		}
		add(p.metricsFit(iw))
		add(p.bar(iw))
		if rest := ih - len(lines); rest > 0 {
			st := p.ctx.S.Text
			if p.a.phase == phaseCancelled || p.a.phase == phaseFailed {
				st = p.ctx.S.Subtle
			}
			for _, l := range p.textTail(iw, rest, st) {
				add(l)
			}
		}
	}
	return box(p.ctx, p.ID, p.badge(), lines, width, height, p.focused)
}

// textTail is the last n lines of the text area, w wide: the reasoning,
// dimmed (or folded to one line, R), then the answer in style st; once
// the answer has ended, its first lines (what leads to it above them, as
// room allows).
func (p *ModelPane) textTail(w, n int, st lipgloss.Style) []string {
	s := &p.ctx.S
	var lines []string
	for i, e := range p.earlier {
		lines = append(lines, s.Muted.Render(truncate(fmt.Sprintf("── turn %d ──", i+1), w)),
			s.Muted.Render(truncate("❯ "+e.prompt, w)))
		for _, l := range wrapTail(e.reply, w, n) {
			lines = append(lines, s.Muted.Render(l))
		}
	}
	if len(p.earlier) > 0 {
		lines = append(lines, s.Subtle.Render(truncate(fmt.Sprintf("── turn %d ──", len(p.earlier)+1), w)))
	}
	if r := p.a.reasoning.String(); r != "" {
		if p.ctx.FoldReasoning {
			lines = append(lines, s.Muted.Render(truncate(fmt.Sprintf("▸ reasoning, %d chars · R shows it", len([]rune(r))), w)))
		} else {
			for _, l := range wrapTail(r, w, n) {
				lines = append(lines, s.Muted.Render(l))
			}
		}
	}
	if t := p.a.text.String(); t != "" {
		if p.a.phase.ended() { // a finished answer opens at its top
			if len(lines) >= n {
				lines = lines[:0] // the answer before what led to it
			}
			for _, l := range wrapHead(t, w, n-len(lines)) {
				lines = append(lines, st.Render(l))
			}
			return lines
		}
		for _, l := range wrapTail(t, w, n) {
			lines = append(lines, st.Render(l))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// box draws a border with a title on the left and a badge on the right of
// the top edge. The focused box has a heavy border, visible without colour.
func box(c *Context, title, badge string, lines []string, width, height int, focused bool) string {
	iw := width - 2
	st := c.S.Border
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	tst := c.S.Bold
	if focused {
		st = c.S.Focus
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
		tst = c.S.Title
	}
	t := " " + truncate(title, max(iw-4, 1)) + " "
	tw := lipgloss.Width(t)
	bw := 0
	if badge != "" {
		badge = " " + badge + " "
		bw = lipgloss.Width(badge)
		if tw+bw+2 > iw {
			badge, bw = "", 0
		}
	}
	fill := max(iw-1-tw-bw, 0)
	var b strings.Builder
	b.WriteString(st.Render(tl+hz) + tst.Render(t) + st.Render(strings.Repeat(hz, fill)) + badge + st.Render(tr))
	side := st.Render(vt)
	for i := 0; i < height-2; i++ {
		b.WriteByte('\n')
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		b.WriteString(side + fit(l, iw) + side)
	}
	b.WriteByte('\n')
	b.WriteString(st.Render(bl + strings.Repeat(hz, iw) + br))
	return b.String()
}

// heldLeft is what is left, at now, of a rate-limit hold (the server's
// Retry-After) that had b.HeldFor left when the health was read at at,
// rounded up to a second; 0 when there is none.
func heldLeft(b engine.BreakerSnapshot, now, at time.Time) time.Duration {
	left := b.HeldFor - now.Sub(at)
	if b.HeldFor <= 0 || left <= 0 {
		return 0
	}
	return (left + time.Second - 1).Truncate(time.Second)
}
