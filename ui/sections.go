package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
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
	// until the summary gives it exactly; wall the session's wall clock,
	// merge included (the summary's), which the sum is weighed against.
	serial, wall time.Duration
	mergeMode    string
	mergeStatus  string
	answer       string // the merged result (session_done)
	started      map[string]time.Duration
	// attempts are each section's attempts (by index), in launch order.
	attempts map[int][]string

	// The document before the first run (SetDocument): its name, its
	// sections' titles, or why it cannot run.
	docName   string
	docTitles []string
	docErr    string

	// The screen's focus: the list (sel its selected row) or the merge
	// (mergeOff its scroll offset); zoomed says enter zoomed one of them.
	focus    sectionFocus
	keys     bool // the screen has the keys (not the prompt line): the focus is drawn
	sel      int
	picked   bool // the user picked a row: the list keeps it in view
	listOff  int
	mergeOff int
	zoomed   bool
	// Where the list's and the merge's boxes were drawn (rows of the
	// screen), for the mouse; mergeRows is the merge's text height.
	listY, listH, mergeY, mergeH, mergeRows int
}

// sectionFocus is which of the section screen's areas has the keys.
type sectionFocus uint8

const (
	focusSectionList sectionFocus = iota
	focusMerge
)

// String names the focus for tests.
func (f sectionFocus) String() string { return [...]string{"list", "merge"}[f] }

// SetDocument is the document a section session will split, shown before
// the first run: its name and its sections' titles, or the error the
// session would fail with.
func (l *SectionList) SetDocument(name string, titles []string, err error) {
	l.docName, l.docTitles, l.docErr = name, titles, ""
	if err != nil {
		l.docErr = err.Error()
	}
}

// planned is the rows to draw: the session's, or before any, the
// document's sections as pending.
func (l *SectionList) planned() []engine.SectionResult {
	if len(l.rows) > 0 || l.seen {
		return l.rows
	}
	rows := make([]engine.SectionResult, len(l.docTitles))
	for i, t := range l.docTitles {
		rows[i] = engine.SectionResult{Index: i + 1, Title: t, Status: "pending"}
	}
	return rows
}

// docLine is "9 sections from contract.md", or why the document cannot
// run; empty without a document.
func (l *SectionList) docLine() string {
	name := l.docName
	if name == "" {
		name = "the document"
	}
	switch {
	case l.docErr != "":
		return name + ": " + l.docErr
	case len(l.docTitles) == 1:
		return "1 section from " + name
	case len(l.docTitles) > 0:
		return fmt.Sprintf("%d sections from %s", len(l.docTitles), name)
	}
	return ""
}

// NewSectionList returns an empty list.
func NewSectionList(c *Context) *SectionList {
	l := &SectionList{ctx: c}
	l.reset()
	return l
}

func (l *SectionList) reset() {
	*l = SectionList{ctx: l.ctx, started: map[string]time.Duration{}, attempts: map[int][]string{},
		docName: l.docName, docTitles: l.docTitles, docErr: l.docErr,
		listY: l.listY, listH: l.listH, mergeY: l.mergeY, mergeH: l.mergeH}
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
			for _, id := range append(slices.Clone(r.Attempts), r.Attempt) {
				if id != "" && !slices.Contains(l.attempts[r.Index], id) {
					l.attempts[r.Index] = append(l.attempts[r.Index], id)
				}
			}
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

// counts is how many sections are done, and how many there are (before
// a run, the document's).
func (l *SectionList) counts() (done, all int) {
	rows := l.planned()
	for _, r := range rows {
		if r.Status == "done" {
			done++
		}
	}
	return done, len(rows)
}

// Saved is the header's "6.1 s instead of 41 s": the session's wall clock
// (merge included) against the sum of the section attempts' times; empty
// until the session is done.
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
	if !l.seen && l.docLine() != "" {
		right = s.Subtle.Render(l.docLine())
	}
	if sv := l.Saved(); sv != "" {
		right += s.Muted.Render(" · ") + s.Ok.Render(sv)
	}
	return spread(s.Title.Render("Stages")+"  "+strings.Join(parts, s.Muted.Render(" ─ ")), right, width)
}

