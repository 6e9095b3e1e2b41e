package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// StageLine is the stages on one line, with the sections' count and the
// time saved; these are cut (with "…") before the stages are.
func (l *SectionList) StageLine(width int) string {
	s := &l.ctx.S
	var parts []string
	for _, st := range l.stage {
		parts = append(parts, st.view(l.ctx, s.Running.Bold(true)))
	}
	done, all := l.counts()
	right := s.Subtle.Render(fmt.Sprintf("%d/%d sections", done, all))
	if !l.seen && l.docLine() != "" {
		right = s.Subtle.Render(l.docLine())
	}
	if sv := l.Saved(); sv != "" {
		right += s.Muted.Render(" · ") + s.Ok.Render(sv)
	}
	left := s.Title.Render("Stages") + "  " + strings.Join(parts, s.Muted.Render(" ─ "))
	if room := width - lipgloss.Width(left) - 2; lipgloss.Width(right) > room {
		right = truncate(right, max(room, 0))
	}
	return spread(left, right, width)
}

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
	statusCol := wide // narrow, the status is shown while a row is not done, for every row: the columns stay aligned
	for _, r := range rows {
		marksW = max(marksW, lipgloss.Width(l.marks(r, wide)))
		statusCol = statusCol || r.Status != "done"
	}
	focused := l.focus == focusSectionList && l.keys
	for i, r := range rows[first:min(len(rows), first+ih)] {
		row := l.row(r, iw, modelW, marksW, wide, statusCol)
		if focused && first+i == l.sel {
			row = s.Focus.Render("▶") + fit(l.row(r, iw-1, modelW, marksW, wide, statusCol), iw-1)
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
// the status (when statusCol), latency and marks.
func (l *SectionList) row(r engine.SectionResult, w, modelW, marksW int, wide, statusCol bool) string {
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
	if statusCol {
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
