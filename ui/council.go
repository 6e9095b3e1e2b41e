package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// The council's areas: the stage bar (answers → review → synthesis), the
// ranking table (each reviewer's order and the Borda count) and the
// chairman's synthesis. Like the other areas they are plain structs that
// fold events (Apply) and draw themselves (View) with the shared Context.

// councilStages are the council's stages in order, as its strategy
// declares them: the bar draws those and no other strategy's.
var councilStages = strategyStages(config.Council)

// stageState is where a stage stands.
type stageState struct {
	name    engine.Stage
	status  string // "" pending, "running", then stage_done's status
	start   time.Duration
	elapsed time.Duration
}

// StageBar is the council's progress: each stage with its state and time,
// the running one highlighted.
type StageBar struct {
	ctx    *Context
	stages []stageState
	seen   bool // a stage started in this session
}

// NewStageBar returns the bar of a council that has not started.
func NewStageBar(c *Context) *StageBar {
	b := &StageBar{ctx: c}
	b.reset()
	return b
}

func (b *StageBar) reset() {
	b.seen = false
	b.stages = b.stages[:0]
	for _, st := range councilStages {
		b.stages = append(b.stages, stageState{name: st})
	}
}

// Active reports whether the session has stages.
func (b *StageBar) Active() bool { return b.seen }

// Stages are the council's stages, which the bar draws.
func (b *StageBar) Stages() []engine.Stage { return councilStages }

// Screen is the council's: its stages put up the council's screen.
func (b *StageBar) Screen() config.Strategy { return config.Council }

func (b *StageBar) stage(name engine.Stage) *stageState {
	for i := range b.stages {
		if b.stages[i].name == name {
			return &b.stages[i]
		}
	}
	b.stages = append(b.stages, stageState{name: name})
	return &b.stages[len(b.stages)-1]
}

// Apply folds one event into the bar. A stage the council does not
// declare (the router's classifier, the section strategy's) is left to
// the timeline and its own areas.
func (b *StageBar) Apply(ev engine.Event) {
	if ev.Stage != engine.StageNone && !slices.Contains(councilStages, ev.Stage) {
		return
	}
	switch ev.Type {
	case engine.SessionStarted:
		b.reset()
	case engine.StageStarted:
		b.seen = true
		st := b.stage(ev.Stage)
		st.status, st.start = "running", ev.T
	case engine.StageDone:
		b.seen = true
		st := b.stage(ev.Stage)
		d := detail(ev)
		st.status, st.elapsed = orStatus(d.Status), d.Elapsed
		if st.elapsed == 0 && ev.T > st.start {
			st.elapsed = ev.T - st.start
		}
	case engine.SessionDone:
		s := ev.Summary
		if s == nil {
			return
		}
		for _, r := range s.Stages {
			if !slices.Contains(councilStages, r.Name) {
				continue
			}
			b.seen = true
			st := b.stage(r.Name)
			st.status = orStatus(r.Status)
			st.start = time.Duration(r.StartedMS * float64(time.Millisecond))
			st.elapsed = time.Duration(r.ElapsedMS * float64(time.Millisecond))
		}
		// A stage still running when the session ended ended with it.
		for i := range b.stages {
			if b.stages[i].status == "running" {
				b.stages[i].status = string(s.Status)
				b.stages[i].elapsed = max(ev.T-b.stages[i].start, 0)
			}
		}
	}
}

func orStatus(s string) string {
	if s == "" {
		return "done"
	}
	return s
}

// Status is a stage's state word: pending, running, done, degraded,
// failed or cancelled.
func (b *StageBar) Status(name engine.Stage) string {
	for _, st := range b.stages {
		if st.name == name {
			if st.status == "" {
				return "pending"
			}
			return st.status
		}
	}
	return ""
}

// Height is the lines View draws.
func (b *StageBar) Height() int { return 1 }