// Height is the lines View would like: a row per section and the border.
func (l *SectionList) Height() int { return max(len(l.planned()), 1) + 2 }

// View draws the list in a box. With fewer lines than sections it
// scrolls: to keep the selected row in view when the list has the focus,
// else to the first section not yet done; the title says which rows show.
func (l *SectionList) View(width, height int) string {
	s := &l.ctx.S
	iw, ih := width-2, height-2
	if iw < 1 || ih < 1 {
		return ""
	}
	rows := l.planned()
	var lines []string
	if len(rows) == 0 {
		msg := "the document's sections appear here"
		if l.docErr != "" {
			msg = l.docLine()
		}
		lines = append(lines, s.Muted.Render(truncate(msg, iw)))
	}
	first := 0
	if len(rows) > ih {
		switch {
		case l.focus == focusSectionList && l.picked:
			first = min(max(l.listOff, l.sel-ih+1, 0), l.sel)
		default:
			for i, r := range rows {
				if r.Status != "done" {
					first = i
					break
				}
				first = len(rows) - ih
			}
		}
		first = min(max(first, 0), len(rows)-ih)
	}
	l.listOff = first
	modelW := 0
	for _, r := range rows {
		modelW = max(modelW, lipgloss.Width(r.Model))
	}
	wide := iw >= 90
	marksW := 0
	for _, r := range rows {
		marksW = max(marksW, lipgloss.Width(l.marks(r, wide)))
	}
	focused := l.focus == focusSectionList && l.keys
	for i, r := range rows[first:min(len(rows), first+ih)] {
		row := l.row(r, iw, modelW, marksW, wide)
		if focused && first+i == l.sel {
			row = s.Focus.Render("▶") + fit(l.row(r, iw-1, modelW, marksW, wide), iw-1)
		}
		lines = append(lines, row)
	}
	done, all := l.counts()
	title := fmt.Sprintf("sections %d/%d", done, all)
	if !l.seen && l.docLine() != "" {
		title = l.docLine()
	}
	if shown := min(len(rows), first+ih) - first; shown < len(rows) {
		// Not all fit: which rows are shown, and how many are not.
		title += fmt.Sprintf(" · rows %d-%d of %d, %d more", first+1, first+shown, len(rows), len(rows)-shown)
	}
	return box(l.ctx, title, "", lines, width, height, focused)
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

// mergeText is the merged result, or while the chairman writes, its
// synthesis so far (text), or "" before the merge.
func (l *SectionList) mergeText(synth string) string {
	if l.answer != "" {
		return l.answer
	}
	return synth
}

// MergeView is the merge pane: the merged result from its top, scrolled
// by mergeOff, the title saying which lines show; or what it waits for.
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
	l.mergeRows = ih
	if l.answer == "" {
		done, all := l.counts()
		lines = append(lines, s.Muted.Render(fmt.Sprintf("○ waiting for the sections (%d of %d done)", done, all)))
	} else {
		all := strings.Split(wrapAll(sanitize(l.answer), iw), "\n")
		l.mergeOff = min(max(l.mergeOff, 0), max(len(all)-ih, 0))
		for _, t := range all[l.mergeOff:min(len(all), l.mergeOff+ih)] {
			lines = append(lines, s.Text.Render(t))
		}
		if len(all) > ih {
			title += fmt.Sprintf(" · lines %d-%d of %d", l.mergeOff+1, min(l.mergeOff+ih, len(all)), len(all))
			if l.focus == focusMerge && l.keys {
				title += " · j/k scroll · enter zooms"
			}
		}
	}
	badge := ""
	if l.mergeStatus == "degraded" {
		badge = s.Warn.Render("⚑ merge degraded")
	}
	return box(l.ctx, title, badge, lines, width, height, l.focus == focusMerge && l.keys)
}

// scrollMerge moves the merge by d lines (View clamps it).
func (l *SectionList) scrollMerge(d int) { l.mergeOff = max(l.mergeOff+d, 0) }

