package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// sectionStages are the section strategy's stages in order.
var sectionStages = [2]engine.Stage{engine.StageSections, engine.StageMerge}

// SectionList is the section strategy's progress: one row per section of
// the document (title, model, status, latency, ↻ retried, ⚖ voted with
// the verdicts, ⚑ disagreement), filling in as sections finish; the two
// stages (sections, merge); and the wall-clock the parallel run saved
// against the sum of the section times.
type SectionList struct {
	ctx   *Context
	rows  []engine.SectionResult
	seen  bool
	stage [2]stageState // sections, merge
	// serial is the sum of the section attempts' times, by the events
	// until the summary gives it exactly; wall the sections stage's time.
	serial, wall time.Duration
	mergeMode    string
	mergeStatus  string
	answer       string // the merged result (session_done)
	started      map[string]time.Duration
}

// NewSectionList returns an empty list.
func NewSectionList(c *Context) *SectionList {
	l := &SectionList{ctx: c}
	l.reset()
	return l
}

func (l *SectionList) reset() {
	*l = SectionList{ctx: l.ctx, started: map[string]time.Duration{}}
	l.stage[0].name, l.stage[1].name = sectionStages[0], sectionStages[1]
}

// Active reports whether the session is a section session.
func (l *SectionList) Active() bool { return l.seen }

// Stages are the section strategy's: every section at once, then the merge.
func (l *SectionList) Stages() []engine.Stage { return sectionStages[:] }

// Screen is the section strategy's.
func (l *SectionList) Screen() config.Strategy { return config.Section }

// Apply folds one event into the list.
func (l *SectionList) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		l.reset()
	case engine.SectionChanged:
		l.seen = true
		d := detail(ev)
		if d.Sections != nil {
			l.rows = append(l.rows[:0], d.Sections...)
		}
		if r := d.Section; r != nil && r.Index >= 1 && r.Index <= len(l.rows) {
			l.rows[r.Index-1] = *r
		}
	case engine.AttemptStarted:
		if ev.Stage == engine.StageSections {
			l.started[ev.Attempt] = ev.T
		}
	case engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled:
		if t, ok := l.started[ev.Attempt]; ok && ev.Stage == engine.StageSections {
			l.serial += ev.T - t
			delete(l.started, ev.Attempt)
		}
	case engine.StageStarted, engine.StageDone:
		i := 0
		switch ev.Stage {
		case engine.StageSections:
		case engine.StageMerge:
			i = 1
		default:
			return
		}
		l.seen = true
		st := &l.stage[i]
		if ev.Type == engine.StageStarted {
			st.status, st.start = "running", ev.T
			return
		}
		d := detail(ev)
		st.status, st.elapsed = orStatus(d.Status), d.Elapsed
		if i == 0 {
			l.wall = d.Elapsed
		}
	case engine.SessionDone:
		s := ev.Summary
		if s == nil || len(s.Sections) == 0 {
			return
		}
		l.seen = true
		l.rows = append(l.rows[:0], s.Sections...)
		l.serial = time.Duration(s.SerialMS * float64(time.Millisecond))
		l.wall = l.serial - time.Duration(s.SavedMS*float64(time.Millisecond))
		if s.Merge != nil {
			l.mergeStatus = s.Merge.Status
			l.mergeMode = string(s.Merge.Mode)
			if s.Merge.Model != "" {
				l.mergeMode += " · " + s.Merge.Model
			}
		}
		l.answer = s.Answer
		for i := range l.stage {
			if l.stage[i].status == "running" {
				l.stage[i].status = string(s.Status)
			}
		}
	}
}

// counts is how many sections are done, and how many there are.
func (l *SectionList) counts() (done, all int) {
	for _, r := range l.rows {
		if r.Status == "done" {
			done++
		}
	}
	return done, len(l.rows)
}

