package ui

import (
	"fmt"
	"strings"
	"time"

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

// Reset clears the pane for a new session; once the session's first event
// has arrived (markInSession), a pane it leaves idle says it is not in this
// session (before, "ready": a replay paused before it has played anything
// knows nothing of its models yet).
func (p *ModelPane) Reset() { p.a, p.atts = &attempt{}, nil }

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

// statusText is the status line with the vote, or "off" for a model
// toggled out.
func (p *ModelPane) statusText() string {
	if p.excluded {
		return p.ctx.S.Muted.Render("○ off")
	}
	return p.a.statusLine(p.ctx) + p.a.voteText(p.ctx)
}