// selectRow moves the list's selection by d rows, within the list.
func (l *SectionList) selectRow(d int) {
	l.sel = min(max(l.sel+d, 0), max(len(l.planned())-1, 0))
	l.picked = true
}

// sectionZoom is the zoomed section's or merge's title and text.
func (m *Model) sectionZoom() (title, text string) {
	l := m.sections
	if l.focus == focusMerge {
		title = "merge"
		if l.mergeMode != "" {
			title += " · " + l.mergeMode
		}
		if t := l.mergeText(m.synth.Text()); t != "" {
			return title, t
		}
		return title, m.ctx.S.Muted.Render("(no merged result yet)")
	}
	rows := l.planned()
	if l.sel >= len(rows) {
		return "section", ""
	}
	return fmt.Sprintf("§%d %s", rows[l.sel].Index, sanitize(rows[l.sel].Title)), m.sectionAttempts(rows[l.sel])
}

// sectionAttempts is what enter on a section row shows: the section's
// outcome, then each of its attempts (model, how it ended, its text).
func (m *Model) sectionAttempts(r engine.SectionResult) string {
	s := &m.ctx.S
	var b strings.Builder
	head := r.Status
	if r.Model != "" {
		head += " · " + r.Model
	}
	if r.ElapsedMS > 0 {
		head += " · " + fmtDur(time.Duration(r.ElapsedMS*float64(time.Millisecond)))
	}
	if r.Retried {
		head += " · ↻ retried"
	}
	if len(r.Votes) > 0 {
		head += " · ⚖ " + strings.TrimSpace(r.Verdict+" ("+strings.Join(r.Votes, ", ")+")")
		if r.Disagree {
			head += " ⚑ the runs disagree"
		}
	}
	b.WriteString(s.Subtle.Render(head) + "\n")
	if r.Error != "" {
		b.WriteString(s.Error.Render(sanitize(r.Error)) + "\n")
	}
	shown := false
	for _, id := range m.sections.attempts[r.Index] {
		model := m.ctx.AttemptModel[id]
		p := m.byID[model]
		if p == nil {
			continue
		}
		for _, pa := range p.atts {
			if pa.id != id {
				continue
			}
			st := pa.att.phase.String()
			if pa.att.err != "" {
				st += ": " + sanitize(pa.att.err)
			}
			b.WriteString("\n" + s.Muted.Render(fmt.Sprintf("── %s %s · %s ──", id, model, st)) + "\n")
			if t := pa.att.text.String(); t != "" {
				b.WriteString(t + "\n")
				shown = true
			}
		}
	}
	if !shown {
		switch {
		case r.Text != "":
			b.WriteString("\n" + r.Text + "\n")
		case r.Status == "pending":
			b.WriteString("\n" + s.Muted.Render("(not asked yet)") + "\n")
		default:
			b.WriteString("\n" + s.Muted.Render("(no text)") + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// sectionKey handles the section screen's keys in navigation: tab (and
// h/l) go between the list and the merge, the only areas drawn; j/k pick
// a row or scroll the merge, pgup/pgdn and g/G page and jump; enter zooms
// the section (its attempts) or the merge; y copies it. ok is false for
// every other key, which the panes' handling answers.
func (m *Model) sectionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	l := m.sections
	page := max(l.mergeRows-1, 1)
	if l.focus == focusSectionList {
		page = max(l.listH-3, 1)
	}
	move := func(d int) {
		if l.focus == focusMerge {
			l.scrollMerge(d)
		} else {
			l.selectRow(d)
		}
	}
	switch {
	case key.Matches(msg, k.Next, k.Prev, k.Left, k.Right):
		l.focus = 1 - l.focus
		m.userFocus = true
	case key.Matches(msg, k.Down):
		move(1)
	case key.Matches(msg, k.Up):
		move(-1)
	case key.Matches(msg, k.PageDown) && msg.String() != "space":
		move(page)
	case key.Matches(msg, k.PageUp):
		move(-page)
	case key.Matches(msg, k.Top):
		move(-1 << 20)
	case key.Matches(msg, k.Bottom):
		move(1 << 20)
	case key.Matches(msg, k.Zoom):
		l.zoomed = true
		m.mode = modeZoom
		m.refreshZoom(true)
	case key.Matches(msg, k.Copy):
		return m.copySection(), true
	case key.Matches(msg, k.Toggle, k.Compare):
		m.setStatus("the section screen shows no model's pane: tab picks the list or the merge", true)
	default:
		return nil, false
	}
	m.setFocus(len(m.panes)) // no model's pane has the focus on this screen
	return nil, true
}

// sectionZoomKey handles tab in a zoomed section or merge: the other one
// zoomed.
func (m *Model) sectionZoomKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	if !m.sections.zoomed {
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Next, k.Prev):
		m.sections.focus = 1 - m.sections.focus
		m.refreshZoom(true)
	case key.Matches(msg, k.Copy):
		return m.copySection(), true
	case key.Matches(msg, k.Unzoom):
		m.sections.zoomed = false
		m.mode = modePanes
	default:
		return nil, false
	}
	return nil, true
}

// copySection copies the merged result, or the selected section's answer.
func (m *Model) copySection() tea.Cmd {
	l := m.sections
	var what, text string
	if l.focus == focusMerge {
		what, text = "the merged result", l.answer
	} else if rows := l.planned(); l.sel < len(rows) {
		what, text = fmt.Sprintf("section %d (%s)", rows[l.sel].Index, rows[l.sel].Title), rows[l.sel].Text
	}
	if text == "" {
		m.setStatus(cmp.Or(what, "the section screen")+": nothing to copy yet", true)
		return nil
	}
	return m.copyText(what, text)
}

// sectionClick picks the list row or the merge under a click at row y.
func (m *Model) sectionClick(y int) bool {
	l := m.sections
	switch {
	case y > l.listY && y < l.listY+l.listH-1:
		if i := l.listOff + y - l.listY - 1; i < len(l.planned()) {
			l.focus, l.sel, l.picked = focusSectionList, i, true
		}
	case y >= l.mergeY && y < l.mergeY+l.mergeH:
		l.focus = focusMerge
	default:
		return false
	}
	if m.mode == modePrompt {
		m.blurPrompt()
	}
	m.userFocus = true
	m.setFocus(len(m.panes))
	return true
}

// sectionWheel scrolls the merge (or moves the list) under the wheel.
func (m *Model) sectionWheel(y, d int) bool {
	l := m.sections
	switch {
	case y >= l.mergeY && y < l.mergeY+l.mergeH:
		l.scrollMerge(d)
	case y >= l.listY && y < l.listY+l.listH:
		l.selectRow(d)
	default:
		return false
	}
	return true
}

// sectionsBody is the section strategy's screen: the stages with the
// count and the time saved, the section list, the merge (the chairman
// streaming its synthesis, or the merged result, scrolling), and the
// breakers in one line. On a small screen the list gets at most half the
// height and the merge what is left.
func (m *Model) sectionsBody(w, bh int) string {
	l := m.sections
	if bh < 4 {
		return l.StageLine(w)
	}
	h := bh - 2 // the stage line and the breakers' line
	listH := min(l.Height(), max(h*45/100, 3))
	mergeH := h - listH
	l.keys = m.mode != modePrompt
	l.listY, l.listH = m.panesY+1, listH
	l.mergeY, l.mergeH = m.panesY+1+listH, mergeH
	parts := []string{l.StageLine(w), padLines(l.View(w, listH), listH)}
	if mergeH >= 3 {
		// The chairman while it writes; once the session is done, the
		// result as decided: with its MISSING and DISAGREEMENT lines.
		if m.synth.Active() && l.answer == "" {
			parts = append(parts, padLines(m.synth.View(w, mergeH), mergeH))
		} else {
			parts = append(parts, padLines(l.MergeView(w, mergeH), mergeH))
		}
	} else if mergeH > 0 {
		parts = append(parts, padLines("", mergeH))
	}
	parts = append(parts, m.board.SummaryView(w))
	return strings.Join(parts, "\n")
}