// Saved is the header's "6.1 s instead of 41 s": the sections' wall-clock
// against the sum of their times; empty until the sections are done.
func (l *SectionList) Saved() string {
	if l.wall <= 0 || l.serial <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f s instead of %.1f s", l.wall.Seconds(), l.serial.Seconds())
}

// StageLine is the stages on one line, with the sections' count and the
// time saved.
func (l *SectionList) StageLine(width int) string {
	s := &l.ctx.S
	var parts []string
	for _, st := range l.stage {
		var t string
		sty := s.Muted
		switch st.status {
		case "":
			t = "○ " + st.name.String()
		case "running":
			t, sty = "◐ "+st.name.String()+" "+fmtDur(max(l.ctx.Elapsed-st.start, 0))+"…", s.Running.Bold(true)
		case "done", string(engine.StatusDecided):
			t, sty = "● "+st.name.String()+" "+fmtDur(st.elapsed), s.Ok
		case "degraded":
			t, sty = "◒ "+st.name.String()+" "+fmtDur(st.elapsed)+" degraded", s.Warn
		case "cancelled":
			t, sty = "■ "+st.name.String()+" cancelled", s.Cancelled
		default:
			t, sty = "✗ "+st.name.String()+" "+st.status, s.Error
		}
		parts = append(parts, sty.Render(t))
	}
	done, all := l.counts()
	right := s.Subtle.Render(fmt.Sprintf("%d/%d sections", done, all))
	if sv := l.Saved(); sv != "" {
		right += s.Muted.Render(" · ") + s.Ok.Render(sv)
	}
	return spread(s.Title.Render("Stages")+"  "+strings.Join(parts, s.Muted.Render(" ─ ")), right, width)
}

// Height is the lines View would like: a row per section and the border.
func (l *SectionList) Height() int { return max(len(l.rows), 1) + 2 }

// View draws the list in a box; with fewer lines than sections, the
// running and failed ones and the latest to finish are kept in view by
// scrolling to the first section not yet done.
func (l *SectionList) View(width, height int) string {
	s := &l.ctx.S
	iw, ih := width-2, height-2
	if iw < 1 || ih < 1 {
		return ""
	}
	var lines []string
	if len(l.rows) == 0 {
		lines = append(lines, s.Muted.Render("the document's sections appear here"))
	}
	first := 0
	if len(l.rows) > ih {
		for i, r := range l.rows {
			if r.Status != "done" {
				first = min(i, len(l.rows)-ih)
				break
			}
			first = len(l.rows) - ih
		}
	}
	modelW := 0
	for _, r := range l.rows {
		modelW = max(modelW, lipgloss.Width(r.Model))
	}
	wide := iw >= 90
	marksW := 0
	for _, r := range l.rows {
		marksW = max(marksW, lipgloss.Width(l.marks(r, wide)))
	}
	for _, r := range l.rows[first:min(len(l.rows), first+ih)] {
		lines = append(lines, l.row(r, iw, modelW, marksW, wide))
	}
	done, all := l.counts()
	title := fmt.Sprintf("sections %d/%d", done, all)
	if shown := min(len(l.rows), first+ih) - first; shown < len(l.rows) {
		// Not all fit: which rows are shown, and how many are not.
		title += fmt.Sprintf(" · rows %d-%d of %d, %d more", first+1, first+shown, len(l.rows), len(l.rows)-shown)
	}
	return box(l.ctx, title, "", lines, width, height, false)
}

