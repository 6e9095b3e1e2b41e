package ui

import (
	"time"
	"unicode/utf8"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/providers"
)

// SynthesisPane is the chairman's streaming synthesis, in a box titled
// "synthesis · <chairman>"; a fallback chairman (the first one failed) is
// flagged, with the failure that caused it.
type SynthesisPane struct {
	ctx      *Context
	timeout  time.Duration
	a        *attempt
	id       string // the current chairman attempt
	model    string
	fallback bool
	failed   []string // earlier chairmen: "sim/steady ✗ timeout"
	focused  bool
}

// NewSynthesisPane returns an empty synthesis.
func NewSynthesisPane(c *Context) *SynthesisPane {
	return &SynthesisPane{ctx: c, a: &attempt{}}
}

// Active reports whether a chairman has started.
func (p *SynthesisPane) Active() bool { return p.model != "" }

// Text is the synthesis streamed so far (or the whole of it).
func (p *SynthesisPane) Text() string { return p.a.text.String() }

// Title is the box's title.
func (p *SynthesisPane) Title() string {
	if p.model == "" {
		return "synthesis"
	}
	return "synthesis · " + p.model
}

// Apply folds one event into the pane.
func (p *SynthesisPane) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*p = SynthesisPane{ctx: p.ctx, timeout: p.timeout, a: &attempt{inSession: true}, focused: p.focused}
		return
	case engine.Decided:
		if p.model != "" && ev.Model == p.model {
			p.a.apply(ev)
		}
		return
	case engine.SessionDone:
		// The summary fills in what the events did not stream.
		if s := ev.Summary; s != nil {
			if s.Chairman != "" && p.model == "" {
				p.model = s.Chairman
			}
			if s.Synthesis != "" && p.a.text.Len() == 0 {
				t := sanitize(s.Synthesis)
				p.a.text.WriteString(t)
				p.a.textRunes = utf8.RuneCountInString(t)
			}
		}
		return
	}
	chair := ev.Role == engine.RoleChairman || ev.Stage == engine.StageSynthesis
	start := ev.Type == engine.AttemptStarted || ev.Type == engine.AttemptQueued
	if !chair || ev.Attempt != p.id && !start {
		return
	}
	// A new chairman: another attempt id, or (from an engine without
	// attempt ids) another model starting.
	if ev.Attempt != p.id || p.model == "" || start && ev.Model != p.model {
		if p.model != "" {
			p.fallback = true
			what := p.a.phase.String()
			if p.a.phase == phaseFailed {
				what = "failed · " + p.a.kind.String()
				if p.a.kind == providers.KindTimeout {
					what = "timeout"
				}
			}
			p.failed = append(p.failed, p.model+" "+what)
		}
		p.id, p.model, p.a = ev.Attempt, ev.Model, &attempt{inSession: true}
	}
	p.a.apply(ev)
}

// badge flags a fallback chairman.
func (p *SynthesisPane) badge() string {
	if p.fallback {
		return p.ctx.S.Warn.Render("⚑ fallback chairman")
	}
	return ""
}

// head is the pane's status lines: the chairman's status and metrics,
// and the chairmen that failed before it.
func (p *SynthesisPane) head(iw int) []string {
	s := &p.ctx.S
	var lines []string
	if p.model == "" {
		return []string{s.Muted.Render("○ waiting for the review")}
	}
	mp := ModelPane{ctx: p.ctx, a: p.a, timeout: p.timeout}
	role := "chairman"
	if p.fallback {
		role = "fallback chairman"
	}
	lines = append(lines, spread(p.a.statusLine(p.ctx), " "+s.Subtle.Render(role), iw))
	for _, f := range p.failed {
		lines = append(lines, fit(s.Error.Render("✗ ")+s.Subtle.Render("chairman "+f+" → fallback"), iw))
	}
	if m := mp.metricsFit(iw); m != "" {
		lines = append(lines, m)
	}
	if p.a.phase == phaseFailed && p.a.err != "" {
		lines = append(lines, s.Error.Render(truncate(sanitize(p.a.err), iw)))
	}
	return lines
}

// Height is the least height of the synthesis's box: it takes what the
// layout leaves.
func (p *SynthesisPane) Height() int { return synthMinH }

// View draws the box: the status lines, then the tail of the synthesis.
func (p *SynthesisPane) View(width, height int) string {
	iw, ih := width-2, height-2
	if iw < 1 || ih < 1 {
		return ""
	}
	lines := p.head(iw)
	if len(lines) > ih {
		lines = lines[:ih]
	}
	if rest := ih - len(lines); rest > 0 {
		st := p.ctx.S.Text
		if p.a.phase == phaseFailed || p.a.phase == phaseCancelled {
			st = p.ctx.S.Subtle
		}
		for _, l := range wrapEnd(p.Text(), iw, rest, p.a.phase.ended()) {
			lines = append(lines, st.Render(l))
		}
	}
	return box(p.ctx, p.Title(), p.badge(), lines, width, height, p.focused)
}

// zoomText is what the zoomed synthesis scrolls through.
func (p *SynthesisPane) zoomText() string {
	if t := p.Text(); t != "" {
		return t
	}
	if p.a.phase.active() {
		return p.ctx.S.Muted.Render("(no text yet)")
	}
	return p.ctx.S.Muted.Render("(no synthesis)")
}

// synthMinH is the least height of the synthesis box.
const synthMinH = 8