// View draws the bar on one line: "● answers 1.20s ─ ◐ review 400ms… ─ ○
// synthesis". States other than done and running say their word, so the
// bar reads without colour.
func (b *StageBar) View(width, _ int) string {
	s := &b.ctx.S
	parts := make([]string, 0, len(b.stages))
	for _, st := range b.stages {
		var t string
		sty := s.Muted
		switch st.status {
		case "":
			t = "○ " + st.name.String()
		case "running":
			t = "◐ " + st.name.String() + " " + fmtDur(max(b.ctx.Elapsed-st.start, 0)) + "…"
			sty = s.Running.Bold(true).Underline(true)
		case "done", string(engine.StatusDecided):
			t, sty = "● "+st.name.String()+" "+fmtDur(st.elapsed), s.Ok
		case "degraded":
			t, sty = "◒ "+st.name.String()+" "+fmtDur(st.elapsed)+" degraded", s.Warn
		case "cancelled":
			t, sty = "■ "+st.name.String()+" cancelled", s.Cancelled
		default: // failed, or a status this dashboard does not know
			t, sty = "✗ "+st.name.String()+" "+st.status, s.Error
		}
		parts = append(parts, sty.Render(t))
	}
	line := s.Title.Render("Stages") + "  " + strings.Join(parts, s.Muted.Render(" ─ "))
	return fit(line, width)
}

// review is one reviewer's row of the ranking table.
type review struct {
	id, model string
	phase     phase
	reason    engine.Reason
	kind      string
	cast      bool
	ranking   []string
	invalid   bool
	raw       string
	why       string // why the ranking is invalid
}

// RankingTable is the council's peer review as it happens: one row per
// reviewer with its order (or ✗ and the start of what it wrote when it
// could not be read), the Borda count per answer with bars and the leader
// marked, and the moment the review ended early.
type RankingTable struct {
	ctx       *Context
	answers   []string // stage-1 attempt ids, in launch order
	finished  []string // stage-1 attempt ids that answered, in the order they did
	reviews   []*review
	borda     map[string]float64 // stage-1 attempt id -> points
	final     map[string]float64 // the summary's count, by model id
	ballots   map[string]int     // stage-1 attempt id -> valid ballots that ranked it
	drawn     string             // the chairman, when the engine's seeded draw settled a tie
	early     bool               // the review ended before every reviewer ranked
	earlyAt   time.Duration
	chairman  string
	hasReview bool
}

// NewRankingTable returns an empty table.
func NewRankingTable(c *Context) *RankingTable {
	return &RankingTable{ctx: c, borda: map[string]float64{}, ballots: map[string]int{}}
}

// Active reports whether there is a review to show.
func (r *RankingTable) Active() bool { return r.hasReview }

func (r *RankingTable) review(id, model string) *review {
	for _, rv := range r.reviews {
		if rv.id == id {
			return rv
		}
	}
	rv := &review{id: id, model: model}
	r.reviews = append(r.reviews, rv)
	r.hasReview = true
	return rv
}

// Apply folds one event into the table.
func (r *RankingTable) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*r = *NewRankingTable(r.ctx)
	case engine.AttemptQueued, engine.AttemptStarted:
		switch {
		case ev.Stage == engine.StageAnswers && !slices.Contains(r.answers, ev.Attempt):
			r.answers = append(r.answers, ev.Attempt)
		case ev.Stage == engine.StageReview || ev.Role == engine.RoleReviewer:
			rv := r.review(ev.Attempt, ev.Model)
			rv.phase = phaseConnecting
			if ev.Type == engine.AttemptQueued {
				rv.phase = phaseQueued
			}
		}
	case engine.Delta, engine.FirstToken, engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled, engine.AttemptSkipped:
		if ev.Type == engine.AttemptDone && ev.Stage == engine.StageAnswers {
			r.finished = append(r.finished, ev.Attempt)
		}
		if ev.Stage != engine.StageReview && ev.Role != engine.RoleReviewer {
			return
		}
		rv := r.review(ev.Attempt, ev.Model)
		switch ev.Type {
		case engine.Delta, engine.FirstToken:
			rv.phase = phaseStreaming
		case engine.AttemptDone:
			rv.phase = phaseDone
		case engine.AttemptFailed:
			rv.phase, rv.kind = phaseFailed, ev.Kind.String()
		case engine.AttemptCancelled, engine.AttemptSkipped:
			rv.phase, rv.reason = phaseCancelled, ev.Reason
			if ev.Type == engine.AttemptSkipped {
				rv.phase = phaseSkipped
			}
			if ev.Reason == engine.ReasonDecided && !r.early {
				r.early, r.earlyAt = true, ev.T
			}
		}
	case engine.RankingCast:
		d := detail(ev)
		rv := r.review(d.Reviewer, ev.Model)
		rv.cast, rv.ranking, rv.invalid, rv.raw, rv.why = true, d.Ranking, d.Invalid, d.Raw, d.Why
		if !d.Invalid && len(d.Ranking) > 1 {
			// As the engine counts: each ballot gives its first n-2
			// points (n answers; at least 1), its last 0, the others
			// evenly between.
			scale := float64(max(len(r.finished)-2, 1))
			for i, id := range d.Ranking {
				r.borda[id] += scale * float64(len(d.Ranking)-1-i) / float64(len(d.Ranking)-1)
				r.ballots[id]++
				if !slices.Contains(r.answers, id) {
					r.answers = append(r.answers, id)
				}
			}
		}
	case engine.SessionDone:
		if s := ev.Summary; s != nil {
			if s.Borda != nil {
				r.final = s.Borda
			}
			r.chairman = s.Chairman
			if s.TieBreak == engine.TieBordaDraw {
				r.drawn = s.Chairman
			}
		}
	}
}