// row is one section's line: mark, title, then on the right the model,
// latency and marks.
func (l *SectionList) row(r engine.SectionResult, w, modelW, marksW int, wide bool) string {
	s := &l.ctx.S
	mark, sty := "○", s.Muted
	switch r.Status {
	case "running":
		mark, sty = spin(l.ctx), s.Running
	case "retrying":
		mark, sty = "↻", s.Warn
	case "done":
		mark, sty = "✓", s.Ok
	case "failed":
		mark, sty = "✗", s.Error
	}
	var right []string
	if r.Model != "" {
		right = append(right, s.Subtle.Render(fmt.Sprintf("%-*s", modelW, r.Model)))
	}
	lat := ""
	if r.ElapsedMS > 0 {
		lat = fmtDur(time.Duration(r.ElapsedMS * float64(time.Millisecond)))
	}
	if wide || r.Status != "done" {
		right = append(right, sty.Render(fmt.Sprintf("%-8s", r.Status)))
	}
	right = append(right, fmt.Sprintf("%6s", lat))
	marks := l.marks(r, wide)
	marks += strings.Repeat(" ", max(marksW-lipgloss.Width(marks), 0))
	right = append(right, marks)
	left := sty.Render(mark) + " " + s.Text.Render(sanitize(r.Title))
	rs := strings.Join(right, " ")
	room := w - lipgloss.Width(rs) - 1
	return spread(truncate(left, max(room, 4)), " "+rs, w)
}

// marks are a row's ↻ (retried) and ⚖ verdict (the runs' verdicts when
// wide), ⚑ when they disagreed.
func (l *SectionList) marks(r engine.SectionResult, wide bool) string {
	s := &l.ctx.S
	marks := " "
	if r.Retried {
		marks = s.Warn.Render("↻")
	}
	if len(r.Votes) > 0 {
		v := r.Verdict
		if wide {
			v = strings.Join(r.Votes, ",")
			if r.Verdict != "" {
				v = r.Verdict + " (" + v + ")"
			}
		}
		vs := s.Accent
		if r.Disagree {
			vs = s.Warn
			v += " ⚑"
		}
		marks += " " + vs.Render("⚖ "+v)
	}
	return marks
}

// MergeView is the merge pane when no chairman streams (merge = concat,
// or before the merge): the merged result, or what it waits for.
func (l *SectionList) MergeView(width, height int) string {
	s := &l.ctx.S
	iw, ih := width-2, height-2
	if iw < 1 || ih < 1 {
		return ""
	}
	title := "merge"
	if l.mergeMode != "" {
		title += " · " + l.mergeMode
	}
	var lines []string
	if l.answer == "" {
		done, all := l.counts()
		lines = append(lines, s.Muted.Render(fmt.Sprintf("○ waiting for the sections (%d of %d done)", done, all)))
	}
	if l.answer != "" {
		// The start of the result: the first sections, in document order.
		for _, t := range strings.Split(wrapAll(sanitize(l.answer), iw), "\n") {
			if len(lines) < ih {
				lines = append(lines, s.Text.Render(t))
			}
		}
	}
	badge := ""
	if l.mergeStatus == "degraded" {
		badge = s.Warn.Render("⚑ merge degraded")
	}
	return box(l.ctx, title, badge, lines, width, height, false)
}

// sectionsBody is the section strategy's screen: the stages with the
// count and the time saved, the section list, the merge (the chairman
// streaming its synthesis, or the concatenated result), and the breakers
// in one line. On a small screen the list gets at most half the height
// and the merge what is left.
func (m *Model) sectionsBody(w, bh int) string {
	if bh < 4 {
		return m.sections.StageLine(w)
	}
	h := bh - 2 // the stage line and the breakers' line
	listH := min(m.sections.Height(), max(h*55/100, 3))
	mergeH := h - listH
	parts := []string{m.sections.StageLine(w), padLines(m.sections.View(w, listH), listH)}
	if mergeH >= 3 {
		// The chairman while it writes; once the session is done, the
		// result as decided: with its MISSING and DISAGREEMENT lines.
		if m.synth.Active() && m.sections.answer == "" {
			parts = append(parts, padLines(m.synth.View(w, mergeH), mergeH))
		} else {
			parts = append(parts, padLines(m.sections.MergeView(w, mergeH), mergeH))
		}
	} else if mergeH > 0 {
		parts = append(parts, padLines("", mergeH))
	}
	parts = append(parts, m.board.SummaryView(w))
	return strings.Join(parts, "\n")
}
