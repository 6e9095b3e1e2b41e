package ui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// ModelPane is one model's box: status, TTFT, tokens, latency bar, cost,
// breaker badge and the tail of the streaming answer.
type ModelPane struct {
	ID string

	ctx *Context
	// a is the attempt the pane is about: its text area, metrics and bar.
	// It is the model's stage-1 (or only) attempt; its other attempts in
	// the session (a review, the chairman's synthesis, a classifier run,
	// a same-model hedge backup) are in atts and show in the stage strip.
	a        *attempt
	atts     []*paneAttempt
	timeout  time.Duration // the tier's per-model timeout, the latency bar's scale
	health   engine.ModelHealth
	hasH     bool
	healthAt time.Time // when health was read, for the half-open countdown
	excluded bool      // toggled out of the next sessions
	focused  bool
	// turn is the session's turn in its conversation (1: a new one);
	// earlier are the turns before, with what this model was shown as its
	// reply in each, drawn dimmed above the current answer.
	turn    int
	earlier []earlierTurn
}

// earlierTurn is one turn of a conversation as a pane draws it.
type earlierTurn struct{ prompt, reply string }

// NewModelPane returns an idle pane for model id.
func NewModelPane(c *Context, id string, timeout time.Duration) *ModelPane {
	return &ModelPane{ID: id, ctx: c, timeout: timeout, a: &attempt{}}
}

// paneAttempt is one of the model's attempts in the session.
type paneAttempt struct {
	id    string // the engine's attempt id ("" from an engine without them)
	stage engine.Stage
	att   *attempt
	// The ranking this attempt cast as a reviewer (ranking_cast).
	ranked  bool
	ranking []string
	invalid bool
}

// Reset clears the pane for a new session; from then on, a pane the
// session leaves idle says it is not in this session (before, "ready").
func (p *ModelPane) Reset() { p.a, p.atts = &attempt{inSession: true}, nil }

// mainStage reports whether an attempt of stage st is one a pane is
// about: a one-stage strategy's attempt or a council member's answer.
func mainStage(st engine.Stage) bool { return st == engine.StageNone || st == engine.StageAnswers }

// attemptFor returns the pane's attempt with id, adding it (the first one
// of a main stage becomes the pane's attempt) when add is set.
func (p *ModelPane) attemptFor(id string, st engine.Stage, add bool) *paneAttempt {
	for _, pa := range p.atts {
		if pa.id == id {
			return pa
		}
	}
	if !add {
		return nil
	}
	pa := &paneAttempt{id: id, stage: st, att: &attempt{inSession: true}}
	switch {
	case len(p.atts) == 0:
		pa.att = p.a // the placeholder becomes the first attempt
		p.a.inSession = true
	case mainStage(st) && !p.hasMain():
		p.a = pa.att
	}
	p.atts = append(p.atts, pa)
	return pa
}

// hasMain reports whether the pane already shows a main-stage attempt.
func (p *ModelPane) hasMain() bool {
	for _, pa := range p.atts {
		if pa.att == p.a {
			return mainStage(pa.stage)
		}
	}
	return false
}

// Apply folds one event about this model (or a session-wide hedge_fired)
// into the pane.
func (p *ModelPane) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.BreakerChanged:
		p.health.Breaker.State = ev.To
		p.health.Breaker.HalfOpenIn = 0
		p.hasH = true
		return
	case engine.HedgeFired:
		p.a.apply(ev)
		for _, pa := range p.atts {
			if pa.att != p.a {
				pa.att.apply(ev)
			}
		}
		return
	case engine.RankingCast:
		d := detail(ev)
		if pa := p.attemptFor(d.Reviewer, engine.StageReview, d.Reviewer != ""); pa != nil {
			pa.ranked, pa.ranking, pa.invalid = true, d.Ranking, d.Invalid
		}
		return
	case engine.Decided:
		// The winner is the model's attempt that finished last (the
		// chairman's synthesis rather than its stage-1 answer); a
		// one-stage winner becomes the attempt the pane shows.
		var won *paneAttempt
		for _, pa := range p.atts {
			if pa.att.phase == phaseDone && (won == nil || pa.att.end >= won.att.end) {
				won = pa
			}
		}
		if won == nil {
			p.a.apply(ev)
			return
		}
		won.att.apply(ev)
		if won.stage == engine.StageNone {
			p.a = won.att
		}
		return
	case engine.SessionStarted, engine.SessionDone, engine.StageStarted, engine.StageDone, engine.RouteChosen:
		return
	}
	p.attemptFor(ev.Attempt, ev.Stage, true).att.apply(ev)
}

// stageTag names an attempt in the stage strip and the timeline: its
// stage, or for a one-stage strategy its role.
func stageTag(st engine.Stage, role engine.Role) string {
	switch st {
	case engine.StageNone:
		if role == "" {
			return "attempt"
		}
		return string(role)
	case engine.StageSynthesis:
		return "chair"
	}
	return st.String()
}

// multi reports whether the pane has a stage strip: the model has several
// attempts, or one of a multi-stage strategy.
func (p *ModelPane) multi() bool {
	return len(p.atts) > 1 || len(p.atts) == 1 && p.atts[0].stage != engine.StageNone
}