// total is an answer's Borda points: the summary's once the session is
// done, else the count so far.
func (r *RankingTable) total(id string) float64 {
	if r.final != nil {
		if m := r.ctx.AttemptModel[id]; m != "" {
			return r.final[m]
		}
	}
	return r.borda[id]
}

// Borda is the count per model, as the summary's Borda map.
func (r *RankingTable) Borda() map[string]float64 {
	out := map[string]float64{}
	for _, id := range r.answers {
		out[r.ctx.AttemptModel[id]] += r.total(id)
	}
	return out
}

// leader is the answer with the most points, "" before any valid
// ranking. A tie goes as the engine breaks it: the better average rank
// (points per ballot that ranked the answer); then, once the session is
// done and the engine's seeded draw decided, the tied answer whose model
// chairs; before that, the answer that came first.
func (r *RankingTable) leader() string {
	best, bestN := "", -1.0
	order := slices.Clone(r.finished)
	for _, id := range r.answers {
		if !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	for _, id := range order {
		n := r.total(id)
		switch {
		case n > bestN+1e-9:
		case n < bestN-1e-9:
			continue
		case r.average(id) > r.average(best)+1e-9:
		case r.average(id) < r.average(best)-1e-9:
			continue
		case r.drawn != "" && r.ctx.AttemptModel[id] == r.drawn:
		default:
			continue
		}
		best, bestN = id, n
	}
	if bestN <= 0 && r.final == nil {
		return ""
	}
	return best
}

// average is an answer's points per valid ballot that ranked it, as the
// engine breaks a tie.
func (r *RankingTable) average(id string) float64 {
	if r.ballots[id] == 0 {
		return 0
	}
	return r.total(id) / float64(r.ballots[id])
}

// Height is the lines View draws: the title, a row per reviewer, a row
// per answer, and the early end.
func (r *RankingTable) Height() int {
	if len(r.reviews) == 0 && len(r.answers) == 0 {
		return 2
	}
	h := 1 + len(r.reviews) + len(r.answers)
	if r.early {
		h++
	}
	return h
}

// View draws the table.
func (r *RankingTable) View(width, height int) string {
	s := &r.ctx.S
	valid, invalid, pending := 0, 0, 0
	for _, rv := range r.reviews {
		switch {
		case rv.cast && rv.invalid:
			invalid++
		case rv.cast:
			valid++
		case rv.phase.active():
			pending++
		}
	}
	head := s.Title.Render("Rankings") + s.Subtle.Render(fmt.Sprintf("  %d valid", valid))
	if invalid > 0 {
		head += s.Error.Render(fmt.Sprintf(" · %d invalid", invalid))
	}
	if pending > 0 {
		head += s.Subtle.Render(fmt.Sprintf(" · %d reviewing", pending))
	}
	lines := []string{fit(head, width)}
	if len(r.reviews) == 0 && len(r.answers) == 0 {
		lines = append(lines, s.Muted.Render("no review yet"))
		return strings.Join(lines, "\n")
	}
	nameW := 6
	for _, rv := range r.reviews {
		nameW = max(nameW, lipgloss.Width(rv.model))
	}
	for _, id := range r.answers {
		nameW = max(nameW, 2+lipgloss.Width(r.ctx.AttemptModel[id]))
	}
	nameW = min(nameW, max(width/3, 8))
	rest := max(width-nameW-3, 1)
	for _, rv := range r.reviews {
		var t string
		switch {
		case rv.cast && rv.invalid:
			raw := strings.Join(strings.Fields(sanitize(rv.raw)), " ")
			head := "✗ invalid"
			if rv.why != "" {
				head += " · " + sanitize(rv.why)
			}
			head = truncate(head, max(rest-5, 9))
			t = s.Error.Render(head) + s.Subtle.Render(": "+truncate(fmt.Sprintf("%q", raw), max(rest-lipgloss.Width(head)-2, 3)))
		case rv.cast:
			t = rankingText(r.ctx, rv.ranking, true)
			if lipgloss.Width(t) > rest {
				t = rankingText(r.ctx, rv.ranking, false)
			}
			t = s.Text.Render(t)
		case rv.phase == phaseCancelled || rv.phase == phaseSkipped:
			t = phaseStyle(s, rv.phase).Render(phaseGlyph(r.ctx, rv.phase)+" "+rv.phase.String()) + s.Subtle.Render(" · "+reasonText(rv.reason))
		case rv.phase == phaseFailed:
			t = s.Error.Render("✗ failed") + s.Subtle.Render(" · "+rv.kind)
		case rv.phase == phaseDone:
			t = s.Subtle.Render("✓ done, reading its ranking…")
		default:
			t = s.Running.Render(spin(r.ctx) + " reviewing…")
		}
		lines = append(lines, fit("  "+fit(s.Subtle.Render(truncate(rv.model, nameW)), nameW)+" "+t, width))
	}
	nRev := len(r.reviews)
	lead := r.leader()
	most := 1.0
	for _, id := range r.answers {
		most = max(most, r.total(id))
	}
	bw := max(width-nameW-3-6, 4)
	for _, id := range r.answers {
		n := r.total(id)
		label := r.ctx.Labels[id]
		if label == "" {
			label = "?"
		}
		name := fit(label+" "+truncate(r.ctx.AttemptModel[id], nameW-2), nameW)
		f := min(int(float64(bw)*n/most+0.5), bw)
		mark, st := "  ", s.Text
		if id == lead {
			mark, st = s.Won.Render("★ "), s.Ok
		}
		line := mark + st.Render(name) + " " + st.Render(strings.Repeat("█", f)) + s.Muted.Render(strings.Repeat("░", bw-f)) + " " + points(n)
		lines = append(lines, fit(line, width))
	}
	if r.early {
		lines = append(lines, fit(s.Cancelled.Render("■ decided at "+fmtDur(r.earlyAt))+s.Subtle.Render(": leader cannot be caught"), width))
	}
	if len(lines) > height && nRev > 1 {
		// The totals matter most: the reviews fold into one line (each
		// member's pane still shows its ranking).
		folded := fit(s.Muted.Render(fmt.Sprintf("  %d reviews folded: each pane's review line has its ranking", nRev)), width)
		lines = append([]string{lines[0], folded}, lines[1+nRev:]...)
	}
	if len(lines) > height && height > 0 {
		more := fmt.Sprintf("+%d more rows: a taller terminal shows them", len(lines)-height+1)
		lines = append(lines[:height-1], fit(s.Muted.Render(truncate(more, width)), width))
	}
	return strings.Join(lines, "\n")
}

// Line is the table in one line for small screens: the Borda count,
// leader first ("Borda ★ B sim/steady 4 · A sim/swift 1 …").
func (r *RankingTable) Line(width int) string {
	s := &r.ctx.S
	ids := slices.Clone(r.answers)
	slices.SortStableFunc(ids, func(a, b string) int { return cmp.Compare(r.total(b), r.total(a)) })
	lead := r.leader()
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		t := fmt.Sprintf("%s %s %s", r.ctx.Labels[id], r.ctx.AttemptModel[id], points(r.total(id)))
		if id == lead {
			parts = append(parts, s.Won.Render("★ "+t))
			continue
		}
		parts = append(parts, s.Text.Render(t))
	}
	line := s.Title.Render("Borda") + "  " + strings.Join(parts, s.Muted.Render(" · "))
	if r.early {
		line += s.Subtle.Render(" · decided at " + fmtDur(r.earlyAt))
	}
	return fit(line, width)
}

// points writes Borda points without needless decimals: 2, 1.5, 0.33.
func points(p float64) string { return strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64) }

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

// detail is an event's [engine.Detail], empty when it has none.
func detail(ev engine.Event) engine.Detail {
	if ev.Detail != nil {
		return *ev.Detail
	}
	return engine.Detail{}
}