// strip is the model's attempts stage by stage, e.g.
// "answers A ✓ 1.20s · review ✓ B>C>D · chair ★": the stage, the outcome
// glyph and what the stage produced.
func (p *ModelPane) strip() string { return p.stripOf(false) }

// stripOf is the strip, without the stages' times when short.
func (p *ModelPane) stripOf(short bool) string {
	if !p.multi() {
		return ""
	}
	s := &p.ctx.S
	parts := make([]string, 0, len(p.atts))
	for _, pa := range p.atts {
		a := pa.att
		t := stageTag(pa.stage, a.role)
		if l := p.ctx.Labels[pa.id]; l != "" && pa.stage == engine.StageAnswers {
			t += " " + l
		}
		g := phaseGlyph(p.ctx, a.phase)
		detail := ""
		switch {
		case a.phase == phaseCancelled || a.phase == phaseSkipped:
			detail = reasonText(a.reason)
		case a.phase == phaseFailed:
			detail = a.kind.String()
		case pa.ranked && pa.invalid:
			g, detail = "✗", "invalid ranking"
			if short {
				detail = "invalid"
			}
		case pa.ranked:
			detail = rankingText(p.ctx, pa.ranking, false)
		case a.phase.ended() && !short:
			detail = fmtDur(a.end - a.start)
		}
		gs := phaseStyle(s, a.phase)
		if pa.ranked && pa.invalid {
			gs = s.Error
		}
		part := s.Subtle.Render(t+" ") + gs.Render(g)
		if detail != "" {
			part += " " + s.Text.Render(detail)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, s.Muted.Render(" · "))
}

// phaseGlyph is the one-cell sign of a phase (the spinner while running).
func phaseGlyph(c *Context, ph phase) string {
	switch ph {
	case phaseQueued:
		return "◌"
	case phaseConnecting, phaseStreaming:
		return spin(c)
	case phaseWon:
		return "★"
	case phaseDone:
		return "✓"
	case phaseCancelled:
		return "■"
	case phaseFailed:
		return "✗"
	case phaseSkipped:
		return "⊘"
	}
	return "·"
}

// rankingText is a reviewer's order as labels ("B>C>D"), or with the
// models' ids when long is set ("B sim/steady > C sim/flaky").
func rankingText(c *Context, ids []string, long bool) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		l := c.Labels[id]
		if l == "" {
			l = id
		}
		if long && c.AttemptModel[id] != "" {
			l += " " + c.AttemptModel[id]
		}
		parts[i] = l
	}
	if long {
		return strings.Join(parts, " > ")
	}
	return strings.Join(parts, ">")
}

// SetHealth records the model's latest health, read at time at.
func (p *ModelPane) SetHealth(h engine.ModelHealth, at time.Time) {
	p.health, p.hasH, p.healthAt = h, true, at
}

// Text is the answer streamed so far (or the whole answer).
func (p *ModelPane) Text() string { return p.a.text.String() }

// Status is the pane's status word ("streaming", "won"...).
func (p *ModelPane) Status() string { return p.a.phase.String() }

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

// metrics is "ttft 120ms · 48 tok · 62 tok/s · $0.00012".
func (p *ModelPane) metrics() string {
	s := &p.ctx.S
	return s.Text.Render(strings.Join(p.metricParts(), s.Subtle.Render(" · ")))
}

// metricsFit is as many of the metrics as fit in w cells, most telling
// first.
func (p *ModelPane) metricsFit(w int) string {
	s := &p.ctx.S
	sep := s.Subtle.Render(" · ")
	out, used := "", 0
	for i, part := range p.metricParts() {
		add := len(part) // ASCII
		if i > 0 {
			add += 3
		}
		if used+add > w {
			break
		}
		if i > 0 {
			out += sep
		}
		out += s.Text.Render(part)
		used += add
	}
	return out
}

// metricParts are the pane's metrics in order of interest: time to first
// token, tokens, tokens per second, cost.
func (p *ModelPane) metricParts() []string {
	a := p.a
	var parts []string
	if a.hasFirst {
		parts = append(parts, "ttft "+fmtDur(a.first-a.start))
	} else if a.hasStart && !a.phase.ended() {
		parts = append(parts, "ttft …")
	}
	if n, exact := a.outTokens(); n > 0 || a.hasFirst {
		tok := fmt.Sprintf("%d tok", n)
		if !exact {
			tok = "~" + tok
		}
		parts = append(parts, tok)
		// A rate over less than a tenth of a second is noise (2 tokens
		// in 3 ms is not 600 tok/s).
		if d := a.now(p.ctx.Elapsed) - a.first; a.hasFirst && d >= 100*time.Millisecond && n > 0 {
			parts = append(parts, fmt.Sprintf("%.0f tok/s", float64(n)/d.Seconds()))
		}
	}
	if a.cost > 0 || a.phase == phaseDone || a.phase == phaseWon {
		parts = append(parts, fmtCost(a.cost))
	}
	return parts
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

// statusText is the status line with the vote, or "off" for a model
// toggled out.
func (p *ModelPane) statusText() string {
	if p.excluded {
		return p.ctx.S.Muted.Render("○ off")
	}
	return p.a.statusLine(p.ctx) + p.a.voteText(p.ctx)
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
